"""お薬手帳 pages: who may see whose notebook, and the read-only views.

A resident opens their own notebook and their children's (保護者); health staff and
administrators open any resident of their own city. Every page that shows records writes
the access log before answering."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for
from markupsafe import Markup

from portal.api import (Fragment, Resident, ResidentRead, Role, current_viewer, find_residents,
                        get_db, log_access, log_listing, resident_row, scoped,
                        signed_in_required, staff_required, today_jst, viewable_resident,
                        viewable_resident_ids)
from services.medication import services
from services.medication.drug_master import duplicate_report
from services.medication.forms import SearchForm
from services.medication.labels import template_labels

bp = Blueprint("medication", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")

STAFF_ROLES = (Role.HEALTH_STAFF, Role.ADMINISTRATOR)
SEARCH_LIMIT = 50
UNCHECKED_SHOWN = 30  # pairs the alert page names one by one; the rest are counted
bp.context_processor(template_labels)


def subject(resident_id: int) -> ResidentRead:
    """The resident whose notebook is asked for, if the viewer may open it (else 404/403),
    as a row: the pages show it and write nothing through it."""
    viewer, db = current_viewer(), get_db()
    if viewer.is_resident:
        return viewable_resident(db, viewer, resident_id) or abort(404)
    if not viewer.has_role(*STAFF_ROLES):
        abort(403)
    return resident_row(db, resident_id) or abort(404)


def purpose(person: Resident, doing: str) -> str:
    """Why, in words the resident reads in their access log."""
    viewer = current_viewer()
    if viewer.is_staff:
        return f"{doing}（職員）"
    return f"{doing}（本人）" if viewer.id == person.id else f"{doing}（保護者）"


def logged_read(person: Resident, resource: str, doing: str = "お薬手帳の確認") -> None:
    db = get_db()
    log_access(db, person.id, "read", f"medication.{resource}", purpose(person, doing))


def today() -> date:
    return today_jst()


@bp.get("/")
@signed_in_required
def index():
    viewer = current_viewer()
    if viewer.is_staff:
        return redirect(url_for("medication.staff_search"))
    db = get_db()
    ids = viewable_resident_ids(db, viewer)
    # Whose notebook: one's own and one's children's (保護者). Names only, so no log entry.
    people = db.scalars(scoped(Resident, Resident.id.in_(ids)).order_by(Resident.birth_date)).all()
    return render_template("medication/index.html", people=people)


@bp.get("/staff")
@staff_required(*STAFF_ROLES)
def staff_search():
    form = SearchForm(request.args)
    found = find_residents(get_db(), form.q.data, Resident.family_name_kana, limit=SEARCH_LIMIT)
    if found.residents:
        log_listing(get_db(), [r.id for r in found.residents], "medication.staff_search",
                    "お薬手帳の利用者検索（職員）")
    return render_template("medication/staff_search.html", form=form, residents=found.residents,
                           more=found.more, limit=SEARCH_LIMIT)


@bp.get("/people/<int:resident_id>/")
@signed_in_required
def timeline(resident_id: int):
    person = subject(resident_id)
    db = get_db()
    visits = services.timeline(db, person.id)
    notes = services.patient_notes(db, person.id)
    otc, memos = services.other_records(db, person.id)
    report, _codes = duplicate_report(db, services.dispensed_in(visits))
    logged_read(person, "timeline")
    return render_template("medication/timeline.html", person=person, visits=visits,
                           notes=notes, otc=otc, memos=memos, alert_count=len(report.alerts),
                           visits_html=visits_html)


# A notebook is read far more often than a pharmacy adds to it, and its visits were most
# of the timeline page's rendering: kept per worker, keyed by every visit row in full.
_VISITS = Fragment("medication/_visits.html", size=1024)


def visits_html(visits: list) -> Markup:
    return _VISITS.render({"visits": visits}, lambda: {"visits": visits, **template_labels()})


@bp.get("/people/<int:resident_id>/current")
@signed_in_required
def current(resident_id: int):
    person = subject(resident_id)
    db = get_db()
    items = services.dispensed(db, person.id)
    taking, unknown = services.currently_taking(items, today())
    report, _codes = duplicate_report(db, items)
    notes = services.patient_notes(db, person.id)
    logged_read(person, "current")
    return render_template("medication/current.html", person=person, taking=taking,
                           unknown=unknown, notes=notes, today=today(),
                           alerts=services.alerts_by_drug(report.alerts))


@bp.get("/people/<int:resident_id>/drugs")
@signed_in_required
def drugs(resident_id: int):
    person = subject(resident_id)
    histories = services.drug_histories(services.dispensed(get_db(), person.id))
    key = request.args.get("key", "")
    if key and key not in histories:
        abort(404)
    logged_read(person, "drug_history")
    return render_template("medication/drugs.html", person=person, histories=histories,
                           key=key, history=histories.get(key, []))


@bp.get("/people/<int:resident_id>/search")
@signed_in_required
def search(resident_id: int):
    person = subject(resident_id)
    form = SearchForm(request.args)
    results = []
    if form.validate() and form.q.data:
        results = services.search(get_db(), person.id, form.q.data)
        logged_read(person, "search", "お薬手帳の検索")
    return render_template("medication/search.html", person=person, form=form,
                           results=results, searched=bool(form.q.data))


@bp.get("/people/<int:resident_id>/alerts")
@signed_in_required
def alerts(resident_id: int):
    person = subject(resident_id)
    db = get_db()
    report, codes = duplicate_report(db, services.dispensed(db, person.id))
    notes = services.patient_notes(db, person.id)
    logged_read(person, "alerts", "重複投薬の確認")
    return render_template("medication/alerts.html", person=person, report=report, notes=notes,
                           master=codes, unchecked_shown=UNCHECKED_SHOWN)


from services.medication import views_export, views_import  # noqa: E402,F401  (routes)
