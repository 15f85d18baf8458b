"""Registry pages for the city's staff: search, resident, household."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from portal.audit.services import log_access, log_listing
from portal.auth import staff_required
from portal.db import scoped
from portal.extensions import get_db
from portal.registry.access import children_of, guardians_of
from portal.registry.search import find_residents
from portal.registry.models import Household, Resident, SealRegistration, TaxRecord
from portal.staff.models import Role

bp = Blueprint("registry", __name__, url_prefix="/registry")

READERS = (Role.ADMINISTRATOR, Role.REGISTRY_CLERK)
SEARCHERS = READERS + (Role.HEALTH_STAFF, Role.ISSUANCE_OPERATOR)
PAGE = 50


@bp.get("/residents")
@staff_required(*SEARCHERS)
def search():
    query = (request.args.get("q") or "").strip()
    found = find_residents(get_db(), query, Resident.family_name_kana,
                           Resident.given_name_kana, limit=PAGE)
    if found.residents:
        log_listing(get_db(), [r.id for r in found.residents], "registry.search", "住民検索（職員）")
    return render_template("registry/search.html", query=query, residents=found.residents,
                           more=found.more, limit=PAGE)


@bp.get("/residents/<int:resident_id>")
@staff_required(*READERS)
def resident(resident_id: int):
    db = get_db()
    person = db.scalar(scoped(Resident, Resident.id == resident_id)) or abort(404)
    children = children_of(db, person.id)
    guardians = guardians_of(db, person.id)
    seals = db.scalars(scoped(SealRegistration, SealRegistration.resident_id == person.id)).all()
    taxes = db.scalars(scoped(TaxRecord, TaxRecord.resident_id == person.id)
                       .order_by(TaxRecord.fiscal_year.desc())).all()
    log_access(db, person.id, "read", "registry.resident", "住民記録の確認（職員）")
    return render_template("registry/resident.html", person=person, children=children,
                           guardians=guardians, seals=seals, taxes=taxes)


@bp.get("/households/<int:household_id>")
@staff_required(*READERS)
def household(household_id: int):
    db = get_db()
    home = db.scalar(scoped(Household, Household.id == household_id)) or abort(404)
    for member in home.members:
        log_access(db, member.id, "read", "registry.household", "世帯情報の確認（職員）")
    return render_template("registry/household.html", household=home)
