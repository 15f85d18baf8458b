"""Card login endpoints (see card-login-protocol.md): challenge → token → session."""
from __future__ import annotations

import base64
import hashlib
import logging
import secrets

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from flask import (Blueprint, abort, current_app, flash, jsonify, render_template, request,
                   session, url_for)
from portal.web.i18n import gettext as _
from sqlalchemy import select

from portal.audit.auth_events import record_attempt
from portal.auth import (Viewer, current_viewer, remember_next, safe_next, sign_in, sign_out,
                         staff_required)
from portal.cards.errors import CardTokenError, MalformedToken, TokenTooLarge
from portal.cards.models import CardBinding
from portal.cards.services import (EnrollmentRefused, bind, consume_challenge, find_binding,
                                   find_bound_account, init_app, issue_challenge, match_resident,
                                   revocation_reference, revoked_since_sign_in, validators)
from portal.cards.validation import MAX_TOKEN_BYTES, parse_token
from portal.db import Read, across_municipalities
from portal.extensions import db_for, get_db, limiter
from portal.kiosk.views import bridge_url
from portal.metering.services import record_usage
from portal.registry.models import ResidentStatus
from portal.sessions.services import CARD_PIN
from portal.staff.models import StaffAccount
from portal.web.bodies import json_object

bp = Blueprint("cards", __name__, url_prefix="/auth")
log = logging.getLogger("madoguchi.auth")

PURPOSES = ("login", "bind_staff")


@bp.record_once
def _start(state) -> None:
    init_app(state.app)


@bp.before_app_request
def end_sessions_of_revoked_cards() -> None:
    """A session opened with a card ends at its next request once a CRL lists the card
    (after `madoguchi card refresh-crls`), for residents and staff alike."""
    reference = session.get("card")
    if not reference or current_viewer() is None or not revoked_since_sign_in(reference):
        return
    viewer = current_viewer()
    log.warning("session of %s %s ended: certificate serial %s revoked", viewer.kind, viewer.id,
                reference["serial"])
    sign_out("certificate_revoked")
    flash(_("ご利用の電子証明書が失効したため、ログアウトしました。市区町村の窓口にお問い合わせください。"), "info")


def portal_origin() -> str:
    """The origin the card signs: configured behind a proxy, else this request's."""
    configured = current_app.config.get("PUBLIC_ORIGIN")
    return (configured or request.host_url).rstrip("/")


def certificate_key() -> str:
    """Rate-limit key: the certificate in the posted token (per card, not per address)."""
    cert = json_object().get("certificate")
    return hashlib.sha256(str(cert).encode()).hexdigest() if cert else request.remote_addr


@bp.get("/login")
def login_page():
    remember_next()
    return render_template("cards/login.html", bridge=bridge_url(), purpose="login")


@bp.post("/challenge")
@limiter.limit(lambda: current_app.config["AUTH_RATE_LIMIT"])
def challenge():
    purpose = json_object().get("purpose", "login")
    if purpose not in PURPOSES:
        abort(400)
    if purpose == "bind_staff" and not (current_viewer() and current_viewer().is_staff):
        abort(403)
    binding = session.setdefault("cbind", secrets.token_urlsafe(24))
    issued = issue_challenge(get_db(), binding, purpose)
    session["nonce"], session["nonce_purpose"] = issued.nonce, purpose
    return {"nonce": issued.nonce, "origin": portal_origin(), "purpose": purpose,
            "expires_at": issued.expires_at.isoformat() + "Z"}


@bp.post("/card")
@limiter.limit(lambda: current_app.config["AUTH_RATE_LIMIT"])
@limiter.limit(lambda: current_app.config["AUTH_CERT_RATE_LIMIT"], key_func=certificate_key)
def card():
    try:
        return _card_login()
    except CardTokenError as refused:
        return _refusal(refused, "card")


def _card_login():
    token = _read_json_token()
    purpose, nonce = session.get("nonce_purpose", "login"), session.pop("nonce", None)
    # used up first, and for good: a refusal below is an answer, committed with it
    consume_challenge(db_for(None), nonce, session.get("cbind"), purpose)
    parsed = parse_token(token)
    checked = validators().auth.validate(parsed, portal_origin(), nonce)
    if purpose == "bind_staff":
        return _bind_staff_card(checked)
    binding = find_bound_account(get_db(), checked)
    if binding is None:
        return _start_enrollment(checked)
    return _sign_in_bound(binding, checked)


def _read_json_token() -> dict:
    if (request.content_length or 0) > MAX_TOKEN_BYTES:
        raise TokenTooLarge(f"{request.content_length} bytes")
    token = request.get_json(silent=True)
    if not isinstance(token, dict):
        raise MalformedToken("body is not a JSON object")
    return token


def _sign_in_bound(binding: Read, checked, method: str = "card"):
    """`binding` as find_bound_account reads it (with its resident)."""
    db = db_for(binding.municipality_id)
    if binding.staff_id is not None:
        account = db.get(StaffAccount, binding.staff_id)
        if account is None or not account.active:
            raise EnrollmentRefused(_("このカードで利用できるアカウントがありません。"), "staff inactive")
        viewer = Viewer("staff", account.id, account.municipality_id, account.display_name,
                        account.roles)
    else:
        person = binding.resident
        if person is None or person.status != ResidentStatus.ACTIVE:
            raise EnrollmentRefused(_("住民登録が有効ではないため、ログインできません。窓口でご確認ください。"),
                                    "resident not active")
        viewer = Viewer("resident", person.id, person.municipality_id, person.name)
    record_usage(db, "core", "sign_in")
    target = safe_next(session.get("login_next")) or url_for("public.home")
    sign_in(viewer, CARD_PIN, kiosk=bool(session.get("kiosk_id")))   # a kiosk stays a kiosk
    session["card"] = revocation_reference(checked)
    record_attempt(method, "ok", municipality_id=viewer.municipality_id, subject_kind=viewer.kind,
                   subject_id=viewer.id, certificate=(binding.issuer, binding.serial))
    return {"status": "signed_in", "redirect": target}


def _start_enrollment(checked):
    if validators().signing is None:
        raise EnrollmentRefused(_("このカードは登録されていません。窓口で登録してください。"),
                                "no signing CAs configured: enrollment disabled")
    session["pending_auth"] = {"issuer": checked.issuer_name, "serial": checked.serial_hex,
                               "fingerprint": checked.fingerprint,
                               "cert": base64.b64encode(checked.certificate.public_bytes(
                                   serialization.Encoding.DER)).decode()}
    issued = issue_challenge(get_db(), session["cbind"], "enroll")
    session["enroll_nonce"] = issued.nonce
    record_attempt("card", "enrollment", "unbound_certificate",
                   certificate=(checked.issuer_name, checked.serial_hex))
    return {"status": "enrollment_required", "nonce": issued.nonce}


@bp.post("/enroll")
@limiter.limit(lambda: current_app.config["AUTH_RATE_LIMIT"])
def enroll():
    try:
        return _enroll()
    except CardTokenError as refused:
        return _refusal(refused, "card_enroll")


def _enroll():
    token = _read_json_token()
    pending = session.get("pending_auth")
    nonce = session.pop("enroll_nonce", None)
    if not pending:
        raise MalformedToken("no enrollment pending in this session")
    consume_challenge(db_for(None), nonce, session.get("cbind"), "enroll")
    signing = validators().signing
    parsed = parse_token(token)
    signing.validate(parsed, portal_origin(), nonce)
    from madoguchi_smartcard.identity import parse_signing_identity
    identity = parse_signing_identity(parsed.certificate)
    person = match_resident(get_db(), identity.name, identity.birth_date, identity.sex,
                            identity.address, identity.has_substitutes)
    municipality_id, resident_id = person.municipality_id, person.id
    auth = _pending_certificate(pending)
    db = db_for(municipality_id)
    bind(db, auth, municipality_id, resident_id=resident_id)
    from portal.audit.services import log_access
    log_access(db, resident_id, "create", "cards.binding", "マイナンバーカードの利用登録（本人）")
    session.pop("pending_auth", None)
    log.info("card enrolled: resident %s auth serial %s", resident_id, auth.serial_hex)
    db.flush()
    return _sign_in_bound(find_bound_account(db, auth), auth, "card_enroll")


def _pending_certificate(pending: dict):
    from portal.cards.validation import ValidatedCertificate
    cert = x509.load_der_x509_certificate(base64.b64decode(pending["cert"]))
    checked = validators().auth.validate_certificate(cert)  # still valid, still not revoked
    if checked.fingerprint != pending["fingerprint"]:
        raise MalformedToken("pending certificate changed")
    return ValidatedCertificate(checked.certificate, checked.issuer)


def _bind_staff_card(checked):
    viewer = current_viewer()
    if viewer is None or not viewer.is_staff:
        abort(403)
    db = db_for(viewer.municipality_id)
    if find_binding(db, checked) is not None:
        raise EnrollmentRefused(_("このカードはすでに登録されています。"), "already bound")
    bind(db, checked, viewer.municipality_id, staff_id=viewer.id)
    record_attempt("staff_card_bind", "ok", municipality_id=viewer.municipality_id,
                   subject_kind="staff", subject_id=viewer.id,
                   certificate=(checked.issuer_name, checked.serial_hex))
    return {"status": "bound", "redirect": url_for("staff.dashboard")}


def _refusal(refused: CardTokenError, method: str):
    log.warning("card token refused: %s: %s (from %s)", refused.code, refused.detail,
                request.remote_addr)
    certificate = refused_certificate(method)
    record_attempt(method, "refused", refused.code, certificate=certificate,
                   municipality_id=certificate and bound_city(*certificate))
    return jsonify({"status": "refused", "error": refused.code,
                    "message": _(refused.message)}), refused.status


def refused_certificate(method: str) -> tuple[str, str] | None:
    """(issuer, serial) of the authentication certificate a refused attempt concerned: the
    one waiting for enrollment, else the one in the posted token, read as presented (it
    may be what was refused); None when the body holds no certificate that parses."""
    pending = session.get("pending_auth") if method == "card_enroll" else None
    if pending:
        return pending["issuer"], pending["serial"]
    try:
        cert = x509.load_der_x509_certificate(base64.b64decode(
            json_object().get("certificate"), validate=True))
    except (TypeError, ValueError):
        return None
    return cert.issuer.rfc4514_string(), format(cert.serial_number, "x")


def bound_city(issuer: str, serial: str) -> int | None:
    """The city a certificate is bound in, so its administrator sees the refusal too."""
    return get_db().scalar(across_municipalities(select(CardBinding.municipality_id).where(
        CardBinding.issuer == issuer, CardBinding.serial == serial).limit(1)))


@bp.post("/logout")
def logout():
    reason = json_object().get("reason") or request.form.get("reason")
    sign_out(reason if reason in ("card_removed", "idle", "logout") else "logout")
    if request.is_json:
        return {"status": "signed_out"}
    return render_template("signed_out.html")


@bp.get("/staff-card")
@staff_required()
def staff_card_page():
    return render_template("cards/login.html", bridge=bridge_url(), purpose="bind_staff")

