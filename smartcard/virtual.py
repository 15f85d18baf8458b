"""A virtual My Number card that answers JPKI APDUs the way the card does.

It is a pure APDU processor (bytes in, bytes out); :mod:`smartcard.transport`
calls it in-process and :mod:`smartcard.vpcd` serves it to a real pcscd.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization

from . import constants as c
from . import errors
from .apdu import Command, decode_command
from .profile import (AUTH_PIN_TRIES, CARD_INFO_PIN_TRIES, SIGNING_PASSWORD_TRIES,
                      CardProfile)

SW_OK = b"\x90\x00"
SW_SECURITY = b"\x69\x82"
SW_BLOCKED = b"\x69\x84"
SW_NOT_ALLOWED = b"\x69\x86"
SW_NOT_FOUND = b"\x6a\x82"
SW_WRONG_P1P2 = b"\x6a\x86"
SW_WRONG_LENGTH = b"\x67\x00"
SW_OFFSET = b"\x6b\x00"
SW_INS = b"\x6d\x00"
SW_CLA = b"\x6e\x00"
SW_WRONG_DATA = b"\x6a\x80"

MY_NUMBER_EF = 0x0001  # card-side only: the library never names it
# 券面事項確認AP: birth date (0001), the face entries (0002) and the My Number (0005) are read
# only after 照合番号A or B, which the project never holds. The virtual card keeps nothing
# there and refuses every read with 69 82, as a real card does before those numbers.
CARD_CHECK_EFS = (0x0001, 0x0002, 0x0005)
CARD_CHECK_NUMBER_A_EF = 0x0013  # never verifiable here: the guard of those files


@dataclass(frozen=True)
class _Pin:
    counter: str  # attribute of PinCounters
    maximum: int


@dataclass(frozen=True)
class _Key:
    pair: str  # "auth" or "signing"
    pin_ef: int


class VirtualMyNumberCard:
    """The card: applets, files, PIN counters, keys.  Thread-safe.

    Options that mimic particular cards and readers:
    ``profile.extended_length`` (False: extended APDUs get ``67 00``),
    ``strict_le`` (answer ``6C xx`` when Le exceeds what remains),
    ``t0_get_response`` (long answers come as ``61 xx`` + GET RESPONSE).
    """

    def __init__(self, profile: CardProfile, *, strict_le: bool = False,
                 t0_get_response: bool = False) -> None:
        self.profile = profile
        self.strict_le = strict_le
        self.t0_get_response = t0_get_response
        self._lock = threading.RLock()
        self._applets = self._build_applets()
        self._pins = {
            (c.JPKI_AID, c.EF_AUTH_PIN): _Pin("auth_pin", AUTH_PIN_TRIES),
            (c.JPKI_AID, c.EF_SIGN_PASSWORD): _Pin("signing_password", SIGNING_PASSWORD_TRIES),
            (c.CARD_INFO_AID, c.EF_CARD_INFO_PIN): _Pin("card_info_pin", CARD_INFO_PIN_TRIES),
        }
        self._keys = {
            (c.JPKI_AID, c.EF_AUTH_KEY): _Key("auth", c.EF_AUTH_PIN),
            (c.JPKI_AID, c.EF_SIGN_KEY): _Key("signing", c.EF_SIGN_PASSWORD),
        }
        # Files readable only once a PIN of the same applet is verified.
        self._protected = {
            (c.JPKI_AID, c.EF_SIGN_CERT): c.EF_SIGN_PASSWORD,
            (c.CARD_INFO_AID, MY_NUMBER_EF): c.EF_CARD_INFO_PIN,
            (c.CARD_INFO_AID, c.EF_BASIC_FOUR): c.EF_CARD_INFO_PIN,
            (c.CARD_INFO_AID, 0x0003): c.EF_CARD_INFO_PIN,
            **{(c.CARD_CHECK_AID, ef): CARD_CHECK_NUMBER_A_EF for ef in CARD_CHECK_EFS},
        }
        self.reset()

    # -- card life cycle -------------------------------------------------------

    @property
    def atr(self) -> bytes:
        return self.profile.atr

    def reset(self) -> None:
        """Power-on / warm reset: nothing selected, nothing verified."""
        with self._lock:
            self._applet: bytes | None = None
            self._ef: int | None = None
            self._verified: set[int] = set()
            self._pending = b""  # rest of a long answer for GET RESPONSE

    def _build_applets(self) -> dict[bytes, dict[int, bytes]]:
        p = self.profile
        jpki = {
            c.EF_AUTH_CERT: p.auth.certificate,
            c.EF_AUTH_CA_CERT: p.auth.ca_certificate,
            c.EF_TOKEN_INFO: p.label.encode().ljust(32, b" ") + b"\x00" * 128,
            c.EF_AUTH_KEY: b"", c.EF_AUTH_PIN: b"",
        }
        if p.signing is not None:
            jpki.update({c.EF_SIGN_CERT: p.signing.certificate,
                         c.EF_SIGN_CA_CERT: p.signing.ca_certificate,
                         c.EF_SIGN_KEY: b"", c.EF_SIGN_PASSWORD: b""})
        info = p.card_info
        card_info = {
            c.EF_CARD_INFO_PIN: b"",
            MY_NUMBER_EF: b"\xff\x10\x0c" + info.my_number.encode() + b"\xff" * 2,
            c.EF_BASIC_FOUR: encode_basic_four(info.name, info.address, info.birth_date, info.sex),
            0x0003: b"\x33\x82\x01\x00" + b"\x00" * 256,  # issuer signature record (dummy)
        }
        # The other applets of a real card answer SELECT; the 住基AP shows no file at all.
        return {c.JPKI_AID: jpki, c.CARD_INFO_AID: card_info,
                c.CARD_CHECK_AID: dict.fromkeys(CARD_CHECK_EFS, b""), c.JUKI_AID: {}}

    # -- APDU dispatch ------------------------------------------------------------

    def process(self, raw: bytes) -> bytes:
        """Answer one command APDU (response data + status word)."""
        with self._lock:
            try:
                command, extended = decode_command(raw)
            except errors.CardError:
                return SW_WRONG_LENGTH
            if extended and not self.profile.extended_length:
                return SW_WRONG_LENGTH
            return self._dispatch(command)

    def _dispatch(self, cmd: Command) -> bytes:
        if cmd.cla not in (0x00, 0x80):
            return SW_CLA
        handler = {
            (0x00, 0xA4): self._select,
            (0x00, 0x20): self._verify,
            (0x00, 0xB0): self._read_binary,
            (0x00, 0xC0): self._get_response,
            (0x80, 0x2A): self._sign,
        }.get((cmd.cla, cmd.ins))
        if handler is None:
            return SW_INS
        if cmd.ins != 0xC0:
            self._pending = b""
        return handler(cmd)

    def _select(self, cmd: Command) -> bytes:
        if cmd.p1 == 0x04:
            return self._select_applet(cmd.data)
        if cmd.p1 == 0x02 and len(cmd.data) == 2:
            return self._select_ef(int.from_bytes(cmd.data, "big"))
        return SW_WRONG_P1P2

    def _select_applet(self, aid: bytes) -> bytes:
        if aid not in self._applets:
            return SW_NOT_FOUND
        # Selecting an applet (even the same one) drops every verified PIN.
        self._applet, self._ef, self._verified = aid, None, set()
        return SW_OK

    def _select_ef(self, ef: int) -> bytes:
        if self._applet is None or ef not in self._applets[self._applet]:
            return SW_NOT_FOUND
        self._ef = ef
        return SW_OK

    # -- PINs ---------------------------------------------------------------------

    def _verify(self, cmd: Command) -> bytes:
        pin = self._pins.get((self._applet, self._ef))
        if cmd.p1 != 0x00 or cmd.p2 != 0x80:
            return SW_WRONG_P1P2
        if pin is None:
            return SW_NOT_ALLOWED
        left = getattr(self.profile.counters, pin.counter)
        if left == 0:
            return SW_BLOCKED
        if not cmd.data:  # tries-left query; spends nothing
            return bytes((0x63, 0xC0 | left))
        if cmd.data == self._secret_for(self._ef).encode():
            self._set_counter(pin.counter, pin.maximum)
            self._verified.add(self._ef)
            return SW_OK
        self._set_counter(pin.counter, left - 1)
        self._verified.discard(self._ef)
        return bytes((0x63, 0xC0 | (left - 1)))

    def _secret_for(self, ef: int) -> str:
        return self.profile.password if ef == c.EF_SIGN_PASSWORD else self.profile.pin

    def _set_counter(self, name: str, value: int) -> None:
        if getattr(self.profile.counters, name) != value:
            setattr(self.profile.counters, name, value)
            self.profile.persist_counters()

    # -- files ----------------------------------------------------------------------

    def _read_binary(self, cmd: Command) -> bytes:
        if self._ef is None:
            return SW_NOT_ALLOWED
        if cmd.p1 & 0x80:  # short EF id addressing: not offered by this card
            return SW_WRONG_P1P2
        content = self._applets[self._applet][self._ef]
        if (self._applet, self._ef) in self._keys or (self._applet, self._ef) in self._pins:
            return SW_NOT_ALLOWED
        guard = self._protected.get((self._applet, self._ef))
        if guard is not None and guard not in self._verified:
            return SW_SECURITY
        offset = (cmd.p1 << 8) | cmd.p2
        if offset > len(content):
            return SW_OFFSET
        return self._answer_read(content, offset, cmd.le or 256)

    def _answer_read(self, content: bytes, offset: int, le: int) -> bytes:
        remaining = len(content) - offset
        if self.strict_le and le > remaining and remaining < 256:
            return bytes((0x6C, remaining))
        return self._answer(content[offset:offset + le])

    # -- signing ---------------------------------------------------------------------

    def _sign(self, cmd: Command) -> bytes:
        key = self._keys.get((self._applet, self._ef))
        if cmd.p1 != 0x00 or cmd.p2 != 0x80:
            return SW_WRONG_P1P2
        if key is None:
            return SW_NOT_ALLOWED
        if key.pin_ef not in self._verified:
            return SW_SECURITY
        pair = getattr(self.profile, key.pair)
        if not cmd.data or len(cmd.data) > 256 - 11:
            return SW_WRONG_LENGTH
        return self._answer(rsa_sign_digest_info(pair.private_key_pem, cmd.data))

    # -- long answers --------------------------------------------------------------------

    def _answer(self, data: bytes) -> bytes:
        """Data + 90 00, or (T=0 style) 61 xx and the data kept for GET RESPONSE."""
        if self.t0_get_response and len(data) > 0:
            self._pending = data
            return bytes((0x61, min(len(data), 256) % 256))
        return data + SW_OK

    def _get_response(self, cmd: Command) -> bytes:
        if not self._pending:
            return SW_NOT_ALLOWED
        chunk, self._pending = self._pending[:cmd.le or 256], self._pending[cmd.le or 256:]
        if self._pending:
            return chunk + bytes((0x61, min(len(self._pending), 256) % 256))
        return chunk + SW_OK


def rsa_sign_digest_info(private_key_pem: bytes, digest_info: bytes) -> bytes:
    """RSA signature over EMSA-PKCS1-v1_5 type-1 padding of ``digest_info`` (what the card does).

    cryptography's sign() builds the DigestInfo itself; the card signs whatever
    DigestInfo it is given, so this does the padding and the RSA step directly.
    """
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    numbers = key.private_numbers()
    size = (numbers.public_numbers.n.bit_length() + 7) // 8
    padded = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
    m = int.from_bytes(padded, "big")
    # Chinese remainder theorem: 3-4x faster than pow(m, d, n).
    s1 = pow(m, numbers.dmp1, numbers.p)
    s2 = pow(m, numbers.dmq1, numbers.q)
    h = (numbers.iqmp * (s1 - s2)) % numbers.p
    return (s2 + h * numbers.q).to_bytes(size, "big")


def encode_basic_four(name: str, address: str, birth_date: str, sex: str) -> bytes:
    """Build EF 0002 of the card-info AP: FF 20 { DF21 offsets, DF22..DF25 }."""
    from .der import length
    fields = [(0xDF22, name.encode()), (0xDF23, address.encode()),
              (0xDF24, birth_date.encode()), (0xDF25, sex.encode())]
    parts = [tag.to_bytes(2, "big") + length(len(v)) + v for tag, v in fields]
    header_size = 3 + 8
    offsets, pos = b"", header_size
    for part in parts:
        offsets += pos.to_bytes(2, "big")
        pos += len(part)
    body = b"\xdf\x21\x08" + offsets + b"".join(parts)
    return b"\xff\x20" + length(len(body)) + body
