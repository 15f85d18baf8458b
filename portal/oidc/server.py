"""The authlib side of the provider: the authorization-code grant with PKCE (S256 only),
the ID token, and the bearer-token check of the userinfo endpoint.

Each request runs in one database session kept in `g.oidc_db`, scoped to the municipality
of the client it concerns; the view that opens the session commits or rolls it back.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from datetime import timedelta, timezone

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidRequestError, grants
from authlib.common.security import generate_token
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core.grants import OpenIDCode
from flask import current_app, g, request, session
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.audit.services import log_access
from portal.config import is_development
from portal.db import across_municipalities, scoped
from portal.metering.services import record_usage
from portal.web.labels import purpose_template
from portal.oidc import keys
from portal.oidc.models import (AUTH_METHODS, CodeView, OidcAuthorizationCode, OidcToken,
                                TokenView)
from portal.oidc.services import find_client, mark_used, pairwise_sub, utcnow
from portal.registry.models import Resident, ResidentStatus
from portal.sessions.models import UserSession

log = logging.getLogger("madoguchi.oidc")

DEFAULTS = {"OIDC_CODE_SECONDS": 120, "OIDC_TOKEN_SECONDS": 600,
            "OIDC_ID_TOKEN_SECONDS": 600, "OIDC_KEY_PUBLISH_SECONDS": 86400}
# Relying parties accept tokens a little past `exp` (openid-client: 30 s); keys outlive that.
CLOCK_SLACK = timedelta(minutes=5)


class NotConfigured(RuntimeError):
    """The provider lacks a setting it must not guess in production."""


# --- settings --------------------------------------------------------------------------

def setting(name: str) -> int:
    value = current_app.config.get(name)
    return int(DEFAULTS[name] if value is None else value)


def key_schedule() -> keys.Schedule:
    """The rotation schedule of the configuration (`OIDC_KEY_PUBLISH_SECONDS`)."""
    return keys.Schedule(timedelta(seconds=setting("OIDC_KEY_PUBLISH_SECONDS")),
                         timedelta(seconds=setting("OIDC_ID_TOKEN_SECONDS")) + CLOCK_SLACK)


def may_make_secrets() -> bool:
    """Development and tests may generate keys and secrets; production must be given them."""
    return bool(current_app.config.get("TESTING")) or is_development(current_app.config)


def issuer() -> str:
    """The issuer identifier: configured (production refuses to start without it). Only
    development falls back to the request's origin: a Host header is the client's word."""
    configured = current_app.config.get("OIDC_ISSUER") or current_app.config.get("PUBLIC_ORIGIN")
    if configured:
        return configured.rstrip("/")
    if not is_development(current_app.config):
        raise NotConfigured("MADOGUCHI_OIDC_ISSUER is not set")
    return request.host_url.rstrip("/")


def pairwise_secret() -> bytes:
    secret = current_app.config.get("OIDC_PAIRWISE_SECRET")
    if secret:
        return secret.encode() if isinstance(secret, str) else secret
    if may_make_secrets():
        # Derived, so development `sub` values stay stable while SECRET_KEY does.
        return hmac.new(current_app.config["SECRET_KEY"].encode(), b"oidc-pairwise",
                        hashlib.sha256).digest()
    raise NotConfigured("MADOGUCHI_OIDC_PAIRWISE_SECRET is not set")


def key_store(db: Session) -> keys.KeyStore:
    return keys.store_for(current_app.config, db)


def signing_key() -> keys.SigningKey:
    """The active key, read once per request so header `kid` and signature agree."""
    if "oidc_key" not in g:
        g.oidc_key = keys.active_key(key_store(db()), may_make_secrets(), key_schedule())
    return g.oidc_key


def subject_for(client, resident_id: int) -> str:
    return pairwise_sub(pairwise_secret(), client.sector_identifier, resident_id)


def db() -> Session:
    return g.oidc_db


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class Login:
    """When and how the resident of this browser signed in (the portal session's start)."""
    auth_time: int
    method: str | None


def current_login() -> Login:
    sid = session.get("sid")
    row = sid and db().execute(select(UserSession.created_at, UserSession.auth_method).where(
        UserSession.token_hash == _digest(sid))).first()
    if not row:
        return Login(int(time.time()), None)
    return Login(int(row.created_at.replace(tzinfo=timezone.utc).timestamp()), row.auth_method)


# --- grants ----------------------------------------------------------------------------

class S256Only(CodeChallenge):
    """PKCE is mandatory for every client, and only with S256 (RFC 9700 2.1.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE required: missing 'code_challenge'")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE: 'code_challenge_method' must be S256")
        super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(grants.AuthorizationCodeGrant):
    """Authorization code grant (認可コードフロー) over the oidc_* tables."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)

    def save_authorization_code(self, code, request):
        data, now, login = request.payload.data, utcnow(), current_login()
        db().add(OidcAuthorizationCode(
            municipality_id=request.client.municipality_id, code_hash=_digest(code),
            client_pk=request.client.id, resident_id=request.user.id,
            redirect_uri=request.payload.redirect_uri or "", scope=request.scope,
            nonce=data.get("nonce"), code_challenge=data["code_challenge"],
            code_challenge_method=data.get("code_challenge_method", "S256"),
            auth_time=login.auth_time, auth_method=login.method, created_at=now,
            expires_at=now + timedelta(seconds=setting("OIDC_CODE_SECONDS"))))
        db().flush()

    def query_authorization_code(self, code, client):
        row = db().scalar(scoped(OidcAuthorizationCode, OidcAuthorizationCode.code_hash == _digest(code),
                                 OidcAuthorizationCode.client_pk == client.id))
        if row is None or not _consume(row):
            return None
        if row.expires_at <= utcnow():
            return None
        return CodeView(row)

    def delete_authorization_code(self, authorization_code):
        """Nothing to do: the code was consumed atomically when it was looked up."""

    def authenticate_user(self, authorization_code):
        return db().scalar(scoped(Resident, Resident.id == authorization_code.row.resident_id,
                                  Resident.status == ResidentStatus.ACTIVE))


def _consume(row: OidcAuthorizationCode) -> bool:
    """Mark the code used in one UPDATE, so of two concurrent redemptions exactly one wins.
    A second use means the code leaked: every token issued from it is revoked (RFC 6749
    4.1.2)."""
    taken = db().execute(update(OidcAuthorizationCode)
                         .where(OidcAuthorizationCode.id == row.id,
                                OidcAuthorizationCode.used_at.is_(None))
                         .values(used_at=utcnow()))
    if taken.rowcount == 1:
        return True
    db().execute(update(OidcToken).where(OidcToken.code_pk == row.id).values(revoked=True))
    log.warning("authorization code replayed: client=%s code_id=%s; tokens revoked",
                row.client_pk, row.id)
    return False


class IdToken(OpenIDCode):
    """The ID token: RS256 with the active key's `kid`, carrying only the pairwise `sub`
    (profile claims come from userinfo, OIDC Core 5.4)."""

    def exists_nonce(self, nonce, request):
        query = select(OidcAuthorizationCode.id).where(
            OidcAuthorizationCode.client_pk == request.client.id,
            OidcAuthorizationCode.nonce == nonce)
        return db().scalar(across_municipalities(query)) is not None

    def resolve_client_private_key(self, client):
        return signing_key().private_jwk()

    def get_client_algorithm(self, client):
        return keys.ALGORITHM

    def get_encode_header(self, client):
        return {"alg": keys.ALGORITHM, "kid": signing_key().kid, "typ": "JWT"}

    def get_client_claims(self, client):
        now = int(time.time())
        return {"iss": issuer(), "aud": client.client_id, "iat": now,
                "exp": now + setting("OIDC_ID_TOKEN_SECONDS")}

    def generate_user_info(self, user, scope):
        return {"sub": subject_for(g.oidc_client, user.id)}


# --- tokens ----------------------------------------------------------------------------

def save_token(token: dict, request) -> None:
    """Store the access token's hash; log the disclosure and count it."""
    client, resident = request.client, request.user
    g.oidc_client = client
    db().add(OidcToken(municipality_id=client.municipality_id,
                       token_hash=_digest(token["access_token"]), client_pk=client.id,
                       resident_id=resident.id, code_pk=request.authorization_code.row.id,
                       scope=token.get("scope", ""), issued_at=int(time.time()),
                       expires_in=int(token["expires_in"])))
    log_access(db(), resident.id, "export", resource_name(client),
               LOGIN_PURPOSE % {"client": client.name})
    mark_used(db(), client, resident.id)
    record_usage(db(), "core", "oidc_token")


N_ = purpose_template   # also the extraction keyword: these are msgids
CONSENT_PURPOSE = N_("%(client)sへの情報提供に同意（%(scopes)s）")
LOGIN_PURPOSE = N_("%(client)sへのログイン情報の提供")
USERINFO_PURPOSE = N_("%(client)sへの登録情報の提供")
WITHDRAW_PURPOSE = N_("%(client)sとの連携をやめる（同意の取り消し）")


def resource_name(client) -> str:
    return f"oidc.{client.client_id}"


class AccessTokenValidator(BearerTokenValidator):
    """Finds a bearer token by its hash, in whichever city it was issued."""

    def authenticate_token(self, token_string):
        query = select(OidcToken).where(OidcToken.token_hash == _digest(token_string))
        row = db().scalar(across_municipalities(query))
        return TokenView(row) if row is not None else None


class Revocation(RevocationEndpoint):
    """RFC 7009: a client revokes an access token it holds (in its city's scope)."""

    CLIENT_AUTH_METHODS = list(AUTH_METHODS)
    SUPPORTED_TOKEN_TYPES = ("access_token",)

    def query_token(self, token_string, token_type_hint):
        row = db().scalar(scoped(OidcToken, OidcToken.token_hash == _digest(token_string)))
        return TokenView(row) if row is not None else None

    def revoke_token(self, token, request):
        token.row.revoked = True
        db().flush()


def build_server() -> AuthorizationServer:
    """One authorization server per app (lifetimes are read per request)."""
    server = AuthorizationServer(query_client=lambda cid: find_client(db(), cid),
                                 save_token=save_token)
    server.load_config({})
    server.register_token_generator("default", BearerTokenGenerator(
        lambda **_: generate_token(43), None, _token_lifetime))
    server.register_grant(CodeGrant, [S256Only(required=True), IdToken()])
    server.register_endpoint(Revocation)
    return server


def _token_lifetime(client, grant_type) -> int:
    return setting("OIDC_TOKEN_SECONDS")
