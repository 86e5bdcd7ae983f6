"""The REPL terminal on the link profiles of a real board: a 115200-baud UART whose 256-byte
stdin ring drops what overflows it, and an ESP8266 (that UART and a ~40 KB heap). Keys, a paste
bigger than the ring, Ctrl-C of a program that prints without end, a file run with Ctrl-K."""

from __future__ import annotations

import pytest
from textual import events

from mptui.board.session import IDLE, RUNNING
from mptui.ui.widgets.repl_terminal import ReplTerminal

from .apphelp import SIZE, shown
from .conftest import wait_until

PROFILES = ["uart:115200", "esp8266"]


def paste(lines: int) -> tuple[str, int]:
    """A program typed in paste mode, many times the board's stdin ring (the board echoes it
    line by line, "=== " before each), and the sum it prints."""
    text = "".join(f"v{i} = {i} * 3 + len('{'x' * 40}')\n" for i in range(lines))
    text += "print('sum', " + " + ".join(f"v{i}" for i in range(lines)) + ")\n"
    return text, sum(i * 3 + 40 for i in range(lines))


# Lines pasted: ~7 KB on the UART board, ~3.7 KB on the ESP8266, whose paste buffer must fit
# its heap (a bigger paste ends its runtime there: "FATAL: uncaught NLR", as on the board).
PASTE_LINES = {"uart:115200": 120, "esp8266": 60}


def wire_of(app, key: str):
    return app.manager.session(key).transport.board.wire


@pytest.mark.parametrize("profile", PROFILES)
async def test_the_repl_on_a_slow_link(make_app, isolated, config_file, profile):
    script = isolated / "count.py"
    script.write_text("for n in range(3):\n    print('count', n)\n")
    config_file.write_text(f"[repl]\ninject_file = {str(script)!r}\n")
    key = f"virtual:slow?link={profile}"
    app = make_app(device=key)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: isinstance(app.focused, ReplTerminal), what="the REPL focused")
        terminal = app.focused
        await wait_until(lambda: shown(terminal).rstrip().endswith(">>>"), timeout=30,
                         what="the prompt")
        await pilot.press("6", "7", "left", "*", "end", "enter")  # line editing on the board
        await wait_until(lambda: ">>> 6*7\n42\n>>>" in shown(terminal), what="42")

        text, total = paste(PASTE_LINES[profile])
        terminal.post_message(events.Paste(text))
        await wait_until(lambda: f"sum {total}" in shown(terminal).splitlines(),
                         timeout=60, what="the pasted program's answer")
        assert app.manager.session(key).echo.silences == 0  # paced by the echo, no waiting
        await wait_until(lambda: shown(terminal).rstrip().endswith(">>>"))

        terminal.send(b"while True: print('tick', 12345)\r\r")
        await app.manager.wait_state(key, RUNNING)
        await wait_until(lambda: shown(terminal).count("tick 12345") > 20, what="the flood")
        await pilot.press("ctrl+c")
        await wait_until(lambda: "KeyboardInterrupt" in shown(terminal)
                         and shown(terminal).rstrip().endswith(">>>"), timeout=30,
                         what="the prompt after Ctrl-C")
        await app.manager.wait_state(key, IDLE)

        await pilot.press("ctrl+k")
        await wait_until(lambda: "count 2" in shown(terminal), timeout=30)
        await wait_until(lambda: shown(terminal).rstrip().endswith(">>>"))
        assert "for n in range" not in shown(terminal)  # run, not typed
        terminal.send(b"print(len(dir()))\r")  # the board still answers at its prompt
        await wait_until(lambda: shown(terminal).rstrip().splitlines()[-2].isdigit(),
                         what="an answer after the run")
        assert wire_of(app, key).dropped == 0, "mptui overran the board's stdin ring"
