"""The authlib side of the provider: the authorization-code grant with PKCE (S256 only),
the refresh-token grant (rotated, reuse revokes the family), the ID token, revocation, and
the bearer-token check of the userinfo endpoint.

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
from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, grants
from authlib.common.security import generate_token
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core.grants import OpenIDCode, OpenIDToken
from flask import current_app, g, request, session
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.audit.services import log_access
from portal.config import is_development
from portal.db import across_municipalities, scoped
from portal.metering.services import record_usage
from portal.unit_of_work import Actor
from portal.web.labels import purpose_template
from portal.oidc import keys
from portal.oidc.models import (AUTH_METHODS, CodeView, OidcAuthorizationCode, OidcRefreshToken,
                                OidcToken, RefreshedCodeView, RefreshView, TokenView)
from portal.oidc.services import (OFFLINE, consent_of, find_client, mark_used, pairwise_sub,
                                  revoke_family, utcnow, without_offline)
from portal.registry.models import Resident, ResidentStatus
from portal.sessions.models import UserSession

log = logging.getLogger("madoguchi.oidc")

DEFAULTS = {"OIDC_CODE_SECONDS": 120, "OIDC_TOKEN_SECONDS": 600,
            "OIDC_ID_TOKEN_SECONDS": 600, "OIDC_KEY_PUBLISH_SECONDS": 86400,
            "OIDC_REFRESH_SECONDS": 30 * 86400}
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
        # offline_access only when the resident agreed to it just now (the view says so)
        scope = request.client.get_allowed_scope(request.scope)  # the request's may be long
        scope = scope if g.get("oidc_offline_agreed") else without_offline(scope)
        db().add(OidcAuthorizationCode(
            municipality_id=request.client.municipality_id, code_hash=_digest(code),
            client_pk=request.client.id, resident_id=request.user.id,
            redirect_uri=request.payload.redirect_uri or "", scope=scope,
            nonce=data.get("nonce"), code_challenge=data["code_challenge"],
            code_challenge_method=data.get("code_challenge_method", "S256"),
            auth_time=login.auth_time, auth_method=login.method, card=session.get("card"),
            created_at=now,
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
        return active_resident(authorization_code.row.resident_id)

    def generate_token(self, user=None, scope=None, grant_type=None, expires_in=None,
                       include_refresh_token=True):
        """A refresh token only for a code whose scope kept offline_access."""
        offline = OFFLINE in (scope or "").split()
        return super().generate_token(user, scope, grant_type, expires_in,
                                      include_refresh_token and offline)


def active_resident(resident_id: int) -> Resident | None:
    return db().scalar(scoped(Resident, Resident.id == resident_id,
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
    revoke_family(db(), row.id)
    log.warning("authorization code replayed: client=%s code_id=%s; tokens revoked",
                row.client_pk, row.id)
    return False


class Signing:
    """The ID token: RS256 with the active key's `kid`, carrying only the pairwise `sub`
    (profile claims come from userinfo, OIDC Core 5.4)."""

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


class IdToken(Signing, OpenIDCode):
    """The ID token of the code exchange."""

    def exists_nonce(self, nonce, request):
        query = select(OidcAuthorizationCode.id).where(
            OidcAuthorizationCode.client_pk == request.client.id,
            OidcAuthorizationCode.nonce == nonce)
        return db().scalar(across_municipalities(query)) is not None


class RefreshedIdToken(Signing, OpenIDToken):
    """The ID token of a refresh: same iss, sub and aud, the original sign-in's auth_time,
    acr and amr, no nonce (OIDC Core 12.2)."""


# --- refresh tokens --------------------------------------------------------------------

class RefreshGrant(grants.RefreshTokenGrant):
    """Refresh (リフレッシュトークン): every use marks the token used and issues the next
    one of the family; a used token presented again revokes the family. A refresh also
    fails once the resident withdrew the consent, left the city's registry, or the card
    the sign-in used was revoked."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        client = self.request.client
        row = db().scalar(scoped(OidcRefreshToken,
                                 OidcRefreshToken.token_hash == _digest(refresh_token),
                                 OidcRefreshToken.client_pk == client.id))
        if row is None or row.revoked:
            return None
        if row.used_at is not None:
            _reused(row)
            return None
        if row.expires_at <= utcnow() or not _still_allowed(row):
            return None
        self.request.authorization_code = RefreshedCodeView(row.code)
        return RefreshView(row)

    def authenticate_user(self, refresh_token):
        """The first step of issuing (the request is valid, scope included): the token is
        used up here, so a refused request leaves it good."""
        if not _rotate(refresh_token.row):
            raise InvalidGrantError()
        resident = active_resident(refresh_token.row.resident_id)
        if resident is None or resident.support_block:  # 支援措置: nothing leaves the counter
            revoke_family(db(), refresh_token.row.code_pk)
            raise InvalidGrantError("the resident's information may not be provided")
        return resident

    def revoke_old_credential(self, refresh_token):
        """Nothing to do: the token was marked used atomically before the new one was made."""


def _rotate(row: OidcRefreshToken) -> bool:
    """Mark the token used in one UPDATE, so of two concurrent refreshes exactly one wins;
    the other is a reuse."""
    taken = db().execute(update(OidcRefreshToken)
                         .where(OidcRefreshToken.id == row.id,
                                OidcRefreshToken.used_at.is_(None))
                         .values(used_at=utcnow()))
    if taken.rowcount == 1:
        return True
    _reused(row)
    return False


def _reused(row: OidcRefreshToken) -> None:
    """A used token presented again was copied: revoke its whole family."""
    revoke_family(db(), row.code_pk)
    log.warning("refresh token reused: client=%s family=%s; family revoked",
                row.client_pk, row.code_pk)


def _still_allowed(row: OidcRefreshToken) -> bool:
    """Consent to offline access still given, and the card not revoked since the sign-in;
    otherwise the family ends here."""
    consent = consent_of(db(), row.client, row.resident_id)
    agreed = consent is not None and OFFLINE in consent.scope.split()
    if agreed and not _card_revoked(row.code.card):
        return True
    revoke_family(db(), row.code_pk)
    return False


def _card_revoked(reference: dict | None) -> bool:
    if not reference:
        return False  # not signed in with a card: nothing a CRL could list
    from portal.cards.services import revoked_since_sign_in
    return revoked_since_sign_in(reference)


def verified_id_token(value: str) -> dict | None:
    """The claims of an ID token this provider signed (with a key still published), or None.
    Not checked: `exp` — an expired ID token is still a good logout hint (RP-Initiated
    Logout 1.0, section 2)."""
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet
    published = KeySet.import_key_set(keys.jwks(key_store(db()), key_schedule()))
    try:
        claims = jwt.decode(value, published, algorithms=[keys.ALGORITHM]).claims
    except (JoseError, ValueError, TypeError, KeyError):
        return None
    return claims if claims.get("iss") == issuer() else None


# --- tokens ----------------------------------------------------------------------------

def save_token(token: dict, request) -> None:
    """Store the tokens' hashes; log the disclosure (to the partner, as the partner) and
    count it."""
    client, resident = request.client, request.user
    family = request.authorization_code.row.id
    g.oidc_client = client
    db().add(OidcToken(municipality_id=client.municipality_id,
                       token_hash=_digest(token["access_token"]), client_pk=client.id,
                       resident_id=resident.id, code_pk=family,
                       scope=token.get("scope", ""), issued_at=int(time.time()),
                       expires_in=int(token["expires_in"])))
    refreshed = request.payload.grant_type == RefreshGrant.GRANT_TYPE
    if token.get("refresh_token"):
        now = utcnow()
        scope = request.refresh_token.row.scope if refreshed else token["scope"]
        db().add(OidcRefreshToken(
            municipality_id=client.municipality_id, token_hash=_digest(token["refresh_token"]),
            code_pk=family, client_pk=client.id, resident_id=resident.id, scope=scope,
            issued_at=now, expires_at=now + timedelta(seconds=setting("OIDC_REFRESH_SECONDS"))))
    purpose = REFRESH_PURPOSE if refreshed else LOGIN_PURPOSE
    log_access(db(), resident.id, "export", resource_name(client),
               purpose % {"client": client.name}, actor=partner(client))
    mark_used(db(), client, resident.id)
    record_usage(db(), "core", "oidc_token")


def partner(client) -> Actor:
    """The partner service as the access log names it (the resident reads its name)."""
    return Actor("partner", client.id, client.name, "partner")


N_ = purpose_template   # also the extraction keyword: these are msgids
CONSENT_PURPOSE = N_("%(client)sへの情報提供に同意（%(scopes)s）")
LOGIN_PURPOSE = N_("%(client)sへのログイン情報の提供")
REFRESH_PURPOSE = N_("%(client)sへの情報提供の継続（ログアウト中の利用のためのトークン更新）")
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
    """RFC 7009: a client revokes an access or refresh token it holds (in its city's
    scope). Revoking a refresh token ends its family, with the access tokens it issued
    (RFC 7009 2.1)."""

    CLIENT_AUTH_METHODS = list(AUTH_METHODS)
    SUPPORTED_TOKEN_TYPES = ("access_token", "refresh_token")

    def query_token(self, token_string, token_type_hint):
        digest = _digest(token_string)
        kinds = [(OidcToken, TokenView), (OidcRefreshToken, RefreshView)]
        if token_type_hint == "refresh_token":  # only a hint: both are looked at
            kinds.reverse()
        for table, view in kinds:
            row = db().scalar(scoped(table, table.token_hash == digest))
            if row is not None:
                return view(row)
        return None

    def revoke_token(self, token, request):
        if isinstance(token, RefreshView):
            revoke_family(db(), token.row.code_pk)
        token.row.revoked = True
        db().flush()


def build_server() -> AuthorizationServer:
    """One authorization server per app (lifetimes are read per request)."""
    server = AuthorizationServer(query_client=lambda cid: find_client(db(), cid),
                                 save_token=save_token)
    server.load_config({})
    server.register_token_generator("default", BearerTokenGenerator(
        lambda **_: generate_token(43), lambda **_: generate_token(48), _token_lifetime))
    server.register_grant(CodeGrant, [S256Only(required=True), IdToken()])
    server.register_grant(RefreshGrant, [RefreshedIdToken()])
    server.register_endpoint(Revocation)
    return server


def _token_lifetime(client, grant_type) -> int:
    return setting("OIDC_TOKEN_SECONDS")
