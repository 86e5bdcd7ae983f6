"""Over-the-air updates, host side: the project and its secrets (project.py, keys.py), the links
to a board's agent or engine (links.py), one push and a fleet's (actions.py, fleet.py), the agent's
installation (install.py), pull-mode bundles (serve.py) and the push history (history.py).

The push API is re-exported here: `from mptui.services.ota import push, push_fleet, status`.
"""

from typing import TYPE_CHECKING, Any

__all__ = ["CANCELLED", "PHASES", "BoardStatus", "PushEvent", "PushResult", "make_link", "push",
           "push_fleet", "set_password", "status", "wait_online"]


if TYPE_CHECKING:  # what the type checker sees; at run time, __getattr__ below
    from mptui.services.ota.actions import (
        CANCELLED,
        PHASES,
        BoardStatus,
        PushEvent,
        PushResult,
        make_link,
        push,
        push_fleet,
        set_password,
        status,
        wait_online,
    )


def __getattr__(name: str) -> Any:
    """The push API from actions.py, imported on first use: a module of this package
    (keys.py, for a board's id) is imported without the whole push machinery."""
    if name in __all__:
        from mptui.services.ota import actions

        return getattr(actions, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
