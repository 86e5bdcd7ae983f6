"""One way to name a board (services/boards.py): every form resolves to the same board and the
same link options from the command line, the app and OTA, each path followed to the point where
it builds the link; one order for secrets (command line > environment > config > prompt); the
README's address table is the resolver's."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import WEBREPL_PW

from mptui.board import BoardAccessDenied, BoardError
from mptui.config import load_config
from mptui.errors import UsageError
from mptui.services.boards import FORMS, Resolver
from mptui.services.manager import DeviceManager
from mptui.transports import AddressError, TransportError

ROOT = Path(__file__).resolve().parents[1]
CONFIG = """
[boards.kitchen]
address = "ws://192.168.1.40"
password = "env:KITCHEN_PW"
write_delay = 0.3
[boards.lamp]
address = "socket://127.0.0.1:2218"
[boards.pico]
address = "/dev/ttyACM0"
baudrate = 9600
dtr = false
[boards.shed]
address = "rfc2217://10.0.0.7:2217"
ota = "10.0.0.7"
[boards.far]
address = "ota://10.0.0.9:3000"
"""
KITCHEN = {"password": "kitchen-pw", "write_delay": 0.3}
PICO = {"baudrate": 9600, "dtr": False}

# form -> (the link's address, its options): what every path must build
LINKS = {
    "/dev/ttyACM0": ("/dev/ttyACM0", PICO),  # a config board's address finds its entry
    "serial:///dev/ttyACM0": ("/dev/ttyACM0", PICO),
    "pico": ("/dev/ttyACM0", PICO),
    "/dev/ttyUSB1": ("/dev/ttyUSB1", {}),
    "COM3": ("COM3", {}),
    "socket://127.0.0.1:2218": ("socket://127.0.0.1:2218", {}),
    "lamp": ("socket://127.0.0.1:2218", {}),
    "rfc2217://localhost:2217": ("rfc2217://localhost:2217", {}),
    "ws://192.168.1.40": ("ws://192.168.1.40:8266", KITCHEN),
    "ws://192.168.1.40:8266": ("ws://192.168.1.40:8266", KITCHEN),
    "kitchen": ("ws://192.168.1.40:8266", KITCHEN),
    "ws://[::1]:8000": ("ws://[::1]:8000", {}),
    "ble:mpy-repl": ("ble:mpy-repl", {}),
    "virtual": ("virtual", {}),
    "VIRTUAL": ("virtual", {}),
    "virtual:lab": ("virtual:lab", {}),
}
# form -> (its key, where OTA reaches it: (host, port) of the agent, or the link's address)
AGENTS = {
    "ota://10.0.0.8": ("ota://10.0.0.8:2018", ("10.0.0.8", 2018)),
    "ota://10.0.0.8:2018/": ("ota://10.0.0.8:2018", ("10.0.0.8", 2018)),
    "rio://10.0.0.8": ("rio://10.0.0.8:2019", None),  # RemoteIO only: no OTA agent known
    "shed": ("rfc2217://10.0.0.7:2217", ("10.0.0.7", 2018)),  # a config `ota` option
    "far": ("ota://10.0.0.9:3000", ("10.0.0.9", 3000)),
}


class Recorded(Exception):
    pass


@pytest.fixture
def links(tmp_path, monkeypatch):
    """The config above; every link that any path builds is recorded, not opened."""
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    monkeypatch.setenv("MPTUI_CONFIG", str(config))
    monkeypatch.setenv("KITCHEN_PW", "kitchen-pw")
    monkeypatch.delenv("MPTUI_WEBREPL_PASSWORD", raising=False)
    built: list[tuple[str, dict]] = []

    class Link:
        is_open = False

        async def open(self):
            raise TransportError("recorded, not opened")

        async def close(self):
            pass

    def make_transport(address, **options):
        built.append((str(address), options))
        return Link()

    monkeypatch.setattr("mptui.board.session.make_transport", make_transport)
    return built


def cli_link(links, form: str):
    from mptui.commands.common import resolver_for, session_for

    session_for(form, resolver=resolver_for(SimpleNamespace(password=None)))
    return links.pop()


async def app_link(links, form: str):
    manager = DeviceManager(load_config(), usb=False, ble=False, network=False)
    board = manager.find(form) or manager.add(form)
    with pytest.raises(BoardError, match="recorded"):
        await manager.connect(board.key)
    await manager.stop()
    return links.pop()


def ota_link(links, form: str):
    from mptui.services.ota import make_link

    link = make_link(form)
    if hasattr(link, "session"):  # the board's REPL link (the engine)
        return links.pop()
    return link.host, link.port


@pytest.mark.parametrize("form", LINKS)
async def test_every_address_form_names_one_board_from_the_cli_the_app_and_ota(links, form):
    expected = LINKS[form]
    assert cli_link(links, form) == expected
    assert await app_link(links, form) == expected
    assert ota_link(links, form) == expected
    assert links == []


@pytest.mark.parametrize("form", AGENTS)
async def test_boards_reached_through_their_agent(links, form):
    key, ota = AGENTS[form]
    resolver = Resolver(load_config())
    assert resolver.resolve(form).key == key
    manager = DeviceManager(load_config(), usb=False, ble=False, network=False)
    assert (manager.find(form) or manager.add(form)).key == key
    if ota is None:
        from mptui.services.ota.links import OtaError

        with pytest.raises(OtaError, match="no OTA agent"):
            ota_link(links, form)
    else:
        assert ota_link(links, form) == ota
    if resolver.resolve(form).address is None:  # no REPL link: every command says so
        with pytest.raises(UsageError, match="through its agent"):
            cli_link(links, form)
    assert links == []


def test_remoteio_finds_the_same_agent(links):
    from mptui.services.remoteio import resolve

    assert (resolve("shed").host, resolve("shed").port) == ("10.0.0.7", 2019)
    assert (resolve("ota://10.0.0.8").host, resolve("ota://10.0.0.8").port) == ("10.0.0.8", 2019)
    assert resolve("rio://h:7").port == 7
    assert not resolve("kitchen").agent and resolve("kitchen").address == "ws://192.168.1.40:8266"


@pytest.mark.parametrize("bad", ["nonsense", "tcp://h:1", "socket://h", "ota://", "rio://h:99999"])
def test_a_name_that_names_nothing_is_a_usage_error(links, bad):
    with pytest.raises(AddressError) as e:
        Resolver(load_config()).resolve(bad)
    assert e.value.exit_code == 2 and "\n" not in str(e.value)


# -- secrets: command line > environment > config > prompt ---------------------------------


@pytest.mark.parametrize("cli, env, config, expected", [
    ("cli", "env", "config", "cli"),
    (None, "env", "config", "env"),
    (None, None, "config", "config"),
    (None, None, None, None),  # the prompt's turn (the app asks)
])
def test_secret_precedence(tmp_path, cli, env, config, expected):
    path = tmp_path / "config.toml"
    path.write_text('[boards.k]\naddress = "ws://h"\n'
                    + ('password = "env:K_PW"\n' if config else ""))
    environ = {"K_PW": config} if config else {}
    if env:
        environ["MPTUI_WEBREPL_PASSWORD"] = env
    resolver = Resolver(load_config(path), password=cli, environ=environ)
    ref = resolver.resolve("k")
    assert resolver.link_password(ref) == expected

    async def ask(_address):
        return "prompt"

    options = resolver.link_options(ref, ask_password=ask)
    assert options.get("password") == expected
    assert ("ask_password" in options) == (expected is None)


def test_a_reference_that_cannot_be_followed_is_a_usage_error(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[boards.k]\naddress = "ws://h"\npassword = "file:/no/such/file"\n')
    resolver = Resolver(load_config(path), environ={})
    with pytest.raises(UsageError, match="does not exist"):
        resolver.link_options(resolver.resolve("k"))


async def test_the_app_and_the_cli_take_secrets_in_the_same_order(webrepl_board, tmp_path,
                                                                 monkeypatch):
    """A real WebREPL board: the config's password is wrong, the environment's right; then
    the command line's right and the environment's wrong. Both the app and a command log in
    (the app used to prefer the config, the command line the other way round)."""
    from mptui.commands.common import resolver_for, session_for

    config = tmp_path / "config.toml"
    config.write_text(f'[boards.kb]\naddress = "{webrepl_board.url}"\npassword = "env:KB_PW"\n')
    monkeypatch.setenv("MPTUI_CONFIG", str(config))
    monkeypatch.setenv("KB_PW", "wrong-pw")
    for cli, env in ((None, WEBREPL_PW), (WEBREPL_PW, "wrong-too")):
        monkeypatch.setenv("MPTUI_WEBREPL_PASSWORD", env)
        manager = DeviceManager(load_config(), usb=False, ble=False, network=False,
                                virtual=False, password=cli)
        await manager.start(settle=0.1)
        session = await manager.connect(manager.find("kb").key)
        assert await session.eval("1+1") == 2
        await manager.stop()
        session = session_for("kb", resolver=resolver_for(SimpleNamespace(password=cli)))
        await session.connect()
        assert await session.eval("2+2") == 4
        await session.close()
    monkeypatch.delenv("MPTUI_WEBREPL_PASSWORD")
    session = session_for("kb", resolver=resolver_for(SimpleNamespace(password=None)))
    with pytest.raises(BoardAccessDenied):  # the config's own, wrong, is what is left
        await session.connect()
    asked = []

    async def prompt(board):
        asked.append(board.name)
        return WEBREPL_PW

    monkeypatch.delenv("KB_PW")  # nothing anywhere: the app asks
    manager = DeviceManager(load_config(), usb=False, ble=False, network=False, virtual=False,
                            ask_password=prompt)
    await manager.start(settle=0.1)
    await asyncio.wait_for(manager.connect(manager.find("kb").key), 30)
    assert asked == ["kb"]
    await manager.stop()


# -- the README's table ---------------------------------------------------------------------


def test_the_readmes_address_table_is_the_resolvers():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Naming a board", 1)[1].split("\n### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    examples = [re.findall(r"`([^`]+)`", row.split("|")[1]) for row in rows]
    kinds = [row.split("|")[2].strip() for row in rows]
    assert len(rows) == len(FORMS)  # one row per form the resolver knows
    assert set(kinds) == {"serial", "socket", "rfc2217", "webrepl", "ble", "virtual", "agent",
                          "the entry's"}
    config = tmp_config()
    resolver = Resolver(config)
    for names, kind in zip(examples, kinds, strict=True):
        for name in names:
            ref = resolver.resolve(name)
            got = ref.address.kind if ref.address is not None else "agent"
            assert (got, bool(ref.name)) == (kind, False) or (kind, ref.name) == (
                "the entry's", name), (name, got, kind)


def tmp_config():
    from mptui.config import BoardConfig, Config

    return Config(Path("none.toml"), boards={"kitchen": BoardConfig("kitchen", "ws://10.0.0.5")})
