"""An OCSP responder for a test PKI (RFC 6960 over HTTP POST), answering from the PKI's
issuance and revocation records. Only for tests and demonstrations.

`OcspResponder` is a plain WSGI application, so the portal's OCSP client is tested over a
real socket; its `options` can make it misbehave the ways real responders do (stale
answers, foreign signatures, delegated responder certificates, refusals, garbage)."""
from __future__ import annotations

import datetime as dt
import functools
from typing import Any, Callable, Iterable

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .testpki import IssuingCA, TestPKI

MAX_REQUEST_BYTES = 16 * 1024


def answer(pki: TestPKI, request_der: bytes, *, now: dt.datetime | None = None,
           next_update: dt.timedelta | None = dt.timedelta(hours=1), signer: str = "issuer",
           echo_nonce: bool = True, nonce: bytes | None = None, refuse: str | None = None) -> bytes:
    """The DER response to one request.

    `signer`: "issuer" (the root signs), "delegated" (a responder certificate with the
    OCSPSigning purpose), "delegated-without-purpose", or "stranger" (a key nobody trusts).
    `nonce` replaces the echoed nonce; `refuse` names an OCSPResponseStatus to answer with."""
    if refuse:
        return _refusal(ocsp.OCSPResponseStatus[refuse.upper()])
    try:
        request = ocsp.load_der_ocsp_request(request_der)
    except ValueError:
        return _refusal(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    ca = _issuing_ca(pki, request)
    if ca is None:
        return _refusal(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    now = now or dt.datetime.now(dt.timezone.utc)
    status, revoked_at = _status(pki, ca, request.serial_number)
    builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
        request.issuer_name_hash, request.issuer_key_hash, request.serial_number,
        request.hash_algorithm, status, now, now + next_update if next_update else None,
        revoked_at, None)
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    elif echo_nonce:
        builder = _with_nonce(builder, request)
    cert, key = _signer(ca, signer)
    builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, cert)
    if cert is not ca.certificate:
        builder = builder.certificates([cert])
    return builder.sign(key, hashes.SHA256()).public_bytes(Encoding.DER)


def _refusal(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(Encoding.DER)


def _issuing_ca(pki: TestPKI, request: ocsp.OCSPRequest) -> IssuingCA | None:
    """The root whose name and key hash the request names (a root is its own issuer, so a
    request built for the root carries the hashes a leaf's request would)."""
    for kind in ("auth", "signing"):
        for generation in (1, 2):
            ca = pki.ca(kind, generation)
            probe = ocsp.OCSPRequestBuilder().add_certificate(
                ca.certificate, ca.certificate, request.hash_algorithm).build()
            if (probe.issuer_key_hash, probe.issuer_name_hash) == (request.issuer_key_hash,
                                                                  request.issuer_name_hash):
                return ca
    return None


def _status(pki: TestPKI, ca: IssuingCA, serial: int):
    try:
        card = pki.find_card(serial)
    except KeyError:
        return ocsp.OCSPCertStatus.UNKNOWN, None
    kind = "auth" if serial == card["auth_serial"] else "signing"
    if (kind, card["generation"]) != (ca.kind, ca.generation):   # not issued by this root
        return ocsp.OCSPCertStatus.UNKNOWN, None
    for revocation in pki.revocations(ca.kind, ca.generation):
        if revocation.serial == serial:
            return ocsp.OCSPCertStatus.REVOKED, revocation.revoked_at
    return ocsp.OCSPCertStatus.GOOD, None


def _with_nonce(builder: ocsp.OCSPResponseBuilder, request: ocsp.OCSPRequest):
    try:
        nonce = request.extensions.get_extension_for_class(x509.OCSPNonce).value
    except x509.ExtensionNotFound:
        return builder
    return builder.add_extension(nonce, critical=False)


def _signer(ca: IssuingCA, signer: str):
    if signer == "issuer":
        return ca.certificate, ca.key
    if signer == "stranger":
        return _stranger()
    if signer in ("delegated", "delegated-without-purpose"):
        return _delegated(ca, signer == "delegated")
    raise ValueError(f"unknown signer {signer!r}")


@functools.lru_cache(maxsize=None)
def _stranger() -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Not a JPKI responder")])
    return _certificate(name, key, name, key, purposes=[ExtendedKeyUsageOID.OCSP_SIGNING]), key


_delegates: dict[tuple[bytes, bool], tuple[x509.Certificate, rsa.RSAPrivateKey]] = {}


def _delegated(ca: IssuingCA, with_purpose: bool):
    slot = (ca.certificate.fingerprint(hashes.SHA256()), with_purpose)
    if slot not in _delegates:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([*ca.certificate.subject, x509.NameAttribute(NameOID.COMMON_NAME, "OCSP Responder")])
        _delegates[slot] = (_certificate(name, key, ca.certificate.subject, ca.key,
                                         purposes=[ExtendedKeyUsageOID.OCSP_SIGNING] if with_purpose
                                         else [ExtendedKeyUsageOID.CLIENT_AUTH]), key)
    return _delegates[slot]


def _certificate(subject, key, issuer, issuer_key, *, purposes) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage(purposes), critical=False)
            .sign(issuer_key, hashes.SHA256()))


class OcspResponder:
    """WSGI: POST a DER request, get a DER response. `options` are passed to `answer`;
    `options["http_status"]` or `options["garbage"]` make it fail below the OCSP layer."""

    def __init__(self, pki: TestPKI | Callable[[], TestPKI], **options: Any) -> None:
        # a callable is called per request: the command-line responder reopens the PKI so
        # that `pki revoke` in another process shows in the next answer
        self.pki = pki
        self.options: dict[str, Any] = options
        self.requests = 0

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "POST":
            return _reply(start_response, "405 Method Not Allowed", b"POST only\n", "text/plain")
        self.requests += 1
        options = dict(self.options)
        if "http_status" in options:
            return _reply(start_response, options["http_status"], b"unavailable\n", "text/plain")
        if options.pop("garbage", False):
            return _reply(start_response, "200 OK", b"\x30\x03not ocsp", "application/ocsp-response")
        length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_REQUEST_BYTES)
        pki = self.pki() if callable(self.pki) else self.pki
        body = answer(pki, environ["wsgi.input"].read(length), **options)
        return _reply(start_response, "200 OK", body, "application/ocsp-response")


def _reply(start_response, status: str, body: bytes, content_type: str) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
