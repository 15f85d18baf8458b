"""Card login endpoints (see card-login-protocol.md): challenge → token → session."""
from __future__ import annotations

import base64
import hashlib
import logging
import secrets

from cryptography.hazmat.primitives import serialization
from flask import (Blueprint, abort, current_app, jsonify, render_template, request, session,
                   url_for)
from flask_babel import gettext as _

from portal.audit.auth_events import record_attempt
from portal.auth import (Viewer, current_viewer, remember_next, safe_next, sign_in, sign_out,
                         staff_required)
from portal.cards.errors import CardTokenError, MalformedToken, TokenTooLarge
from portal.cards.models import CardBinding
from portal.cards.services import (EnrollmentRefused, bind, consume_challenge, find_binding,
                                   issue_challenge, match_resident, validators)
from portal.cards.validation import MAX_TOKEN_BYTES, parse_token
from portal.extensions import database, limiter
from portal.kiosk.views import bridge_url
from portal.metering.services import record_usage
from portal.registry.models import Resident, ResidentStatus
from portal.staff.models import StaffAccount

bp = Blueprint("cards", __name__, url_prefix="/auth")
log = logging.getLogger("madoguchi.auth")

PURPOSES = ("login", "bind_staff")


def portal_origin() -> str:
    """The origin the card signs: configured behind a proxy, else this request's."""
    configured = current_app.config.get("PUBLIC_ORIGIN")
    return (configured or request.host_url).rstrip("/")


def certificate_key() -> str:
    """Rate-limit key: the certificate in the posted token (per card, not per address)."""
    token = request.get_json(silent=True) or {}
    cert = token.get("certificate") if isinstance(token, dict) else None
    return hashlib.sha256(str(cert).encode()).hexdigest() if cert else request.remote_addr


@bp.get("/login")
def login_page():
    remember_next()
    return render_template("cards/login.html", bridge=bridge_url(), purpose="login")


@bp.post("/challenge")
@limiter.limit(lambda: current_app.config["AUTH_RATE_LIMIT"])
def challenge():
    purpose = (request.get_json(silent=True) or {}).get("purpose", "login")
    if purpose not in PURPOSES:
        abort(400)
    if purpose == "bind_staff" and not (current_viewer() and current_viewer().is_staff):
        abort(403)
    binding = session.setdefault("cbind", secrets.token_urlsafe(24))
    with database().transaction() as db:
        issued = issue_challenge(db, binding, purpose)
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
    with database().transaction() as db:
        consume_challenge(db, nonce, session.get("cbind"), purpose)
    parsed = parse_token(token)
    checked = validators().auth.validate(parsed, portal_origin(), nonce)
    if purpose == "bind_staff":
        return _bind_staff_card(checked)
    with database().transaction() as db:
        binding = find_binding(db, checked)
        if binding is not None:
            db.expunge(binding)
    if binding is None:
        return _start_enrollment(checked)
    return _sign_in_bound(binding)


def _read_json_token() -> dict:
    if (request.content_length or 0) > MAX_TOKEN_BYTES:
        raise TokenTooLarge(f"{request.content_length} bytes")
    token = request.get_json(silent=True)
    if not isinstance(token, dict):
        raise MalformedToken("body is not a JSON object")
    return token


def _sign_in_bound(binding: CardBinding, method: str = "card"):
    with database().transaction(binding.municipality_id) as db:
        if binding.staff_id is not None:
            account = db.get(StaffAccount, binding.staff_id)
            if account is None or not account.active:
                raise EnrollmentRefused(_("このカードで利用できるアカウントがありません。"), "staff inactive")
            viewer = Viewer("staff", account.id, account.municipality_id, account.display_name,
                            account.roles)
        else:
            person = db.get(Resident, binding.resident_id)
            if person is None or person.status != ResidentStatus.ACTIVE:
                raise EnrollmentRefused(_("住民登録が有効ではないため、ログインできません。窓口でご確認ください。"),
                                        "resident not active")
            viewer = Viewer("resident", person.id, person.municipality_id, person.name)
        record_usage(db, "core", "sign_in")
    target = safe_next(session.get("login_next")) or url_for("public.home")
    sign_in(viewer, kiosk=bool(session.get("kiosk_id")))   # a kiosk stays a kiosk
    record_attempt(method, "ok", municipality_id=viewer.municipality_id, subject_kind=viewer.kind,
                   subject_id=viewer.id, certificate_serial=binding.serial)
    return {"status": "signed_in", "redirect": target}


def _start_enrollment(checked):
    if validators().signing is None:
        raise EnrollmentRefused(_("このカードは登録されていません。窓口で登録してください。"),
                                "no signing CAs configured: enrollment disabled")
    session["pending_auth"] = {"issuer": checked.issuer_name, "serial": checked.serial_hex,
                               "fingerprint": checked.fingerprint,
                               "cert": base64.b64encode(checked.certificate.public_bytes(
                                   serialization.Encoding.DER)).decode()}
    with database().transaction() as db:
        issued = issue_challenge(db, session["cbind"], "enroll")
    session["enroll_nonce"] = issued.nonce
    record_attempt("card", "enrollment", "unbound_certificate", certificate_serial=checked.serial_hex)
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
    with database().transaction() as db:
        consume_challenge(db, nonce, session.get("cbind"), "enroll")
    signing = validators().signing
    parsed = parse_token(token)
    signing.validate(parsed, portal_origin(), nonce)
    from smartcard.identity import parse_signing_identity
    identity = parse_signing_identity(parsed.certificate)
    with database().transaction() as db:
        person = match_resident(db, identity.name, identity.birth_date, identity.address,
                                identity.has_substitutes)
        municipality_id, resident_id = person.municipality_id, person.id
    auth = _pending_certificate(pending)
    with database().transaction(municipality_id) as db:
        bind(db, auth, municipality_id, resident_id=resident_id)
        from portal.audit.services import log_access
        log_access(db, resident_id, "create", "cards.binding", "マイナンバーカードの利用登録（本人）")
    session.pop("pending_auth", None)
    log.info("card enrolled: resident %s auth serial %s", resident_id, auth.serial_hex)
    with database().transaction(municipality_id) as db:
        binding = find_binding(db, auth)
        db.expunge(binding)
    return _sign_in_bound(binding, "card_enroll")


def _pending_certificate(pending: dict):
    from cryptography import x509
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
    with database().transaction(viewer.municipality_id) as db:
        if find_binding(db, checked) is not None:
            raise EnrollmentRefused(_("このカードはすでに登録されています。"), "already bound")
        bind(db, checked, viewer.municipality_id, staff_id=viewer.id)
    record_attempt("staff_card_bind", "ok", municipality_id=viewer.municipality_id,
                   subject_kind="staff", subject_id=viewer.id, certificate_serial=checked.serial_hex)
    return {"status": "bound", "redirect": url_for("staff.dashboard")}


def _refusal(refused: CardTokenError, method: str):
    log.warning("card token refused: %s: %s (from %s)", refused.code, refused.detail,
                request.remote_addr)
    record_attempt(method, "refused", refused.code)
    return jsonify({"status": "refused", "error": refused.code,
                    "message": _(refused.message)}), refused.status


@bp.post("/logout")
def logout():
    reason = (request.get_json(silent=True) or {}).get("reason") or request.form.get("reason")
    sign_out(reason if reason in ("card_removed", "idle", "logout") else "logout")
    if request.is_json:
        return {"status": "signed_out"}
    return render_template("signed_out.html")


@bp.get("/staff-card")
@staff_required()
def staff_card_page():
    return render_template("cards/login.html", bridge=bridge_url(), purpose="bind_staff")

