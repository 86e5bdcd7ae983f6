"""Secrets are never printed or logged: every command that takes one runs with a known, unique
secret (WebREPL passwords by --password, $MPTUI_WEBREPL_PASSWORD, env: and file: references
and a literal in the config; the OTA password and signing key; the RemoteIO password; the
bridge's --password), in good runs and in error paths (a wrong password, a board that is not
there, a password too long), and everything written is searched for it: stdout, stderr, the
bridge's verbose log, and every file under the test's home (data dir, config dir, the project
folder, the OTA history, mptui's log file, written with -vv), but the files that hold the
secret on purpose. The boards' own
folders are their flash, not something mptui writes about them: they are outside the search."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import free_port

PW = "Qz8!vK2w"  # WebREPL passwords are 1 to 9 characters
WRONG_PW = "Wr0ng#Pw7"
LONG_PW = "TooLong-Secret-77"
AGENT_WRONG = "agent-wrong-Xy93"
TIMEOUT = 120


def forms(secret: str) -> list[str]:
    """The secret as it could be written: as is, as hex (plain or spaced), in repr."""
    raw = secret.encode()
    return [secret, raw.hex(), raw.hex(" "), repr(secret)[1:-1]]


class Witness:
    """Runs the real `mptui` with the test's home; keeps everything it printed."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {**os.environ, "HOME": str(home), "MPTUI_DATA_DIR": str(home / "data"),
                    "MPTUI_CONFIG": str(home / "config" / "config.toml"),
                    "MPTUI_STATE_DIR": str(home / "state")}
        self.env.pop("MPTUI_WEBREPL_PASSWORD", None)
        self.env.pop("MPTUI_AGENT_PASSWORD", None)
        self.printed: list[tuple[str, str]] = []  # (command, what it printed)

    def run(self, *args: str, env: dict | None = None, cwd: Path | None = None,
            code: int | None = 0) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "mptui", *args], capture_output=True,
                              text=True, timeout=TIMEOUT, cwd=cwd or self.home, check=False,
                              env={**self.env, **(env or {})})
        self.printed.append((" ".join(args), done.stdout + done.stderr))
        if code is not None:
            assert done.returncode == code, (args, done.stdout, done.stderr)
        return done

    def spawn(self, *args: str, env: dict | None = None, cwd: Path | None = None
              ) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "mptui", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=cwd or self.home,
                                env={**self.env, **(env or {})})

    def stopped(self, proc: subprocess.Popen, what: str) -> str:
        """Stop a spawned command (Ctrl-C) and keep what it printed."""
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=TIMEOUT)
        self.printed.append((what, out + err))
        return out + err

    def search(self, secrets: list[str], holders: list[Path]) -> None:
        """No secret in anything printed nor in any file under home but `holders`."""
        found = []
        for what, text in self.printed:
            found += [(what, s) for s in secrets for f in forms(s) if f in text]
        log = self.home / "state" / "mptui.log"
        assert log.stat().st_size > 0, "mptui's log is written (and searched)"
        holders = {p.resolve() for p in holders}
        for path in sorted(self.home.rglob("*")):
            if not path.is_file() or path.resolve() in holders:
                continue
            data = path.read_bytes()
            found += [(str(path), s) for s in secrets for f in forms(s) if f.encode() in data]
        assert not found, f"secrets written out: {found}"


@pytest.fixture
def witness(tmp_path) -> Witness:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    return Witness(home)


def read_banner(proc: subprocess.Popen, lines: list[str]) -> str:
    while "Ctrl-C stops it." not in "".join(lines) and proc.poll() is None:
        lines.append(proc.stdout.readline())
    return "".join(lines)


def test_webrepl_passwords_in_every_form(witness, tmp_path):
    home = witness.home
    bridge = witness.spawn("--password", PW, "bridge", "-p", "0", "-s", "0", "--webrepl-port",
                           str(free_port()), "--root", str(tmp_path / "board"), "-vv")
    banner: list[str] = []
    url = re.search(r"mptui -d (ws://127\.0\.0\.1:\d+)", read_banner(bridge, banner)).group(1)
    pw_file = home / "secrets" / "kitchen.pw"
    pw_file.parent.mkdir()
    pw_file.write_text(PW + "\n")
    config = home / "config" / "config.toml"
    config.write_text(
        f'[boards.kitchen]\naddress = "{url}"\npassword = "env:KITCHEN_PW"\n'
        f'[boards.desk]\naddress = "{url}"\npassword = "file:{pw_file}"\n'
        f'[boards.lit]\naddress = "{url}"\npassword = "{PW}"\n'  # discouraged, still secret
        f'[boards.nothere]\naddress = "ws://127.0.0.1:1"\npassword = "env:KITCHEN_PW"\n')
    run = witness.run
    assert run("-vv", "-d", url, "--password", PW, "exec", "print(6*7)").stdout.strip() == "42"
    run("-vv", "-d", url, "ls", env={"MPTUI_WEBREPL_PASSWORD": PW})
    run("-vv", "-d", "kitchen", "eval", "1+1", env={"KITCHEN_PW": PW})
    run("-vv", "-d", "desk", "ls")
    run("-vv", "-d", "lit", "exec", "print('lit')")
    run("-vv", "config", "check")
    run("-vv", "devices", "--webrepl")
    # error paths: a wrong password, one too long, a board that is not there
    denied = run("-vv", "-d", url, "--password", WRONG_PW, "ls", code=1)
    assert "Access denied" in denied.stderr
    run("-vv", "-d", url, "ls", env={"MPTUI_WEBREPL_PASSWORD": LONG_PW}, code=1)
    run("-vv", "-d", "kitchen", "ls", env={"KITCHEN_PW": WRONG_PW}, code=1)
    run("-vv", "-d", "nothere", "ls", env={"KITCHEN_PW": PW}, code=1)
    run("-vv", "-d", "ws://127.0.0.1:1", "--password", PW, "ls", code=1)
    config.write_text(config.read_text() + "[boards.broken]\naddress = 5\n")
    run("config", "check", code=1)  # its error names the line, not the values
    deadline = time.monotonic() + 30  # the wrong passwords above make the board wait 1 s
    while "too many wrong passwords" in run("-d", url, "--password", PW, "ls", code=None).stderr:
        assert time.monotonic() < deadline
    run("-d", url, "--password", PW, "ls", code=0)
    witness.stopped(bridge, "bridge")
    witness.printed.append(("bridge banner", "".join(banner)))
    # the bridge's own refusals of a bad --password
    run("--password", LONG_PW, "bridge", "-p", "0", "-s", "0", "--webrepl-port", "1", code=2)
    run("bridge", "-p", "0", "-s", "0", "--webrepl-port", "1", env={
        "MPTUI_WEBREPL_PASSWORD": LONG_PW}, code=2)
    witness.search([PW, WRONG_PW, LONG_PW], holders=[pw_file, config])


async def test_ota_and_remoteio_secrets(witness, tmp_path, monkeypatch):
    home = witness.home
    project = home / "proj"
    project.mkdir()
    run = witness.run
    run("ota", "init", cwd=project)
    secrets_file = project / ".mptui-secrets.toml"
    secrets = dict(re.findall(r'^(\w+) = "([^"]*)"', secrets_file.read_text(), re.MULTILINE))
    assert secrets["password"] and secrets["signing_key"]
    ota_port, rio_port, socket_port = free_port(), free_port(), free_port()
    toml = project / "mptui.toml"
    agent = f"ota://127.0.0.1:{ota_port}"
    toml.write_text(toml.read_text().replace("boards = []", f'boards = ["{agent}"]').split(
        "[ota.agent]")[0] + (
        f'[ota.agent]\nport = {ota_port}\nbind = "127.0.0.1"\nremoteio_port = {rio_port}\n'
        'announce = ""\ngood_after = 0\n'))
    board = witness.spawn("bridge", "-p", "0", "-s", str(socket_port), "--root",
                          str(tmp_path / "board"), "-vv")
    banner: list[str] = []
    read_banner(board, banner)
    device = f"socket://127.0.0.1:{socket_port}"
    run("-d", device, "ota", "install", cwd=project)
    wait_for_agent(witness, agent, project)
    (project / "app" / "extra.py").write_text("X = 1\n")
    run("ota", "push", "-d", agent, cwd=project)
    await app_push(witness, project, agent)  # the app's pushes go to the OTA history
    run("ota", "status", "-d", agent, "--json", cwd=project)
    run("ota", "bundle", "-o", str(project / "bundle"), cwd=project)
    rio = f"rio://127.0.0.1:{rio_port}"
    assert run("call", "-d", rio, "ping", cwd=project).returncode == 0
    run("call", "-d", rio, "ping", env={"MPTUI_AGENT_PASSWORD": AGENT_WRONG}, cwd=project,
        code=None)
    logs = witness.spawn("logs", rio, cwd=project)  # the password from the secrets file
    first = logs.stdout.readline()  # connected, or the first line
    witness.printed.append(("logs first line", first))
    witness.stopped(logs, "logs")
    old = secrets["password"]
    run("ota", "passwd", "-d", agent, "--generate", cwd=project)
    new = dict(re.findall(r'^(\w+) = "([^"]*)"', secrets_file.read_text(), re.MULTILINE))["password"]
    assert new and new != old
    # error paths: the agent refuses the old password; a board that is not there
    text = secrets_file.read_text()
    secrets_file.write_text(text.replace(new, AGENT_WRONG))
    refused = run("ota", "status", "-d", agent, cwd=project, code=None)
    assert refused.returncode != 0 or "denied" in (refused.stdout + refused.stderr).lower()
    run("ota", "push", "-d", agent, cwd=project, code=1)
    assert not (await app_push(witness, project, agent)).results[0].ok
    secrets_file.write_text(text)
    run("ota", "push", "-d", "ota://127.0.0.1:1", cwd=project, code=1)
    run("call", "-d", "rio://127.0.0.1:1", "ping", cwd=project, code=None)
    witness.stopped(board, "bridge")
    witness.printed.append(("bridge banner", "".join(banner)))
    history = list((home / "data").rglob("*history*"))
    assert history, "the OTA history is written (and searched)"
    witness.search([old, new, secrets["signing_key"], AGENT_WRONG], holders=[secrets_file])


async def app_push(witness: Witness, project: Path, agent: str):
    """A push as the OTA tab makes it (in this process, with the test's data dir)."""
    from mptui.config import load_config
    from mptui.services.manager import DeviceManager
    from mptui.services.ota.fleet import OtaFleet
    from mptui.services.ota.history import History

    (project / "app" / "main.py").write_text(f"print({time.time()!r})\n")  # a new release
    manager = DeviceManager(load_config(), network=False, usb=None)
    fleet = OtaFleet(manager, History(witness.home / "data" / "ota-history.jsonl"))
    await fleet.open_project(project)
    record = await fleet.push([agent])
    assert record is not None
    return record


def wait_for_agent(witness: Witness, agent: str, project: Path, timeout: float = 60) -> None:
    """Until the agent answers `ota status` (it starts when the board has reset)."""
    deadline = time.monotonic() + timeout
    while True:
        done = witness.run("ota", "status", "-d", agent, cwd=project, code=None)
        if done.returncode == 0:
            return
        assert time.monotonic() < deadline, done.stdout + done.stderr
        time.sleep(0.2)  # polling: the deadline above ends it


def test_the_config_never_shows_a_literal_password(witness, monkeypatch):
    from mptui.config import load_config

    config = witness.home / "config" / "config.toml"
    config.write_text(f'[boards.lit]\naddress = "ws://127.0.0.1:1"\npassword = "{PW}"\n')
    monkeypatch.setenv("MPTUI_CONFIG", str(config))
    loaded = load_config()
    assert loaded.boards["lit"].password == PW  # read, for the link
    assert PW not in repr(loaded) and PW not in repr(loaded.boards) and PW not in str(loaded)
