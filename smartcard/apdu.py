"""ISO 7816-4 command and response APDUs, and the status-word taxonomy.

Pure data handling: nothing here does I/O except :func:`transceive`, which
talks to an abstract transport and hides the T=0 transport answers
``61 xx`` (fetch with GET RESPONSE) and ``6C xx`` (resend with the right Le).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from . import errors

if TYPE_CHECKING:  # pragma: no cover
    from .transport import Transport

SW_OK = 0x9000
SHORT_LE_MAX = 256
EXTENDED_LE_MAX = 65536
# A card could in theory chain 61 xx forever; a real answer never needs more
# than a few hundred rounds (64 KiB / 256).
MAX_GET_RESPONSE_ROUNDS = 300


@dataclass(frozen=True)
class Command:
    """A command APDU.  ``le`` is the number of bytes expected (None: no Le field)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            if not 0 <= getattr(self, name) <= 0xFF:
                raise errors.InvalidInput(f"{name} out of range")
        if len(self.data) > 65535:
            raise errors.InvalidInput("command data longer than 65535 bytes")
        if self.le is not None and not 1 <= self.le <= EXTENDED_LE_MAX:
            raise errors.InvalidInput("Le must be 1..65536")

    @property
    def needs_extended(self) -> bool:
        """True when the command cannot be written in short form."""
        return len(self.data) > 255 or (self.le is not None and self.le > SHORT_LE_MAX)

    def encode(self, extended: bool | None = None) -> bytes:
        """Encode; short form unless the command needs (or ``extended`` asks for) extended."""
        use_extended = self.needs_extended if extended is None else extended
        if not use_extended and self.needs_extended:
            raise errors.InvalidInput("command does not fit a short APDU")
        header = bytes((self.cla, self.ins, self.p1, self.p2))
        return header + (_extended_body(self) if use_extended else _short_body(self))

    def with_le(self, le: int) -> "Command":
        return Command(self.cla, self.ins, self.p1, self.p2, self.data, le)


def _short_body(cmd: Command) -> bytes:
    body = b""
    if cmd.data:
        body += bytes((len(cmd.data),)) + cmd.data
    if cmd.le is not None:
        body += bytes((cmd.le % 256,))  # 256 is written as 00
    return body


def _extended_body(cmd: Command) -> bytes:
    body = b""
    if cmd.data:
        body += b"\x00" + len(cmd.data).to_bytes(2, "big") + cmd.data
    if cmd.le is not None:
        le = (cmd.le % EXTENDED_LE_MAX).to_bytes(2, "big")  # 65536 is written as 00 00
        body += le if cmd.data else b"\x00" + le
    return body


def decode_command(raw: bytes) -> tuple[Command, bool]:
    """Parse a command APDU (the card's side).  Returns (command, was_extended).

    Raises :class:`errors.WrongLength` for anything not one of the ISO cases.
    """
    if len(raw) < 4:
        raise errors.WrongLength("command shorter than 4 bytes", sw=0x6700)
    cla, ins, p1, p2 = raw[:4]
    body = bytes(raw[4:])
    data, le, extended = _decode_body(body)
    return Command(cla, ins, p1, p2, data, le), extended


def _decode_body(body: bytes) -> tuple[bytes, int | None, bool]:
    n = len(body)
    if n == 0:
        return b"", None, False
    if n == 1:
        return b"", body[0] or 256, False
    if body[0] != 0:
        lc = body[0]
        if n == 1 + lc:
            return body[1:], None, False
        if n == 2 + lc:
            return body[1:-1], body[-1] or 256, False
        raise errors.WrongLength("Lc does not match the command length", sw=0x6700)
    return _decode_extended_body(body)


def _decode_extended_body(body: bytes) -> tuple[bytes, int | None, bool]:
    n = len(body)
    if n == 3:
        return b"", int.from_bytes(body[1:3], "big") or EXTENDED_LE_MAX, True
    if n < 3:
        raise errors.WrongLength("truncated extended length", sw=0x6700)
    lc = int.from_bytes(body[1:3], "big")
    if lc == 0:
        raise errors.WrongLength("extended Lc of zero", sw=0x6700)
    if n == 3 + lc:
        return body[3:], None, True
    if n == 5 + lc:
        return body[3:-2], int.from_bytes(body[-2:], "big") or EXTENDED_LE_MAX, True
    raise errors.WrongLength("extended Lc does not match the command length", sw=0x6700)


@dataclass(frozen=True)
class Response:
    """A response APDU: data and the two status bytes."""

    data: bytes
    sw1: int
    sw2: int

    @classmethod
    def parse(cls, raw: bytes) -> "Response":
        if len(raw) < 2:
            raise errors.UnexpectedAnswer(f"answer of {len(raw)} byte(s) has no status word")
        return cls(bytes(raw[:-2]), raw[-2], raw[-1])

    @property
    def sw(self) -> int:
        return (self.sw1 << 8) | self.sw2

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    def encode(self) -> bytes:
        return self.data + bytes((self.sw1, self.sw2))

    def check(self) -> "Response":
        """Return self if 90 00, else raise the matching :class:`errors.CardError`."""
        if not self.ok:
            raise status_error(self.sw)
        return self


_FIXED_STATUS: dict[int, type[errors.StatusWordError]] = {
    0x6982: errors.SecurityStatusNotSatisfied,
    0x6983: errors.PinBlocked,  # authentication method blocked
    0x6984: errors.PinBlocked,  # reference data not usable: JPKI's "blocked"
    0x6986: errors.CommandNotAllowed,
    0x6A82: errors.FileNotFound,
    0x6A86: errors.WrongParameters,
    0x6A88: errors.FileNotFound,  # referenced data not found
    0x6B00: errors.WrongParameters,
    0x6700: errors.WrongLength,
    0x6D00: errors.InstructionNotSupported,
    0x6E00: errors.ClassNotSupported,
}


def status_error(sw: int) -> errors.CardError:
    """Map a status word other than 90 00 to an exception instance (not raised)."""
    if sw & 0xFFF0 == 0x63C0:
        return errors.WrongPin(sw & 0x0F, sw=sw)
    cls = _FIXED_STATUS.get(sw)
    if cls is not None:
        return cls(sw=sw)
    if sw >> 8 == 0x67:
        return errors.WrongLength(sw=sw)
    return errors.UnknownStatus(sw=sw)


def transceive(transport: "Transport", command: Command, *, extended: bool | None = None) -> Response:
    """Send ``command`` and return the complete response.

    ``61 xx`` answers are followed by GET RESPONSE until the card has given
    everything; a ``6C xx`` answer makes us resend once with Le = xx.
    The caller decides what a non-90 00 status means (see :meth:`Response.check`).
    """
    send: Callable[[Command], Response] = lambda c: Response.parse(transport.transmit(c.encode(extended)))
    response = send(command)
    if response.sw1 == 0x6C:
        response = send(command.with_le(response.sw2 or 256))
    return _collect_get_response(send, response)


def _collect_get_response(send: Callable[[Command], Response], response: Response) -> Response:
    data = response.data
    for _ in range(MAX_GET_RESPONSE_ROUNDS):
        if response.sw1 != 0x61:
            return Response(data, response.sw1, response.sw2)
        response = send(Command(0x00, 0xC0, 0x00, 0x00, le=response.sw2 or 256))
        data += response.data
    raise errors.UnexpectedAnswer("card kept answering 61 xx")
