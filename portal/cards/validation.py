"""Validating a card token: a list of small steps, each raising one typed error.

The order follows card-login-protocol.md: shape and size → certificate → key usage →
policy → chain to a configured JPKI CA (generations share one DN: the signature decides)
→ validity now → revocation (CRLs, optionally OCSP) → the origin-bound signature. The nonce is consumed by the
caller before the certificate is looked at, so a replay costs no cryptography.

What cannot change between two logins with the same certificate (its parse, key usage,
policy and chain) is remembered per SHA-256 fingerprint until the certificate, its CA or
the revocation data covering it expires; validity, revocation and the origin signature are
checked on every token."""
from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from portal.cards.errors import (CertificateExpired, CertificateNotYetValid, MalformedToken,
                                 SignatureInvalid, TokenTooLarge, UntrustedCertificate,
                                 WrongCertificateType)
from portal.cards.revocation import RevocationCheck, subject_key_id as _key_id

TOKEN_FORMAT = "madoguchi-jpki:1"
MAX_TOKEN_BYTES = 12 * 1024
MAX_CERTIFICATE_BYTES = 4096
AUTH_POLICY_OID = "1.2.392.200149.8.5.1.3.30"
SIGNING_POLICY_OID = "1.2.392.200149.8.5.1.1.20"


def signed_data(origin: str, nonce: str) -> bytes:
    """What the card signs (hashed once more by the card's DigestInfo): origin ‖ nonce."""
    return _origin_hash(origin) + hashlib.sha256(nonce.encode()).digest()


@functools.lru_cache(maxsize=16)
def _origin_hash(origin: str) -> bytes:
    return hashlib.sha256(origin.encode()).digest()   # a portal has one or two origins


_PKCS1, _SHA256 = padding.PKCS1v15(), hashes.SHA256()   # stateless: made once


CACHED_CERTIFICATES = 4096  # per cache: a busy morning's distinct cards, a few MiB


class ExpiringCache:
    """A bounded, thread-safe map whose entries each carry their own expiry (a POSIX
    timestamp: comparing floats costs less than making a datetime); the least recently
    used entry goes first when full, so memory stays bounded whatever is posted."""

    def __init__(self, size: int = CACHED_CERTIFICATES) -> None:
        self.size = size
        self._entries: OrderedDict[bytes, tuple[Any, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes, now: float) -> Any | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            if hit[1] <= now:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return hit[0]

    def put(self, key: bytes, value: Any, until: float) -> None:
        with self._lock:
            self._entries[key] = (value, until)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass(frozen=True)
class CardToken:
    certificate: x509.Certificate
    certificate_der: bytes
    signature: bytes
    fingerprint: bytes = b""          # SHA-256 of certificate_der
    public_key: Any = None            # the certificate's key, parsed once per certificate


@dataclass(frozen=True)
class ValidatedCertificate:
    certificate: x509.Certificate
    issuer: x509.Certificate

    # Cached: a ValidatedCertificate is kept across logins with the same certificate.
    @functools.cached_property
    def serial_hex(self) -> str:
        return format(self.certificate.serial_number, "x")

    @functools.cached_property
    def issuer_name(self) -> str:
        return self.certificate.issuer.rfc4514_string()

    @functools.cached_property
    def fingerprint(self) -> str:
        return self.certificate.fingerprint(hashes.SHA256()).hex()


@dataclass(frozen=True)
class _Checked:
    """What a certificate's static checks found, with the dates its validity check needs."""
    validated: ValidatedCertificate
    not_before: datetime
    not_after: datetime


@dataclass(frozen=True)
class TokenValidator:
    """Immutable once built; one per kind (authentication or signing certificates)."""

    trust_anchors: tuple[x509.Certificate, ...]
    revocation: RevocationCheck
    policy_oids: frozenset[str] = frozenset({AUTH_POLICY_OID})
    key_usages: frozenset[str] = frozenset({"digital_signature"})
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))
    checked: ExpiringCache = field(default_factory=ExpiringCache, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.trust_anchors:
            raise ValueError("a token validator needs at least one trusted CA certificate")

    def parse(self, token: Any, field_prefix: str = "") -> CardToken:
        return parse_token(token, field_prefix)

    def validate(self, token: CardToken, origin: str, nonce: str) -> ValidatedCertificate:
        fingerprint = token.fingerprint or _sha256(token.certificate_der)
        validated = self._validate(token.certificate, fingerprint)
        verify_signature(token, origin, nonce)
        return validated

    def validate_certificate(self, cert: x509.Certificate) -> ValidatedCertificate:
        return self._validate(cert, cert.fingerprint(hashes.SHA256()))

    def _validate(self, cert: x509.Certificate, fingerprint: bytes) -> ValidatedCertificate:
        now = self.clock()
        checked = self.checked.get(fingerprint, now.timestamp())
        if checked is None:
            checked = self._check_once(cert, fingerprint, now)
        if now < checked.not_before or now > checked.not_after:
            check_validity(cert, now)  # one of them raises the precise error
            check_validity(checked.validated.issuer, now)
        validated = checked.validated
        self.revocation.check(validated.certificate, validated.issuer)
        return validated

    def _check_once(self, cert: x509.Certificate, fingerprint: bytes, now: datetime) -> _Checked:
        """The checks whose outcome only time can change; remembered until it does."""
        check_key_usage(cert, self.key_usages)
        check_policy(cert, self.policy_oids)
        issuer = find_issuer(cert, self.trust_anchors)
        check_validity(cert, now)
        check_validity(issuer, now)
        until = min(cert.not_valid_after_utc, issuer.not_valid_after_utc)
        checked = _Checked(ValidatedCertificate(cert, issuer),
                           max(cert.not_valid_before_utc, issuer.not_valid_before_utc), until)
        revocation_until = getattr(self.revocation, "fresh_until", None)
        data_until = revocation_until(cert, issuer) if revocation_until else None
        self.checked.put(fingerprint, checked,
                         (until if data_until is None else min(until, data_until)).timestamp())
        return checked


_parsed = ExpiringCache()


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def parse_token(token: Any, prefix: str = "") -> CardToken:
    """Shape and size: the fields present, base64 that decodes, sizes within bounds."""
    if not isinstance(token, dict):
        raise MalformedToken("token is not a JSON object")
    if token.get("format") != TOKEN_FORMAT:
        raise MalformedToken(f"format {str(token.get('format'))[:40]!r}")
    if token.get("algorithm", "RS256") != "RS256":
        raise MalformedToken("algorithm must be RS256")
    cert_der = _b64(token, prefix + "certificate", MAX_CERTIFICATE_BYTES)
    signature = _b64(token, prefix + "signature", 512)
    fingerprint = _sha256(cert_der)
    certificate, key = _parse_certificate(cert_der, fingerprint)
    if len(signature) != key.key_size // 8:
        raise MalformedToken(f"signature of {len(signature)} bytes")
    return CardToken(certificate, cert_der, signature, fingerprint, key)


def _parse_certificate(cert_der: bytes, fingerprint: bytes) -> tuple[x509.Certificate, rsa.RSAPublicKey]:
    """The parsed certificate and key, remembered per fingerprint until the certificate
    expires (a parse does not depend on the time; the expiry only frees memory)."""
    now = time.time()
    hit = _parsed.get(fingerprint, now)
    if hit is not None:
        return hit
    try:
        certificate = x509.load_der_x509_certificate(cert_der)
    except ValueError as exc:
        raise MalformedToken(f"certificate does not parse: {exc}") from None
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise WrongCertificateType("not an RSA certificate")
    _parsed.put(fingerprint, (certificate, key), max(certificate.not_valid_after_utc.timestamp(), now))
    return certificate, key


def _b64(token: dict, name: str, limit: int) -> bytes:
    value = token.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedToken(f"{name} missing")
    if len(value) > limit * 4 // 3 + 4:
        raise TokenTooLarge(f"{name} of {len(value)} characters")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedToken(f"{name} is not base64") from None


def check_key_usage(cert: x509.Certificate, required: frozenset[str]) -> None:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise WrongCertificateType("no keyUsage") from None
    missing = [name for name in required if not getattr(usage, name)]
    if missing:
        raise WrongCertificateType(f"keyUsage lacks {missing}")
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    if ExtendedKeyUsageOID.CLIENT_AUTH not in eku:
        raise WrongCertificateType("extendedKeyUsage without clientAuth")


def check_policy(cert: x509.Certificate, allowed: frozenset[str]) -> None:
    try:
        policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        raise WrongCertificateType("no certificatePolicies") from None
    found = {p.policy_identifier.dotted_string for p in policies}
    if not found & allowed:
        raise WrongCertificateType(f"policies {sorted(found)} not among {sorted(allowed)}")


def find_issuer(cert: x509.Certificate, anchors: tuple[x509.Certificate, ...]) -> x509.Certificate:
    """The anchor whose key signed `cert` (names alone cannot tell generations apart).

    The signature decides; the authority key identifier only orders the candidates so the
    likely generation is tried first and a validation costs one RSA verification, not two."""
    for anchor in sorted(anchors, key=lambda a: _key_id(a) != _authority_key_id(cert)):
        try:
            cert.verify_directly_issued_by(anchor)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return anchor
    raise UntrustedCertificate(f"issuer {cert.issuer.rfc4514_string()} serial "
                               f"{cert.serial_number:x}: no configured CA signed it")


def _authority_key_id(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except x509.ExtensionNotFound:
        return None


def check_validity(cert: x509.Certificate, now: datetime) -> None:
    if now < cert.not_valid_before_utc:
        raise CertificateNotYetValid(f"serial {cert.serial_number:x} valid from {cert.not_valid_before_utc}")
    if now > cert.not_valid_after_utc:
        raise CertificateExpired(f"serial {cert.serial_number:x} expired {cert.not_valid_after_utc}")


def verify_signature(token: CardToken, origin: str, nonce: str) -> None:
    try:
        key = token.public_key or token.certificate.public_key()
        key.verify(token.signature, signed_data(origin, nonce), _PKCS1, _SHA256)
    except InvalidSignature:
        raise SignatureInvalid(f"signature over origin {origin} does not verify") from None
