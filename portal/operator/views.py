from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlalchemy import func, select

from portal.auth import staff_required
from portal.db import across_municipalities
from portal.extensions import database
from portal.registry.models import Resident, ResidentStatus
from portal.staff.models import Role
from portal.tenancy.models import Municipality

bp = Blueprint("operator", __name__, url_prefix="/operator")


@bp.get("/")
@staff_required(Role.CLOUD_OPERATOR)
def cities():
    with database().transaction() as db:
        members = db.scalars(select(Municipality).order_by(Municipality.code)).all()
        # Counts only: an aggregate across cities carries no one's record.
        counts = dict(db.execute(across_municipalities(
            select(Resident.municipality_id, func.count())
            .where(Resident.status == ResidentStatus.ACTIVE)
            .group_by(Resident.municipality_id))).all())
    return render_template("operator/cities.html", members=members, counts=counts)


@bp.get("/cities/<code>")
@staff_required(Role.CLOUD_OPERATOR)
def city(code: str):
    with database().transaction() as db:
        member = db.scalar(select(Municipality).where(Municipality.code == code)) or abort(404)
    return render_template("operator/city.html", member=member)
