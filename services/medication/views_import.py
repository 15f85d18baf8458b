"""Importing a JAHIS document, by the resident (or guardian) or by health staff."""
from __future__ import annotations

from flask import render_template

from portal.api import current_viewer, get_db, log_access, record_usage, signed_in_required
from services.medication import jahis, qr, services
from services.medication.forms import ImportForm
from services.medication.views import bp, purpose, subject

MAX_PHOTOS = 12


@bp.route("/people/<int:resident_id>/import", methods=["GET", "POST"])
@signed_in_required
def import_document(resident_id: int):
    person = subject(resident_id)
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("medication/import.html", person=person, form=form)
    source = form.sources()[0]
    result, photo_problems = read_submission(form, source)
    if photo_problems or not result.ok:
        return render_template("medication/import.html", person=person, form=form,
                               result=result, photo_problems=photo_problems), 422
    outcome = store(person, result.document, source)
    # The result is shown here, not after a redirect: it lists every warning the reader
    # noted, and sending the form again is harmless since an import is idempotent.
    return render_template("medication/import.html", person=person, form=ImportForm(formdata=None),
                           result=result, outcome=outcome)


def read_submission(form: ImportForm, source: str):
    """Parse what was sent; photos are decoded to QR bytes first (joined raw, then read)."""
    if source == "file":
        return jahis.parse(form.file.data.read(ImportForm.MAX_BYTES)), []
    if source == "text":
        return jahis.parse(form.text.data), []
    photos = [p.read(ImportForm.MAX_BYTES) for p in form.photos.data[:MAX_PHOTOS] if p.filename]
    fragments, problems = qr.read_photos(photos)
    if not fragments:
        return jahis.parse(b""), problems
    return jahis.parse_fragments(fragments), problems


def store(person, document, source: str) -> services.ImportOutcome:
    """All or nothing: the document, its records, the access log and the usage count
    commit together, or nothing does."""
    viewer, db = current_viewer(), get_db()
    try:
        outcome = services.import_document(db, person.id, document, source,
                                           f"{viewer.kind}:{viewer.id}")
        action = "read" if outcome.duplicate else "create"
        log_access(db, person.id, action, "medication.document", purpose(person, "お薬手帳の取り込み"))
        if outcome.records_written:
            record_usage(db, "medication", "record_written", outcome.records_written)
        db.commit()
    except Exception:
        db.rollback()
        raise
    return outcome
