"""Reading the resident's identity from a signing certificate (署名用電子証明書).

The signing certificate carries name, sex, birth date and address as
subjectAltName otherNames; enrollment matches them against the resident
registry.  The authentication certificate carries none of this.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from cryptography import x509

from . import constants as c
from . import errors
from .tlv import read_length, read_tag

# Era digit of the birth-date otherName (0: unknown).
ERAS = {"1": "明治", "2": "大正", "3": "昭和", "4": "平成", "5": "令和"}
_ERA_STARTS = [  # (first day, digit), newest first
    (dt.date(2019, 5, 1), "5"),
    (dt.date(1989, 1, 8), "4"),
    (dt.date(1926, 12, 25), "3"),
    (dt.date(1912, 7, 30), "2"),
    (dt.date(1868, 10, 23), "1"),
]

SEX_CODES = {"1": "male", "2": "female", "3": "unknown"}


class SigningIdentity(NamedTuple):
    """基本4情報 from a signing certificate.  ``sex`` is the JPKI code '1', '2' or '3'."""

    name: str
    sex: str
    birth_date: dt.date | None
    address: str
    # Where a character the card cannot hold (外字) was replaced by a substitute: the
    # positions as the certificate gives them (.5.5.2 for the name, .5.5.6 for the
    # address); empty when none was. A name with a substitute cannot be matched blindly.
    name_substitutes: str = ""
    address_substitutes: str = ""

    @property
    def has_substitutes(self) -> bool:
        return bool(self.name_substitutes.strip() or self.address_substitutes.strip())


class IdentityMissing(errors.UnexpectedAnswer):
    message_ja = "署名用電子証明書から本人情報を読み取れませんでした。"
    message_en = "signing certificate lacks the identity subjectAltName"


def era_digit(birth_date: dt.date) -> str:
    """The era digit JPKI writes before a birth date (1 明治 … 5 令和)."""
    for start, digit in _ERA_STARTS:
        if birth_date >= start:
            return digit
    return "0"


def encode_birth_date(birth_date: dt.date) -> str:
    return era_digit(birth_date) + birth_date.strftime("%Y%m%d")


def decode_birth_date(value: str) -> dt.date | None:
    """'319850401' -> 1985-04-01.  Unknown dates (era 0, all zeros) give None."""
    if len(value) != 9 or not value.isascii() or not value.isdigit():
        raise IdentityMissing(f"birth date {value!r} is not era digit + YYYYMMDD")
    if value[0] == "0":
        return None
    try:
        return dt.datetime.strptime(value[1:], "%Y%m%d").date()
    except ValueError as exc:
        raise IdentityMissing(f"birth date {value!r}: {exc}") from None


def decode_utf8_string(der_value: bytes) -> str:
    """Decode the DER UTF8String (or other string type) inside an otherName."""
    tag, offset = read_tag(der_value)
    size, offset = read_length(der_value, offset)
    if tag not in (0x0C, 0x13, 0x16, 0x1E) or offset + size != len(der_value):
        raise IdentityMissing("otherName value is not a single string")
    raw = der_value[offset:]
    try:
        return raw.decode("utf-16-be" if tag == 0x1E else "utf-8")
    except UnicodeDecodeError:
        raise IdentityMissing("otherName value is not valid text") from None


def signing_other_names(cert: x509.Certificate) -> dict[str, str]:
    """All JPKI otherNames of the SAN, by OID dotted string."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise IdentityMissing("no subjectAltName") from None
    return {other.type_id.dotted_string: decode_utf8_string(other.value)
            for other in san.get_values_for_type(x509.OtherName)}


def parse_signing_identity(cert: x509.Certificate | bytes) -> SigningIdentity:
    """基本4情報 (and substitute-character positions) from a signing certificate (DER bytes
    or parsed)."""
    if isinstance(cert, (bytes, bytearray)):
        try:
            cert = x509.load_der_x509_certificate(bytes(cert))
        except ValueError as exc:
            raise errors.UnexpectedAnswer(f"certificate does not parse: {exc}") from None
    names = signing_other_names(cert)
    try:
        return SigningIdentity(
            name=names[c.OID_SAN_NAME],
            sex=names[c.OID_SAN_SEX],
            birth_date=decode_birth_date(names[c.OID_SAN_BIRTH_DATE]),
            address=names[c.OID_SAN_ADDRESS],
            name_substitutes=names.get(c.OID_SAN_NAME_SUBSTITUTES, ""),
            address_substitutes=names.get(c.OID_SAN_ADDRESS_SUBSTITUTES, ""),
        )
    except KeyError as missing:
        raise IdentityMissing(f"otherName {missing} missing") from None
