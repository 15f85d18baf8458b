"""Revocation by OCSP, asked of one responder the operator configures (J-LIS gives its OCSP
service only to certified relying parties, so it is optional beside the CRLs).

A response counts only when it is signed by the certificate's issuer, or by a responder
certificate that issuer gave the OCSPSigning purpose, and when it is fresh. Anything else,
including a responder that does not answer, is "unavailable": the caller decides between
refusing and another source."""
from __future__ import annotations

import http.client
import logging
import os
import threading
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from portal.cards.errors import CertificateRevoked, RevocationUnavailable

log = logging.getLogger("madoguchi.revocation")

Poster = Callable[[str, bytes, float], bytes]
CLOCK_SKEW = timedelta(minutes=5)
MAX_RESPONSE_BYTES = 64 * 1024


def post(url: str, body: bytes, timeout: float) -> bytes:
    """POST an OCSP request (RFC 6960 appendix A) and return the body of a 200 answer."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/ocsp-request",
                                              "Accept": "application/ocsp-response"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured URL)
        return response.read(MAX_RESPONSE_BYTES + 1)


@dataclass
class OcspClient:
    """Asks `url` about one certificate at a time; good and revoked answers are cached until
    the response's nextUpdate (at most `cache_s`), so a busy morning is not one query per
    login."""

    url: str
    timeout_s: float = 5.0
    max_age_s: float = 3600.0      # for responses without nextUpdate: how old thisUpdate may be
    cache_s: float = 300.0
    retry_s: float = 60.0          # after no answer, how long to leave the responder alone
    poster: Poster = post
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    _cache: dict[tuple[bytes, int], tuple[ocsp.OCSPCertStatus, datetime]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _silent_until: datetime | None = None

    def check(self, cert: x509.Certificate, issuer: x509.Certificate) -> None:
        """Return if the responder vouches for `cert`; raise CertificateRevoked or
        RevocationUnavailable."""
        key = (issuer.fingerprint(hashes.SHA256()), cert.serial_number)
        status = self._cached(key)
        if status is None:
            status, until = self._ask(cert, issuer)
            with self._lock:
                self._forget_expired()
                self._cache[key] = (status, until)
        if status == ocsp.OCSPCertStatus.REVOKED:
            raise CertificateRevoked(f"serial {cert.serial_number:x} revoked according to OCSP {self.url}")

    def _cached(self, key) -> ocsp.OCSPCertStatus | None:
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[1] > self.clock():
            return hit[0]
        return None

    def _forget_expired(self) -> None:
        """Answers live minutes: without this the cache would hold every card ever seen."""
        now = self.clock()
        for key in [k for k, (_status, until) in self._cache.items() if until <= now]:
            del self._cache[key]

    def _ask(self, cert, issuer) -> tuple[ocsp.OCSPCertStatus, datetime]:
        # A responder that did not answer is not asked again for a while: every sign-in
        # would otherwise wait the whole timeout while a fresh CRL already vouches.
        if self._silent_until is not None and self.clock() < self._silent_until:
            raise self._unavailable(cert, f"no answer recently (until {self._silent_until})")
        nonce = os.urandom(16)
        request = (ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1())
                   .add_extension(x509.OCSPNonce(nonce), critical=False).build())
        try:
            body = self.poster(self.url, request.public_bytes(Encoding.DER), self.timeout_s)
        except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError is an OSError
            self._silent_until = self.clock() + timedelta(seconds=self.retry_s)
            raise self._unavailable(cert, f"no answer: {exc}") from None
        if len(body) > MAX_RESPONSE_BYTES:
            raise self._unavailable(cert, f"answer over {MAX_RESPONSE_BYTES} bytes")
        try:
            response = ocsp.load_der_ocsp_response(body)
        except ValueError as exc:
            raise self._unavailable(cert, f"answer does not parse: {exc}") from None
        return self._read(response, request, cert, issuer, nonce)

    def _read(self, response, request, cert, issuer, nonce) -> tuple[ocsp.OCSPCertStatus, datetime]:
        if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            raise self._unavailable(cert, f"responder said {response.response_status.name}")
        now = self.clock()
        try:
            verify_response_signature(response, issuer, now)
            check_nonce(response, nonce)
            single = matching_response(response, request)
            until = fresh_until(single, now, self.max_age_s)
        except (ValueError, InvalidSignature) as exc:
            raise self._unavailable(cert, str(exc) or type(exc).__name__) from None
        if single.certificate_status == ocsp.OCSPCertStatus.UNKNOWN:
            raise self._unavailable(cert, "responder does not know the certificate")
        return single.certificate_status, min(until, now + timedelta(seconds=self.cache_s))

    def _unavailable(self, cert, reason: str) -> RevocationUnavailable:
        detail = f"OCSP {self.url} for serial {cert.serial_number:x}: {reason}"
        log.warning(detail)
        return RevocationUnavailable(detail)


def verify_response_signature(response: ocsp.OCSPResponse, issuer: x509.Certificate,
                              now: datetime) -> None:
    """The issuer signed it, or a responder certificate the issuer delegated OCSP to."""
    signer = issuer if _names_responder(response, issuer) else _delegated_responder(response, issuer, now)
    verify_with_key(signer.public_key(), response.signature, response.tbs_response_bytes,
            response.signature_hash_algorithm)


def _names_responder(response: ocsp.OCSPResponse, cert: x509.Certificate) -> bool:
    if response.responder_key_hash is not None:
        return response.responder_key_hash == x509.SubjectKeyIdentifier.from_public_key(
            cert.public_key()).digest
    return response.responder_name == cert.subject


def _delegated_responder(response, issuer, now) -> x509.Certificate:
    for candidate in response.certificates:
        if not _names_responder(response, candidate):
            continue
        try:
            candidate.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            raise ValueError("signed by a responder certificate the issuer did not issue") from None
        try:
            purposes = candidate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            purposes = []
        if ExtendedKeyUsageOID.OCSP_SIGNING not in purposes:
            raise ValueError("responder certificate lacks the OCSPSigning purpose")
        if not candidate.not_valid_before_utc <= now <= candidate.not_valid_after_utc:
            raise ValueError("responder certificate not valid now")
        return candidate
    raise ValueError("signed neither by the issuer nor by a responder the issuer delegated to")


def verify_with_key(key, signature: bytes, data: bytes, algorithm) -> None:
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, data, padding.PKCS1v15(), algorithm)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(algorithm))
    else:
        raise ValueError(f"responder key type {type(key).__name__} not supported")


def check_nonce(response: ocsp.OCSPResponse, nonce: bytes) -> None:
    """Responders that precompute answers leave the nonce out; one that is echoed must match."""
    try:
        echoed = response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        return
    if echoed != nonce:
        raise ValueError("nonce in the answer is not the one asked with")


def matching_response(response: ocsp.OCSPResponse, request: ocsp.OCSPRequest):
    for single in response.responses:
        if (single.serial_number == request.serial_number
                and single.issuer_key_hash == request.issuer_key_hash
                and single.issuer_name_hash == request.issuer_name_hash):
            return single
    raise ValueError("the answer is about another certificate")


def fresh_until(single, now: datetime, max_age_s: float) -> datetime:
    """Until when the answer may be relied on; ValueError if that is already over."""
    if single.this_update_utc > now + CLOCK_SKEW:
        raise ValueError(f"thisUpdate {single.this_update_utc} is in the future")
    if single.next_update_utc is not None:
        until = single.next_update_utc
    else:
        until = single.this_update_utc + timedelta(seconds=max_age_s)
    if until <= now:
        raise ValueError(f"stale answer (usable until {until})")
    return until

