"""Over-the-air updates, host side: the project and its secrets (project.py, keys.py), the links
to a board's agent or engine (links.py), one push and a fleet's (actions.py, fleet.py), the agent's
installation (install.py), pull-mode bundles (serve.py) and the push history (history.py).

The push API is re-exported here: `from mptui.services.ota import push, push_fleet, status`.
"""

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

__all__ = ["CANCELLED", "PHASES", "BoardStatus", "PushEvent", "PushResult", "make_link", "push",
           "push_fleet", "set_password", "status", "wait_online"]
