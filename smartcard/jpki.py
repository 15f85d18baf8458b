"""Operations on the My Number card: the JPKI applet and the basic 4 info.

:class:`JPKICard` speaks the APDUs of the JPKI AP (公的個人認証AP) over any
:class:`~smartcard.transport.Transport`.  Reads use as few APDUs as the card
and reader allow: a 4-byte header, the DER length from it, then the rest in
one extended READ BINARY (or 256-byte chunks when extended length is refused).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from . import constants as c
from . import errors
from .apdu import Command, Response, transceive
from .tlv import der_header, parse_tlv
from .transport import Transport

HEADER_READ = 4  # enough for "30 82 hi lo": certificates are < 64 KiB
SHORT_CHUNK = 256
MAX_EF_SIZE = 0x7FFF  # READ BINARY offsets are 15 bits
SIGNATURE_SIZE = 256  # RSA-2048
TOKEN_LABEL_SIZE = 32
# Card-info AP files this library may select.  The My Number EF is not among
# them, and no code path can select it (tests check both facts).
CARD_INFO_ALLOWED_EFS = frozenset({c.EF_CARD_INFO_PIN, c.EF_BASIC_FOUR})
DIGEST_INFO_SHA256_SIZE = len(c.SHA256_DIGEST_INFO_PREFIX) + 32


@dataclass(frozen=True)
class BasicFourInfo:
    """基本4情報 from the card-info input support AP (券面事項入力補助AP)."""

    name: str
    address: str
    birth_date: dt.date
    sex: str  # '1' male, '2' female, '9' not applicable


@dataclass(frozen=True)
class LoginResult:
    """What the card bridge sends to the portal: certificate DER and signature."""

    certificate: bytes
    signature: bytes


def sha256_digest_info(data: bytes) -> bytes:
    """DigestInfo of SHA-256(data): what the card signs with PKCS#1 v1.5."""
    return c.SHA256_DIGEST_INFO_PREFIX + hashlib.sha256(data).digest()


def check_pin(pin: str) -> bytes:
    """The 4-digit auth PIN as the card wants it; refuse anything else before the card sees it."""
    if not (isinstance(pin, str) and len(pin) == 4 and pin.isascii() and pin.isdigit()):
        raise errors.InvalidPinFormat()
    return pin.encode("ascii")


def check_password(password: str) -> bytes:
    """The signing password, upper-cased (the card stores A–Z, 0–9)."""
    if not isinstance(password, str):
        raise errors.InvalidPasswordFormat()
    upper = password.upper()
    if not (6 <= len(upper) <= 16 and upper.isascii() and upper.isalnum()):
        raise errors.InvalidPasswordFormat()
    return upper.encode("ascii")


class JPKICard:
    """A My Number card behind ``transport`` (already connected).

    ``extended_reads``: True / False to force, None to detect (the first long
    read tries one extended READ BINARY and remembers whether it worked).
    """

    def __init__(self, transport: Transport, *, extended_reads: bool | None = None) -> None:
        self.transport = transport
        if extended_reads is None:
            extended_reads = transport.supports_extended  # may still be None: detect
        self.extended_reads = extended_reads
        self._applet: bytes | None = None

    # -- low level --------------------------------------------------------------------

    def _send(self, command: Command) -> Response:
        return transceive(self.transport, command)

    def _select_applet(self, aid: bytes) -> None:
        self._applet = None  # whatever happens, the card has dropped verified state
        self._send(Command(0x00, 0xA4, 0x04, 0x0C, aid)).check()
        self._applet = aid

    def _ensure_applet(self, aid: bytes) -> None:
        if self._applet != aid:
            self._select_applet(aid)

    def _select_ef(self, ef: int) -> None:
        if self._applet == c.CARD_INFO_AID and ef not in CARD_INFO_ALLOWED_EFS:
            raise errors.InvalidInput(f"EF {ef:04X} of the card-info AP is off limits")
        self._send(Command(0x00, 0xA4, 0x02, 0x0C, ef.to_bytes(2, "big"))).check()

    def _read_binary(self, offset: int, length: int) -> bytes:
        data = self._send(Command(0x00, 0xB0, offset >> 8, offset & 0xFF, le=length)).check().data
        if not data:
            raise errors.UnexpectedAnswer(f"READ BINARY at {offset} returned nothing")
        return data

    def _read_range(self, offset: int, count: int) -> bytes:
        """Read ``count`` bytes from ``offset`` of the selected EF in as few APDUs as allowed."""
        data = b""
        if count > SHORT_CHUNK and self.extended_reads is not False:
            data = self._try_extended_read(offset, count)
        while len(data) < count:
            data += self._read_binary(offset + len(data), min(SHORT_CHUNK, count - len(data)))
        return data[:count]

    def _try_extended_read(self, offset: int, count: int) -> bytes:
        try:
            data = self._read_binary(offset, count)
        except errors.WrongLength:
            self.extended_reads = False  # card or reader refuses: chunks from now on
            return b""
        self.extended_reads = True
        return data

    def _read_der_ef(self, ef: int) -> bytes:
        """Read a DER object (a certificate) from an EF: header first, then exactly the rest."""
        self._select_ef(ef)
        head = self._read_binary(0, HEADER_READ)
        _, total = der_header(head)
        if total > MAX_EF_SIZE or total < len(head):
            raise errors.UnexpectedAnswer(f"EF {ef:04X} claims {total} bytes")
        return head + self._read_range(len(head), total - len(head))

    # -- recognising the card ----------------------------------------------------------

    def select_jpki(self) -> None:
        """Select the JPKI AP.  Raises :class:`errors.NotMyNumberCard` if the card has none."""
        try:
            self._select_applet(c.JPKI_AID)
        except errors.FileNotFound:
            raise errors.NotMyNumberCard() from None

    def is_mynumber_card(self) -> bool:
        """Recognise the card by selecting the JPKI AP (never by the ATR)."""
        try:
            self.select_jpki()
        except (errors.NotMyNumberCard, errors.StatusWordError):
            return False
        return True

    def reset(self) -> None:
        """Reset the card (drops every verified PIN); the next operation re-selects the AP."""
        self._applet = None
        self.transport.reset()

    # -- free reads -------------------------------------------------------------------------

    def read_auth_certificate(self) -> bytes:
        """利用者証明用電子証明書 (EF 000A), DER."""
        self._ensure_jpki()
        return self._read_der_ef(c.EF_AUTH_CERT)

    def read_auth_ca_certificate(self) -> bytes:
        """The CA certificate of the auth certificate (EF 000B), DER."""
        self._ensure_jpki()
        return self._read_der_ef(c.EF_AUTH_CA_CERT)

    def read_signing_ca_certificate(self) -> bytes:
        """The signing CA certificate (EF 0002 of the JPKI AP), DER."""
        self._ensure_jpki()
        return self._read_der_ef(c.EF_SIGN_CA_CERT)

    def read_token_label(self) -> str:
        """The token label (EF 0006): e.g. JPKIAPICCTOKEN2 for the plastic card."""
        self._ensure_jpki()
        self._select_ef(c.EF_TOKEN_INFO)
        raw = self._read_binary(0, TOKEN_LABEL_SIZE)
        return raw.rstrip(b" \x00\xff").decode("ascii", errors="replace")

    def _ensure_jpki(self) -> None:
        if self._applet != c.JPKI_AID:
            self.select_jpki()

    # -- PINs -------------------------------------------------------------------------------

    def _tries_left(self, pin_ef: int) -> int:
        self._select_ef(pin_ef)
        response = self._send(Command(0x00, 0x20, 0x00, 0x80))
        if response.sw & 0xFFF0 == 0x63C0:
            return response.sw2 & 0x0F
        if response.sw in (0x6983, 0x6984):
            return 0
        response.check()  # 90 00: some cards say "already verified"; any other SW raises
        return -1

    def _verify(self, pin_ef: int, secret: bytes) -> None:
        self._select_ef(pin_ef)
        self._send(Command(0x00, 0x20, 0x00, 0x80, secret)).check()

    def auth_pin_tries_left(self) -> int:
        """Tries left for the 4-digit auth PIN, without spending one (0: blocked)."""
        self._ensure_jpki()
        return self._tries_left(c.EF_AUTH_PIN)

    def verify_auth_pin(self, pin: str) -> None:
        """VERIFY the auth PIN.  Raises WrongPin (with tries_left) or PinBlocked."""
        secret = check_pin(pin)
        self._ensure_jpki()
        self._verify(c.EF_AUTH_PIN, secret)

    def signing_password_tries_left(self) -> int:
        self._ensure_jpki()
        return self._tries_left(c.EF_SIGN_PASSWORD)

    def verify_signing_password(self, password: str) -> None:
        """VERIFY the signing password (upper-cased first)."""
        secret = check_password(password)
        self._ensure_jpki()
        self._verify(c.EF_SIGN_PASSWORD, secret)

    # -- keys ---------------------------------------------------------------------------------

    def _sign(self, key_ef: int, digest_info: bytes) -> bytes:
        if not 0 < len(digest_info) <= SIGNATURE_SIZE - 11:
            raise errors.InvalidInput("DigestInfo length out of range")
        self._select_ef(key_ef)
        signature = self._send(Command(0x80, 0x2A, 0x00, 0x80, digest_info, le=256)).check().data
        if len(signature) != SIGNATURE_SIZE:
            raise errors.UnexpectedAnswer(f"signature of {len(signature)} bytes")
        return signature

    def sign_with_auth_key(self, digest_info: bytes) -> bytes:
        """Sign a DigestInfo with the auth key (the auth PIN must be verified)."""
        self._ensure_jpki()
        return self._sign(c.EF_AUTH_KEY, digest_info)

    def read_signing_certificate(self) -> bytes:
        """署名用電子証明書 (EF 0001); the signing password must be verified (else 69 82)."""
        self._ensure_jpki()
        return self._read_der_ef(c.EF_SIGN_CERT)

    def sign_with_signing_key(self, digest_info: bytes) -> bytes:
        """Sign a DigestInfo with the signing key (the signing password must be verified)."""
        self._ensure_jpki()
        return self._sign(c.EF_SIGN_KEY, digest_info)

    # -- what the card bridge does ----------------------------------------------------------

    def login(self, pin: str, data: bytes) -> LoginResult:
        """Card login: read the auth certificate, verify the PIN, sign SHA-256(data).

        ``data`` is SHA-256(origin) ‖ SHA-256(nonce) in the portal's protocol.
        """
        check_pin(pin)  # refuse a malformed PIN before touching the card
        certificate = self.read_auth_certificate()
        self.verify_auth_pin(pin)
        return LoginResult(certificate, self.sign_with_auth_key(sha256_digest_info(data)))

    def enroll(self, password: str, data: bytes) -> LoginResult:
        """Enrollment: verify the signing password, read the signing certificate, sign."""
        self.verify_signing_password(password)
        certificate = self.read_signing_certificate()
        return LoginResult(certificate, self.sign_with_signing_key(sha256_digest_info(data)))

    # -- card-info input support AP ------------------------------------------------------------

    def read_basic_four(self, pin: str) -> BasicFourInfo:
        """基本4情報 (name, address, birth date, sex); needs the card-info PIN (the same 4 digits).

        Leaves the JPKI AP deselected (its verified state is gone).
        """
        secret = check_pin(pin)
        self._select_applet(c.CARD_INFO_AID)
        self._verify(c.EF_CARD_INFO_PIN, secret)
        self._select_ef(c.EF_BASIC_FOUR)
        head = self._read_binary(0, HEADER_READ)
        _, total = der_header(head)
        if total > MAX_EF_SIZE:
            raise errors.UnexpectedAnswer("basic 4 info too long")
        return parse_basic_four(head + self._read_range(len(head), total - len(head)))


def parse_basic_four(raw: bytes) -> BasicFourInfo:
    """Parse EF 0002 of the card-info AP (FF 20 { DF21 … DF25 })."""
    outer = dict(parse_tlv(raw))
    if 0xFF20 not in outer:
        raise errors.UnexpectedAnswer("basic 4 info: FF 20 missing")
    fields = dict(parse_tlv(outer[0xFF20]))
    try:
        name, address, birth, sex = (fields[t].decode("utf-8") for t in (0xDF22, 0xDF23, 0xDF24, 0xDF25))
        birth_date = dt.datetime.strptime(birth, "%Y%m%d").date()
    except (KeyError, UnicodeDecodeError, ValueError) as exc:
        raise errors.UnexpectedAnswer(f"basic 4 info: {exc!r}") from None
    return BasicFourInfo(name=name, address=address, birth_date=birth_date, sex=sex)
