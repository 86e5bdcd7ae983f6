"""What a resolved name carries (services/boards.py) at its edges: the forms' order, what a
BoardRef compares and shows, the board a command uses without -d (from pyserial's own port
records), config entries with bad addresses, and the command line's password kept out of the
log. The paths that build links from these: test_board_names.py."""

from __future__ import annotations

import pytest
from serial.tools import list_ports
from test_discovery import CP2102, PICO, other

from mptui import log
from mptui.config import load_config
from mptui.services.boards import FORMS, BoardRef, Resolver
from mptui.transports import AddressError
from mptui.transports.address import FORMS as LINK_FORMS


def resolver(tmp_path, text: str = "", **kwargs) -> Resolver:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return Resolver(load_config(path), environ={}, **kwargs)


def test_the_forms_are_the_links_then_the_agents_then_a_name():
    assert FORMS[:-2] == LINK_FORMS[:-1]
    assert FORMS[-2].startswith("ota://") and FORMS[-1] == LINK_FORMS[-1] == (
        "a board name from the config")


def test_a_ref_compares_by_its_board_and_never_shows_its_secret_reference():
    a = BoardRef("k", "ws://h:8266", None, "k", {"write_delay": 0.3}, password_ref="env:PW")
    b = BoardRef("k", "ws://h:8266", None, "k", {}, password_ref="file:/pw")
    assert a == b  # the same board, whatever options and secrets its entry carries
    assert "env:PW" not in repr(a) and "password_ref" not in repr(a)


def test_agent_only_and_label(tmp_path):
    r = resolver(tmp_path, '[boards.far]\naddress = "ota://10.0.0.9"\n'
                           '[boards.k]\naddress = "ws://h"\n')
    assert r.resolve("far").agent_only and r.resolve("ota://10.0.0.9").agent_only
    assert not r.resolve("k").agent_only and not r.resolve("virtual").agent_only
    assert r.resolve("k").label == "k"  # its name in the config
    assert r.resolve("ws://h").label == "k"  # its address finds the entry: still its name
    assert r.resolve(" ws://other ").label == "ws://other"  # no name: as written (stripped)


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_an_empty_name_says_so(tmp_path, blank):
    # even with a config entry named "" (TOML allows it): an empty -d names no board
    with pytest.raises(AddressError, match="empty device address"):
        resolver(tmp_path, '[boards.""]\naddress = "virtual:x"\n').resolve(blank)


def test_without_d_the_first_usb_board_else_the_virtual_one(tmp_path, monkeypatch):
    listed = [other("/dev/ttyS0", "ttyS0", "PNP0501"), PICO, CP2102]
    monkeypatch.setattr(list_ports, "comports", lambda include_links=False: list(listed))
    r = resolver(tmp_path)
    assert r.default().key == "/dev/ttyACM0"  # in device order: ttyACM0 before ttyUSB0
    listed.remove(PICO)
    assert r.default().key == "/dev/ttyUSB0"
    listed.remove(CP2102)
    ref = r.default()  # only a mainboard UART: no board there
    assert ref.key == "virtual" and ref.address.kind == "virtual"


def test_an_entry_with_a_bad_address_hides_no_entry_after_it(tmp_path):
    r = resolver(tmp_path, '[boards.broken]\naddress = "nonsense"\n'
                           '[boards.pico]\naddress = "/dev/ttyACM0"\n'
                           '[boards.pico2]\naddress = "serial:///dev/ttyACM0"\n')
    ref = r.resolve("serial:///dev/ttyACM0")  # another spelling of pico's address
    assert (ref.name, ref.key) == ("pico", "/dev/ttyACM0")  # the first of a kind wins
    with pytest.raises(AddressError, match="board 'broken' in the config: bad address"):
        r.resolve("broken")


def test_the_command_lines_password_never_reaches_the_log(tmp_path):
    assert log.scrub("login with cli-secret-4711") == "login with cli-secret-4711"
    resolver(tmp_path, password="cli-secret-4711")
    assert log.scrub("login with cli-secret-4711") == "login with ***"  # the log's formatter


def test_an_entrys_agent_options(tmp_path):
    r = resolver(tmp_path, '[boards.a]\naddress = "ws://h"\nrio = "h:7"\n'
                           '[boards.b]\naddress = "ws://g"\nota = "g"\n'
                           '[boards.c]\naddress = "ota://f:3000"\n')
    assert (r.resolve("a").ota, r.resolve("a").rio) == (None, ("h", 7))
    assert (r.resolve("b").ota, r.resolve("b").rio) == (("g", 2018), ("g", 2019))  # both
    assert (r.resolve("c").ota, r.resolve("c").rio) == (("f", 3000), ("f", 2019))


def test_a_bad_agent_option_names_its_board(tmp_path):
    r = resolver(tmp_path, '[boards.a]\naddress = "ws://h"\nota = "h:99999"\n')
    with pytest.raises(AddressError, match="board 'a' in the config: bad ota option"):
        r.resolve("a")


def test_a_secret_from_the_environment_never_reaches_the_log(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[boards.k]\naddress = "ws://h"\n')
    r = Resolver(load_config(path), environ={"MPTUI_WEBREPL_PASSWORD": "env-secret-0815"})
    assert log.scrub("env-secret-0815") == "env-secret-0815"
    assert r.link_password(r.resolve("k")) == "env-secret-0815"
    assert log.scrub("pw env-secret-0815") == "pw ***"


def test_a_session_from_a_name(tmp_path, caplog):
    r = resolver(tmp_path, '[boards.lab]\naddress = "virtual:lab"\n')
    caplog.set_level("DEBUG", logger="mptui.services.boards")
    session = r.session("lab", root=tmp_path / "lab-root")  # a name, and the link's options
    assert str(session.address) == "virtual:lab" and not session.reconnect_enabled
    assert session.transport.board.root == tmp_path / "lab-root"
    assert "opening virtual:lab (lab)" in caplog.text
    assert r.session(r.resolve("lab"), reconnect=True).reconnect_enabled
