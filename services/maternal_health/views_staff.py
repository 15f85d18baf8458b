"""Health staff (保健師・母子保健担当) pages of their own city: resident search, a resident's
handbook records, one entry form per record type, amendments with a reason, and the
worklists of children overdue for a vaccine or a statutory checkup (with CSV export)."""
from __future__ import annotations

import csv
import io

from flask import Response, abort, flash, redirect, render_template, request, url_for
from portal.web.i18n import gettext as _

from portal.api import (Role, Sex, current_viewer, get_db, guardians_of, log_access,
                        log_listing, record_usage, scoped, staff_required)
from services.maternal_health.forms import SearchForm, form_class
from services.maternal_health.models import Pregnancy
from services.maternal_health.services import (
    CHILD_RECORDS, MOTHER_RECORDS, RECORD_TYPES, Author, LikelyDuplicate,
    RecordRefused, amend_record, amendments_for, child_handbook, create_record, find_record,
    find_resident, mother_records, search_residents, worklist)
from services.maternal_health.views import bp, child_sections, display_value, today, tr_args

HEALTH = Role.HEALTH_STAFF
SEARCH_LIMIT = 50


def _author() -> Author:
    viewer = current_viewer()
    return Author(viewer.id, viewer.name)


def _record_type(kind: str):
    return RECORD_TYPES.get(kind) or abort(404)


@bp.get("/staff/")
@staff_required(HEALTH)
def staff_home():
    form = SearchForm(request.args)
    db = get_db()
    found = search_residents(db, form.q.data or "", limit=SEARCH_LIMIT) if form.validate() else None
    residents = found.residents if found else []
    log_listing(db, [person.id for person in residents], "maternal_health.search",
                "母子保健の対象者検索（職員）")
    return render_template("maternal_health/staff_home.html", form=form, residents=residents,
                           more=bool(found and found.more), limit=SEARCH_LIMIT)


@bp.get("/staff/residents/<int:resident_id>")
@staff_required(HEALTH)
def staff_resident(resident_id: int):
    """Everything of the handbook about one resident, with the amendment history."""
    db = get_db()
    person = find_resident(db, resident_id) or abort(404)
    log_access(db, person.id, "read", "maternal_health.staff_record", "母子健康手帳の確認（職員）")
    book = child_handbook(db, person, today())
    records = mother_records(db, person.id)
    guardians = guardians_of(db, person.id)
    history = amendments_for(db, person.id)
    shows_child = bool(book.checkups or book.immunisations or book.birth or guardians)
    return render_template(
        "maternal_health/staff_resident.html", person=person, book=book, records=records,
        guardians=guardians, history=history, shows_child=shows_child,
        sections=child_sections(book, staff=True) if shows_child else "", types=RECORD_TYPES,
        mother_kinds=MOTHER_RECORDS, child_kinds=CHILD_RECORDS,
        field_labels=_field_labels())


def _field_labels() -> dict:
    return {(rt.key, spec.name): spec.label for rt in RECORD_TYPES.values() for spec in rt.fields}


@bp.route("/staff/residents/<int:resident_id>/records/<kind>/new", methods=["GET", "POST"])
@staff_required(HEALTH)
def new_record(resident_id: int, kind: str):
    record_type = _record_type(kind)
    db = get_db()
    person = find_resident(db, resident_id) or abort(404)
    form = form_class(record_type)()
    duplicates = []
    if form.validate_on_submit():
        try:
            links = _links(db, record_type, person)
            row, checked = create_record(db, record_type, person, form.values(), _author(),
                                         today(), form.confirmed(), **links)
        except RecordRefused as refused:
            _show_errors(form, refused)
        except LikelyDuplicate as likely:
            duplicates = likely.rows
            form.ask_about(duplicates)
        else:
            log_access(db, person.id, "write", f"maternal_health.{kind}", "母子健康手帳の記録（職員）")
            record_usage(db, "maternal_health", "record_written")
            flash(_("%(record)sを記録しました。", record=_(record_type.label)), "success")
            for flag in checked.flags.values():
                flash(_(flag.message, **tr_args(flag.args)), "warning")
            return redirect(url_for("maternal_health.staff_resident", resident_id=person.id))
    db.rollback()
    log_access(db, person.id, "read", f"maternal_health.{kind}", "母子健康手帳の記録（職員）")
    return render_template("maternal_health/record_form.html", form=form, person=person,
                           record_type=record_type, amend=None, duplicates=duplicates,
                           ), 422 if form.errors else 409 if duplicates else 200


@bp.route("/staff/records/<kind>/<int:record_id>/amend", methods=["GET", "POST"])
@staff_required(HEALTH)
def amend(kind: str, record_id: int):
    record_type = _record_type(kind)
    db = get_db()
    row = find_record(db, record_type, record_id) or abort(404)
    person = find_resident(db, getattr(row, record_type.subject)) or abort(404)
    form = form_class(record_type, amend=True)()
    duplicates = []
    if request.method == "GET":
        form.load(row)
    elif form.validate_on_submit():
        try:
            amend_record(db, record_type, row, person, form.values(), form.reason.data,
                         _author(), today(), form.confirmed())
        except RecordRefused as refused:
            _show_errors(form, refused)
        except LikelyDuplicate as likely:
            duplicates = likely.rows
            form.ask_about(duplicates)
        else:
            log_access(db, person.id, "amend", f"maternal_health.{kind}", "母子健康手帳の訂正（職員）")
            record_usage(db, "maternal_health", "record_written")
            flash(_("%(record)sを訂正しました。", record=_(record_type.label)), "success")
            return redirect(url_for("maternal_health.staff_resident", resident_id=person.id))
    db.rollback()
    log_access(db, person.id, "read", f"maternal_health.{kind}", "母子健康手帳の訂正（職員）")
    return render_template("maternal_health/record_form.html", form=form, person=person,
                           record_type=record_type, amend=row, duplicates=duplicates,
                           ), 422 if form.errors else 409 if duplicates else 200


def _links(db, record_type, person) -> dict:
    """The other records a new one hangs on: prenatal checkups on the latest pregnancy, a
    birth on its mother (a guardian of the child)."""
    if record_type.key == "prenatal":
        pregnancy = db.scalar(scoped(Pregnancy, Pregnancy.mother_id == person.id)
                              .order_by(Pregnancy.notified_on.desc()))
        if pregnancy is None:
            raise RecordRefused({"checked_on": [("妊娠届出を先に登録してください。", {})]})
        return {"pregnancy_id": pregnancy.id}
    if record_type.key == "birth":
        # the birth record hangs on the mother: a female guardian, never just any guardian
        mothers = [g for g in guardians_of(db, person.id) if g.sex == Sex.FEMALE]
        if not mothers:
            raise RecordRefused({"born_on": [("母である保護者が登録されていません。住民記録を確認してください。", {})]})
        return {"mother_id": mothers[0].id}
    return {}


def _show_errors(form, refused: RecordRefused) -> None:
    for name, messages in refused.errors.items():
        field = getattr(form, name, None)
        target = field if field is not None else form.reason if hasattr(form, "reason") else None
        for message, args in messages:
            text = _(message, **tr_args(args))
            if target is None:
                flash(text, "error")
            else:
                target.errors = list(target.errors) + [text]


@bp.get("/staff/worklist")
@staff_required(HEALTH)
def staff_worklist():
    db = get_db()
    rows = worklist(db, today())
    _log_worklist(db, rows)
    return render_template("maternal_health/worklist.html", today=today(),
                           rows=[(row, row.explain(_, display_value)) for row in rows])


@bp.get("/staff/worklist.csv")
@staff_required(HEALTH)
def staff_worklist_csv():
    """Reminder letters (勧奨通知) mail-merge: one line per letter (child and item), addressed
    to the guardians, with the due date and the last day it is still routine as dates of
    their own."""
    db = get_db()
    rows = worklist(db, today())
    _log_worklist(db, rows)
    # the letters name and address the guardians: their records are read too
    guardians = {child_id: guardians_of(db, child_id) for child_id in {r.child.id for r in rows}}
    for guardian_id in sorted({p.id for people in guardians.values() for p in people}):
        log_access(db, guardian_id, "read", "maternal_health.worklist",
                   "未接種者・未受診者への勧奨（職員）")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["住民番号", "氏名", "カナ", "生年月日", "保護者氏名", "送付先住所", "項目",
                     "標準の時期の終わり", "定期接種・健診として受けられる最終日", "内容"])
    for row in rows:
        c = row.child
        parents = guardians[c.id]
        last = row.reason_args.get("last")
        writer.writerow([c.number, c.name, c.name_kana, c.birth_date.isoformat(),
                         "・".join(p.name for p in parents),
                         parents[0].address if parents else c.address, _(row.item),
                         row.since.isoformat() if row.since else "",
                         last.isoformat() if last else "", row.explain(_, display_value)])
    body = "\ufeff" + out.getvalue()   # BOM: spreadsheet software in Japan expects it
    # content_type as given: mimetype= would append a second charset
    return Response(body, content_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="kanshou-{today().isoformat()}.csv"',
        "Cache-Control": "no-store"})


def _log_worklist(db, rows) -> None:
    for child_id in sorted({row.child.id for row in rows}):
        log_access(db, child_id, "read", "maternal_health.worklist", "未接種者・未受診者への勧奨（職員）")
