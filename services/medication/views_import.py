"""Importing a JAHIS document, by the resident (or guardian) or by health staff."""
from __future__ import annotations

from flask import current_app, render_template, request

from portal.api import (Resident, current_viewer, get_db, log_access, record_usage, scoped,
                        signed_in_required, viewable_resident_ids)
from services.medication import jahis, qr, services
from services.medication.forms import MAX_FILE_BYTES, ImportForm, megabytes
from services.medication.views import bp, purpose, subject


def request_too_large() -> str | None:
    """The size of a POST larger than the app accepts (MAX_CONTENT_LENGTH), as megabytes,
    judged on its Content-Length before the body is read: a plain page, not Flask's 413."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    size = request.content_length or 0
    return megabytes(size) if request.method == "POST" and limit and size > limit else None


@bp.route("/people/<int:resident_id>/import", methods=["GET", "POST"])
@signed_in_required
def import_document(resident_id: int):
    person = subject(resident_id)
    too_large = request_too_large()
    if too_large:
        return render_template("medication/import.html", person=person,
                               form=ImportForm(formdata=None), too_large=too_large), 413
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("medication/import.html", person=person, form=form)
    source = form.sources()[0]
    result, photo_problems = read_submission(form, source)
    if photo_problems or not result.ok:
        return render_template("medication/import.html", person=person, form=form,
                               result=result, photo_problems=photo_problems), 422
    target, mismatches = notebook_for(person, result.document)
    if mismatches:
        return render_template("medication/import.html", person=person, form=form,
                               result=result, mismatches=mismatches,
                               patient=result.document.patient), 422
    outcome = store(target, result.document, source)
    # The result is shown here, not after a redirect: it lists every warning the reader
    # noted, and sending the form again is harmless since an import is idempotent.
    return render_template("medication/import.html", person=target, form=ImportForm(formdata=None),
                           result=result, outcome=outcome, asked_for=person)


def notebook_for(person: Resident, document) -> tuple[Resident, list[str]]:
    """Whose notebook the document goes into: the one asked for when its patient record
    (1) names that person; else, for a resident, the notebook among theirs (own and
    children's) that it names — a guardian may upload a child's data from any page.
    Returns the notebook and, when none matches, why the one asked for does not."""
    mismatches = services.patient_mismatches(document.patient, person)
    if not mismatches or not current_viewer().is_resident:
        return person, mismatches
    db = get_db()
    ids = viewable_resident_ids(db, current_viewer()) - {person.id}
    for other in db.scalars(scoped(Resident, Resident.id.in_(ids)).order_by(Resident.id)):
        if not services.patient_mismatches(document.patient, other):
            return other, []
    return person, mismatches


def read_submission(form: ImportForm, source: str):
    """Parse what was sent; photos are decoded to QR bytes first (joined raw, then read)."""
    if source == "file":
        files = [f.read(MAX_FILE_BYTES + 1) for f in form.uploads(form.file)]
        return (jahis.parse(files[0]) if len(files) == 1 else jahis.parse_files(files)), []
    if source == "text":
        return jahis.parse(form.text.data), []
    photos = [p.read(MAX_FILE_BYTES + 1) for p in form.uploads(form.photos)]
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
    except Exception:
        db.rollback()
        raise
    return outcome
