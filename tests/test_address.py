import pytest

from mptui.transports import AddressError, make_transport, parse_address
from mptui.transports.rfc2217 import Rfc2217Transport
from mptui.transports.tcp import SocketTransport


@pytest.mark.parametrize(
    "text, kind, target, port",
    [
        ("/dev/ttyACM0", "serial", "/dev/ttyACM0", None),
        ("serial:///dev/ttyUSB1", "serial", "/dev/ttyUSB1", None),
        ("COM3", "serial", "COM3", None),
        ("socket://127.0.0.1:2218", "socket", "127.0.0.1", 2218),
        ("rfc2217://localhost:2217", "rfc2217", "localhost", 2217),
        ("ws://192.168.1.5", "webrepl", "192.168.1.5", 8266),
        ("ws://[::1]:8000", "webrepl", "::1", 8000),
        ("ble:mpy-repl", "ble", "mpy-repl", None),
        ("virtual", "virtual", "default", None),
        ("virtual:kitchen", "virtual", "kitchen", None),
    ],
)
def test_forms(text, kind, target, port):
    a = parse_address(text)
    assert (a.kind, a.target, a.port) == (kind, target, port)
    assert parse_address(str(a)) == a


def test_config_names_resolve():
    assert parse_address("lamp", {"lamp": "socket://h:1"}) == parse_address("socket://h:1")


@pytest.mark.parametrize("bad", ["", "nonsense", "socket://host", "tcp://h:1", "socket://h:99999",
                                 "virtual:bad name", "ble:"])
def test_bad_forms_list_the_valid_ones(bad):
    with pytest.raises(AddressError) as e:
        parse_address(bad)
    assert "socket://HOST:PORT" in str(e.value) and "virtual" in str(e.value)


def test_transport_kinds():
    assert type(make_transport("socket://h:1")) is SocketTransport
    assert type(make_transport("rfc2217://h:1")) is Rfc2217Transport
