"""Giving the notebook back: JAHIS text, QR codes to show at a pharmacy, a PDF summary."""
from __future__ import annotations

from flask import Response, render_template
from flask_babel import gettext as _

from portal.api import get_db, log_access, signed_in_required
from services.medication import jahis, pdf, qr, services
from services.medication.labels import DOSAGE_FORMS, NOTE_KINDS
from services.medication.views import bp, purpose, subject, today


def logged_export(person, resource: str) -> None:
    db = get_db()
    log_access(db, person.id, "export", f"medication.{resource}",
               purpose(person, "お薬手帳の書き出し"))


@bp.get("/people/<int:resident_id>/export.txt")
@signed_in_required
def export_text(resident_id: int):
    person = subject(resident_id)
    document = services.notebook(get_db(), person.id)
    try:
        body, charset = jahis.write(document, "cp932"), "Shift_JIS"
    except jahis.UnencodableError:
        # Text from an app may hold characters CP932 lacks: give UTF-8 rather than lose them.
        body, charset = b"\xef\xbb\xbf" + jahis.write(document, "utf-8"), "UTF-8"
    logged_export(person, "export_text")
    return Response(body, content_type=f"text/plain; charset={charset}", headers={
        "Content-Disposition": f'attachment; filename="okusuri-{person.id}.txt"'})


@bp.get("/people/<int:resident_id>/qr")
@signed_in_required
def export_qr(resident_id: int):
    person = subject(resident_id)
    document = services.notebook(get_db(), person.id)
    try:
        parts = qr.notebook_parts(document)
    except (jahis.UnencodableError, ValueError):
        parts = []
    images = [qr.qr_data_uri(part) for part in parts] if document.visits or document.notes else []
    logged_export(person, "export_qr")
    return render_template("medication/qr.html", person=person, images=images,
                           failed=not parts)


@bp.get("/people/<int:resident_id>/summary.pdf")
@signed_in_required
def export_pdf(resident_id: int):
    person = subject(resident_id)
    db = get_db()
    items = services.dispensed(db, person.id)
    taking, _unknown = services.currently_taking(items, today())
    notes = services.patient_notes(db, person.id)
    body = pdf.summary_pdf(_("お薬手帳 %(name)s", name=person.name),
                           pdf_sections(notes, taking, items), today())
    logged_export(person, "export_pdf")
    return Response(body, content_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="okusuri-{person.id}.pdf"'})


def pdf_sections(notes, taking, items) -> list:
    """Allergies first, then what is taken now, then the dispensing history."""
    note_rows = [[_("種別"), _("内容")]] + [
        [str(NOTE_KINDS.get(n.kind, NOTE_KINDS["9"])), n.text] for n in notes]
    header = [_("調剤日"), _("薬品名"), _("用量"), _("用法"), _("日数・回数"), _("薬局")]
    return [(_("アレルギー・副作用歴など"), note_rows),
            (_("現在服用中の薬"), [header] + [_row(d) for d in taking]),
            (_("調剤の記録"), [header] + [_row(d) for d in items[:300]])]


def _row(item) -> list[str]:
    usage = item.usage
    amount = f"{usage.quantity}{usage.quantity_unit}" if usage else ""
    form = str(DOSAGE_FORMS[usage.dosage_form]) if usage and usage.dosage_form in DOSAGE_FORMS else ""
    return [item.visit.dispensed_on.isoformat(), item.drug.name,
            f"{item.drug.dose}{item.drug.unit}", f"{usage.text if usage else ''} {form}".strip(),
            amount, item.visit.pharmacy_name]
