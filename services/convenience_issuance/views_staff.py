"""Staff pages: issuance log, daily reconciliation, finding and revoking a certificate.
For the city's issuance operators (証明書交付担当) and administrators; tenancy keeps every
query inside the staff member's own city."""
from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from portal.web.i18n import gettext as _, lazy_gettext as _l
from sqlalchemy import or_

from portal.api import (Role, current_viewer, get_db, log_access, log_listing, scoped,
                        staff_required)
from services.convenience_issuance import issuance
from services.convenience_issuance.forms import RevokeForm
from services.convenience_issuance.models import IssuanceLogEntry, IssuedCertificate
from services.convenience_issuance.services import CERTIFICATE_LABELS, to_jst
from services.convenience_issuance.views import bp, clock

OPERATORS = (Role.ISSUANCE_OPERATOR, Role.ADMINISTRATOR)
PAGE = 100


@bp.get("/staff/log")
@staff_required(*OPERATORS)
def staff_log():
    entries = get_db().scalars(scoped(IssuanceLogEntry).order_by(IssuanceLogEntry.id.desc())
                               .limit(PAGE)).all()
    return render_template("convenience_issuance/staff_log.html", entries=entries, to_jst=to_jst,
                           events=EVENT_LABELS,
                           labels={k.value: v for k, v in CERTIFICATE_LABELS.items()})


# The issuance log's events as staff read them (the codes stay in the log and the CSV).
EVENT_LABELS = {"started": _l("開始"), "quoted": _l("見積"), "paid": _l("支払"),
                "issued": _l("交付"), "printed": _l("印刷済み"), "failed": _l("印刷できず"),
                "voided": _l("無効化"), "refunded": _l("返金"), "revoked": _l("失効"),
                "refused": _l("交付できず"), "cancelled": _l("取消"), "expired": _l("期限切れ")}


@bp.get("/staff/reconciliation")
@staff_required(*OPERATORS)
def staff_reconciliation():
    try:
        day = date.fromisoformat(request.args.get("day") or to_jst(clock()).date().isoformat())
    except ValueError:
        flash(_("日付は YYYY-MM-DD の形で入力してください。"), "error")
        day = to_jst(clock()).date()
    report = issuance.reconcile(get_db(), day)
    return render_template("convenience_issuance/staff_reconciliation.html", report=report,
                           labels={k.value: v for k, v in CERTIFICATE_LABELS.items()})


@bp.get("/staff/certificates")
@staff_required(*OPERATORS)
def staff_certificates():
    query = (request.args.get("q") or "").strip()[:40]
    found = []
    if query:
        code = issuance.normalise_code(query)
        number = query.split("-", 1)[1] if query.count("-") == 2 else query
        found = get_db().scalars(scoped(IssuedCertificate, or_(
            IssuedCertificate.verification_code == code,
            IssuedCertificate.issuance_number == number)).limit(20)).all()
        log_listing(get_db(), [c.resident_id for c in found], "convenience_issuance.certificates",
                    "交付済み証明書の検索（職員）")
    return render_template("convenience_issuance/staff_certificates.html", query=query,
                           found=found, form=RevokeForm(), to_jst=to_jst,
                           labels={k.value: v for k, v in CERTIFICATE_LABELS.items()})


@bp.post("/staff/certificates/<int:certificate_id>/revoke")
@staff_required(*OPERATORS)
def staff_revoke(certificate_id: int):
    db = get_db()
    certificate = db.scalar(scoped(IssuedCertificate, IssuedCertificate.id == certificate_id)) or abort(404)
    form = RevokeForm()
    if not form.validate_on_submit():
        for error in form.reason.errors:
            flash(error, "error")
        return redirect(url_for(".staff_certificates", q=certificate.verification_code))
    try:
        issuance.revoke(db, certificate, current_viewer().id, form.reason.data, clock())
    except issuance.WrongState:
        flash(_("この証明書はすでに失効しています。"), "error")
        return redirect(url_for(".staff_certificates", q=certificate.verification_code))
    log_access(db, certificate.resident_id, "update", "convenience_issuance.certificate",
               "交付済み証明書の失効（職員）")
    flash(_("証明書を失効させました。"), "success")
    return redirect(url_for(".staff_certificates", q=certificate.verification_code))
