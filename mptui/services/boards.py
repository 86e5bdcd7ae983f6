"""One way to name a board: every form a user may write, parsed once into a `BoardRef`.

The command line (-d), the app (boards by key, boards added by hand), OTA, RemoteIO and the
bridge all resolve names here, so a name means the same board with the same options wherever
it is written. The forms (the README's table is checked against FORMS):

    /dev/ttyACM0, serial:///dev/ttyACM0, COM3    a serial port
    port:PATH                                      a serial port, said so (mpremote's form)
    id:SERIAL                                      the USB board with that serial number
    a0..a3, u0..u3, c0..c3                         mpremote's shortcuts: /dev/ttyACM0..3,
                                                   /dev/ttyUSB0..3, COM0..3
    socket://HOST:PORT, rfc2217://HOST:PORT        a bridge or a network serial server
    ws://HOST[:PORT]                               WebREPL (port 8266 by default)
    ble:NAME-or-ADDRESS                            Bluetooth LE (Nordic UART Service)
    virtual, virtual:NAME                          the virtual board
    ota://HOST[:PORT], rio://HOST[:PORT]           a board's agent only (OTA, RemoteIO)
    NAME                                           a board named in the config

Options and secrets have one order: the command line (`--password`, and what the address
itself says) > the environment ($MPTUI_WEBREPL_PASSWORD) > the config (the board's entry) >
the prompt (the app asks). A new form is one more entry in `_FORMS`.

    resolver = Resolver(config, password=args.password)
    ref = resolver.resolve("kitchen")          # BoardRef(key='ws://192.168.1.40:8266', ...)
    session = resolver.session(ref)            # a Session, not yet connected
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mptui import log
from mptui.config import WEBREPL_PASSWORD_ENV, BoardConfig, Config, SecretError, resolve_secret
from mptui.errors import UsageError
from mptui.transports.address import FORMS as LINK_FORMS
from mptui.transports.address import Address, AddressError, agent_address, parse_address

if TYPE_CHECKING:
    from mptui.board import Session
    from mptui.transports.webrepl import AskPassword

logger = logging.getLogger(__name__)

OTA_PORT = 2018  # the agent's OTA server
RIO_PORT = 2019  # the agent's RemoteIO server
FORMS = (*LINK_FORMS[:-1], "ota://HOST[:PORT] or rio://HOST[:PORT] (a board's agent)",
         LINK_FORMS[-1])


@dataclass(frozen=True)
class BoardRef:
    """A board as a name resolves: its link, its agent, and its config entry's options."""

    text: str  # as written
    key: str  # canonical: every way of writing one board gives one key
    address: Address | None  # its REPL link; None: reached only through its agent
    name: str = ""  # its name in the config, when the config names it
    options: Mapping[str, Any] = field(default_factory=dict, compare=False)  # the config entry's options
    ota: tuple[str, int] | None = None  # where its OTA agent listens, when known
    rio: tuple[str, int] | None = None  # its RemoteIO server, when known
    password_ref: str | None = field(default=None, repr=False, compare=False)  # env:/file:
    set_rtc: bool = field(default=False, compare=False)  # set its clock when it connects

    @property
    def agent_only(self) -> bool:
        return self.address is None

    @property
    def label(self) -> str:
        return self.name or self.text


class Resolver:
    """Names to BoardRefs for one config and one command line. `password`: the command
    line's WebREPL password; `environ`: where $MPTUI_WEBREPL_PASSWORD is read (os.environ)."""

    def __init__(self, config: Config | None = None, *, password: str | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        if config is None:
            from mptui.config import load_config

            config = load_config()
        self.config = config
        self.password = password
        self.environ = os.environ if environ is None else environ
        self._by_key: dict[str, BoardConfig] | None = None
        log.hide(password)

    # -- names ------------------------------------------------------------------------------

    def resolve(self, text: str) -> BoardRef:
        """The board `text` names. AddressError (a usage error, listing the forms) when it is
        none of them."""
        s = text.strip()
        if not s:
            raise AddressError(text, "empty device address")
        entry = self.config.boards.get(s) or self._entries().get(_canonical(s) or "")
        if entry is not None:
            return self._from_entry(s, entry)
        return _from_address(s)

    def default(self) -> BoardRef:
        """The board a command uses without -d: the first USB board, else the virtual one."""
        from mptui.services.discovery import usb_boards

        boards = usb_boards()
        return self.resolve(boards[0].device if boards else "virtual")

    def _entries(self) -> dict[str, BoardConfig]:
        """Config entries by the canonical key of their address (the first of a kind wins;
        entries whose address is bad are left to `mptui config check`)."""
        if self._by_key is None:
            self._by_key = {}
            for entry in self.config.boards.values():
                try:
                    self._by_key.setdefault(_from_address(entry.address).key, entry)
                except AddressError:
                    continue
        return self._by_key

    def _from_entry(self, text: str, entry: BoardConfig) -> BoardRef:
        try:
            base = _from_address(entry.address)
        except AddressError as e:
            raise AddressError(entry.address,
                               f"board {entry.name!r} in the config: bad address") from e
        options = {k: v for k, v in entry.options.items() if k not in _NOT_LINK}
        set_rtc = entry.options.get("set_rtc", False)
        if not isinstance(set_rtc, bool):
            raise UsageError(f"board {entry.name!r} in the config: set_rtc is true or false")
        ota = _agent_option(entry, "ota", OTA_PORT) or base.ota
        rio = _agent_option(entry, "rio", RIO_PORT) or base.rio
        if rio is None and ota is not None:
            rio = (ota[0], RIO_PORT)  # the agent serves both
        return BoardRef(text, base.key, base.address, entry.name, options, ota, rio,
                        entry.password, set_rtc)

    # -- secrets and options ----------------------------------------------------------------

    def link_password(self, ref: BoardRef) -> str | None:
        """The WebREPL password: the command line's, else $MPTUI_WEBREPL_PASSWORD, else the
        config entry's reference (env:VAR, file:PATH); None: nobody gave one (the app asks).
        UsageError when the config's reference cannot be followed."""
        if self.password is not None:
            return self.password
        secret = self.environ.get(WEBREPL_PASSWORD_ENV) or None
        if secret is None and ref.password_ref:
            try:
                secret = resolve_secret(ref.password_ref, self.environ)
            except SecretError as e:
                raise UsageError(f"config: board {ref.name!r}: {e}") from None
        log.hide(secret)
        return secret

    def link_address(self, ref: BoardRef) -> Address:
        """The board's REPL link; UsageError for a board reached only through its agent."""
        if ref.address is None:
            raise UsageError(f"{ref.label} is reached through its agent ({ref.key}), not a "
                             "REPL link")
        return ref.address

    def link_options(self, ref: BoardRef,
                     ask_password: AskPassword | None = None) -> dict[str, Any]:
        """Transport options for the board's link: the config entry's, and for WebREPL the
        password by the order above, else `ask_password` (the prompt)."""
        address = self.link_address(ref)
        options = dict(ref.options)
        if address.kind == "virtual":
            from mptui.virtual.keeper import idle_timeout

            keep = idle_timeout(self.environ)
            if keep:  # 0: a fresh board per command
                options["keep"] = keep
        if address.kind == "webrepl":
            password = self.link_password(ref)
            if password is not None:
                options["password"] = password
            elif ask_password is not None:
                options["ask_password"] = ask_password
        return options

    def session(self, ref: BoardRef | str, *, reconnect: bool = False,
                **options: Any) -> Session:
        """A Session (not connected) to the board; `options` add to the link's."""
        from mptui.board import Session

        ref = self.resolve(ref) if isinstance(ref, str) else ref
        link = self.link_options(ref)
        link.update(options)
        logger.debug("opening %s (%s)", ref.key, ref.label)
        return Session(self.link_address(ref), reconnect=reconnect, **link)


def _from_address(s: str) -> BoardRef:
    """A BoardRef from an address alone (no config entry)."""
    short = _shortcut(s)
    if short is not None:
        return short
    for prefix, parse in _FORMS:
        if s.lower().startswith(prefix):
            return parse(s)
    address = parse_address(s)
    return BoardRef(s, str(address), address)


def _ota(s: str) -> BoardRef:
    host, port = _agent_at(s, "ota://", OTA_PORT)
    return BoardRef(s, f"ota://{_host(host)}:{port}", None, ota=(host, port),
                    rio=(host, RIO_PORT))


def _rio(s: str) -> BoardRef:
    host, port = _agent_at(s, "rio://", RIO_PORT)
    return BoardRef(s, f"rio://{_host(host)}:{port}", None, rio=(host, port))


def _agent_at(s: str, scheme: str, port: int) -> tuple[str, int]:
    found = agent_address(s, scheme, port)
    if found is None:  # (never: called for that form only)
        raise AddressError(s)
    return found


_NOT_LINK = ("ota", "rio", "set_rtc")  # a config entry's options that are not its link's


def _port(s: str, path: str | None = None) -> BoardRef:
    """port:PATH: a serial port, whatever its name looks like (mpremote's form); `path`: the
    port another form (`a0`, `id:`) names."""
    path = s[len("port:"):] if path is None else path
    if not path:
        raise AddressError(s, "no serial port's path in")
    address = parse_address(path if path.lower().startswith("serial://") else
                            f"serial://{path}")
    return BoardRef(s, str(address), address)


def _usb_id(s: str) -> BoardRef:
    """id:SERIAL: the USB board whose serial number that is (as `mptui devices` lists it)."""
    from mptui.services.discovery import usb_boards
    from mptui.transports import TransportError

    wanted = s[len("id:"):]
    if not wanted:
        raise AddressError(s, "no serial number in")
    ports = usb_boards()
    found = [p for p in ports if p.serial_number == wanted]
    if not found:
        seen = ", ".join(repr(p.serial_number) for p in ports if p.serial_number) or "none"
        raise TransportError(f"no USB board with serial number {wanted!r} (found: {seen}; "
                             "`mptui devices` lists them)")
    return _port(s, found[0].device)


# mpremote's shortcuts: a0..a3, u0..u3, c0..c3
SHORTCUTS = {f"{k}{n}": f"{path}{n}" for k, path in
             (("a", "/dev/ttyACM"), ("u", "/dev/ttyUSB"), ("c", "COM")) for n in range(4)}


def _shortcut(s: str) -> BoardRef | None:
    path = SHORTCUTS.get(s.lower())
    return None if path is None else _port(s, path)


# prefix -> parser, tried before the link forms of transports.address
_FORMS: tuple[tuple[str, Callable[[str], BoardRef]], ...] = (
    ("ota://", _ota), ("rio://", _rio), ("port:", _port), ("id:", _usb_id))


def _agent_option(entry: BoardConfig, key: str, default: int) -> tuple[str, int] | None:
    value = entry.options.get(key)
    if not isinstance(value, str):
        return None
    scheme = f"{key}://"
    try:
        return agent_address(scheme + value.removeprefix(scheme), scheme, default)
    except AddressError:
        raise AddressError(value, f"board {entry.name!r} in the config: bad {key} option") from None


def _canonical(s: str) -> str | None:
    try:
        return _from_address(s).key
    except AddressError:
        return None


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
