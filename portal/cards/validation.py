"""Validating a card token: a list of small steps, each raising one typed error.

The order follows card-login-protocol.md: shape and size → certificate → key usage →
policy → chain to a configured JPKI CA (generations share one DN: the signature decides)
→ validity now → revocation (CRLs, optionally OCSP) → the origin-bound signature. The nonce is consumed by the
caller before the certificate is looked at, so a replay costs no cryptography."""
from __future__ import annotations

import base64
import binascii
import functools
import hashlib
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
from portal.cards.revocation import RevocationCheck

TOKEN_FORMAT = "madoguchi-jpki:1"
MAX_TOKEN_BYTES = 12 * 1024
MAX_CERTIFICATE_BYTES = 4096
AUTH_POLICY_OID = "1.2.392.200149.8.5.1.3.30"
SIGNING_POLICY_OID = "1.2.392.200149.8.5.1.1.20"


def signed_data(origin: str, nonce: str) -> bytes:
    """What the card signs (hashed once more by the card's DigestInfo): origin ‖ nonce."""
    return hashlib.sha256(origin.encode()).digest() + hashlib.sha256(nonce.encode()).digest()


@dataclass(frozen=True)
class CardToken:
    certificate: x509.Certificate
    certificate_der: bytes
    signature: bytes


@dataclass(frozen=True)
class ValidatedCertificate:
    certificate: x509.Certificate
    issuer: x509.Certificate

    @property
    def serial_hex(self) -> str:
        return format(self.certificate.serial_number, "x")

    @property
    def issuer_name(self) -> str:
        return self.certificate.issuer.rfc4514_string()

    @property
    def fingerprint(self) -> str:
        return self.certificate.fingerprint(hashes.SHA256()).hex()


@dataclass(frozen=True)
class TokenValidator:
    """Immutable once built; one per kind (authentication or signing certificates)."""

    trust_anchors: tuple[x509.Certificate, ...]
    revocation: RevocationCheck
    policy_oids: frozenset[str] = frozenset({AUTH_POLICY_OID})
    key_usages: frozenset[str] = frozenset({"digital_signature"})
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))

    def __post_init__(self) -> None:
        if not self.trust_anchors:
            raise ValueError("a token validator needs at least one trusted CA certificate")

    def parse(self, token: Any, field_prefix: str = "") -> CardToken:
        return parse_token(token, field_prefix)

    def validate(self, token: CardToken, origin: str, nonce: str) -> ValidatedCertificate:
        validated = self.validate_certificate(token.certificate)
        verify_signature(token, origin, nonce)
        return validated

    def validate_certificate(self, cert: x509.Certificate) -> ValidatedCertificate:
        check_key_usage(cert, self.key_usages)
        check_policy(cert, self.policy_oids)
        issuer = find_issuer(cert, self.trust_anchors)
        check_validity(cert, self.clock())
        check_validity(issuer, self.clock())
        self.revocation.check(cert, issuer)
        return ValidatedCertificate(cert, issuer)


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
    try:
        certificate = x509.load_der_x509_certificate(cert_der)
    except ValueError as exc:
        raise MalformedToken(f"certificate does not parse: {exc}") from None
    if not isinstance(certificate.public_key(), rsa.RSAPublicKey):
        raise WrongCertificateType("not an RSA certificate")
    if len(signature) != certificate.public_key().key_size // 8:
        raise MalformedToken(f"signature of {len(signature)} bytes")
    return CardToken(certificate, cert_der, signature)


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


@functools.lru_cache(maxsize=64)
def _key_id(anchor: x509.Certificate) -> bytes | None:
    try:
        return anchor.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None


def check_validity(cert: x509.Certificate, now: datetime) -> None:
    if now < cert.not_valid_before_utc:
        raise CertificateNotYetValid(f"serial {cert.serial_number:x} valid from {cert.not_valid_before_utc}")
    if now > cert.not_valid_after_utc:
        raise CertificateExpired(f"serial {cert.serial_number:x} expired {cert.not_valid_after_utc}")


def verify_signature(token: CardToken, origin: str, nonce: str) -> None:
    try:
        token.certificate.public_key().verify(token.signature, signed_data(origin, nonce),
                                              padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise SignatureInvalid(f"signature over origin {origin} does not verify") from None
