"""RemoteIO on the host: the live output of one or many boards as LogLines, and RPC calls.

A board's lines come from one of two places:
- the board agent's RemoteIO server (`rio://HOST[:PORT]`, `ota://HOST`, a config board with an
  `ota` or `rio` option; wire format in mptui/agent/REMOTEIO.md), reconnecting by itself;
- the board's REPL output over any link (USB, virtual, a bridge...; `Session.set_console`), so
  that a board without the agent can be watched too.

    stream = LogStream()
    for target in ("rio://192.168.1.40", "/dev/ttyACM0"):
        stream.add(target, lines_of(target))
    async for line in stream:            # LogLine(board, timestamp, text, kind)
        ...

    async with RemoteIO("192.168.1.40") as rio:
        await rio.call("set_led", {"on": True})   # the result, or RemoteIOError

For a UI: keep lines in a `mptui.services.logs.LogBuffer` (bounded, with drop counters, filters,
`series(key)` for charts); for a board whose Session someone else owns, feed `ConsoleLines` from
that owner's console output instead of `console_lines(session)`; boards announcing themselves
come from `mptui.services.announce.NetworkSource`.
"""

from mptui.services.remoteio.client import (
    DEFAULT_PORT,
    PROTO,
    QUEUE,
    RemoteIO,
    RemoteIOError,
    Target,
    agent_passwords,
    call,
    parse_call_args,
    resolve,
    target_of,
)
from mptui.services.remoteio.lines import (
    ConsoleLines,
    LogStream,
    agent_lines,
    console_lines,
    lines_of,
)

__all__ = ["DEFAULT_PORT", "PROTO", "QUEUE", "ConsoleLines", "LogStream", "RemoteIO",
           "RemoteIOError", "Target", "agent_lines", "agent_passwords", "call", "console_lines",
           "lines_of", "parse_call_args", "resolve", "target_of"]
