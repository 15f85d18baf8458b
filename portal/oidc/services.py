"""Domain logic of the OIDC provider, free of Flask: client registration, the pairwise
subject identifier and the claims a scope releases from the registry (住民記録)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.db import across_municipalities, scoped
from portal.oidc.models import OidcClient, OidcConsent, OidcRefreshToken, OidcToken
from portal.registry.models import Resident, Sex
from portal.sessions.services import CARD_PIN, DEMO, PASSWORD_TOTP

# offline_access: refresh tokens, only with prompt=consent (OIDC Core 11); a client gets it
# only when registered with it (--scope offline_access), never by default.
SUPPORTED_SCOPES = ("openid", "profile", "address", "birthdate", "offline_access")
DEFAULT_SCOPES = ("openid", "profile", "address", "birthdate")
OFFLINE = "offline_access"
KANA = "#ja-Kana-JP"  # language tag of the katakana reading (OIDC Core 5.2)

# The claims each scope releases, for discovery and the consent screen.
SCOPE_CLAIMS = {
    "openid": ("sub",),
    "profile": ("name", "family_name", "given_name", "name" + KANA, "family_name" + KANA,
                "given_name" + KANA, "gender"),
    "birthdate": ("birthdate",),
    "address": ("address",),
    "offline_access": (),
}
# What `token_urlsafe` makes (registered ids are 24 characters; leave room for others).
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# How the resident signed in, as partners read it: `acr` (one value) and `amr` (RFC 8176).
ACR_CARD = "urn:madoguchi:acr:card-pin"
ACR = {CARD_PIN: ACR_CARD,
       PASSWORD_TOTP: "urn:madoguchi:acr:password-totp",
       DEMO: "urn:madoguchi:acr:demo"}
AMR = {CARD_PIN: ["sc", "hwk", "pin", "mfa"],  # smart card, hardware key, PIN: two factors
       PASSWORD_TOTP: ["pwd", "otp", "mfa"],
       DEMO: ["demo"]}                         # not an authentication: development only
GENDER = {Sex.MALE: "male", Sex.FEMALE: "female"}  # 9 (not applicable) releases nothing


class ClientRegistrationError(ValueError):
    """A client cannot be registered as asked; the message says why, in Japanese."""


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str | None, stored_hash: str) -> bool:
    """Constant-time comparison of a presented client secret with the stored hash."""
    if not secret:
        return False
    return hmac.compare_digest(hash_secret(secret), stored_hash)


@dataclass(frozen=True)
class NewClient:
    """A freshly registered client: the secret exists only here, never in the database."""
    client: OidcClient
    secret: str


def register_client(db: Session, municipality_id: int, name: str, redirect_uris: list[str],
                    sector: str | None = None, scopes: list[str] | None = None,
                    require_card: bool = False,
                    post_logout_redirect_uris: list[str] | None = None) -> NewClient:
    """Register a relying party for one municipality (連携先の登録)."""
    uris = [u.strip() for u in redirect_uris if u.strip()]
    if not uris:
        raise ClientRegistrationError("リダイレクトURIを1つ以上指定してください")
    logout_uris = [u.strip() for u in post_logout_redirect_uris or () if u.strip()]
    for uri in uris + logout_uris:
        _check_redirect_uri(uri)
    scopes = list(scopes or DEFAULT_SCOPES)
    unknown = sorted(set(scopes) - set(SUPPORTED_SCOPES))
    if unknown or "openid" not in scopes:
        raise ClientRegistrationError(
            "スコープは openid を含み、次から選んでください: " + " ".join(SUPPORTED_SCOPES))
    secret = secrets.token_urlsafe(32)
    client = OidcClient(municipality_id=municipality_id, client_id=secrets.token_urlsafe(18),
                        secret_hash=hash_secret(secret), name=name.strip(), redirect_uris=uris,
                        post_logout_redirect_uris=logout_uris,
                        sector_identifier=sector or default_sector(uris),
                        scopes=scopes, require_card=require_card, created_at=utcnow())
    if not client.name:
        raise ClientRegistrationError("連携先の名前を指定してください")
    db.add(client)
    db.flush()
    return NewClient(client, secret)


def _check_redirect_uri(uri: str) -> None:
    parts = urlsplit(uri)
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.fragment or not parts.netloc or not (
            parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        raise ClientRegistrationError(
            f"リダイレクトURIは https:// で始まり、# を含まない完全なURLにしてください: {uri}")


def default_sector(redirect_uris: list[str]) -> str:
    """Without a declared sector, the host of the redirect URIs is the sector (OIDC Core
    8.1); several hosts need an explicit sector so `sub` cannot depend on the order."""
    hosts = {urlsplit(u).hostname for u in redirect_uris}
    if len(hosts) != 1:
        raise ClientRegistrationError(
            "リダイレクトURIのホストが複数あります。--sector で識別子を指定してください")
    return hosts.pop()


def find_client(db: Session, client_id: str | None) -> OidcClient | None:
    """The active client with this id, whatever its municipality: the id is public and
    tells which city's scope the rest of the request runs in."""
    if not client_id or not CLIENT_ID.fullmatch(client_id):
        return None  # not an id this provider ever issued; spare the database the query
    query = select(OidcClient).where(OidcClient.client_id == client_id, OidcClient.active)
    return db.scalar(across_municipalities(query))


def clients_of(db: Session) -> list[OidcClient]:
    """Every registered client of every city (operators' listing; no personal data)."""
    query = select(OidcClient).order_by(OidcClient.municipality_id, OidcClient.id)
    return list(db.scalars(across_municipalities(query)))


def consent_of(db: Session, client: OidcClient, resident_id: int) -> OidcConsent | None:
    return db.scalar(scoped(OidcConsent, OidcConsent.client_pk == client.id,
                            OidcConsent.resident_id == resident_id))


def consent_covers(db: Session, client: OidcClient, resident_id: int, scope: str) -> bool:
    """Whether the resident already agreed to every scope of this request that the client
    may get (the others are never granted, so they need no consent)."""
    consent = consent_of(db, client, resident_id)
    wanted = set(client.get_allowed_scope(scope).split())
    return consent is not None and wanted <= set(consent.scope.split())


def remember_consent(db: Session, client: OidcClient, resident_id: int, scope: str) -> None:
    """Record the agreement; a wider request later adds its scopes to the remembered set."""
    consent = consent_of(db, client, resident_id)
    granted = set(client.get_allowed_scope(scope).split())
    if consent is None:
        db.add(OidcConsent(municipality_id=client.municipality_id, client_pk=client.id,
                           resident_id=resident_id, scope=_ordered(granted), granted_at=utcnow()))
    else:
        consent.scope = _ordered(granted | set(consent.scope.split()))
        consent.granted_at = utcnow()
    db.flush()


def mark_used(db: Session, client: OidcClient, resident_id: int) -> None:
    consent = consent_of(db, client, resident_id)
    if consent is not None:
        consent.last_used_at = utcnow()


def consents_of(db: Session, resident_id: int) -> list[OidcConsent]:
    """The partner services a resident agreed to share with (連携しているサービス)."""
    return list(db.scalars(scoped(OidcConsent, OidcConsent.resident_id == resident_id)
                           .order_by(OidcConsent.granted_at.desc())))


def withdraw_consent(db: Session, consent: OidcConsent) -> None:
    """連携をやめる: forget the consent and revoke every token the partner holds for the
    resident, access and refresh tokens alike, in one transaction."""
    for table in (OidcToken, OidcRefreshToken):
        db.execute(update(table).where(table.client_pk == consent.client_pk,
                                       table.resident_id == consent.resident_id,
                                       table.municipality_id == consent.municipality_id)
                   .values(revoked=True))
    db.delete(consent)
    db.flush()


def revoke_family(db: Session, code_pk: int) -> None:
    """Revoke every token descended from one authorization code: its access tokens and its
    refresh tokens, whichever refresh issued them (a replayed code or refresh token)."""
    for table in (OidcToken, OidcRefreshToken):
        db.execute(update(table).where(table.code_pk == code_pk).values(revoked=True))


def without_offline(scope: str) -> str:
    return " ".join(s for s in scope.split() if s != OFFLINE)


def _ordered(scopes: set[str]) -> str:
    return " ".join(s for s in SUPPORTED_SCOPES if s in scopes)


def pairwise_sub(secret: bytes, sector: str, resident_id: int) -> str:
    """The pairwise subject identifier: HMAC-SHA256 over the sector and the resident, so two
    sectors cannot join their users, and nobody without the secret can invert it."""
    message = f"{sector}\x00{resident_id}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def claims_for(resident: Resident, scopes: set[str]) -> dict:
    """Standard claims from the registry, only for the granted scopes (最小限の提供)."""
    claims: dict = {}
    if "profile" in scopes:
        claims.update({
            "name": resident.name, "family_name": resident.family_name,
            "given_name": resident.given_name,
            "name" + KANA: resident.name_kana,
            "family_name" + KANA: resident.family_name_kana,
            "given_name" + KANA: resident.given_name_kana})
        if resident.sex in GENDER:
            claims["gender"] = GENDER[resident.sex]
    if "birthdate" in scopes:
        claims["birthdate"] = resident.birth_date.isoformat()
    if "address" in scopes:
        claims["address"] = {"formatted": resident.address, "country": "JP"}
    return claims


def supported_claims() -> list[str]:
    return sorted({c for claims in SCOPE_CLAIMS.values() for c in claims})
