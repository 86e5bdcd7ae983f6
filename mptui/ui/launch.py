"""`mptui` with no command: open the app (Textual is imported only here)."""

from __future__ import annotations

import gc


def run_app(args, run_macro=None) -> int:
    """`run_macro`: how the palette runs the config's [commands] (mptui.commands.chain)."""
    # What start-up makes lives as long as the app: no collections (~30 ms of them before the
    # first prompt) until the app is up; its freeze then collects once and turns them back on.
    gc.disable()
    from mptui.config import load_config
    from mptui.services.manager import DeviceManager
    from mptui.ui.app import MptuiApp

    config = load_config()
    manager = DeviceManager(config, password=getattr(args, "password", None))
    app = MptuiApp(config, manager, device=getattr(args, "device", None),
                   run_macro=run_macro)
    app.run()
    return app.return_code or 0
