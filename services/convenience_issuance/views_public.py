"""Public pages: certificate verification (scan or type the code) and the reference terminal.

Both are served without a sign-in (`public_endpoints`). The verification page shows only
what the paper itself shows — genuine or not, type, issue date, masked holder name — and is
rate-limited (CONVENIENCE_VERIFY_RATE_LIMIT, default 20/minute per address)."""
from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import get_locale
from portal.web.i18n import gettext as _
from sqlalchemy import select

from portal.api import Municipality, across_municipalities, database
from portal.api import limiter
from services.convenience_issuance import verification
from services.convenience_issuance.forms import UploadForm, VerifyForm
from services.convenience_issuance.issuance import normalise_code
from services.convenience_issuance.models import IssuedCertificate
from services.convenience_issuance.services import CERTIFICATE_LABELS, CertificateType, to_jst
from services.convenience_issuance.views import bp
from services.convenience_issuance.views_api import keyring

PUBLIC_VIEWS = {"convenience_issuance.verify", "convenience_issuance.verify_upload",
                "convenience_issuance.terminal", "convenience_issuance.static"}


@bp.get("/verify")
@limiter.limit(lambda: current_app.config.get("CONVENIENCE_VERIFY_RATE_LIMIT", "20/minute"))
def verify():
    form = VerifyForm(request.args)
    result = None
    if "code" in request.args and form.validate():
        result = lookup(normalise_code(form.code.data))
    return render_template("convenience_issuance/verify.html", form=form, result=result,
                           searched="code" in request.args, upload_form=UploadForm())


@bp.post("/verify/upload")
@limiter.limit(lambda: current_app.config.get("CONVENIENCE_VERIFY_RATE_LIMIT", "20/minute"))
def verify_upload():
    """The PDF itself: signature intact, by which city, time-stamped when, voided since."""
    upload_form = UploadForm()
    checked, problem = None, None
    if upload_form.validate_on_submit():
        data = upload_form.pdf.data.read(verification.MAX_UPLOAD_BYTES + 1)
        if len(data) > verification.MAX_UPLOAD_BYTES:
            problem = "too_large"
        else:
            checked, problem = checked_upload(data)
    return render_template("convenience_issuance/verify.html", form=VerifyForm(), result=None,
                           searched=False, upload_form=upload_form, checked=checked,
                           upload_problem=problem), 200 if problem is None else 422


def checked_upload(data: bytes) -> tuple[dict | None, str | None]:
    try:
        city_code, number, signature = verification.signed_number(data)
    except verification.NotACertificate:
        return None, "not_certificate"
    with database().transaction() as db:
        city = db.scalar(select(Municipality).where(Municipality.code == city_code))
        found = city and db.scalar(across_municipalities(select(IssuedCertificate).where(
            IssuedCertificate.municipality_id == city.id,
            IssuedCertificate.issuance_number == number)))
        if not found:
            return None, "unknown"
        facts = {"city": _name_of(city), "number": f"{city_code}-{number}",
                 "label": CERTIFICATE_LABELS[CertificateType(found.certificate_type)],
                 "revoked": found.revoked_at is not None}
        seal_name = city.name   # the key's subject names the city in Japanese, whatever the page
    result = verification.check(data, city_code, number, signature,
                                keyring().key_for(city_code, seal_name))
    facts.update(intact=result.intact, trusted=result.trusted, signer=result.signer,
                 timestamp=to_jst(result.timestamp) if result.timestamp else None,
                 lta=result.document_timestamp)
    return facts, None


def lookup(code: str) -> dict | None:
    """The public facts of a certificate, or None. Codes are unique across cities."""
    if len(code) != 19:
        return None
    with database().transaction() as db:
        found = db.scalar(across_municipalities(
            select(IssuedCertificate).where(IssuedCertificate.verification_code == code)))
        if found is None:
            return None
        city = db.get(Municipality, found.municipality_id)
        return {"label": CERTIFICATE_LABELS[CertificateType(found.certificate_type)],
                "issued_on": to_jst(found.issued_at).date(), "holder": found.holder_masked_name,
                "city": _name_of(city), "number": f"{city.code}-{found.issuance_number}",
                "revoked": found.revoked_at is not None}


def _name_of(city: Municipality) -> str:
    """The city as the page's sentences name it: in the reader's language."""
    return city.name_in(str(get_locale()))


@bp.get("/terminal")
def terminal():
    """Reference store terminal (same API as a real one; the card bridge signs)."""
    code = (request.args.get("municipality") or "")[:6]
    with database().transaction() as db:
        cities = db.scalars(select(Municipality).order_by(Municipality.code)).all()
        offering = [c for c in cities if "convenience_issuance" in c.enabled_services]
    # The API names certificates in Japanese (for any store's terminal); this page shows
    # them in the reader's language.
    labels = {kind.value: _(label) for kind, label in CERTIFICATE_LABELS.items()}
    return render_template("convenience_issuance/terminal.html", cities=offering, selected=code,
                           bridge=current_app.config["CARD_BRIDGE_URL"].rstrip("/"), labels=labels)
