"""The lines of a board the DeviceManager lists, and calls to it by name: what the Logs tab
streams and calls, with no UI.

A board with an agent reachable over the network (one announcing itself, `rio://` or `ota://`
added by hand, a config board with a `rio` or `ota` option) streams through RemoteIO; any other
board (USB, virtual, a bridge, WebREPL, BLE) is watched at its REPL, through the manager's
Session (a console tap), never a second link to it.

    stream.add(key, board_lines(manager, key, password=pw))
    await call_board(manager, "kitchen", "set_led", {"on": True}, password=pw)
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from mptui.board.session import CONNECTING, DISCONNECTED, ERROR, RECONNECTING
from mptui.errors import MptuiError
from mptui.services.events import BoardEvent, BoardInfo, BoardRemoved, BoardReset, BoardStateChanged
from mptui.services.logs import LogLine
from mptui.services.remoteio import ConsoleLines, Target, agent_lines, call, resolve, target_of

NO_AGENT = ("calls go through a board's agent: an announced board, rio://HOST[:PORT], ota://HOST, "
            "or a config board with an ota or rio option")


def agent_target(board: BoardInfo, resolver) -> Target | None:
    """Where the board's RemoteIO server is, when it has one mptui knows of: the agent it
    announced (a board on a USB or REPL link), else what the resolver knows of its address or
    config entry (its rio/ota option)."""
    for text in (board.agent, board.key):
        if not text:
            continue
        try:
            target = target_of(resolver.resolve(text))
        except MptuiError:
            continue
        if target.agent:
            return Target(board.name, target.host, target.port)
    return None


def board_lines(manager, key: str, *, password: str = "",
                fallback_password: str = "") -> AsyncIterator[LogLine]:
    """The board's lines, labelled with its name: through its agent when it has one, else its
    REPL output (connecting it, without a reset, if it is not connected)."""
    board = manager.board(key)
    target = agent_target(board, manager.resolver)
    if target is not None:
        return agent_lines(target.host, target.port, password, label=board.name,
                           fallback_password=fallback_password)
    return console_lines(manager, key)


async def console_lines(manager, key: str, *, connect: bool = True) -> AsyncIterator[LogLine]:
    """A board's REPL output through the DeviceManager's session (a tap beside the REPL
    terminal), with its connection changes as status lines, for as long as the caller reads."""
    board = manager.board(key)
    lines = ConsoleLines(board.name)

    def on_event(event: BoardEvent) -> None:
        if event.board.key == key:
            note = _note(event)
            if note:
                lines.note(note)

    untap = manager.console.tap(key, lines.feed)
    unsubscribe = manager.subscribe(on_event)
    try:
        lines.note(f"watching the REPL output of {board.address}")
        if connect and not board.connected:
            try:
                await manager.connect(key)
            except MptuiError as e:
                lines.note(f"not connected: {e}")
        async with contextlib.aclosing(aiter(lines)) as source:
            async for line in source:
                yield line
    finally:
        untap()
        unsubscribe()


def _note(event: BoardEvent) -> str:
    board = event.board
    if isinstance(event, BoardStateChanged):
        if board.state == RECONNECTING:
            return f"link lost ({event.detail or 'no reason given'}); reconnecting"
        if board.state == ERROR:
            return f"error: {board.error or event.detail}"
        if board.state == DISCONNECTED and event.previous != CONNECTING:
            return "disconnected"
        if board.connected and event.previous in (CONNECTING, RECONNECTING):
            return "connected" if event.previous == CONNECTING else "reconnected"
    elif isinstance(event, BoardReset) and event.detail != "reconnected":
        return event.detail or "reset"
    elif isinstance(event, BoardRemoved):
        return "taken off the board list"
    return ""


async def call_board(manager, board: str, name: str, args: dict | None = None, *,
                     password: str = "", fallback_password: str = "", timeout: float = 10.0):
    """Call `name` on a board given by name, key or address (one the manager lists, or any
    agent address or config name). Its result, or RemoteIOError; ValueError when the board
    has no agent to call through."""
    text = board.strip()
    if not text:
        raise ValueError(f"which board? {NO_AGENT}")
    if not name.strip():
        raise ValueError("which function? e.g. ping, version, free_mem, or the app's own")
    info = manager.find(text)
    try:
        target = agent_target(info, manager.resolver) if info is not None else resolve(
            text, resolver=manager.resolver)
    except MptuiError:  # names no board: it has no agent either
        target = None
    if target is None or not target.agent:
        raise ValueError(f"{info.name if info else text} has no agent to call: {NO_AGENT}")
    host = f"[{target.host}]" if ":" in target.host else target.host
    return await call(f"rio://{host}:{target.port}", name.strip(), args, password=password,
                      fallback_password=fallback_password, timeout=timeout,
                      resolver=manager.resolver)
