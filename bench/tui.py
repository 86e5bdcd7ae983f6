"""The TUI's speed: launch to an interactive REPL, a flood on screen, keypress-to-echo latency.

    python bench/tui.py [--runs 5] [--no-mpremote] [--flood-only | --launch]

In a real terminal (tmux, 120x40), medians of N runs, each a fresh process:
  - `mptui -d virtual`: spawn until the prompt is on screen; then `6*7` Enter until `42`;
  - the same board on a local PTY (/dev/pts/N, the path a USB board takes), for mptui and
    `mpremote repl` side by side (ratio mptui/mpremote): spawn until ready, `6*7` until `42`,
    and `for i in range(100000): print(i)` until `99999` and the prompt are on screen (and of
    that, the board's last byte written to the PTY until the screen shows it; the CPU the tool
    and tmux used). --flood-only: these alone.
In-process (headless app, 120x40), against a bare Session reading the same board (no UI):
  - flood throughput: bytes/s from Enter until the final prompt is painted;
  - keypress-to-echo latency, idle and during a flood (a board thread printing non-stop):
    until the terminal has the echo, and until the frame that shows it is painted (the first
    frame written to the terminal once the echo is parsed);
  - Ctrl-C during that flood until the prompt is painted.
Polling tmux every 5 ms costs some CPU on this 2-core machine, the same for both tools.
--launch: the launch figures only (spawn to prompt, spawn to ready): no flood, nothing in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pty
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tty
from pathlib import Path

import _venv  # noqa: F401  (started with another Python: runs again in the .venv)

from mptui.board import Session
from mptui.virtual import VirtualBoard

BIN = Path(sys.executable).parent
FLOOD = "for i in range(100000): print(i)"
SIZE = (120, 40)


# -- helpers ---------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


class Tmux:
    count = 0

    def __init__(self, env: dict) -> None:
        Tmux.count += 1
        self.base = ["tmux", "-L", f"mptui-bench-{os.getpid()}-{Tmux.count}"]
        self.env = env

    def run(self, *args: str) -> str:
        return subprocess.run(
            [*self.base, *args], check=False, capture_output=True, text=True, env=self.env
        ).stdout

    def start(self, command: str) -> float:
        t0 = time.perf_counter()
        done = subprocess.run(
            [*self.base, "new-session", "-d", "-s", "b", "-x", str(SIZE[0]), "-y", str(SIZE[1]),
             command], check=False, capture_output=True, text=True, env=self.env)
        if done.returncode:
            raise RuntimeError(f"tmux: {done.stderr.strip()}")
        return t0

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "b", *keys)

    def wait(self, test, timeout: float = 60.0) -> float:
        deadline = time.perf_counter() + timeout
        while True:
            screen = self.run("capture-pane", "-p", "-t", "b")
            if test(screen):
                return time.perf_counter()
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the screen never got there:\n{screen}")
            time.sleep(0.005)

    def stop(self) -> None:
        self.run("kill-server")

    def cpu(self) -> float:
        """CPU seconds used so far by the pane's process (the tool) and the tmux server."""
        pids = self.run("display", "-p", "-t", "b", "#{pane_pid} #{pid}").split()
        total = 0.0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total


def flood_done(screen: str) -> bool:
    lines = [line.strip(" │") for line in screen.splitlines() if line.strip(" │")]
    return any(line.endswith("99999") for line in lines[-6:]) and ">>>" in "".join(lines[-4:])


class PtyBoard:
    """A virtual board on a local PTY, served from a thread: a USB board's path."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.last_write = 0.0  # when the board's last bytes were written to the PTY
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._serve(),),
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)
        os.close(self.master)
        os.close(self.slave)

    async def _serve(self) -> None:
        self.stop = asyncio.Event()
        board = VirtualBoard("bench-pty", root=self.root)
        await board.start()
        loop = asyncio.get_running_loop()
        loop.add_reader(self.master, lambda: board.write(os.read(self.master, 65536)))

        async def out() -> None:
            while data := await board.read():
                os.write(self.master, data)
                self.last_write = time.perf_counter()

        pump = loop.create_task(out())
        self.ready.set()
        await self.stop.wait()
        loop.remove_reader(self.master)
        pump.cancel()
        await board.stop()


# -- in a real terminal ------------------------------------------------------------------------


def launch_virtual(env: dict, runs: int) -> dict:
    prompt, answer = [], []
    for _ in range(runs):
        tmux = Tmux(env)
        try:
            t0 = tmux.start(f"{BIN / 'mptui'} -d virtual")
            t1 = tmux.wait(lambda s: ">>>" in s)
            tmux.keys("6*7", "Enter")
            t2 = tmux.wait(lambda s: "\n42" in s or "│42" in s)
            prompt.append(t1 - t0)
            answer.append(t2 - t1)
            tmux.keys("C-q")
            time.sleep(0.3)
        finally:
            tmux.stop()
    return {"prompt": median(prompt), "answer": median(answer)}


def side_by_side(env: dict, runs: int, root: Path, with_mpremote: bool,
                 flood: bool = True) -> dict:
    tools = {
        "mptui": ("{bin}/mptui -d {port}", "idle at the REPL", ["C-q"]),
        "mpremote": ("{bin}/mpremote connect {port} repl", "Use Ctrl-]", ["C-]"]),
    }
    if not with_mpremote:
        del tools["mpremote"]
    results: dict = {name: {"ready": [], "answer": [], "flood": [], "cpu": [], "tail": []}
                     for name in tools}
    with PtyBoard(root) as board:
        for _ in range(runs):
            for name, (command, ready, quit_keys) in tools.items():
                tmux = Tmux(env)
                try:
                    t0 = tmux.start(command.format(bin=BIN, port=board.path))
                    t1 = tmux.wait(lambda s, r=ready: r in s)
                    tmux.keys("6*7", "Enter")
                    t2 = tmux.wait(lambda s: "\n42" in s or "│42" in s)
                    results[name]["ready"].append(t1 - t0)
                    results[name]["answer"].append(t2 - t0)
                    if flood:
                        cpu = tmux.cpu()
                        tmux.keys(FLOOD, "Enter", "Enter")
                        t3 = time.perf_counter()
                        t4 = tmux.wait(flood_done, timeout=120)
                        results[name]["cpu"].append(tmux.cpu() - cpu)
                        results[name]["tail"].append(t4 - board.last_write)
                        results[name]["flood"].append(t4 - t3)
                    tmux.keys(*quit_keys)
                    time.sleep(0.3)
                except TimeoutError as e:  # one stuck run is said, and the others go on
                    print(f"{name}: a run left out: {str(e).splitlines()[0]}", file=sys.stderr)
                finally:
                    tmux.stop()
    return {name: {k: median(v) for k, v in r.items()} for name, r in results.items()}


# -- in-process --------------------------------------------------------------------------------


async def bare_board_prompt(root: Path, runs: int) -> float:
    times = []
    for n in range(runs):
        board = VirtualBoard(f"bare{n}", root=root / f"bare{n}")
        t0 = time.perf_counter()
        await board.start()
        out = b""
        while b">>> " not in out:
            out += await board.read()
        times.append(time.perf_counter() - t0)
        await board.stop()
    return median(times)


async def bare_flood(root: Path) -> tuple[int, float]:
    """The board's own pace: the flood read by a Session with no UI."""
    out = bytearray()
    async with Session("virtual:bench-bare", root=root / "bare-flood") as session:
        session.set_console(out.extend)
        while not out.endswith(b">>> "):
            await asyncio.sleep(0.005)
        out.clear()
        t0 = time.perf_counter()
        await session.console_write(FLOOD.encode() + b"\r\r")
        while not out.endswith(b"99999\r\n>>> "):
            await asyncio.sleep(0.001)
        return len(out), time.perf_counter() - t0


async def in_app(root: Path, echoes: int) -> dict:
    from textual import events

    from mptui.config import load_config
    from mptui.services.manager import DeviceManager
    from mptui.ui.app import MptuiApp
    from mptui.ui.widgets.repl_terminal import ReplTerminal

    config = load_config()
    app = MptuiApp(config, DeviceManager(config, usb=False, virtual_root=root / "app"))
    result: dict = {}
    async with app.run_test(size=SIZE) as pilot:
        pressed = 0.0  # Enter on the board list opens its REPL: again until it has (the list
        while not isinstance(app.focused, ReplTerminal) or ">>>" not in "".join(  # may be
            app.focused.model.display()  # empty still at the first press)
        ):
            if not isinstance(app.focused, ReplTerminal) and time.perf_counter() - pressed > 1:
                await pilot.press("enter")
                pressed = time.perf_counter()
            await asyncio.sleep(0.01)
        term: ReplTerminal = app.focused

        def screen_ends(text: str) -> bool:
            model = term.model  # (polled every ms: first the cursor's line, where the prompt
            line = model.text(model.screen_top + model.cursor[1])  # is, which is cheap: the
            if not line.endswith(text.rsplit("\n", 1)[-1]):  # polling must not slow down what
                return False  # it measures)
            return "\n".join(model.display()).rstrip().endswith(text)

        async def painted() -> float:
            done = asyncio.Event()
            app.call_after_refresh(done.set)
            await done.wait()
            return time.perf_counter()

        # flood throughput
        start, skipped = term.received, term.skipped
        t0 = time.perf_counter()
        term.send(FLOOD.encode() + b"\r\r")
        while not (screen_ends("99999\n>>>") and term.pending == 0):
            await asyncio.sleep(0.001)
        t1 = await painted()
        result["flood_bytes"] = term.received - start
        result["flood_time"] = t1 - t0
        result["flood_skipped"] = term.skipped - skipped

        # the frames written to the (headless) terminal: the echo is painted by the first one
        # written once it has been parsed, whichever path wrote it
        shown_at: list[float] = []
        show_after: list[int] = []
        display = app._display

        def spy_display(screen, update) -> None:
            display(screen, update)
            if show_after and not shown_at and term.model.fed + term.skipped >= show_after[0]:
                shown_at.append(time.perf_counter())

        app._display = spy_display  # type: ignore[method-assign]

        async def echo_once(key: str) -> tuple[float, float]:
            marker = key.encode()
            seen: list[float] = []
            shown_at.clear()
            show_after.clear()

            def spy(data: bytes) -> None:
                if marker in data and not seen:
                    seen.append(time.perf_counter())
                    show_after.append(term.received + data.rindex(marker) + 1)
                term.receive(data)

            app.manager.console.set_sink(term.board_key, spy)
            t0 = time.perf_counter()
            app.post_message(events.Key(key, key))
            while not shown_at:
                await asyncio.sleep(0.0005)
            app.manager.console.set_sink(term.board_key, term.receive)
            show_after.clear()
            return seen[0] - t0, shown_at[0] - t0

        async def echo_series() -> tuple[list[float], list[float]]:
            got, shown = [], []
            for _ in range(echoes):
                a, b = await echo_once("q")
                got.append(a)
                shown.append(b)
                await asyncio.sleep(0.03)
            for _ in range(echoes):
                app.post_message(events.Key("backspace", None))
            await asyncio.sleep(0.2)
            return got, shown

        got, shown = await echo_series()
        result["echo_idle"] = (median(got), median(shown))

        # a flood from a board thread: the REPL keeps reading keys and echoing them
        term.send(b"import _thread\rdef flood():\r while True: print(12345678)\r\r")
        await asyncio.sleep(0.3)
        term.send(b"_thread.start_new_thread(flood, ())\r")
        await asyncio.sleep(0.5)
        before = term.received
        t0 = time.perf_counter()
        got, shown = await echo_series()
        seconds = time.perf_counter() - t0
        result["echo_flood"] = (median(got), median(shown), max(shown))
        result["thread_flood_rate"] = (term.received - before) / seconds

        # Ctrl-C during the flood: the soft reset stops the thread (Ctrl-C alone does not)
        t0 = time.perf_counter()
        app.post_message(events.Key("ctrl+d", None))
        while not screen_ends(">>>") or "soft reboot" not in "\n".join(term.model.display()):
            await asyncio.sleep(0.001)
        result["stop_flood"] = await painted() - t0

        # an ordinary flood interrupted: Ctrl-C until the prompt is painted
        term.send(b"while True: print(12345678)\r\r")
        await asyncio.sleep(0.5)
        t0 = time.perf_counter()
        app.post_message(events.Key("ctrl+c", None))
        while not (screen_ends(">>>") and "KeyboardInterrupt" in "\n".join(term.model.display())):
            await asyncio.sleep(0.001)
        result["ctrl_c_flood"] = await painted() - t0
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--echoes", type=int, default=20)
    parser.add_argument("--no-mpremote", action="store_true")
    parser.add_argument("--flood-only", action="store_true",
                        help="only the side-by-side runs on a PTY (tmux), with CPU used")
    parser.add_argument("--launch", action="store_true", help="the launch figures only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # the kept virtual board's state too (its socket, its pid): one of this run's own, not
        # the user's, nor another run's whose folder is gone
        env = dict(os.environ, MPTUI_DATA_DIR=str(root / "data"),
                   MPTUI_CONFIG=str(root / "config.toml"), MPTUI_STATE_DIR=str(root / "state"))
        os.environ.update({k: env[k] for k in ("MPTUI_DATA_DIR", "MPTUI_CONFIG",
                                                "MPTUI_STATE_DIR")})
        try:
            return run(args, root, env)
        finally:  # the kept board this run started stops with it
            subprocess.run([str(BIN / "mptui"), "virtual", "stop"], env=env, check=False,
                           capture_output=True)


def print_side(side: dict, flood: bool = True) -> None:
    print("\nthe same board on a PTY (/dev/pts/N), tmux")
    print(f"  {'':34}{'mptui':>12}{'mpremote':>12}{'ratio':>8}")
    for key, label in (("ready", "spawn to ready"), ("answer", "spawn to '42' on screen"),
                       ("flood", "100000-line flood on screen"),
                       ("tail", "  the board's last byte to screen"),
                       ("cpu", "  CPU used in it (tool + tmux)"))[:5 if flood else 2]:
        mine = side["mptui"][key]
        theirs = side.get("mpremote", {}).get(key, float("nan"))
        print(f"  {label:34}{ms(mine):>12}{ms(theirs):>12}{mine / theirs:>8.2f}")


def run(args: argparse.Namespace, root: Path, env: dict) -> int:
    """The figures, with this run's folder and environment."""
    print(f"mptui TUI bench: {args.runs} runs, medians; terminal {SIZE[0]}x{SIZE[1]}")

    if args.flood_only:
        side = side_by_side(env, args.runs, root / "pty", not args.no_mpremote)
        print_side(side)
        return 0
    bare = asyncio.run(bare_board_prompt(root / "boards", args.runs))
    if shutil.which("tmux"):
        launch = launch_virtual(env, args.runs)
        print("\nlaunch (tmux)")
        print(f"  bare VirtualBoard start to '>>> ' (no UI)        {ms(bare)}")
        print(f"  mptui -d virtual: spawn to prompt on screen     {ms(launch['prompt'])}"
              f"   ({launch['prompt'] / bare:.1f}x the bare board)")
        print(f"  then '6*7' Enter to '42' on screen              {ms(launch['answer'])}")
        print_side(side_by_side(env, args.runs, root / "pty", not args.no_mpremote,
                                not args.launch), not args.launch)
    else:
        print("tmux is not installed: the real-terminal figures are skipped")
    if args.launch:
        return 0

    raw_bytes, raw_time = asyncio.run(bare_flood(root / "boards"))
    app = asyncio.run(in_app(root / "boards", args.echoes))
    rate = app["flood_bytes"] / app["flood_time"]
    print("\nin-process (headless app)")
    print(f"  flood, board alone (Session, no UI)     {raw_bytes / raw_time / 1e6:6.2f} MB/s "
          f"({raw_bytes} bytes in {ms(raw_time).strip()})")
    print(f"  flood through the terminal to painted   {rate / 1e6:6.2f} MB/s "
          f"({app['flood_bytes']} bytes in {ms(app['flood_time']).strip()}, "
          f"{app['flood_skipped']} skipped)   ratio {rate / (raw_bytes / raw_time):.2f}")
    idle, flood = app["echo_idle"], app["echo_flood"]
    print(f"  keypress to echo, idle:          received {ms(idle[0])}, painted {ms(idle[1])}")
    print(f"  keypress to echo, during a flood of {app['thread_flood_rate'] / 1e6:.1f} MB/s:"
          f" received {ms(flood[0])}, painted {ms(flood[1])} (worst {ms(flood[2]).strip()})")
    print(f"  Ctrl-C during a flood to the prompt painted          {ms(app['ctrl_c_flood'])}")
    print(f"  Ctrl-D (soft reboot) during a thread flood to prompt {ms(app['stop_flood'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
