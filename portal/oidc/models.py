"""Tables of the OpenID Connect provider (OIDC プロバイダ). Every table starts with `oidc_`.

Clients, codes and tokens belong to one municipality: a partner service is registered by a
city for that city's residents, so the tenant scope of `portal.db` keeps them apart like any
personal record. Signing keys belong to the deployment and are shared by all cities.
"""
from __future__ import annotations

import time
from datetime import datetime

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oidc.core import AuthorizationCodeMixin
from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, TenantScoped

RESPONSE_TYPES = ("code",)          # no implicit or hybrid flow
GRANT_TYPES = ("authorization_code", "refresh_token")
AUTH_METHODS = ("client_secret_basic", "client_secret_post")


class OidcClient(ClientMixin, TenantScoped, Base):
    """A relying party (連携先サービス) registered by one municipality."""

    __tablename__ = "oidc_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    # SHA-256 of a 256-bit random secret: the secret has full entropy, so a slow password
    # hash would add nothing but latency on every token request.
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    # Where RP-initiated logout may send the browser afterwards (exact match, like redirects).
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list,
                                                                 server_default="[]")
    # Pairwise `sub` values are the same for every client of one sector (OIDC Core 8.1).
    sector_identifier: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)
    # Only a card sign-in (with the PIN) may be used for this partner, whatever it asks.
    require_card: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime]

    # --- authlib ClientMixin -------------------------------------------------------------
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # OpenID Connect requires redirect_uri in every request (Core 3.1.2.1)

    def get_allowed_scope(self, scope: str | None) -> str:
        """The registered scopes asked for, each once, in the order asked: what is stored
        stays short however long the request was."""
        if not scope:
            return ""
        return " ".join(s for s in dict.fromkeys(scope.split()) if s in self.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris  # exact match, no prefixes or patterns

    def check_client_secret(self, client_secret: str) -> bool:
        from portal.oidc.services import secret_matches
        return secret_matches(client_secret, self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS  # token and revocation: confidential clients only

    def check_response_type(self, response_type: str) -> bool:
        return response_type in RESPONSE_TYPES

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


class OidcAuthorizationCode(TenantScoped, Base):
    """A one-time authorization code (認可コード). Kept after use so a replay is noticed."""

    __tablename__ = "oidc_authorization_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oidc_client.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(200))
    nonce: Mapped[str | None] = mapped_column(String(255))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    auth_time: Mapped[int]
    auth_method: Mapped[str | None] = mapped_column(String(16))  # of the session; acr/amr
    # The card certificate the session was opened with (CA, CRL partition, serial; see
    # portal.cards.services.revocation_reference): a refresh ends once a CRL lists it.
    card: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    client: Mapped[OidcClient] = relationship()


class CodeView(AuthorizationCodeMixin):
    """What authlib reads of a stored code (the row itself never leaves the session)."""

    def __init__(self, row: OidcAuthorizationCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return self.row.auth_time

    def get_acr(self) -> str | None:
        from portal.oidc.services import ACR
        return ACR.get(self.row.auth_method)

    def get_amr(self) -> list[str] | None:
        from portal.oidc.services import AMR
        return AMR.get(self.row.auth_method)


class RefreshedCodeView(CodeView):
    """The code a refresh token family descends from, as the refreshed ID token reads it:
    the original sign-in's auth_time, acr and amr, and no nonce (OIDC Core 12.2)."""

    def get_nonce(self) -> None:
        return None


class OidcToken(TenantScoped, Base):
    """An access token (アクセストークン) for the userinfo endpoint; stored as a hash."""

    __tablename__ = "oidc_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oidc_client.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    code_pk: Mapped[int | None] = mapped_column(ForeignKey("oidc_authorization_code.id"),
                                                index=True)
    scope: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[int]
    expires_in: Mapped[int]
    revoked: Mapped[bool] = mapped_column(default=False)

    client: Mapped[OidcClient] = relationship()


class TokenView(TokenMixin):
    """authlib's view of a stored token."""

    def __init__(self, row: OidcToken) -> None:
        self.row = row
        self.scope = row.scope

    def check_client(self, client) -> bool:
        return client.id == self.row.client_pk

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return self.row.expires_in

    def is_expired(self) -> bool:
        return time.time() >= self.row.issued_at + self.row.expires_in

    def is_revoked(self) -> bool:
        return self.row.revoked

    def get_user(self) -> int:
        return self.row.resident_id

    def get_client(self) -> OidcClient:
        return self.row.client


class OidcRefreshToken(TenantScoped, Base):
    """A refresh token (リフレッシュトークン) for `offline_access`; stored as a hash. Each use
    marks it used and issues the next one; the tokens descended from one authorization code
    are one family (`code_pk`), and presenting a used one revokes the whole family (RFC
    9700 4.14.2): one of the two presenters stole it."""

    __tablename__ = "oidc_refresh_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_pk: Mapped[int] = mapped_column(ForeignKey("oidc_authorization_code.id"), index=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oidc_client.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    scope: Mapped[str] = mapped_column(String(200))  # the family's, whatever a refresh narrows
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(default=False)

    client: Mapped[OidcClient] = relationship()
    code: Mapped[OidcAuthorizationCode] = relationship()


class RefreshView(TokenMixin):
    """authlib's view of a stored refresh token."""

    def __init__(self, row: OidcRefreshToken) -> None:
        self.row = row

    def check_client(self, client) -> bool:
        return client.id == self.row.client_pk

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return int((self.row.expires_at - self.row.issued_at).total_seconds())

    def is_expired(self) -> bool:
        from portal.oidc.services import utcnow
        return utcnow() >= self.row.expires_at

    def is_revoked(self) -> bool:
        return self.row.revoked or self.row.used_at is not None

    def get_user(self) -> int:
        return self.row.resident_id

    def get_client(self) -> OidcClient:
        return self.row.client


class OidcConsent(TenantScoped, Base):
    """What a resident agreed to share with a partner service (連携の同意), remembered so
    the consent screen is not shown again for the same or fewer scopes."""

    __tablename__ = "oidc_consent"
    __table_args__ = (UniqueConstraint("client_pk", "resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oidc_client.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    scope: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]

    client: Mapped[OidcClient] = relationship()


class OidcSigningKey(Base):
    """An RS256 signing key of the deployment (署名鍵). The newest is active; the few
    before it stay published in the JWKS so tokens signed before a rotation still verify."""

    __tablename__ = "oidc_signing_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_pem: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(index=True)
