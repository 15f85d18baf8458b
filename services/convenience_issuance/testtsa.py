"""A test trust service for signed certificates: a root CA (「テスト認証局」), an RFC 3161
time-stamping authority (TSA) it certifies, and the CA's CRL, over HTTP. Only for tests
and the demo (`madoguchi convenience_issuance tsa-serve DIR`), like the card side's test
OCSP responder.

    POST /tsa   application/timestamp-query → application/timestamp-reply
    GET  /crl   the root's CRL (DER), fresh for a day

The time-stamp tokens are made by pyHanko's own test TSA (`DummyTimeStamper`); this
module adds the PKI and the HTTP around it. No Flask, no database."""
from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from asn1crypto import keys as asn1_keys, tsp, x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps import DummyTimeStamper

MAX_REQUEST_BYTES = 16 * 1024
ROOT_YEARS, TSA_YEARS = 30, 20


def _name(common_name: str, organisation: str = "窓口 Madoguchi テスト") -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _key_usage(**on: bool) -> x509.KeyUsage:
    flags = dict.fromkeys(("digital_signature", "content_commitment", "key_encipherment",
                           "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign",
                           "encipher_only", "decipher_only"), False)
    return x509.KeyUsage(**{**flags, **on})


@dataclass(frozen=True)
class TrustServices:
    """The test root CA and TSA, read from (or written to) a directory."""
    directory: Path
    root: x509.Certificate
    root_key: rsa.RSAPrivateKey
    tsa: x509.Certificate
    tsa_key: rsa.RSAPrivateKey
    base_url: str

    @classmethod
    def create(cls, directory: Path, base_url: str) -> "TrustServices":
        """A new root and TSA whose certificates point at `base_url` for the CRL."""
        directory.mkdir(parents=True, exist_ok=True)
        now = dt.datetime.now(dt.timezone.utc)
        root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        root = (x509.CertificateBuilder().subject_name(_name("テスト認証局 Root"))
                .issuer_name(_name("テスト認証局 Root")).public_key(root_key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=365 * ROOT_YEARS))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()),
                               critical=False)
                .sign(root_key, hashes.SHA256()))
        services = cls(directory, root, root_key, root, root_key, base_url.rstrip("/"))
        tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        tsa = services.issue(_name("テスト時刻認証局 TSA"), tsa_key, dt.timedelta(days=365 * TSA_YEARS),
                             [ExtendedKeyUsageOID.TIME_STAMPING])
        (directory / "base_url").write_text(services.base_url + "\n")
        for name, data in (("root.pem", _pem(root)), ("root.key", _key_pem(root_key)),
                           ("tsa.pem", _pem(tsa)), ("tsa.key", _key_pem(tsa_key))):
            (directory / name).write_bytes(data)
        return cls(directory, root, root_key, tsa, tsa_key, services.base_url)

    @classmethod
    def open(cls, directory: Path) -> "TrustServices":
        def key(name):
            return serialization.load_pem_private_key((directory / name).read_bytes(), None)

        def cert(name):
            return x509.load_pem_x509_certificate((directory / name).read_bytes())
        return cls(directory, cert("root.pem"), key("root.key"), cert("tsa.pem"), key("tsa.key"),
                   (directory / "base_url").read_text().strip())

    @property
    def crl_url(self) -> str:
        return f"{self.base_url}/crl"

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/tsa"

    def issue(self, subject: x509.Name, key: rsa.RSAPrivateKey, lifetime: dt.timedelta,
              purposes: list | None = None, not_before: dt.datetime | None = None) -> x509.Certificate:
        """An end-entity certificate under the root, with the CRL's address in it."""
        start = not_before or dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(self.root.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(start).not_valid_after(start + lifetime)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       self.root_key.public_key()), critical=False)
                   .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                       [x509.UniformResourceIdentifier(self.crl_url)], None, None, None)]),
                       critical=False))
        if purposes:
            builder = builder.add_extension(x509.ExtendedKeyUsage(purposes), critical=True)
            builder = builder.add_extension(_key_usage(digital_signature=True), critical=True)
        else:
            builder = builder.add_extension(
                _key_usage(digital_signature=True, content_commitment=True), critical=True)
        return builder.sign(self.root_key, hashes.SHA256())

    def signing_key(self, city_name: str, code: str, days: int = 730,
                    not_before: dt.datetime | None = None) -> tuple[bytes, bytes, bytes]:
        """A municipality's 公印 key and certificate under the test root: (key PEM,
        certificate PEM, root PEM)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = self.issue(_name(f"{city_name}長 ({code}) 公印", city_name), key,
                          dt.timedelta(days=days), not_before=not_before)
        return _key_pem(key), _pem(cert), _pem(self.root)

    def crl(self) -> bytes:
        now = dt.datetime.now(dt.timezone.utc)
        return (x509.CertificateRevocationListBuilder().issuer_name(self.root.subject)
                .last_update(now - dt.timedelta(minutes=5)).next_update(now + dt.timedelta(days=1))
                .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.root_key.public_key()), critical=False)
                .sign(self.root_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))

    def timestamper(self) -> DummyTimeStamper:
        der = serialization.Encoding.DER
        return DummyTimeStamper(
            tsa_cert=asn1_x509.Certificate.load(self.tsa.public_bytes(der)),
            tsa_key=asn1_keys.PrivateKeyInfo.load(self.tsa_key.private_bytes(
                der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
            certs_to_embed=[asn1_x509.Certificate.load(self.root.public_bytes(der))])


class TrustServiceApp:
    """WSGI: the TSA and the CRL. `down` makes every request fail (a TSA that is out)."""

    def __init__(self, services: TrustServices | None = None) -> None:
        self.services = services
        self.down = False
        self.stamps = 0

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ["REQUEST_METHOD"]
        if self.down or self.services is None:
            return _reply(start_response, "503 Service Unavailable", b"down\n", "text/plain")
        if path == "/crl" and method == "GET":
            return _reply(start_response, "200 OK", self.services.crl(), "application/pkix-crl")
        if path == "/tsa" and method == "POST":
            length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_REQUEST_BYTES)
            try:
                request = tsp.TimeStampReq.load(environ["wsgi.input"].read(length))
                request.native  # parse it all now: garbage is a 400, not a 500
            except ValueError:
                return _reply(start_response, "400 Bad Request", b"not a timestamp query\n", "text/plain")
            self.stamps += 1
            reply = self.services.timestamper().request_tsa_response(request).dump()
            return _reply(start_response, "200 OK", reply, "application/timestamp-reply")
        return _reply(start_response, "404 Not Found", b"not found\n", "text/plain")


def _reply(start_response, status: str, body: bytes, content_type: str) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def serve_in_thread(app: TrustServiceApp, host: str = "127.0.0.1", port: int = 0):
    """Start serving `app`; returns (server, base URL). `server.shutdown()` stops it."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args) -> None:  # tests and the demo need no access log
            pass

    server = make_server(host, port, app, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{server.server_port}"
