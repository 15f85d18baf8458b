"""Signing keys of the OIDC provider (署名鍵) and their rotation.

Keys live in a `KeyStore`: the database by default, or a directory named by the
`OIDC_KEY_DIR` setting (for deployments that keep private keys on a separate volume or
a secrets mount). The newest key signs; the `OIDC_PUBLISHED_KEYS` newest are published
in the JWKS, so ID tokens signed just before a rotation still verify at the relying party.
Private keys are created on the server (`madoguchi oidc keys rotate`), never shipped.
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


def active_key(store: KeyStore, may_generate: bool) -> SigningKey:
    """The key that signs now. Development and tests make one on first use; production
    refuses, because a key made silently on one worker would differ from another's."""
    newest = store.newest(1)
    if newest:
        return newest[0]
    if not may_generate:
        raise NoSigningKey("OIDC signing key missing: run `madoguchi oidc keys rotate`")
    return rotate(store)


def jwks(store: KeyStore, published: int) -> dict:
    """The public JWK Set (公開鍵セット): the active key and the recent retired ones."""
    return {"keys": [k.public_jwk() for k in store.newest(published)]}
