"""A test PKI shaped like JPKI: roots, card profiles, revocation, CRLs.

Everything lives in one directory (keys, certificates, ``pki.json``, card
profiles, CRLs) so the CLI, the tests and the portal's browser tests can share
it.  Only for tests and demonstrations: the keys are stored unencrypted.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from . import constants as c
from . import der, errors
from .identity import encode_birth_date, parse_signing_identity  # noqa: F401  (re-exported)
from .profile import CardInfo, CardProfile, KeyPair

KINDS = ("auth", "signing")
ORGANIZATION = "JPKI-TEST"
JLIS_OU = "Japan Agency for Local Authority Information Systems"
KIND_OU = {"auth": "JPKI for user authentication", "signing": "JPKI for digital signature"}
ISSUER_ALT_NAME = x509.Name([
    x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "公的個人認証サービス"),
])
DEFAULT_PARTITION = ("Tokyo-to", "Chiyoda-ku")
PIN_RE = re.compile(r"^[0-9]{4}$")
PASSWORD_RE = re.compile(r"^[A-Z0-9]{6,16}$")
SEX_TO_JPKI = {"1": "1", "2": "2", "3": "3", "9": "3", "male": "1", "female": "2", "unknown": "3"}
JPKI_TO_CARD_INFO_SEX = {"1": "1", "2": "2", "3": "9"}
STATE_FILE = "pki.json"


def ca_name(kind: str) -> x509.Name:
    """The DN shared by every generation of one kind of root."""
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, KIND_OU[kind]),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, JLIS_OU),
    ])


def distribution_point_name(kind: str, partition: tuple[str, str]) -> x509.Name:
    """The DirName of a CRL partition (prefecture, city)."""
    prefecture, city = partition
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, KIND_OU[kind]),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "CRL Distribution Points"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, prefecture),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, city),
    ])


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def fifth_birthday_after(issued: dt.date, birth_date: dt.date) -> dt.date:
    """Expiry of a JPKI certificate: the holder's 5th birthday after issue."""
    def birthday(year: int) -> dt.date:
        try:
            return birth_date.replace(year=year)
        except ValueError:  # born 29 February
            return dt.date(year, 3, 1)
    first = birthday(issued.year)
    if first <= issued:
        first = birthday(issued.year + 1)
    return birthday(first.year + 4)


@dataclass
class IssuingCA:
    """One generation of one root: its certificate and key."""

    kind: str
    generation: int
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey


@dataclass
class Revocation:
    serial: int
    kind: str
    generation: int
    partition: tuple[str, str]
    revoked_at: dt.datetime


class TestPKI:
    """A JPKI-shaped test PKI stored in ``directory``.  Create with :meth:`create`, reopen with :meth:`open`."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path, state: dict, cas: dict[tuple[str, int], IssuingCA]) -> None:
        self.directory = directory
        self._state = state
        self._cas = cas

    # -- creating and opening ------------------------------------------------------

    @classmethod
    def create(cls, directory: str | Path, *, now: dt.datetime | None = None) -> "TestPKI":
        """Make two root generations (one DN) for authentication and for signing."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        now = now or dt.datetime.now(dt.timezone.utc)
        cas: dict[tuple[str, int], IssuingCA] = {}
        # Generation 1 is near its end, generation 2 current: like 2015→2025 / 2023→2033.
        lifetimes = {1: (now - dt.timedelta(days=365 * 9), now + dt.timedelta(days=365)),
                     2: (now - dt.timedelta(days=365 * 2), now + dt.timedelta(days=365 * 8))}
        for kind in KINDS:
            for generation, (start, end) in lifetimes.items():
                cas[(kind, generation)] = _make_root(kind, generation, start, end)
        pki = cls(directory, {"crl_number": 0, "revoked": [], "cards": []}, cas)
        for ca in cas.values():
            pki._write_ca(ca)
        pki._save_state()
        return pki

    @classmethod
    def open(cls, directory: str | Path) -> "TestPKI":
        directory = Path(directory)
        if not (directory / STATE_FILE).exists():
            raise FileNotFoundError(f"no test PKI in {directory} (run 'pki init')")
        state = json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))
        cas = {}
        for kind in KINDS:
            for generation in (1, 2):
                stem = directory / f"{kind}-ca-g{generation}"
                cert = x509.load_pem_x509_certificate(stem.with_suffix(".pem").read_bytes())
                key = serialization.load_pem_private_key(stem.with_suffix(".key").read_bytes(), None)
                cas[(kind, generation)] = IssuingCA(kind, generation, cert, key)
        return cls(directory, state, cas)

    def _write_ca(self, ca: IssuingCA) -> None:
        stem = self.directory / f"{ca.kind}-ca-g{ca.generation}"
        stem.with_suffix(".pem").write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
        stem.with_suffix(".key").write_bytes(key_pem(ca.key))

    def _save_state(self) -> None:
        (self.directory / STATE_FILE).write_text(json.dumps(self._state, indent=1, ensure_ascii=False),
                                                 encoding="utf-8")

    # -- roots ------------------------------------------------------------------------

    def ca(self, kind: str, generation: int = 2) -> IssuingCA:
        return self._cas[(kind, generation)]

    def ca_certificates(self, kind: str) -> list[x509.Certificate]:
        """Every generation of one root (what a relying party configures as trust anchors)."""
        return [self._cas[(kind, g)].certificate for g in (1, 2)]

    # -- issuing ------------------------------------------------------------------------

    def issue_card(self, *, name: str, birth_date: dt.date, address: str, sex: str = "1",
                   name_kana: str | None = None, pin: str = "1234", password: str = "ABC123",
                   partition: tuple[str, str] = DEFAULT_PARTITION, generation: int = 2,
                   with_signing: bool = True, label: str = "JPKIAPICCTOKEN2",
                   extended_length: bool = True, now: dt.datetime | None = None,
                   path: str | Path | None = None, name_substitutes: str = "",
                   address_substitutes: str = "") -> CardProfile:
        """Issue a card: auth key+certificate, signing key+certificate, card-info data.

        The profile is saved as JSON (``path`` or ``DIR/cards/<auth serial>.json``).
        Under-15s and others without a signing certificate: ``with_signing=False``.
        ``name_substitutes`` / ``address_substitutes``: positions of characters replaced by
        substitutes (外字), as the signing certificate carries them.
        """
        _check_secrets(pin, password)
        jpki_sex = SEX_TO_JPKI.get(str(sex))
        if jpki_sex is None:
            raise errors.InvalidInput(f"sex must be one of {sorted(SEX_TO_JPKI)}")
        now = now or dt.datetime.now(dt.timezone.utc)
        partition = tuple(partition)
        not_after = self._leaf_expiry(now, birth_date, generation)
        auth_key, auth_cert = self._issue_auth(generation, partition, now, not_after)
        signing = None
        if with_signing:
            sign_key, sign_cert = self._issue_signing(
                generation, partition, now, not_after,
                identity=(name, jpki_sex, birth_date, address, name_substitutes,
                          address_substitutes))
            signing = KeyPair(sign_cert.public_bytes(serialization.Encoding.DER),
                              _der(self.ca("signing", generation).certificate), key_pem(sign_key))
        profile = CardProfile(
            auth=KeyPair(auth_cert.public_bytes(serialization.Encoding.DER),
                         _der(self.ca("auth", generation).certificate), key_pem(auth_key)),
            signing=signing,
            card_info=CardInfo(name=name, address=address, birth_date=birth_date.strftime("%Y%m%d"),
                               sex=JPKI_TO_CARD_INFO_SEX[jpki_sex], my_number=random_my_number()),
            pin=pin, password=password, label=label, extended_length=extended_length,
            meta={"auth_serial": auth_cert.serial_number,
                  "signing_serial": sign_cert.serial_number if with_signing else None,
                  "generation": generation, "partition": list(partition), "name_kana": name_kana},
        )
        target = Path(path) if path else self.directory / "cards" / f"{auth_cert.serial_number:x}.json"
        profile.save(target)
        self._remember_card(profile)
        return profile

    def _leaf_expiry(self, now: dt.datetime, birth_date: dt.date, generation: int) -> dt.datetime:
        expiry = dt.datetime.combine(fifth_birthday_after(now.date(), birth_date), dt.time(),
                                     tzinfo=dt.timezone.utc)
        ca_end = self.ca("auth", generation).certificate.not_valid_after_utc
        return min(expiry, ca_end)

    def _remember_card(self, profile: CardProfile) -> None:
        self._state["cards"].append({**profile.meta, "profile": str(profile.path)})
        self._save_state()

    def _issue_auth(self, generation, partition, now, not_after):
        ca = self.ca("auth", generation)
        key = new_key()
        subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                             x509.NameAttribute(NameOID.COMMON_NAME, opaque_id())])
        builder = _leaf_builder(ca, key, subject, now, not_after, partition)
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        builder = builder.add_extension(x509.CertificatePolicies([
            x509.PolicyInformation(x509.ObjectIdentifier(c.OID_AUTH_POLICY), None)]), critical=False)
        return key, builder.sign(ca.key, hashes.SHA256())

    def _issue_signing(self, generation, partition, now, not_after, identity):
        ca = self.ca("signing", generation)
        key = new_key()
        prefecture, city = partition
        subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                             x509.NameAttribute(NameOID.LOCALITY_NAME, prefecture),
                             x509.NameAttribute(NameOID.LOCALITY_NAME, city),
                             x509.NameAttribute(NameOID.COMMON_NAME, opaque_id())])
        builder = _leaf_builder(ca, key, subject, now, not_after, partition)
        builder = builder.add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        builder = builder.add_extension(x509.CertificatePolicies([
            x509.PolicyInformation(x509.ObjectIdentifier(c.OID_SIGN_POLICY), None)]), critical=True)
        builder = builder.add_extension(identity_alt_name(*identity), critical=False)
        return key, builder.sign(ca.key, hashes.SHA256())

    # -- revocation ------------------------------------------------------------------------

    def find_card(self, serial: int) -> dict:
        """The issuance record holding ``serial`` (auth or signing)."""
        for card in self._state["cards"]:
            if serial in (card["auth_serial"], card["signing_serial"]):
                return card
        raise KeyError(f"serial {serial:x} was not issued by this PKI")

    def revoke(self, serial: int, *, when: dt.datetime | None = None) -> Revocation:
        """Revoke an auth or signing certificate issued by this PKI (idempotent)."""
        card = self.find_card(serial)
        kind = "auth" if serial == card["auth_serial"] else "signing"
        when = when or dt.datetime.now(dt.timezone.utc)
        if not any(r["serial"] == serial for r in self._state["revoked"]):
            self._state["revoked"].append({"serial": serial, "kind": kind, "generation": card["generation"],
                                           "partition": card["partition"], "revoked_at": when.isoformat()})
            self._save_state()
        return Revocation(serial, kind, card["generation"], tuple(card["partition"]), when)

    def revocations(self, kind: str | None = None, generation: int | None = None,
                    partition: tuple[str, str] | None = None) -> list[Revocation]:
        found = []
        for r in self._state["revoked"]:
            rev = Revocation(r["serial"], r["kind"], r["generation"], tuple(r["partition"]),
                             dt.datetime.fromisoformat(r["revoked_at"]))
            if (kind in (None, rev.kind) and generation in (None, rev.generation)
                    and (partition is None or tuple(partition) == rev.partition)):
                found.append(rev)
        return found

    def partitions(self) -> list[tuple[str, str]]:
        return sorted({tuple(card["partition"]) for card in self._state["cards"]} | {DEFAULT_PARTITION})

    def _next_crl_number(self) -> int:
        self._state["crl_number"] += 1
        self._save_state()
        return self._state["crl_number"]

    def write_crl(self, kind: str = "auth", generation: int = 2, partition: tuple[str, str] | None = None,
                  *, now: dt.datetime | None = None, next_update: dt.timedelta = dt.timedelta(days=1),
                  path: str | Path | None = None) -> Path:
        """Publish a CRL for one root generation, optionally for one partition (with an IDP)."""
        ca = self.ca(kind, generation)
        now = now or dt.datetime.now(dt.timezone.utc)
        builder = (x509.CertificateRevocationListBuilder()
                   .issuer_name(ca.certificate.subject)
                   .last_update(now).next_update(now + next_update)
                   .add_extension(x509.CRLNumber(self._next_crl_number()), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
                                  critical=False))
        if partition is not None:
            builder = builder.add_extension(x509.IssuingDistributionPoint(
                full_name=[x509.DirectoryName(distribution_point_name(kind, partition))],
                relative_name=None, only_contains_user_certs=True, only_contains_ca_certs=False,
                only_some_reasons=None, indirect_crl=False, only_contains_attribute_certs=False),
                critical=True)
        for rev in self.revocations(kind, generation, partition):
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(rev.serial)
                .revocation_date(rev.revoked_at).build())
        crl = builder.sign(ca.key, hashes.SHA256())
        target = Path(path) if path else self.directory / "crl" / _crl_file_name(kind, generation, partition)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(crl.public_bytes(serialization.Encoding.DER))
        return target

    def write_crls(self, *, now: dt.datetime | None = None,
                   next_update: dt.timedelta = dt.timedelta(days=1)) -> list[Path]:
        """Every CRL: per kind, generation and partition, plus one whole CRL per root."""
        paths = []
        for kind in KINDS:
            for generation in (1, 2):
                paths.append(self.write_crl(kind, generation, None, now=now, next_update=next_update))
                for partition in self.partitions():
                    paths.append(self.write_crl(kind, generation, partition, now=now,
                                                next_update=next_update))
        return paths

    def write_big_crl(self, path: str | Path, entries: int, *, kind: str = "auth", generation: int = 2,
                      now: dt.datetime | None = None,
                      next_update: dt.timedelta = dt.timedelta(days=1)) -> Path:
        """A CRL with ``entries`` filler serials plus this PKI's real revocations (benchmarks).

        Written as DER directly: cryptography's builder needs minutes for a
        million entries, this takes seconds.  See :func:`build_crl_der`.
        """
        ca = self.ca(kind, generation)
        now = now or dt.datetime.now(dt.timezone.utc)
        real = [(r.serial, r.revoked_at) for r in self.revocations(kind, generation)]
        data = build_crl_der(ca.certificate.subject, ca.key, real, filler=entries, this_update=now,
                             next_update=now + next_update, crl_number=self._next_crl_number())
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target


# -- building blocks -------------------------------------------------------------------------

def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _crl_file_name(kind: str, generation: int, partition: tuple[str, str] | None) -> str:
    if partition is None:
        return f"{kind}-g{generation}.crl"
    slug = "-".join(re.sub(r"[^\w]+", "_", part) for part in partition)
    return f"{kind}-g{generation}-{slug}.crl"


def _check_secrets(pin: str, password: str) -> None:
    if not PIN_RE.match(pin):
        raise errors.InvalidPinFormat()
    if not PASSWORD_RE.match(password):
        raise errors.InvalidPasswordFormat()


def opaque_id() -> str:
    """An auth-certificate CN: random, telling nothing about the holder."""
    return secrets.token_hex(10).upper()


def random_my_number() -> str:
    """12 digits with a valid check digit (virtual cards only)."""
    body = "".join(str(secrets.randbelow(10)) for _ in range(11))
    return body + my_number_check_digit(body)


def my_number_check_digit(body: str) -> str:
    total = 0
    for n, digit in enumerate(reversed(body), start=1):
        weight = n + 1 if n <= 6 else n - 5
        total += int(digit) * weight
    remainder = total % 11
    return "0" if remainder <= 1 else str(11 - remainder)


def _make_root(kind: str, generation: int, start: dt.datetime, end: dt.datetime) -> IssuingCA:
    key = new_key()
    name = ca_name(kind)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.IssuerAlternativeName([x509.DirectoryName(ISSUER_ALT_NAME)]), critical=False)
            .sign(key, hashes.SHA256()))
    return IssuingCA(kind, generation, cert, key)


def _leaf_builder(ca: IssuingCA, key, subject, now, not_after, partition) -> x509.CertificateBuilder:
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.certificate.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(not_after)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.IssuerAlternativeName([x509.DirectoryName(ISSUER_ALT_NAME)]), critical=False)
            .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                full_name=[x509.DirectoryName(distribution_point_name(ca.kind, partition))],
                relative_name=None, reasons=None, crl_issuer=None)]), critical=False))


def identity_alt_name(name: str, sex: str, birth_date: dt.date, address: str,
                      name_substitutes: str = "", address_substitutes: str = "",
                      ) -> x509.SubjectAlternativeName:
    """The signing certificate's SAN: one otherName per attribute, value [0] EXPLICIT
    UTF8String; the substitute-character positions (.5.5.2, .5.5.6) always present, empty
    when no character was substituted. This PKI writes positions as 1-based numbers joined
    by commas."""
    values = [(c.OID_SAN_NAME, name), (c.OID_SAN_NAME_SUBSTITUTES, name_substitutes),
              (c.OID_SAN_SEX, sex), (c.OID_SAN_BIRTH_DATE, encode_birth_date(birth_date)),
              (c.OID_SAN_ADDRESS, address), (c.OID_SAN_ADDRESS_SUBSTITUTES, address_substitutes)]
    return x509.SubjectAlternativeName([
        x509.OtherName(x509.ObjectIdentifier(oid), der.utf8_string(text)) for oid, text in values])


# -- a CRL written by hand (fast path for huge CRLs) -------------------------------------------

_SHA256_WITH_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")
_OID_CRL_NUMBER = bytes.fromhex("0603551d14")
_OID_AKI = bytes.fromhex("0603551d23")
# Filler serials live above 2^150 so they never collide with real random
# 159-bit serials by accident in a way that matters for a benchmark.
FILLER_SERIAL_BASE = 1 << 150


def build_crl_der(issuer: x509.Name, key: rsa.RSAPrivateKey, revoked: list[tuple[int, dt.datetime]],
                  *, filler: int, this_update: dt.datetime, next_update: dt.datetime,
                  crl_number: int) -> bytes:
    """DER of an X.509 v2 CRL signed with sha256WithRSA.

    The filler entries share one revocation date and a fixed-width serial, so
    each entry is the same bytes with a counter spliced in: that is what makes
    a million entries take a second or two in pure Python.
    """
    entries = [der.sequence(der.integer(serial), der.utc_time(when)) for serial, when in revoked]
    entries.append(_filler_entries(filler, this_update))
    extensions = der.explicit(0, der.sequence(
        der.sequence(_OID_AKI, der.tlv(0x04, der.sequence(der.tlv(0x80, _key_id(key))))),
        der.sequence(_OID_CRL_NUMBER, der.tlv(0x04, der.integer(crl_number)))))
    revoked_seq = der.tlv(0x30, b"".join(entries)) if (entries[-1] or len(entries) > 1) else b""
    tbs = der.sequence(der.integer(1), _SHA256_WITH_RSA, issuer.public_bytes(),
                       der.utc_time(this_update), der.utc_time(next_update), revoked_seq, extensions)
    signature = key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    return der.sequence(tbs, _SHA256_WITH_RSA, der.bit_string(signature))


def _filler_entries(count: int, when: dt.datetime) -> bytes:
    date = der.utc_time(when)
    serial_size = len(der.integer(FILLER_SERIAL_BASE + count)) - 2  # value bytes, fixed width
    head_len = 2 + serial_size + len(date)
    prefix = b"\x30" + der.length(head_len) + b"\x02" + bytes((serial_size,))
    return b"".join(prefix + (FILLER_SERIAL_BASE + i).to_bytes(serial_size, "big") + date
                    for i in range(count))


def _key_id(key: rsa.RSAPrivateKey) -> bytes:
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key()).digest
