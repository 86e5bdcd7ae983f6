"""`mptui serve`: the app in a real browser (headless Chromium over the DevTools protocol), the
token that keeps everyone else out, the warning beyond loopback, and no process left behind."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
import websockets

from mptui.cli import build_parser
from mptui.commands.serve import app_command

pytest.importorskip("textual_serve", reason="mptui serve needs the serve extra")

DEADLINE = 60  # seconds; only to turn a hang into a failure
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip

# Before the page's scripts run: catch the xterm.js Terminal that textual-serve's page creates
# (`this.terminal = new Terminal(...)`), so the test reads the text it shows.
CATCH_TERMINAL = """
(() => {
  let found;
  window.__terminal = new Promise(resolve => { found = resolve; });
  Object.defineProperty(Object.prototype, "terminal", {
    configurable: true,
    set(value) {
      Object.defineProperty(this, "terminal", {value, writable: true, configurable: true});
      if (value && value.buffer && value.onWriteParsed) found(value);
    },
  });
})();
"""
# The terminal's text, row by row.
TEXT_OF = """
(term) => {
  const buffer = term.buffer.active, rows = [];
  for (let i = 0; i < buffer.length; i++) rows.push(buffer.getLine(i).translateToString(true));
  return rows.join("\\n");
}
"""
# Resolves with the terminal's text once it matches `pattern`, checked after every write.
WAIT_FOR_TEXT = f"""
async (pattern) => {{
  const term = await window.__terminal, text = {TEXT_OF};
  return await new Promise(resolve => {{
    const check = () => {{
      if (new RegExp(pattern).test(text(term))) {{ sub.dispose(); resolve(text(term)); }}
    }};
    const sub = term.onWriteParsed(check);
    check();
  }});
}}
"""


def test_the_app_runs_with_the_global_options_given():
    args = build_parser().parse_args(["-d", "virtual:b 2", "--password", "p w", "serve"])
    app = [sys.executable, "-m", "mptui"]
    assert shlex.split(app_command(args))[-7:] == [*app, "--device", "virtual:b 2",
                                                   "--password", "p w"]
    args = build_parser().parse_args(["serve", "-p", "0"])
    assert shlex.split(app_command(args))[-3:] == app


def test_other_commands_do_not_load_the_web_server_and_serve_says_what_is_missing():
    code = (
        "import sys\n"
        "from mptui.cli import build_parser\n"
        "build_parser().parse_args(['ls'])\n"
        "print(sorted(m for m in ('textual_serve', 'aiohttp') if m in sys.modules))\n"
        "sys.modules['textual_serve'] = None  # as if the serve extra were not installed\n"
        "from mptui.cli import main\n"
        "sys.exit(main(['serve']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=DEADLINE, check=False)
    assert done.stdout == "[]\n"
    assert done.returncode == 1
    assert "textual_serve is missing; install it with: pip install 'mptui[serve]'" in done.stderr


async def test_browser_types_into_the_virtual_boards_repl(tmp_path):
    browser = _find_browser()
    if browser is None:
        pytest.skip(f"no Chromium found ({', '.join(BROWSERS)}); .ci/run installs Debian's")
    async with Serve(tmp_path, "-d", "virtual") as serve:
        async with Chromium(browser, tmp_path / "chromium") as cdp:
            page = await cdp.open_page()
            await cdp.call("Page.enable", page)
            await cdp.call("Page.addScriptToEvaluateOnNewDocument", page, source=CATCH_TERMINAL)
            await cdp.call("Page.navigate", page, url=serve.url)
            await cdp.wait_for_text(page, r">>> $|>>> \s")  # the REPL's prompt
            apps = serve.descendants()
            assert apps, "a browser session started no app process"
            await cdp.evaluate(page, "window.__terminal.then(t => t.focus())")
            await cdp.call("Input.insertText", page, text="6*7")
            for kind in ("keyDown", "keyUp"):
                await cdp.call("Input.dispatchKeyEvent", page, type=kind, key="Enter",
                               code="Enter", windowsVirtualKeyCode=13, text="\r")
            # the board's answer on the row under the line typed
            text = await cdp.wait_for_text(page, r">>> 6\*7[^\n]*\n[^\n0-9]*42(?![0-9])")
            assert "6*7" in text
        await serve.stop()
    await _wait_gone(apps)  # fails on its deadline if an app process outlives mptui serve


async def test_no_token_no_app(tmp_path):
    async with Serve(tmp_path) as serve:
        base = serve.url.split("?")[0]
        for url in (base, base + "?token=", base + "?token=" + "x" * 32,
                    base + "static/js/textual.js", base + "?token=%ED%A0%80"):
            assert (await asyncio.to_thread(_get, url))[0] == 403, url
        status, headers, page = await asyncio.to_thread(_get, serve.url)
        assert status == 200 and b"data-session-websocket-url" in page
        cookie_name, _, token = headers["Set-Cookie"].split(";")[0].partition("=")
        assert token == serve.token and "HttpOnly" in headers["Set-Cookie"]
        ws = serve.ws_url
        for headers in ({}, {"Cookie": f"{cookie_name}=wrong"},
                        {"Cookie": f"{cookie_name}={token}", "Origin": "http://evil.example"}):
            with pytest.raises(websockets.InvalidStatus) as refused:
                async with websockets.connect(ws, additional_headers=headers):
                    pass
            assert refused.value.response.status_code == 403, headers
        assert serve.descendants() == [], "a refused request started an app"
        # the same request with the right cookie does start one, which quits when it closes
        async with websockets.connect(ws, additional_headers={"Cookie": f"{cookie_name}={token}"}
                                      ) as session:
            await asyncio.wait_for(session.recv(), DEADLINE)  # the app's first screen
            apps = serve.descendants()
            assert apps
        await _wait_gone(apps)
        await serve.stop()
    assert "WARNING" not in serve.stderr
    assert serve.stderr.count(token) == 1  # in the URL, never in a log line
    assert token not in serve.log.read_text(errors="replace")


async def test_apps_quit_when_serve_is_killed(tmp_path):
    """Even a SIGKILL leaves no app behind holding its board: its stdin closes, it quits."""
    async with Serve(tmp_path, "-d", "virtual") as serve:
        cookie = await serve.cookie()
        async with websockets.connect(serve.ws_url, additional_headers={"Cookie": cookie}) as s:
            await asyncio.wait_for(s.recv(), DEADLINE)
            apps = serve.descendants()
            assert len(apps) >= 2  # the app, and the virtual board it runs
            serve.proc.kill()
            await serve.proc.wait()
            await _wait_gone(apps)


async def test_warns_when_reachable_from_other_machines(tmp_path):
    async with Serve(tmp_path, host="0.0.0.0") as serve:
        await serve.stop()
    assert "WARNING: listening on 0.0.0.0, reachable from other machines" in serve.stderr
    assert serve.stderr.count(serve.token) == 1  # the URL, printed once


class Serve:
    """`mptui [OPTIONS] serve -p 0` in a process of its own; `url` as it printed it."""

    def __init__(self, tmp_path, *options: str, host: str = "127.0.0.1") -> None:
        self.argv = [sys.executable, "-m", "mptui", *options, "serve", "-H", host, "-p", "0"]
        self.log = tmp_path / "serve.out"
        self.stderr = ""
        self.url = self.token = ""
        self.seen: set[int] = set()  # every process it started, to clean up after a failure

    async def __aenter__(self):
        with self.log.open("wb") as log:  # what the apps print on their stderr
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv, stdout=log, stderr=asyncio.subprocess.PIPE
            )
        line = await asyncio.wait_for(self.proc.stderr.readline(), DEADLINE)
        self.stderr += line.decode()
        match = re.search(r"(http://\S+/\?token=(\S+))", self.stderr)
        assert match, f"no URL on stderr: {self.stderr!r}"
        self.url, self.token = match.groups()
        return self

    async def __aexit__(self, *exc) -> None:
        self.descendants()
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        for pid in _alive(sorted(self.seen)):  # only after a failure
            _kill(pid)

    async def stop(self) -> None:
        """Ctrl-C, as a user stops it; collects the rest of stderr."""
        self.proc.send_signal(signal.SIGINT)
        rest = await asyncio.wait_for(self.proc.stderr.read(), DEADLINE)
        self.stderr += rest.decode()
        assert await asyncio.wait_for(self.proc.wait(), DEADLINE) == 0, self.stderr

    @property
    def ws_url(self) -> str:
        """The websocket that starts an app, as textual-serve's page opens it."""
        return self.url.split("?")[0].replace("http:", "ws:") + "ws?width=80&height=24"

    async def cookie(self) -> str:
        """The cookie the page gets with its token ("name=value")."""
        _status, headers, _page = await asyncio.to_thread(_get, self.url)
        return headers["Set-Cookie"].split(";")[0]

    def descendants(self) -> list[int]:
        found = _descendants(self.proc.pid) if self.proc.returncode is None else []
        self.seen.update(found)
        return found


class Chromium:
    """Headless Chromium with an empty profile, driven over the DevTools protocol (one browser
    websocket, pages attached as flat sessions)."""

    def __init__(self, executable: str, profile) -> None:
        self.argv = [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                     "--remote-debugging-port=0", "about:blank"]
        self._ids = iter(range(1, 1 << 30))
        self._replies: dict[int, asyncio.Future] = {}

    async def __aenter__(self):
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its helpers too, so that cleanup reaches them all
        )
        seen = b""
        while not (found := re.search(rb"DevTools listening on (ws://\S+)", seen)):
            line = await asyncio.wait_for(self.proc.stderr.readline(), DEADLINE)
            assert line, f"Chromium ended: {seen.decode(errors='replace')}"
            seen += line
        self._drain = asyncio.ensure_future(self.proc.stderr.read())
        self.ws = await websockets.connect(found.group(1).decode(), max_size=None)
        self._reader = asyncio.ensure_future(self._read())
        return self

    async def __aexit__(self, *exc) -> None:
        try:
            await asyncio.wait_for(self.call("Browser.close"), 10)
            await asyncio.wait_for(self.proc.wait(), DEADLINE)
        except (asyncio.TimeoutError, websockets.ConnectionClosed, RuntimeError):
            pass
        finally:
            self._reader.cancel()
            await self.ws.close()
            if self.proc.returncode is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                await self.proc.wait()
            self._drain.cancel()

    async def call(self, method: str, session: str | None = None, **params) -> dict:
        msg_id = next(self._ids)
        self._replies[msg_id] = reply = asyncio.get_running_loop().create_future()
        message = {"id": msg_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        await self.ws.send(json.dumps(message))
        result = await reply
        if "error" in result:
            raise RuntimeError(f"{method}: {result['error']}")
        return result.get("result", {})

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                message = json.loads(raw)
                reply = self._replies.pop(message.get("id"), None)
                if reply is not None and not reply.done():
                    reply.set_result(message)
        finally:  # no reply will come now
            for reply in self._replies.values():
                if not reply.done():
                    reply.set_exception(RuntimeError("the DevTools connection closed"))

    async def open_page(self) -> str:
        target = await self.call("Target.createTarget", url="about:blank")
        attached = await self.call("Target.attachToTarget", targetId=target["targetId"],
                                   flatten=True)
        return attached["sessionId"]

    async def evaluate(self, page: str, expression: str):
        result = await self.call("Runtime.evaluate", page, expression=expression,
                                 awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for_text(self, page: str, pattern: str) -> str:
        """The terminal's text, once it matches `pattern` (a JavaScript regex)."""
        expression = f"({WAIT_FOR_TEXT})({json.dumps(pattern)})"
        try:
            return await asyncio.wait_for(self.evaluate(page, expression), DEADLINE)
        except asyncio.TimeoutError:
            shown = await asyncio.wait_for(
                self.evaluate(page, f"window.__terminal.then({TEXT_OF})"), 10
            )
            pytest.fail(f"{pattern!r} never showed; the page shows:\n{shown}")


def _find_browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def _get(url: str):
    """(status, headers, body) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=DEADLINE) as reply:
            return reply.status, reply.headers, reply.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def _descendants(root: int) -> list[int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [], [root]
    while todo:
        parent = todo.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        todo += children
    return sorted(found)


def _alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                    alive.append(pid)
        except OSError:
            pass
    return alive


async def _wait_gone(pids: list[int]) -> None:
    """Wait for processes that are not our children to end (a pidfd turns readable)."""
    loop = asyncio.get_running_loop()
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        ended = loop.create_future()
        loop.add_reader(fd, ended.set_result, None)
        try:
            await asyncio.wait_for(ended, DEADLINE)
        finally:
            loop.remove_reader(fd)
            os.close(fd)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
