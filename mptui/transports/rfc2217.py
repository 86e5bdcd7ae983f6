"""rfc2217:// — a telnet COM-PORT-OPTION client (RFC 2217), event-driven.

Data bytes 0xFF are doubled (IAC IAC); negotiation is answered so that servers such as
ser2net, pyserial's PortManager and `mptui bridge` consider us a proper RFC 2217 client.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from mptui.transports.tcp import SocketTransport

IAC, SB, SE = 255, 250, 240
WILL, WONT, DO, DONT = 251, 252, 253, 254
BINARY, ECHO, SGA, COM_PORT = 0, 1, 3, 44
SET_BAUDRATE, SET_CONTROL = 1, 5
CONTROL_DTR_ON, CONTROL_DTR_OFF, CONTROL_RTS_ON, CONTROL_RTS_OFF = 8, 9, 11, 12

_WE_DO = {BINARY, SGA, COM_PORT}  # options we agree to perform
_THEY_DO = {BINARY, SGA, ECHO, COM_PORT}  # options we accept from the server


class TelnetFilter:
    """Splits a telnet byte stream into data and commands; answers option negotiation."""

    def __init__(self, reply: Callable[[bytes], object]) -> None:
        self.reply = reply
        self._state = 0  # 0 data, 1 after IAC, 2 after IAC+verb, 3 in SB, 4 IAC in SB
        self._verb = 0
        self._answered: set[tuple[int, int]] = set()

    def feed(self, data: bytes) -> bytes:
        if self._state == 0 and IAC not in data:
            return data
        out = bytearray()
        for b in data:
            st = self._state
            if st == 0:
                if b == IAC:
                    self._state = 1
                else:
                    out.append(b)
            elif st == 1:
                if b == IAC:
                    out.append(IAC)
                    self._state = 0
                elif b in (WILL, WONT, DO, DONT):
                    self._verb, self._state = b, 2
                elif b == SB:
                    self._state = 3
                else:
                    self._state = 0
            elif st == 2:
                self._negotiate(self._verb, b)
                self._state = 0
            elif st == 3:
                if b == IAC:
                    self._state = 4
            else:  # IAC inside a subnegotiation: SE ends it, IAC IAC is data
                self._state = 0 if b == SE else 3
        return bytes(out)

    def _negotiate(self, verb: int, option: int) -> None:
        if (verb, option) in self._answered:
            return
        self._answered.add((verb, option))
        if verb == DO:
            answer = WILL if option in _WE_DO else WONT
        elif verb == WILL:
            answer = DO if option in _THEY_DO else DONT
        else:
            return
        self.reply(bytes([IAC, answer, option]))


class Rfc2217Transport(SocketTransport):
    def __init__(self, host: str, port: int, *, baudrate: int = 115200,
                 connect_timeout: float = 5.0) -> None:
        super().__init__(host, port, connect_timeout=connect_timeout)
        self.address = f"rfc2217://{host}:{port}"
        self.baudrate = baudrate
        self._telnet = TelnetFilter(self._write_raw)

    def _filter_in(self, data: bytes) -> bytes:
        return self._telnet.feed(data)

    def _encode_out(self, data: bytes) -> bytes:
        return data.replace(b"\xff", b"\xff\xff")

    async def _after_connect(self) -> None:
        self._write_raw(
            bytes([IAC, WILL, COM_PORT, IAC, WILL, BINARY, IAC, DO, BINARY, IAC, DO, SGA])
        )
        # the server's answers to these requests need no answer from us
        self._telnet._answered |= {(DO, COM_PORT), (DO, BINARY), (WILL, BINARY), (WILL, SGA)}
        self._subneg(SET_BAUDRATE, struct.pack("!I", self.baudrate))

    def _subneg(self, command: int, value: bytes) -> None:
        value = value.replace(b"\xff", b"\xff\xff")
        self._write_raw(bytes([IAC, SB, COM_PORT, command]) + value + bytes([IAC, SE]))

    async def set_control_lines(self, dtr: bool | None = None, rts: bool | None = None) -> None:
        if dtr is not None:
            self._subneg(SET_CONTROL, bytes([CONTROL_DTR_ON if dtr else CONTROL_DTR_OFF]))
        if rts is not None:
            self._subneg(SET_CONTROL, bytes([CONTROL_RTS_ON if rts else CONTROL_RTS_OFF]))
