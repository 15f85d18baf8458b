"""Signing keys of the OIDC provider (署名鍵) and their rotation.

Keys live in a `KeyStore`: the database by default, or a directory named by the
`OIDC_KEY_DIR` setting (for deployments that keep private keys on a separate volume or
a secrets mount). Private keys are created on the server (`madoguchi oidc keys rotate`),
never shipped.

A rotation is a schedule, not a switch (`Schedule`): a new key is published in the JWKS
for `publish_before` (24 h by default) before it signs, so relying parties that cache the
JWKS already hold it when the first token signed with it arrives; a key that stopped
signing stays published until every ID token it signed has expired.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.oidc.models import OidcSigningKey
from portal.oidc.services import utcnow

ALGORITHM = "RS256"
KEY_BITS = 2048


class NoSigningKey(RuntimeError):
    """No signing key exists and this deployment may not make one by itself."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: bytes
    created_at: datetime

    def private_jwk(self) -> RSAKey:
        return RSAKey.import_key(self.private_pem,
                                 {"kid": self.kid, "use": "sig", "alg": ALGORITHM})

    def public_jwk(self) -> dict:
        return self.private_jwk().as_dict(private=False)


class KeyStore(Protocol):
    """Where signing keys are kept. `newest` returns keys newest first."""

    def newest(self, limit: int) -> list[SigningKey]: ...

    def add(self, key: SigningKey) -> None: ...


class DatabaseKeyStore:
    """Keys in the `oidc_signing_key` table (commits with the caller's transaction)."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def newest(self, limit: int) -> list[SigningKey]:
        rows = self.db.scalars(select(OidcSigningKey).order_by(
            OidcSigningKey.created_at.desc(), OidcSigningKey.id.desc()).limit(limit))
        return [SigningKey(r.kid, r.private_pem, r.created_at) for r in rows]

    def add(self, key: SigningKey) -> None:
        self.db.add(OidcSigningKey(kid=key.kid, private_pem=key.private_pem,
                                   created_at=key.created_at))
        self.db.flush()


_KEY_FILE = re.compile(r"^(\d{8}T\d{12})-([A-Za-z0-9_-]+)\.pem$")


class DirectoryKeyStore:
    """Keys as `<created>-<kid>.pem` files (mode 0600) in one directory (mode 0700)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def newest(self, limit: int) -> list[SigningKey]:
        if not self.directory.is_dir():
            return []
        found = []
        for path in self.directory.iterdir():
            match = _KEY_FILE.match(path.name)
            if match:
                created = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S%f")
                found.append(SigningKey(match.group(2), path.read_bytes(), created))
        found.sort(key=lambda k: k.created_at, reverse=True)
        return found[:limit]

    def add(self, key: SigningKey) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = f"{key.created_at.strftime('%Y%m%dT%H%M%S%f')}-{key.kid}.pem"
        # O_EXCL + 0600: never overwrite a key, never let another user read one.
        fd = os.open(self.directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key.private_pem)


def store_for(config, db: Session) -> KeyStore:
    """The key store the configuration names: `OIDC_KEY_DIR`, else the database."""
    directory = config.get("OIDC_KEY_DIR")
    return DirectoryKeyStore(directory) if directory else DatabaseKeyStore(db)


def generate_key() -> SigningKey:
    """A new RSA-2048 key; its kid is the RFC 7638 thumbprint of the public key."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    kid = RSAKey.import_key(pem).thumbprint()
    return SigningKey(kid, pem, utcnow())


def rotate(store: KeyStore) -> SigningKey:
    """Make a new key the active one; older keys stay published until pushed out."""
    key = generate_key()
    newest = store.newest(1)
    if newest and newest[0].created_at >= key.created_at:
        # Keep the order strict even when the clock reads the same twice.
        key = replace(key, created_at=newest[0].created_at + timedelta(microseconds=1))
    store.add(key)
    return key


KEPT_KEYS = 100  # far more than a schedule ever publishes; bounds the reads


@dataclass(frozen=True)
class Schedule:
    """When keys sign and how long they are published."""
    publish_before: timedelta  # a new key is in the JWKS this long before it signs
    token_lifetime: timedelta  # the longest life of a token a key signs, clock slack included

    def starts_signing(self, key: SigningKey) -> datetime:
        return key.created_at + self.publish_before


@dataclass(frozen=True)
class KeyState:
    key: SigningKey
    state: str  # "pending" (published, not signing yet), "signing", "retired", "withdrawn"


def key_states(keys: list[SigningKey], now: datetime, schedule: Schedule) -> list[KeyState]:
    """Each key (newest first) with its state at `now`. The newest key whose publication
    time has passed signs; when none has (the very first key), the oldest signs at once,
    since no relying party can have cached an older JWKS. An older key is retired when the
    key after it starts signing, and withdrawn once the tokens it signed have expired."""
    ready = [k for k in keys if schedule.starts_signing(k) <= now]
    signing = ready[0] if ready else (keys[-1] if keys else None)
    states, seen_signing = [], False
    for n, key in enumerate(keys):
        if key is signing:
            state, seen_signing = "signing", True
        elif not seen_signing:
            state = "pending"
        else:
            retired_at = schedule.starts_signing(keys[n - 1])
            state = "retired" if now < retired_at + schedule.token_lifetime else "withdrawn"
        states.append(KeyState(key, state))
    return states


def active_key(store: KeyStore, may_generate: bool, schedule: Schedule,
               now: datetime | None = None) -> SigningKey:
    """The key that signs now. Development and tests make one on first use; production
    refuses, because a key made silently on one worker would differ from another's."""
    for entry in key_states(store.newest(KEPT_KEYS), now or utcnow(), schedule):
        if entry.state == "signing":
            return entry.key
    if not may_generate:
        raise NoSigningKey("OIDC signing key missing: run `madoguchi oidc keys rotate`")
    return rotate(store)


def jwks(store: KeyStore, schedule: Schedule, now: datetime | None = None) -> dict:
    """The public JWK Set (公開鍵セット): the keys about to sign, the one signing, and the
    retired ones whose tokens may still be valid."""
    states = key_states(store.newest(KEPT_KEYS), now or utcnow(), schedule)
    return {"keys": [s.key.public_jwk() for s in states if s.state != "withdrawn"]}
