"""OpenID Connect provider (OIDC プロバイダ): partner services rely on a resident's card
login. Routes: discovery, JWKS, authorization (with the consent screen), token (codes and
refresh tokens), userinfo, revocation, RP-initiated logout. See docs/oidc.md."""
from __future__ import annotations

import logging
import re
import time

from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.integrations.flask_oauth2.requests import FlaskJsonRequest
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidClientError, InvalidRequestError, InvalidScopeError
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oidc.core.errors import (ConsentRequiredError, LoginRequiredError,
                                     RequestNotSupportedError, RequestURINotSupportedError)
from flask import (Blueprint, abort, current_app, flash, g, jsonify, make_response, redirect,
                   render_template, request, url_for)
from portal.web.i18n import gettext as _, lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.audit.services import log_access
from portal.auth import current_viewer, resident_required, sign_out
from portal.db import scoped
from portal.extensions import csrf, db_for, get_db
from portal.oidc import keys
from portal.oidc.models import OidcToken  # also registers the oidc_* tables at app start
from portal.oidc.server import (CONSENT_PURPOSE, USERINFO_PURPOSE, WITHDRAW_PURPOSE,
                                AccessTokenValidator, Revocation,
                                NotConfigured, build_server, current_login, db, issuer,
                                key_schedule, key_store, partner, resource_name, signing_key,
                                subject_for, verified_id_token)
from portal.oidc.services import (ACR, ACR_CARD, OFFLINE, SCOPE_CLAIMS, SUPPORTED_SCOPES,
                                  claims_for, consent_covers, consents_of, find_client,
                                  remember_consent, supported_claims, withdraw_consent,
                                  without_offline)
from portal.registry.models import Resident, ResidentStatus
from portal.sessions.services import CARD_PIN
from portal.tenancy.models import Municipality

bp = Blueprint("oidc", __name__)
log = logging.getLogger("madoguchi.oidc")

# What the consent screen says each scope shares (同意画面の表示).
SCOPE_LABELS = {
    "openid": _l("利用者識別番号（この連携先専用の番号で、ほかの連携先とは共通しません）"),
    "profile": _l("氏名、氏名のフリガナ、性別"),
    "birthdate": _l("生年月日"),
    "address": _l("住所"),
    "offline_access": _l("あなたがログアウトしている間も、上の情報を受け取り続けること"),
}

protector = ResourceProtector()
protector.register_token_validator(AccessTokenValidator())


@bp.record_once
def _install(state) -> None:
    state.app.extensions["madoguchi.oidc"] = build_server()


def provider():
    return current_app.extensions["madoguchi.oidc"]


@bp.errorhandler(NotConfigured)
@bp.errorhandler(keys.NoSigningKey)
def _not_configured(error):
    log.error("OIDC provider not configured: %s", error)
    return jsonify(error="temporarily_unavailable",
                   error_description="OpenID provider not configured"), 503


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SERVER_TO_SERVER = {"oidc.token", "oidc.userinfo", "oidc.revoke"}  # JSON errors


@bp.before_request
def _refuse_control_characters():
    """No OAuth parameter may hold a control character (RFC 6749 Appendix A: VSCHAR and
    the like). Refused here once, so no database (PostgreSQL refuses NUL in text) and no
    error description (authlib refuses them) ever sees one."""
    values = [request.headers.get("Authorization", "")]
    values += [part for pair in request.values.items(multi=True) for part in pair]
    if not any(_CONTROL.search(value) for value in values):
        return None
    error = InvalidRequestError("control characters in the request")
    if request.endpoint in _SERVER_TO_SERVER:
        return _json_error(error)
    return _authorization_error(error)


@bp.before_request
def _refuse_repeated_parameters():
    """A token or revocation request naming a parameter twice is malformed (RFC 6749 3.2):
    which of two refresh tokens or codes would it mean?"""
    if request.endpoint not in _SERVER_TO_SERVER:
        return None
    names = [name for name, _value in request.values.items(multi=True)]
    if len(names) == len(set(names)):
        return None
    return _json_error(InvalidRequestError("a parameter is repeated"))


# --- discovery and keys ----------------------------------------------------------------

@bp.get("/.well-known/openid-configuration")
def discovery():
    """Provider metadata (OpenID Connect Discovery 1.0 section 3)."""
    base = issuer()
    return jsonify({
        "issuer": base,
        "authorization_endpoint": base + url_for("oidc.authorize"),
        "token_endpoint": base + url_for("oidc.token"),
        "userinfo_endpoint": base + url_for("oidc.userinfo"),
        "jwks_uri": base + url_for("oidc.jwks"),
        "revocation_endpoint": base + url_for("oidc.revoke"),
        "end_session_endpoint": base + url_for("oidc.end_session"),
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic",
                                                       "client_secret_post"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": [keys.ALGORITHM],
        "scopes_supported": list(SUPPORTED_SCOPES),
        "claims_supported": supported_claims() + ["acr", "amr", "auth_time"],
        "acr_values_supported": list(ACR.values()),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_locales_supported": ["ja", "ja-Kana-JP"],
        "ui_locales_supported": list(current_app.config.get("LOCALES", ["ja"])),
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "claims_parameter_supported": False,
    })


@bp.get("/oidc/jwks")
def jwks():
    """The public keys: the active one and the recently retired ones."""
    g.oidc_db = session = db_for(None)
    signing_key()  # development and tests create the first key here
    return jsonify(keys.jwks(key_store(session), key_schedule()))


# --- authorization and consent ---------------------------------------------------------

@bp.route("/oidc/authorize", methods=["GET", "POST"])
def authorize():
    """Ask the signed-in resident to share their registry claims with a partner service.
    The request comes by GET or by POST (OIDC Core 3.1.2.1); a POST carrying `decision` is
    the resident's answer on the consent screen, and only that one needs a CSRF token."""
    if _is_decision():
        csrf.protect()
    viewer = current_viewer()
    if viewer is not None and not viewer.is_resident:
        return _refuse(_("職員のアカウントでは連携先サービスにログインできません。"), 403)
    g.oidc_db = get_db()
    resident = _signed_in_resident()
    try:
        grant = provider().get_consent_grant(end_user=resident)
    except OAuth2Error as error:
        return _authorization_error(error)
    if resident is None:
        return redirect(url_for("cards.login_page", next=_request_url()))
    g.oidc_client = client = grant.client
    refusal = _refusal_for(client, resident)
    if refusal is not None:
        return refusal
    state = grant.request.payload.state
    if "openid" not in grant.request.scope.split():
        return _authorization_error(InvalidScopeError(
            "scope must include 'openid'", redirect_uri=grant.redirect_uri, state=state))
    if _is_decision():
        return _decide(grant, client, resident)
    unsupported = _unsupported_request_object(grant.redirect_uri, state)
    if unsupported is not None:
        return _authorization_error(unsupported)
    prompts = _prompts()
    try:
        stale = _fresh_login_needed(client, prompts, grant.redirect_uri, state)
    except OAuth2Error as error:
        return _authorization_error(error)
    if stale and "none" in prompts:
        return _authorization_error(LoginRequiredError(redirect_uri=grant.redirect_uri,
                                                       state=state))
    if stale:
        return redirect(url_for("cards.login_page", next=_after_login()))
    scope = _granted_scope(grant.request.scope, prompts)
    if "consent" not in prompts and consent_covers(db(), client, resident.id, scope):
        # Agreed before to these scopes: answer at once (single sign-on, prompt=none too).
        response = provider().create_authorization_response(grant_user=resident, grant=grant)
        return response
    if "none" in prompts:
        return _authorization_error(ConsentRequiredError(redirect_uri=grant.redirect_uri,
                                                         state=state))
    return _consent_page(client, client.get_allowed_scope(scope).split())


def _prompts() -> set[str]:
    return set((request.values.get("prompt") or "").split())


def _granted_scope(scope: str, prompts: set[str]) -> str:
    """offline_access (refresh tokens) counts only when the consent screen is asked for
    with prompt=consent (OIDC Core 11); otherwise that part of the request is ignored."""
    return scope if "consent" in prompts else without_offline(scope)


def _unsupported_request_object(redirect_uri: str, state):
    """Request objects are not supported (discovery says so): refuse them with the OIDC
    Core 6 codes rather than ignore parameters the client meant to send."""
    if "request" in request.values:
        return RequestNotSupportedError(redirect_uri=redirect_uri, state=state)
    if "request_uri" in request.values:
        return RequestURINotSupportedError(redirect_uri=redirect_uri, state=state)
    return None


def _is_decision() -> bool:
    """The resident's answer on the consent screen (not an authorization request)."""
    return request.method == "POST" and "decision" in request.form


def _fresh_login_needed(client, prompts: set[str], redirect_uri: str, state) -> bool:
    """Whether the resident must sign in again before this request is answered: asked for
    (prompt=login), the sign-in older than max_age, or the card needed (by the client's
    registration, or asked in acr_values) after another kind of sign-in."""
    login = current_login()
    if "login" in prompts:
        return True
    max_age = request.values.get("max_age")
    if max_age is not None:
        if not max_age.isdigit() or len(max_age) > 9:
            raise InvalidRequestError("max_age must be a number of seconds",
                                      redirect_uri=redirect_uri, state=state)
        if time.time() - login.auth_time > int(max_age):
            return True
    wants_card = client.require_card or ACR_CARD in (request.values.get("acr_values") or "").split()
    return wants_card and login.method != CARD_PIN


def _after_login() -> str:
    """The same authorization request, to come back to after the new sign-in: without
    prompt=login and max_age, which the new sign-in has just satisfied (else it would loop)."""
    params = _request_params()
    params.pop("max_age", None)
    prompts = [p for p in (params.pop("prompt", "") or "").split() if p != "login"]
    if prompts:
        params["prompt"] = " ".join(prompts)
    return url_for("oidc.authorize", **params)


def _request_params() -> dict[str, str]:
    """The authorization request's parameters, from the query or a posted form."""
    return {k: v for k, v in request.values.items() if k not in ("csrf_token", "decision")}


def _request_url() -> str:
    """The authorization request as a GET URL (to come back to, or to post the decision to)."""
    return url_for("oidc.authorize", **_request_params())


def _signed_in_resident() -> Resident | None:
    viewer = current_viewer()
    if viewer is None:
        return None
    return db().scalar(scoped(Resident, Resident.id == viewer.id))


def _refusal_for(client, resident: Resident):
    """A plain refusal when this resident may not use this client (no redirect: the
    client learns nothing about residents of other cities)."""
    if client.municipality_id != resident.municipality_id:
        city = db().get(Municipality, client.municipality_id)
        return _refuse(_("%(client)sは%(city)sにお住まいの方のためのサービスです。ご利用いただけません。",
                         client=client.name, city=city.name if city else ""), 403)
    if resident.status != ResidentStatus.ACTIVE:
        return _refuse(_("現在、この市の住民として登録されていないため連携できません。"), 403)
    if resident.support_block:
        # 支援措置: nothing of this person may leave the counter, not even to a partner.
        return _refuse(_("この連携はご利用いただけません。窓口にご相談ください。"), 403)
    return None


def _consent_page(client, scopes: list[str]):
    city = db().get(Municipality, client.municipality_id)
    shared = [(scope, SCOPE_LABELS[scope], SCOPE_CLAIMS[scope])
              for scope in SUPPORTED_SCOPES if scope in scopes]
    return render_template("oidc/consent.html", client=client, city=city, shared=shared,
                           action=_request_url())


def _decide(grant, client, resident: Resident):
    allowed = request.form.get("decision") == "allow"
    if allowed:
        scopes = _granted_scope(grant.request.scope, _prompts())
        # read by save_authorization_code: the code may keep offline_access
        g.oidc_offline_agreed = OFFLINE in client.get_allowed_scope(scopes).split()
        remember_consent(db(), client, resident.id, scopes)
        log_access(db(), resident.id, "create", resource_name(client),
                   CONSENT_PURPOSE % {"client": client.name, "scopes": scopes})
    response = provider().create_authorization_response(
        grant_user=resident if allowed else None, grant=grant)
    return _send_back(response, client)


def _send_back(response, client):
    """Return to the client through a page, not a 302: the portal's CSP `form-action
    'self'` would make browsers block a redirect to another origin after the consent form
    is posted. The Refresh header moves on at once; the link is the fallback."""
    target = response.headers.get("Location")
    if response.status_code != 302 or not target:
        return response
    return _return_page(client, target)


def _return_page(client, target: str):
    page = make_response(render_template("oidc/return.html", client=client, target=target))
    page.headers["Refresh"] = f"0; url={target}"
    return page


def _authorization_error(error: OAuth2Error):
    """Errors with a verified redirect URI go back to the client (RFC 6749 4.1.2.1); the
    others (unknown client, unregistered redirect URI) stay here as a plain page."""
    if error.redirect_uri:
        status, body, headers = error()
        return make_response(body, status, headers)
    log.info("authorization request refused: %s %s", error.error, error.description)
    return _refuse(_("連携先サービスからの要求が正しくありません。連携先サービスにお問い合わせください。"),
                   400, detail=f"{error.error}: {error.description or ''}")


def _refuse(message: str, status: int, detail: str | None = None):
    return render_template("oidc/refused.html", message=message, detail=detail), status


# --- the resident's partner services (連携しているサービス) ----------------------------

# --- RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) ----------------------

class LogoutRefused(ValueError):
    """A logout request the provider cannot follow; shown as a plain page, never a redirect."""


@bp.route("/oidc/logout", methods=["GET", "POST"])
def end_session():
    """End the resident's portal session at a partner's request, then return to one of the
    partner's registered post-logout URIs with its `state`. Without an ID token of the
    signed-in resident as a hint, the resident is asked first (the request may be forged).
    A POST with `confirm` is that answer and needs the CSRF token."""
    confirming = request.method == "POST" and "confirm" in request.form
    if confirming:
        csrf.protect()
    g.oidc_db = db_for(None)
    try:
        client, hinted_sub = _logout_client()
        target = _post_logout_target(client)
    except LogoutRefused as refused:
        log.info("logout request refused: %s", refused)
        return _refuse(_("連携先サービスからのログアウトの要求が正しくありません。連携先サービスにお問い合わせください。"),
                       400, detail=str(refused))
    viewer = current_viewer()
    if viewer is not None and not confirming and not _hint_names(viewer, client, hinted_sub):
        return render_template("oidc/logout.html", client=client,
                               action=url_for("oidc.end_session", **_logout_params()))
    if viewer is not None:
        sign_out("logout")
    if target is None:
        return render_template("oidc/logged_out.html", client=client)
    return _return_page(client, target) if confirming else redirect(target)


def _logout_params() -> dict[str, str]:
    return {k: v for k, v in request.values.items() if k not in ("csrf_token", "confirm")}


def _logout_client():
    """The client the request is from (the hint's audience or `client_id`, which must
    agree) and the `sub` of the hint, if one came."""
    hint, client_id = request.values.get("id_token_hint"), request.values.get("client_id")
    claims = verified_id_token(hint) if hint else None
    if hint and claims is None:
        raise LogoutRefused("id_token_hint is not an ID token of this provider")
    audience = (claims or {}).get("aud")
    audience = audience[0] if isinstance(audience, list) and len(audience) == 1 else audience
    if client_id and audience and client_id != audience:
        raise LogoutRefused("client_id differs from the audience of id_token_hint")
    named = client_id or audience
    client = find_client(db(), named) if isinstance(named, str) else None
    if named and client is None:
        raise LogoutRefused("unknown client")
    return client, (claims or {}).get("sub")


def _post_logout_target(client) -> str | None:
    """The registered post-logout URI asked for (exact match), with `state` added."""
    uri = request.values.get("post_logout_redirect_uri")
    if not uri:
        return None
    if client is None or uri not in client.post_logout_redirect_uris:
        raise LogoutRefused("post_logout_redirect_uri is not registered for the client")
    state = request.values.get("state")
    return add_params_to_uri(uri, [("state", state)]) if state else uri


def _hint_names(viewer, client, sub: str | None) -> bool:
    """Whether the hint is an ID token of the signed-in resident (then no question)."""
    return (sub is not None and client is not None and viewer.is_resident
            and sub == subject_for(client, viewer.id))


@bp.get("/me/connections")
@resident_required
def connections():
    """Each partner the resident agreed to share with: what it may see, when it last did."""
    consents = consents_of(get_db(), current_viewer().id)
    shown = [(c, [SCOPE_LABELS[s] for s in SUPPORTED_SCOPES if s in c.scope.split()])
             for c in consents]
    return render_template("oidc/connections.html", connections=shown)


@bp.post("/me/connections/<int:consent_id>/withdraw")
@resident_required
def withdraw(consent_id: int):
    """連携をやめる: the consent and the partner's tokens end together."""
    session = get_db()
    found = [c for c in consents_of(session, current_viewer().id) if c.id == consent_id]
    if not found:
        abort(404)
    name, resource = found[0].client.name, resource_name(found[0].client)
    withdraw_consent(session, found[0])
    log_access(session, current_viewer().id, "delete", resource,
               WITHDRAW_PURPOSE % {"client": name})
    flash(_("「%(client)s」との連携をやめました。", client=name), "info")
    return redirect(url_for("oidc.connections"))


# --- token and userinfo (server to server, no CSRF token) ------------------------------

@bp.post("/oidc/token")
def token():
    """Exchange a code (with its PKCE verifier) for an ID token and an access token."""
    return _as_presented_client(provider().create_token_response)


@bp.post("/oidc/revoke")
def revoke():
    """Token revocation (RFC 7009): the client says it no longer needs a token."""
    return _as_presented_client(
        lambda: provider().create_endpoint_response(Revocation.ENDPOINT_NAME))


def _as_presented_client(respond):
    """Answer in the database scope of the city whose client the request names."""
    try:
        client = _presented_client()
    except OAuth2Error as error:
        return _json_error(error)
    g.oidc_db, g.oidc_client = db_for(client.municipality_id if client else None), client
    return respond()


def _json_error(error: OAuth2Error):
    """An RFC 6749 error as the JSON body a client parses (5.2)."""
    status, body, headers = error()
    return jsonify(dict(body)), status, headers


def _presented_client():
    """The client the request names, decoded exactly as authlib will decode it: RFC 6749
    2.3.1 form-urlencodes the id before Basic encoding (`_` may arrive as `%5F`)."""
    try:
        client_id, _secret = extract_basic_authorization(request.headers)
    except UnicodeDecodeError:  # credentials that are not UTF-8 name no client
        raise InvalidClientError(status_code=401) from None
    client_id = client_id or request.form.get("client_id")
    return find_client(db_for(None), client_id)


@bp.route("/oidc/userinfo", methods=["GET", "POST"])
def userinfo():
    """The claims of the token's scopes, nothing more (OIDC Core 5.3)."""
    g.oidc_db = db_for(None)
    try:
        found = protector.validate_request(["openid"], FlaskJsonRequest(request))
    except OAuth2Error as error:
        return _json_error(error)
    token_id, mid = found.row.id, found.row.municipality_id
    g.oidc_db = session = db_for(mid)
    return _claims_response(session, token_id)


def _claims_response(session: Session, token_id: int):
    row = session.scalar(scoped(OidcToken, OidcToken.id == token_id))
    resident = session.scalar(scoped(Resident, Resident.id == row.resident_id,
                                     Resident.status == ResidentStatus.ACTIVE))
    if resident is None or resident.support_block:  # 支援措置: nothing leaves the counter
        return jsonify(error="invalid_token"), 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    log_access(session, resident.id, "export", resource_name(row.client),
               USERINFO_PURPOSE % {"client": row.client.name}, actor=partner(row.client))
    claims = {"sub": subject_for(row.client, resident.id)}
    claims.update(claims_for(resident, set(row.scope.split())))
    return jsonify(claims)


# Server-to-server endpoints, and the authorization and logout endpoints, whose POST is a
# request from another site (the resident's answer they also receive is checked in the view).
for _view in (token, userinfo, revoke, authorize, end_session):
    csrf.exempt(_view)
