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

    config = load_config()
    manager = DeviceManager(config, password=getattr(args, "password", None))
    device = getattr(args, "device", None)
    if device:  # its link opens while Textual is imported (~0.1 s)
        manager.open_early(device)
    from mptui.ui.app import MptuiApp

    app = MptuiApp(config, manager, device=device, run_macro=run_macro)
    app.run()
    return app.return_code or 0
