"""Giving the notebook back: JAHIS text, QR codes to show at a pharmacy, a PDF summary."""
from __future__ import annotations

from flask import Response, render_template
from portal.web.i18n import gettext as _

from portal.api import get_db, log_access, signed_in_required
from services.medication import jahis, pdf, qr, services
from services.medication.labels import DOSAGE_FORMS, MEMO_KINDS, NOTE_KINDS, VISIT_NOTE_KINDS
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
    visits = services.timeline(db, person.id)
    items = services.dispensed_in(visits)
    taking, _unknown = services.currently_taking(items, today())
    notes = services.patient_notes(db, person.id)
    otc, memos = services.other_records(db, person.id)
    body = pdf.summary_pdf(_("お薬手帳 %(name)s", name=person.name),
                           pdf_sections(notes, taking, items) + other_sections(otc, memos, visits),
                           today(), _("なし"))
    logged_export(person, "export_pdf")
    return Response(body, content_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="okusuri-{person.id}.pdf"'})


DISPENSED_SHARES = (2.2, 4, 1.6, 3, 1.6, 3)


def pdf_sections(notes, taking, items) -> list[pdf.Section]:
    """Allergies first, then what is taken now, then the dispensing history."""
    note_rows = [[_("種別"), _("内容")]] + [
        [str(NOTE_KINDS.get(n.kind, NOTE_KINDS["9"])), n.text] for n in notes]
    header = [_("調剤日"), _("薬品名"), _("用量"), _("用法"), _("日数・回数"), _("薬局")]
    return [pdf.Section(_("アレルギー・副作用歴など"), note_rows, (1, 4)),
            pdf.Section(_("現在服用中の薬"), [header] + [_row(d) for d in taking], DISPENSED_SHARES),
            pdf.Section(_("調剤の記録"), [header] + [_row(d) for d in items[:300]], DISPENSED_SHARES)]


def other_sections(otc, memos, visits) -> list[pdf.Section]:
    """What the resident takes without a prescription (一般用医薬品), the notebook's memos,
    and the notes written at a visit (服用注意, 本人の記入…)."""
    return [
        pdf.Section(_("一般用医薬品（市販薬）"), [[_("薬品名"), _("成分"), _("使用開始"), _("使用終了")]] + [
            [o.name, o.ingredients, _date(o.start_date), _date(o.end_date)] for o in otc],
            (4, 4, 2, 2)),
        pdf.Section(_("手帳メモ・本人の記入"), [[_("日付"), _("種別"), _("内容")]] + [
            [_date(m.written_on), str(MEMO_KINDS.get(m.kind, m.kind)), m.text] for m in memos],
            (2, 2.5, 7)),
        pdf.Section(_("調剤時の記録（服用注意・本人の記入など）"), [[_("調剤日"), _("種別"), _("内容")]] + [
            [_date(n.written_on or v.dispensed_on), str(VISIT_NOTE_KINDS.get(n.kind, n.kind)), n.text]
            for v in visits for n in v.notes], (2, 2.5, 7))]


def _date(day) -> str:
    return day.isoformat() if day else ""


def _row(item) -> list[str]:
    usage = item.usage
    amount = f"{usage.quantity}{usage.quantity_unit}" if usage else ""
    form = str(DOSAGE_FORMS[usage.dosage_form]) if usage and usage.dosage_form in DOSAGE_FORMS else ""
    return [item.visit.dispensed_on.isoformat(), item.drug.name,
            f"{item.drug.dose}{item.drug.unit}", f"{usage.text if usage else ''} {form}".strip(),
            amount, item.visit.pharmacy_name]
