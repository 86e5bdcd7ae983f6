"""RPC calls against a virtual board running the real agent: built-ins, the app's handlers,
clear errors, logins, garbage."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from mptui.services.remoteio import RemoteIO, RemoteIOError


async def test_builtins(rio_board):
    board = await rio_board()
    rio = await board.connect()
    assert rio.hello["proto"] == 2 and rio.hello["name"] == "b"
    assert await rio.call("ping") == "pong"
    version = await rio.call("version")
    assert version["agent"] == rio.hello["agent"] and version["proto"] == 2
    assert version["platform"] == "linux" and version["name"] == "b"
    free = await rio.call("free_mem")
    assert isinstance(free, int) and free > 0
    assert isinstance(await rio.call("free_mem", {"collect": True}), int)
    up1 = await rio.call("uptime_ms")
    up2 = await rio.call("uptime_ms")
    assert isinstance(up1, int) and up2 >= up1
    stats = await rio.call("stats")
    assert stats["listeners"] == 0 and stats["capture"] is None


async def test_a_handler_of_the_app_with_arguments(rio_board):
    board = await rio_board()
    rio = await board.connect()
    assert await rio.call("add", {"a": 2, "b": 3}) == 5
    assert await rio.call("add", {"a": [1], "b": [2, "x"]}) == [1, 2, "x"]
    assert await rio.call("add", {"a": 5}) == 5  # b's default
    # several calls in flight on one connection are answered each to its own
    results = await asyncio.gather(*(rio.call("add", {"a": i, "b": i}) for i in range(20)))
    assert results == [2 * i for i in range(20)]


async def test_errors_come_back_as_errors(rio_board):
    board = await rio_board()
    rio = await board.connect()
    with pytest.raises(RemoteIOError) as e:
        await rio.call("no_such_thing")
    assert e.value.kind == "unknown" and str(e.value) == "unknown handler: no_such_thing"

    with pytest.raises(RemoteIOError) as e:
        await rio.call("fail", {"why": "the LED is on fire"})
    assert e.value.kind == "raised"
    assert str(e.value) == "ValueError: the LED is on fire"
    assert "in fail" in e.value.traceback and e.value.traceback.rstrip().endswith(
        "ValueError: the LED is on fire")

    with pytest.raises(RemoteIOError) as e:  # a wrong argument is the handler raising
        await rio.call("add", {"c": 1})
    assert e.value.kind == "raised" and e.value.detail.startswith("TypeError")

    with pytest.raises(RemoteIOError) as e:
        await rio.call("odd")
    assert e.value.kind == "result" and str(e.value) == (
        "the result cannot be sent: JSON cannot encode what odd returned (type object)")

    assert await rio.call("ping") == "pong"  # the connection carries on


async def test_a_password_is_asked_and_checked(rio_board):
    board = await rio_board(password="s3cret")
    rio = await board.connect()
    assert rio.hello["nonce"] and await rio.call("ping") == "pong"
    for password, kind in (("wrong", "denied"), ("", "password")):
        with pytest.raises(RemoteIOError) as e:
            await board.connect(password=password)
        assert e.value.kind == kind
    # the previous password is tried when the current one is denied (as for OTA)
    rio2 = await board.connect(password="new-one", fallback_password="s3cret")
    assert await rio2.call("ping") == "pong"


def raw(port: int) -> tuple[socket.socket, object]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = sock.makefile("rb")
    assert json.loads(f.readline())["t"] == "hello"
    return sock, f


def rest(f) -> bytes:
    """What the board still sends before it closes (a reset counts as closing)."""
    try:
        return f.read()
    except ConnectionResetError:
        return b""


async def test_garbage_ends_that_connection_only(rio_board):
    board = await rio_board()
    rio = await board.connect()

    def send_garbage():
        replies = []
        for junk in (b"\xff\xfe not json at all\n", b"[1, 2]\n", b"x" * 9000 + b"\n"):
            sock, f = raw(board.port)
            sock.sendall(junk)
            replies.append(rest(f))  # until the board closes it
            sock.close()
        sock, f = raw(board.port)
        sock.sendall(b'{"t":"call","id":"a","name":"add","args":[1,2]}\n'
                     b'{"t":"what"}\n{"t":"bye"}\n')
        replies.append(rest(f))
        sock.close()
        return replies

    *closed, last = await asyncio.to_thread(send_garbage)
    assert closed == [b"", b"", b""]
    errors = [json.loads(line) for line in last.splitlines()]
    assert [(m["id"], m["kind"]) for m in errors] == [("a", "args"), (None, "proto")]
    assert await rio.call("add", {"a": 1, "b": 1}) == 2  # the board and others carry on


async def test_too_many_clients_get_a_clear_no(rio_board):
    board = await rio_board(remoteio_clients=2)
    await board.connect()
    await board.connect()
    with pytest.raises(RemoteIOError) as e:
        await board.connect()
    assert e.value.kind == "busy" and "too many clients (2)" in str(e.value)


async def test_unreachable_is_a_clear_error():
    from helpers import free_port

    with pytest.raises(RemoteIOError) as e:
        await RemoteIO("127.0.0.1", free_port(), timeout=5).open()
    assert e.value.kind == "unreachable" and "refused" in str(e.value).lower()


async def test_a_taken_port_turns_remoteio_off_not_the_agent(rio_board, tmp_path):
    from agentboards import start_board

    first = await rio_board("first")
    # a second virtual board on this computer with the same RemoteIO port: its OTA server
    # must still start (start_board waits for it), and the first board keeps its port
    second = await start_board(tmp_path / "second", None, remoteio_port=first.port, announce="")
    try:
        info = await second.wait_agent("")
        assert info["platform"] == "linux"
        assert (await first.call("version"))["name"] == "first"
    finally:
        await second.session.close()
