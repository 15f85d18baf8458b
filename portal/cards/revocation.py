"""Certificate revocation lists: loaded from files or URLs, checked by signature, indexed by
issuing CA and partition, refreshed outside requests (start-up, `madoguchi card
refresh-crls`); and `RevocationSources`, which puts the CRLs and an optional OCSP responder
together. Missing or stale data refuses (hard fail) unless an operator configures
`soft_fail`."""
from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Protocol, Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import SignatureAlgorithmOID

from portal.cards import crlindex
from portal.cards.crlindex import SerialTable
from portal.cards.errors import CertificateRevoked, RevocationUnavailable
from portal.cards.ocsp import verify_with_key

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

    def fresh_until(self, cert: x509.Certificate, issuer: x509.Certificate) -> datetime | None:
        """Until when the data that vouches now stays fresh (None: no such date)."""
        dates = [until(cert, issuer) for until in
                 (getattr(source, "fresh_until", None) for source in self.sources) if until]
        dates = [date for date in dates if date is not None]
        return min(dates) if dates else None


def fetch(source: str) -> bytes:
    """Read a CRL from a path or an http(s) URL (relying-party network, short timeout)."""
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=10) as response:  # noqa: S310 (configured URL)
            return response.read()
    return Path(source).read_bytes()


@dataclass(frozen=True)
class LoadedCrl:
    source: str
    sha256: str
    issuer_fingerprint: bytes
    partition: str | None
    this_update: datetime
    next_update: datetime
    serials: SerialTable
    stamp: tuple[int, int] | None = None     # of the index file it was mapped from


@dataclass
class CrlStore:
    """Revocation lists for a set of trusted CA certificates.

    `refresh()` (at start-up, then `madoguchi card refresh-crls` from cron or by an
    operator) fetches, checks and indexes the CRLs; `check()`, on every login, only looks
    serials up and never fetches. With a `cache_dir` the indexes are files every worker
    maps (one copy in memory for all), and a worker sees a new index at its next lookup."""

    sources: list[str]
    cas: list[x509.Certificate]
    fetcher: Fetcher = fetch
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    cache_dir: Path | None = None
    _crls: dict[tuple[bytes, str | None], LoadedCrl] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _seen: dict = field(default_factory=dict)      # key → folder stamp when last looked at
    _paths: dict = field(default_factory=dict)     # key → index file name

    def __post_init__(self) -> None:
        self.cache_dir = Path(self.cache_dir) if self.cache_dir is not None else None
        self._directory = str(self.cache_dir) if self.cache_dir is not None else ""

    def load_all(self) -> list[str]:
        return self.refresh()

    def refresh(self, force: bool = False, missing_only: bool = False) -> list[str]:
        """Fetch every source; index a CRL that is new, signed by a configured CA and newer
        than what is held for its CA and partition. Returns one line per source.
        `missing_only`: only sources with no fresh index yet (a starting worker)."""
        with self._refresh_lock():
            installed = self._installed_sources()
            now = self.clock()
            return [f"{source}: indexed before" if missing_only and source in installed
                    and datetime.fromisoformat(installed[source]["next_update"]) > now
                    else self._refresh_source(source, installed, force) for source in self.sources]

    def _refresh_source(self, source: str, installed: dict[str, str], force: bool) -> str:
        try:
            data = self.fetcher(source)
        except (OSError, ValueError) as exc:
            _log(f"CRL {source} unreadable: {exc}")
            return f"{source}: unreadable ({exc})"
        digest = hashlib.sha256(data).hexdigest()
        if not force and installed.get(source, {}).get("sha256") == digest:
            return f"{source}: unchanged"
        try:
            crl, issuer = self._verified(data)
        except ValueError as exc:
            _log(f"CRL {source}: {exc}")
            return f"{source}: refused ({exc})"
        return self._install(source, digest, data, crl, issuer)

    def _verified(self, data: bytes) -> tuple[x509.CertificateRevocationList, x509.Certificate]:
        crl = x509.load_der_x509_crl(data)      # ValueError when it is not a CRL
        issuer = self._issuer_of(crl, data)
        if issuer is None:
            raise ValueError("not signed by a configured CA")
        if crl.next_update_utc is None:
            raise ValueError("no nextUpdate")
        return crl, issuer

    def _issuer_of(self, crl: x509.CertificateRevocationList, data: bytes) -> x509.Certificate | None:
        # Generations share one DN: the signature decides which CA issued the CRL; the
        # authority key identifier only orders the candidates (one check of a big CRL, not two).
        for ca in sorted(self.cas, key=lambda ca: subject_key_id(ca) != _authority_key_id(crl)):
            if ca.subject == crl.issuer and _signature_valid(crl, data, ca):
                return ca
        return None

    def _install(self, source, digest, data, crl, issuer) -> str:
        key = (_fingerprint(issuer), _key(_partition_of(crl)))
        held = self._current(key)
        if held is not None and held.this_update > crl.last_update_utc:
            return f"{source}: older than the CRL held (thisUpdate {held.this_update})"
        width, table = crlindex.sorted_table(data)
        meta = {"source": source, "sha256": digest, "issuer": key[0].hex(), "partition": key[1],
                "this_update": crl.last_update_utc.isoformat(),
                "next_update": crl.next_update_utc.isoformat(), "entries": len(table) // width}
        if self.cache_dir is not None:
            crlindex.write_index(Path(self._index_path(key)), meta, width, table)
        with self._lock:
            self._crls[key] = _loaded(meta, crlindex.SerialTable(table, width))
        return f"{source}: {meta['entries']} entries, next update {meta['next_update']}"

    def check(self, cert: x509.Certificate, issuer: x509.Certificate) -> None:
        """Raise CertificateRevoked, or RevocationUnavailable when no fresh CRL covers it."""
        crl = self._fresh_crl_for(cert, issuer)
        if crl is None:
            raise RevocationUnavailable(f"no fresh CRL for issuer {issuer.subject.rfc4514_string()} "
                                        f"partition {crl_keys(cert, issuer)[0][1]}")
        if _serial(cert, issuer) in crl.serials:
            raise CertificateRevoked(f"serial {cert.serial_number:x} listed in {crl.source}")

    def fresh_until(self, cert: x509.Certificate, issuer: x509.Certificate) -> datetime | None:
        crl = self._fresh_crl_for(cert, issuer)
        return None if crl is None else crl.next_update

    def listed(self, issuer_fingerprint: bytes, partition: str | None, serial: int) -> bool:
        """Whether any CRL held for this CA (fresh or not: revocation is final) lists it."""
        stamp = self._directory_stamp()
        for key in ((issuer_fingerprint, partition), (issuer_fingerprint, None)):
            crl = self._current(key, stamp)
            if crl is not None and serial in crl.serials:
                return True
        return False

    def _fresh_crl_for(self, cert, issuer) -> LoadedCrl | None:
        now, stamp = self.clock(), self._directory_stamp()
        for key in crl_keys(cert, issuer):
            crl = self._current(key, stamp)
            if crl is not None and crl.next_update > now:
                return crl
        return None

    def _directory_stamp(self) -> tuple[int, int] | None:
        """The index folder's (inode, mtime): unchanged, no index in it changed, and a
        lookup needs one stat, not one per index. A stamp under a second old is not relied
        on: a file renamed in within the filesystem's timestamp granularity may not show."""
        if self.cache_dir is None:
            return None
        try:
            info = os.stat(self._directory)
        except FileNotFoundError:
            return None
        if time.time_ns() - info.st_mtime_ns < 1_000_000_000:
            return None
        return info.st_ino, info.st_mtime_ns

    def _current(self, key: tuple[bytes, str | None], stamp=None) -> LoadedCrl | None:
        """The newest index for `key`: another process may have written a new one."""
        held = self._crls.get(key)
        if self.cache_dir is None or (stamp is not None and self._seen.get(key) == stamp):
            return held
        path = self._index_path(key)
        try:
            info = os.stat(path)
        except FileNotFoundError:
            self._seen[key] = stamp
            return held
        if held is None or held.stamp != (info.st_ino, info.st_mtime_ns):
            held = self._map(key, path, held)
        self._seen[key] = stamp
        return held

    def _map(self, key, path: str, held: LoadedCrl | None) -> LoadedCrl | None:
        try:
            index = crlindex.read_index(Path(path))
        except (OSError, ValueError) as exc:
            _log(f"CRL index {path} unreadable: {exc}")
            return held
        if index.meta["source"] not in self.sources:   # left by an earlier configuration
            return None
        loaded = _loaded(index.meta, index.serials, index.stamp)
        with self._lock:
            self._crls[key] = loaded
        return loaded

    def _index_path(self, key: tuple[bytes, str | None]) -> str:
        path = self._paths.get(key)
        if path is None:
            name = hashlib.sha256(key[0] + b"\0" + (key[1] or "").encode()).hexdigest()[:40]
            path = self._paths[key] = str(self.cache_dir / f"{name}.crlidx")
        return path

    def _installed_sources(self) -> dict[str, dict]:
        """source → what was last indexed from it (sha256: unchanged downloads are skipped)."""
        metas = [{"source": crl.source, "sha256": crl.sha256,
                  "next_update": crl.next_update.isoformat()} for crl in list(self._crls.values())]
        if self.cache_dir is not None and self.cache_dir.is_dir():
            for path in self.cache_dir.glob("*.crlidx"):
                try:
                    metas.append(crlindex.read_meta(path))
                except (OSError, ValueError):
                    continue
        return {meta["source"]: meta for meta in metas}

    @contextlib.contextmanager
    def _refresh_lock(self):
        """One refresher at a time on this machine (cron and a starting worker, say)."""
        if self.cache_dir is None:
            yield
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with open(self.cache_dir / ".refresh.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield


def _loaded(meta: dict, serials: SerialTable, stamp=None) -> LoadedCrl:
    return LoadedCrl(meta["source"], meta["sha256"], bytes.fromhex(meta["issuer"]),
                     meta["partition"], datetime.fromisoformat(meta["this_update"]),
                     datetime.fromisoformat(meta["next_update"]), serials, stamp)


def _signature_valid(crl: x509.CertificateRevocationList, data: bytes, ca: x509.Certificate) -> bool:
    """Over the signed bytes as received; RSA PKCS#1 v1.5 and ECDSA directly (a million
    entries would take cryptography seconds to re-encode), anything else by cryptography."""
    if crl.signature_algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS:
        return crl.is_signature_valid(ca.public_key())
    start, end = crlindex.tbs_span(data)
    try:
        verify_with_key(ca.public_key(), crl.signature, memoryview(data)[start:end],
                        crl.signature_hash_algorithm)
    except InvalidSignature:
        return False
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return crl.is_signature_valid(ca.public_key())
    return True


@functools.lru_cache(maxsize=64)
def subject_key_id(ca: x509.Certificate) -> bytes | None:
    """Of a CA certificate (cached: the few anchors are asked at every check)."""
    try:
        return ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None


def _authority_key_id(crl: x509.CertificateRevocationList) -> bytes | None:
    try:
        return crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except x509.ExtensionNotFound:
        return None


_KEYS: dict[tuple[int, int], tuple] = {}
_KEYS_HELD = 4096


def crl_keys(cert: x509.Certificate, issuer: x509.Certificate) -> tuple[tuple[bytes, str | None], ...]:
    """The index keys that may cover `cert`: its partition's CRL, then the CA's whole CRL.

    Remembered by object identity: the validator hands over the same certificate objects
    from login to login, and hashing a Certificate (what lru_cache would do) walks its
    whole parsed structure, costing more than the lookup itself. The entry holds the
    objects, so their ids cannot be reused while it exists."""
    return _facts(cert, issuer)[0]


def _serial(cert: x509.Certificate, issuer: x509.Certificate) -> int:
    """cert.serial_number, converted from the certificate once rather than per login."""
    return _facts(cert, issuer)[1]


def _facts(cert: x509.Certificate, issuer: x509.Certificate) -> tuple:
    hit = _KEYS.get((id(cert), id(issuer)))
    if hit is not None and hit[0] is cert and hit[1] is issuer:
        return hit[2]
    keys = ((_fingerprint(issuer), _key(_partition_of_cert(cert))), (_fingerprint(issuer), None))
    if len(_KEYS) >= _KEYS_HELD:
        _KEYS.clear()
    _KEYS[(id(cert), id(issuer))] = (cert, issuer, (keys, cert.serial_number))
    return keys, cert.serial_number


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
