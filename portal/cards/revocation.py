"""Certificate revocation lists: loaded from files or URLs, checked by signature, indexed by
issuing CA and partition, refreshed when nextUpdate passes; and `RevocationSources`, which
puts the CRLs and an optional OCSP responder together. Missing or stale data refuses (hard
fail) unless an operator configures `soft_fail`."""
from __future__ import annotations

import functools
import threading
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Protocol, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from portal.cards.errors import CertificateRevoked, RevocationUnavailable

Fetcher = Callable[[str], bytes]


class RevocationCheck(Protocol):
    def check(self, cert: x509.Certificate, issuer: x509.Certificate) -> None:
        """Return if not revoked; raise CertificateRevoked or RevocationUnavailable."""


@dataclass(frozen=True)
class RevocationSources:
    """Every configured source is asked. One that says revoked refuses; otherwise one fresh
    source that vouches is enough (a responder that is down does not lock residents out
    while a fresh CRL covers them); none at all refuses unless `soft_fail`."""

    sources: Sequence[RevocationCheck]
    soft_fail: bool = False

    def check(self, cert: x509.Certificate, issuer: x509.Certificate) -> None:
        unavailable = RevocationUnavailable("no revocation source configured")
        vouched = False
        for source in self.sources:
            try:
                source.check(cert, issuer)
            except RevocationUnavailable as exc:
                unavailable = exc
                continue
            vouched = True
        if vouched:
            return
        if self.soft_fail:
            _log(f"no revocation status for serial {cert.serial_number:x}; soft-fail configured "
                 f"({unavailable.detail})")
            return
        raise unavailable


def fetch(source: str) -> bytes:
    """Read a CRL from a path or an http(s) URL (relying-party network, short timeout)."""
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=10) as response:  # noqa: S310 (configured URL)
            return response.read()
    return Path(source).read_bytes()


@dataclass
class LoadedCrl:
    source: str
    issuer_fingerprint: bytes
    partition: x509.Name | None
    next_update: datetime
    serials: frozenset[int]


@dataclass
class CrlStore:
    """Thread-safe CRL cache for a set of trusted CA certificates."""

    sources: list[str]
    cas: list[x509.Certificate]
    fetcher: Fetcher = fetch
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    _crls: dict[tuple[bytes, str | None], LoadedCrl] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def load_all(self) -> None:
        for source in self.sources:
            self._load(source)

    def _load(self, source: str) -> LoadedCrl | None:
        try:
            crl = x509.load_der_x509_crl(self.fetcher(source))
        except (OSError, ValueError) as exc:
            _log(f"CRL {source} unreadable: {exc}")
            return None
        issuer = self._issuer_of(crl)
        if issuer is None:
            _log(f"CRL {source} not signed by a configured CA")
            return None
        loaded = LoadedCrl(source, _fingerprint(issuer), _partition_of(crl),
                           crl.next_update_utc, frozenset(r.serial_number for r in crl))
        with self._lock:
            self._crls[(loaded.issuer_fingerprint, _key(loaded.partition))] = loaded
        return loaded

    def _issuer_of(self, crl: x509.CertificateRevocationList) -> x509.Certificate | None:
        # Generations share one DN: the signature decides which CA issued the CRL.
        for ca in self.cas:
            if ca.subject == crl.issuer and crl.is_signature_valid(ca.public_key()):
                return ca
        return None

    def check(self, cert: x509.Certificate, issuer: x509.Certificate) -> None:
        """Raise CertificateRevoked, or RevocationUnavailable when no fresh CRL covers it."""
        crl = self._fresh_crl_for(cert, issuer)
        if crl is None:
            raise RevocationUnavailable(f"no fresh CRL for issuer {issuer.subject.rfc4514_string()} "
                                        f"partition {_key(_partition_of_cert(cert))}")
        if cert.serial_number in crl.serials:
            raise CertificateRevoked(f"serial {cert.serial_number:x} listed in {crl.source}")

    def _fresh_crl_for(self, cert, issuer) -> LoadedCrl | None:
        keys = [(_fingerprint(issuer), _key(_partition_of_cert(cert))), (_fingerprint(issuer), None)]
        for key in keys:
            crl = self._crls.get(key)
            if crl is not None and crl.next_update <= self.clock():
                crl = self._load(crl.source)  # nextUpdate passed: fetch the new one
            if crl is not None and crl.next_update > self.clock():
                return crl
        return None


@functools.lru_cache(maxsize=64)
def _fingerprint(cert: x509.Certificate) -> bytes:
    """Of a CA certificate: the few configured anchors are hashed once, not per login."""
    return cert.fingerprint(hashes.SHA256())


def _key(name: x509.Name | None) -> str | None:
    return None if name is None else name.rfc4514_string()


def _partition_of(crl: x509.CertificateRevocationList) -> x509.Name | None:
    try:
        idp = crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint).value
    except x509.ExtensionNotFound:
        return None
    return _dir_name(idp.full_name or [])


def _partition_of_cert(cert: x509.Certificate) -> x509.Name | None:
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return None
    for point in points:
        name = _dir_name(point.full_name or [])
        if name is not None:
            return name
    return None


def _dir_name(names: Iterable[x509.GeneralName]) -> x509.Name | None:
    for general in names:
        if isinstance(general, x509.DirectoryName):
            return general.value
    return None


def _log(message: str) -> None:
    import logging
    logging.getLogger("madoguchi.revocation").warning(message)
