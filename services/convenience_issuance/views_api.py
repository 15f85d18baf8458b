"""The store terminal's JSON API (/services/convenience_issuance/api/v1/…).

No browser session and no CSRF cookie: the terminal proves the resident with the card token
once, and then holds a bearer token for that one issuance request (stored as SHA-256 only).

    POST /api/v1/sessions/challenge   {municipality, terminal_id} → {request_id, nonce, origin}
    POST /api/v1/sessions             {request_id, token}         → {access_token, catalogue}
    GET  /api/v1/request              (Bearer)                    → the request's state
    POST /api/v1/request/quote        {certificate_type, options} → {fee}
    POST /api/v1/request/payment      {idempotency_key, amount}   → {certificate}
    GET  /api/v1/request/certificate.pdf                          → signed PDF
    POST /api/v1/request/outcome      {result: printed|failed}
    DELETE /api/v1/request                                        → cancelled and released

The municipality whose certificates are issued is named by the terminal in the challenge
(`municipality`, the 6-digit code); it is carried inside the request id the card signs for,
so a later step cannot switch cities. The card signs `signed_data(origin, nonce)` where
origin is `CONVENIENCE_TERMINAL_ORIGIN` (the origin the terminal software runs on),
falling back to `PUBLIC_ORIGIN`, then to this server's own origin.
"""
from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass

from flask import Response, current_app, jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.api import (Actor, Municipality, Resident, across_municipalities, city_asset,
                        current_unit, database, log_access)
from portal.api import (CardTokenError, consume_challenge, csrf, find_binding, issue_challenge,
                        limiter, parse_token, validators)
from services.convenience_issuance import issuance
from services.convenience_issuance.documents import signed_pdf
from services.convenience_issuance.issuance import (IdempotencyKeyReused, RequestProblem,
                                                    hash_token)
from services.convenience_issuance.models import IssuanceRequest, IssuedCertificate
from services.convenience_issuance.openapi import openapi_document
from services.convenience_issuance.services import (CERTIFICATE_LABELS, CertificateType,
                                                    IssuanceRefused, Reason, Refusal,
                                                    load_catalogue, to_jst, type_refusal,
                                                    validate_options)
from services.convenience_issuance.signing import (KeyRing, SigningUnavailable, TimestampUnavailable,
                                                   TrustServices)
from services.convenience_issuance.views import bp, clock

SERVICE = "convenience_issuance"
PURPOSE = "login"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_\-:.]{8,64}$")
TERMINAL_PATTERN = re.compile(r"^[A-Za-z0-9_\-.]{1,64}$")


# -- helpers -------------------------------------------------------------------------------

def problem(code: str, message: str, status: int, **extra):
    """Every API error: a stable code for the terminal and a Japanese message to show."""
    return jsonify({"error": code, "message": message, **extra}), status


def refused(refusal: Refusal, catalogue=None):
    return problem(refusal.public_code, refusal.public_message(catalogue.hours if catalogue else None), 403)


def terminal_origin() -> str:
    config = current_app.config
    origin = config.get("CONVENIENCE_TERMINAL_ORIGIN") or config.get("PUBLIC_ORIGIN")
    return (origin or request.host_url).rstrip("/")


def keyring() -> KeyRing:
    ring = current_app.extensions.get("convenience_issuance.keys")
    if ring is None:
        allow_dev = current_app.config.get("ENV") == "development" or current_app.testing
        ring = KeyRing(current_app.config.get("CONVENIENCE_SIGNING_KEYS") or {}, allow_dev)
        current_app.extensions["convenience_issuance.keys"] = ring
    return ring


def trust_services() -> TrustServices | None:
    """The TSA (and its trust roots) for PAdES B-LTA, from MADOGUCHI_TSA_URL; None: B-B."""
    if "convenience_issuance.trust" not in current_app.extensions:
        current_app.extensions["convenience_issuance.trust"] = TrustServices.from_config(current_app.config)
    return current_app.extensions["convenience_issuance.trust"]


def body() -> dict:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def municipality_by_code(db, code: str) -> Municipality | None:
    found = db.scalar(select(Municipality).where(Municipality.code == str(code)[:6]))
    if found is None or SERVICE not in found.enabled_services:
        return None
    return found


def verify_url(code: str) -> str:
    return terminal_origin_public() + url_for("convenience_issuance.verify", code=code)


def terminal_origin_public() -> str:
    """Where residents open the verification page (the portal's public origin)."""
    return (current_app.config.get("PUBLIC_ORIGIN") or request.host_url).rstrip("/")


def api_route(rule: str, **options):
    """A terminal API view: JSON, CSRF-exempt (no cookies are used), public to the core
    (its own authentication), municipality checked inside."""
    def decorator(view):
        endpoint = "api_" + view.__name__
        exempt = csrf.exempt(view)
        bp.add_url_rule(rule, endpoint, exempt, **options)
        PUBLIC_ENDPOINTS.add(f"{SERVICE}.{endpoint}")
        return view
    return decorator


PUBLIC_ENDPOINTS: set[str] = set()


# -- bearer authentication -------------------------------------------------------------------

@dataclass(frozen=True)
class Terminal:
    """The request a bearer token stands for."""
    request_id: int
    municipality_id: int
    resident_id: int


def bearer_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or len(header) > 200:
            return problem("unauthorized", "認証が必要です。最初からやり直してください。", 401)
        with database().transaction() as db:
            found = db.scalar(across_municipalities(select(IssuanceRequest).where(
                IssuanceRequest.token_hash == hash_token(header[7:].strip()))))
            if found is None or found.released_at is not None:
                return problem("unauthorized", "認証が必要です。最初からやり直してください。", 401)
            mid = found.municipality_id
            if municipality_by_code(db, db.get(Municipality, mid).code) is None:
                return problem("service_not_enabled", Refusal(Reason.SERVICE_NOT_ENABLED).public_message(), 404)
            resident = db.scalar(across_municipalities(select(Resident).where(Resident.id == found.resident_id)))
            # the access log names the card holder at the terminal (nobody is signed in)
            current_unit().actor = Actor("resident", resident.id, resident.name, "resident")
            terminal = Terminal(found.id, mid, resident.id)
        return view(terminal, *args, **kwargs)
    return wrapped


def handle_problems(view):
    """Refusals and wrong-state steps become JSON problems; the transaction is already
    rolled back, and refusals are written to the issuance log in their own transaction."""
    @functools.wraps(view)
    def wrapped(terminal: Terminal, *args, **kwargs):
        try:
            return view(terminal, *args, **kwargs)
        except IssuanceRefused as refusal:
            log_refusal(terminal.municipality_id, refusal.refusal, terminal.resident_id,
                        request_id=terminal.request_id)
            return refused(refusal.refusal, catalogue_of(terminal.municipality_id))
        except RequestProblem as failure:
            if isinstance(failure, issuance.RequestExpired):
                expire_now(terminal, clock())
            return problem(failure.code, failure.message, failure.status)
    return wrapped


def catalogue_of(municipality_id: int):
    with database().transaction() as db:
        return load_catalogue(db.get(Municipality, municipality_id).settings)


def log_refusal(municipality_id: int, refusal: Refusal, resident_id: int | None,
                request_id: int | None = None, terminal_id: str = "") -> None:
    with database().transaction(municipality_id) as db:
        req = db.get(IssuanceRequest, request_id) if request_id else None
        issuance.log_event(db, "refused", clock(), request=req, resident_id=resident_id,
                           reason=refusal.reason.value, detail=refusal.detail,
                           terminal_id=terminal_id)


# -- session: card token → bearer token ---------------------------------------------------------

@api_route("/api/v1/sessions/challenge", methods=["POST"])
@limiter.limit(lambda: current_app.config["AUTH_RATE_LIMIT"])
def sessions_challenge():
    data = body()
    terminal_id = str(data.get("terminal_id") or "")
    if not TERMINAL_PATTERN.match(terminal_id):
        return problem("invalid_request", "端末番号が正しくありません。", 400)
    with database().transaction() as db:
        municipality = municipality_by_code(db, str(data.get("municipality") or ""))
        if municipality is None:
            return problem("service_not_enabled", Refusal(Reason.SERVICE_NOT_ENABLED).public_message(), 404)
        catalogue = load_catalogue(municipality.settings)
        try:
            issuance.check_open(catalogue, clock())
        except IssuanceRefused as closed:
            return refused(closed.refusal, catalogue)
        # The request id names the city and the terminal; the card signs a nonce bound to it.
        request_id = f"{municipality.code}.{secrets.token_urlsafe(24)}"
        challenge = issue_challenge(db, request_id, PURPOSE)
    return {"request_id": request_id, "nonce": challenge.nonce, "origin": terminal_origin(),
            "purpose": PURPOSE, "expires_at": challenge.expires_at.isoformat() + "Z"}


@api_route("/api/v1/sessions", methods=["POST"])
@limiter.limit(lambda: current_app.config["AUTH_RATE_LIMIT"])
def sessions_start():
    data = body()
    request_id = str(data.get("request_id") or "")[:64]
    terminal_id = str(data.get("terminal_id") or "")
    if not TERMINAL_PATTERN.match(terminal_id) or "." not in request_id:
        return problem("invalid_request", "端末番号または請求番号が正しくありません。", 400)
    nonce = str(data.get("nonce") or "")[:64]
    try:
        token = parse_token(data.get("token"))
        # The nonce is taken first, in its own transaction: a replay costs no cryptography,
        # and a token that then fails validation cannot be tried again with the same nonce.
        with database().transaction() as db:
            consume_challenge(db, nonce, request_id, PURPOSE)
        with database().transaction() as db:
            municipality = municipality_by_code(db, request_id.split(".", 1)[0])
            if municipality is None:
                return problem("service_not_enabled", Refusal(Reason.SERVICE_NOT_ENABLED).public_message(), 404)
            checked = validators().auth.validate(token, terminal_origin(), nonce)
            binding = find_binding(db, checked)
    except CardTokenError as failure:
        # A token of the documented shape that does not prove the card (signature, nonce,
        # chain, revocation) is a failed authentication: 401, as the document says.
        return problem(failure.code, failure.message, 401 if failure.status == 400 else failure.status)
    if binding is None or binding.resident_id is None:
        return problem("card_not_registered", "このカードは登録されていません。窓口でお問い合わせください。", 403)
    if binding.municipality_id != municipality.id:
        log_refusal(municipality.id, Refusal(Reason.OTHER_MUNICIPALITY, f"card of city {binding.municipality_id}"),
                    None, terminal_id=terminal_id)
        return refused(Refusal(Reason.OTHER_MUNICIPALITY))
    return open_request(municipality.id, binding.resident_id, terminal_id)


def open_request(municipality_id: int, resident_id: int, terminal_id: str):
    now = clock()
    try:
        with database().transaction(municipality_id) as db:
            municipality = db.get(Municipality, municipality_id)
            catalogue = load_catalogue(municipality.settings)
            resident = db.get(Resident, resident_id)
            current_unit().actor = Actor("resident", resident.id, resident.name, "resident")
            log_access(db, resident.id, "read", "convenience_issuance.eligibility",
                       "コンビニ交付の交付可否の確認")
            started, token = issuance.start_request(db, catalogue, resident, terminal_id, now)
            offers = catalogue_for(db, catalogue, resident, now)
            answer = {"access_token": token, "token_type": "Bearer",
                      "expires_at": started.expires_at.isoformat() + "Z",
                      "holder": {"masked_name": issuance.mask_name(resident.family_name, resident.given_name)},
                      "municipality": {"code": municipality.code, "name": municipality.name},
                      "catalogue": offers}
    except IssuanceRefused as refusal:
        log_refusal(municipality_id, refusal.refusal, resident_id, terminal_id=terminal_id)
        return refused(refusal.refusal, catalogue)
    return answer, 201


def catalogue_for(db, catalogue, resident: Resident, now) -> list[dict]:
    """Offers with availability for this holder (type-level checks only: the person-level
    ones already passed, so nothing here can reveal a protected fact)."""
    holdings = issuance.holdings_of(db, resident.id)
    today = to_jst(now).date()
    items = []
    for offer in catalogue.offers.values():
        options = validate_options(offer, {}, today, catalogue.tax_years_back)
        refusal = type_refusal(offer, options, holdings)
        item = {"certificate_type": offer.type.value, "label": offer.label, "fee": offer.fee,
                "options": list(offer.options), "available": refusal is None}
        if offer.type == CertificateType.SHOTOKU_KAZEI:
            latest = options["fiscal_year"]
            years = sorted(y for y in holdings.tax_years if latest - catalogue.tax_years_back < y <= latest)
            item["fiscal_years"], item["available"] = years, bool(years)
            refusal = None if years else refusal
        if not item["available"] and refusal:
            item["reason"] = {"code": refusal.public_code, "message": refusal.public_message()}
        items.append(item)
    return items


# -- the request ----------------------------------------------------------------------------

def describe(req: IssuanceRequest, certificate: IssuedCertificate | None) -> dict:
    answer = {"state": req.state.value, "certificate_type": req.certificate_type,
              "options": req.options, "fee": req.fee, "expires_at": req.expires_at.isoformat() + "Z"}
    if req.certificate_type:
        answer["label"] = CERTIFICATE_LABELS[CertificateType(req.certificate_type)]
    if certificate is not None:
        answer["certificate"] = {
            "issuance_number": certificate.issuance_number,
            "verification_code": certificate.verification_code,
            "issued_at": certificate.issued_at.isoformat() + "Z",
            "pdf_url": url_for("convenience_issuance.api_certificate_pdf")}
    return answer


def certificate_of(db, request_id: int) -> IssuedCertificate | None:
    return db.scalar(select(IssuedCertificate).where(IssuedCertificate.request_id == request_id))


@api_route("/api/v1/request", methods=["GET"])
@bearer_required
@handle_problems
def request_status(terminal: Terminal):
    with database().transaction(terminal.municipality_id) as db:
        req = db.get(IssuanceRequest, terminal.request_id)
        issuance.ensure_alive(db, req, clock())
        return describe(req, certificate_of(db, req.id))


@api_route("/api/v1/request", methods=["DELETE"])
@bearer_required
@handle_problems
def cancel(terminal: Terminal):
    with database().transaction(terminal.municipality_id) as db:
        req = db.get(IssuanceRequest, terminal.request_id)
        issuance.cancel(db, req, clock())
        return describe(req, None)


@api_route("/api/v1/request/quote", methods=["POST"])
@bearer_required
@handle_problems
def quote(terminal: Terminal):
    data = body()
    with database().transaction(terminal.municipality_id) as db:
        req = db.get(IssuanceRequest, terminal.request_id)
        catalogue = load_catalogue(db.get(Municipality, terminal.municipality_id).settings)
        issuance.quote(db, catalogue, req, str(data.get("certificate_type") or ""),
                       data.get("options") or {}, clock())
        return describe(req, None)


def expire_now(terminal: Terminal, now) -> None:
    """ensure_alive marked the request expired inside a transaction that then rolled back
    (the step failed); write the expiry in its own transaction so it sticks."""
    with database().transaction(terminal.municipality_id) as db:
        req = db.get(IssuanceRequest, terminal.request_id)
        if req.released_at is None and req.expires_at <= now:
            state = (issuance.RequestState.EXPIRED if req.state in issuance.OPEN_STATES
                     else req.state)
            issuance.release(db, req, now, state, "expired")


@api_route("/api/v1/request/payment", methods=["POST"])
@bearer_required
@handle_problems
def payment(terminal: Terminal):
    data = body()
    key = str(request.headers.get("Idempotency-Key") or data.get("idempotency_key") or "")
    amount = data.get("amount")
    if not KEY_PATTERN.match(key) or isinstance(amount, bool) or not isinstance(amount, int):
        return problem("invalid_request", "支払い番号（8〜64文字）と金額（整数）を指定してください。", 400)
    now = clock()
    with database().transaction(terminal.municipality_id) as db:
        holder = db.get(Resident, terminal.resident_id)
        name = (holder.family_name, holder.given_name)
    try:
        # A fresh transaction whose first statement is the guarded UPDATE (see confirm_payment).
        with database().transaction(terminal.municipality_id) as db:
            outcome = issuance.confirm_payment(db, terminal.request_id, key, amount, now, name,
                                               issuance.request_hash(data))
            req = db.get(IssuanceRequest, terminal.request_id)
            answer = {**describe(req, outcome.certificate), "replayed": outcome.replayed,
                      "amount_charged": outcome.payment.amount}
    except IntegrityError:
        raise IdempotencyKeyReused(key) from None
    return answer, 200 if outcome.replayed else 201


@api_route("/api/v1/request/certificate.pdf", methods=["GET"])
@bearer_required
@handle_problems
def certificate_pdf(terminal: Terminal):
    now = clock()
    with database().transaction(terminal.municipality_id) as db:
        req = db.get(IssuanceRequest, terminal.request_id)
        issuance.ensure_alive(db, req, now)
        certificate = certificate_of(db, req.id)
        if certificate is None or req.state != issuance.RequestState.ISSUED:
            raise issuance.WrongState(req.state.value)
        if req.pdf is None:
            municipality = db.get(Municipality, terminal.municipality_id)
            try:
                req.pdf = signed_pdf(db, req, certificate, municipality,
                                     verify_url(certificate.verification_code), keyring(),
                                     city_asset(municipality, "seal_image"), trust_services())
            except TimestampUnavailable:
                return untimed(db, req, now)
            except SigningUnavailable:
                return problem("signing_unavailable", "ただいま証明書を発行できません。窓口でお問い合わせください。", 503)
        pdf = req.pdf
        number = certificate.issuance_number
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="certificate-{number}.pdf"'})


def untimed(db, req: IssuanceRequest, now):
    """No time-stamp, no certificate: it is voided and the fee handed back, exactly as for
    a failed print, so nothing stays half-issued and the day's reconciliation balances."""
    issuance.report_outcome(db, req, False, "timestamp_unavailable", now)
    return problem("timestamp_unavailable", "時刻認証を受けられないため、証明書を発行できませんでした。"
                   "手数料はお返しします。しばらくしてからやり直してください。", 503,
                   amount_refunded=req.fee)


@api_route("/api/v1/request/outcome", methods=["POST"])
@bearer_required
@handle_problems
def outcome(terminal: Terminal):
    data = body()
    result = data.get("result")
    if result not in ("printed", "failed"):
        return problem("invalid_request", "result は printed か failed を指定してください。", 400)
    with database().transaction(terminal.municipality_id) as db:
        req = db.get(IssuanceRequest, terminal.request_id)
        issuance.report_outcome(db, req, result == "printed", str(data.get("detail") or "")[:200], clock())
        answer = describe(req, certificate_of(db, req.id))
        if req.state == issuance.RequestState.FAILED:
            answer["amount_refunded"] = req.fee   # the terminal hands the fee back
        return answer


@api_route("/api/v1/openapi.json", methods=["GET"])
def openapi():
    return openapi_document(terminal_origin_public() + "/services/convenience_issuance")
