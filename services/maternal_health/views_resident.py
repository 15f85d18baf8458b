"""The guardian's view: the pregnancy timeline and each child's pages (checkups, growth
charts, immunisation status), and the family export (PDF and JSON)."""
from __future__ import annotations

import json

from flask import Response, render_template

from portal.api import children_of, current_viewer, get_db, log_access, signed_in_required
from services.maternal_health import export
from services.maternal_health.services import (child_handbook, mother_records,
                                               pregnancy_timeline)
from services.maternal_health.views import bp, child_for_viewer, child_sections, today


def my_handbook():
    """The resident's own handbook pages (pregnancies) and the list of their children;
    served at the service's root (`index`)."""
    viewer = current_viewer()
    db = get_db()
    records = mother_records(db, viewer.id)
    children = children_of(db, viewer.id)
    log_access(db, viewer.id, "read", "maternal_health.mother", "母子健康手帳の閲覧（本人）")
    timelines = [(p, pregnancy_timeline(p, records.prenatal)) for p in records.pregnancies]
    return render_template("maternal_health/my_handbook.html", records=records,
                           timelines=timelines, children=children)


@bp.get("/children/<int:child_id>")
@signed_in_required
def child_page(child_id: int):
    """A child's handbook: checkups, growth charts, immunisations and their schedule."""
    child = child_for_viewer(child_id, "母子健康手帳の閲覧（保護者・保健師）", "maternal_health.child")
    db = get_db()
    book = child_handbook(db, child, today())
    return render_template("maternal_health/child.html", child=child, today=book.today,
                           sections=child_sections(book, staff=False))


@bp.get("/children/<int:child_id>/handbook.pdf")
@signed_in_required
def child_pdf(child_id: int):
    child = child_for_viewer(child_id, "母子健康手帳の書き出し（PDF）", "maternal_health.export")
    db = get_db()
    pdf = export.handbook_pdf(child_handbook(db, child, today()), today())
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="boshi-techo-{child.id}.pdf"',
        "Cache-Control": "no-store"})


@bp.get("/children/<int:child_id>/handbook.json")
@signed_in_required
def child_json(child_id: int):
    child = child_for_viewer(child_id, "母子健康手帳の書き出し（JSON）", "maternal_health.export")
    db = get_db()
    data = export.handbook_dict(child_handbook(db, child, today()), today())
    return Response(json.dumps(data, ensure_ascii=False, indent=2),
                    mimetype="application/json", headers={
                        "Content-Disposition": f'attachment; filename="boshi-techo-{child.id}.json"',
                        "Cache-Control": "no-store"})
