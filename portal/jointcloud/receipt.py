"""Signed receipts (受領証明): Ed25519 over the canonical JSON of what was exported and
deleted, so a departing city can prove later what the shared deployment did.

The key is the deployment's: a PEM file named by configuration `CLOUD_RECEIPT_KEY_FILE`,
or, when unset, `<instance>/cloud-receipt-ed25519.pem` generated once (mode 0600) with a
warning. Verification uses the deployment's public key (`public_key_pem`), never only the
key printed inside the receipt — anyone can sign with a key of their own.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                               Ed25519PublicKey)

ALGORITHM = "Ed25519"
log = logging.getLogger(__name__)


class ReceiptInvalid(ValueError):
    """The receipt's signature does not verify with the given key, or it is malformed."""


def canonical(document: dict) -> bytes:
    """The exact bytes signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The deployment's signing key; created (0600) on first use."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path}: Ed25519 の秘密鍵ではありません")
        return key
    log.warning("generating a new receipt signing key at %s", path)
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def public_key_pem(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def sign(document: dict, key: Ed25519PrivateKey) -> dict:
    """Wrap `document` with its signature and the signing key's id and public key."""
    return {"receipt": document, "algorithm": ALGORITHM,
            "key_id": key_id(key.public_key()), "public_key": public_key_pem(key),
            "signature": base64.b64encode(key.sign(canonical(document))).decode()}


def verify(signed: dict, trusted_public_pem: str) -> dict:
    """Return the receipt if its signature verifies with the trusted key; else raise."""
    try:
        public = serialization.load_pem_public_key(trusted_public_pem.encode())
        if signed.get("algorithm") != ALGORITHM or not isinstance(public, Ed25519PublicKey):
            raise ReceiptInvalid("署名方式が Ed25519 ではありません")
        public.verify(base64.b64decode(signed["signature"]), canonical(signed["receipt"]))
    except (KeyError, TypeError, ValueError, InvalidSignature) as exc:
        if isinstance(exc, ReceiptInvalid):
            raise
        raise ReceiptInvalid("署名を検証できません（改ざん、または別の鍵）") from None
    return signed["receipt"]
