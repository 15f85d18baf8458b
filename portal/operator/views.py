"""The joint-cloud operator's console: member cities, their settings and usage, and the
apportionment of shared cost; never a resident's record.

The operator's session is opened without a municipality, so any query on a resident's
table raises unless written with `across_municipalities` — and the only such queries here
are counts (portal.metering.services). Routes are split by sub-feature:
views_config (settings, history, files), views_usage, views_apportionment.
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from portal.auth import staff_required
from portal.db import across_municipalities
from portal.extensions import database
from portal.jointcloud.models import ConfigChange
from portal.metering.services import active_residents_by_city
from portal.staff.models import Role
from portal.tenancy.models import Municipality

bp = Blueprint("operator", __name__, url_prefix="/operator")
operator_required = staff_required(Role.CLOUD_OPERATOR)


def member_or_404(db, code: str) -> Municipality:
    return db.scalar(select(Municipality).where(Municipality.code == code)) or abort(404)


@bp.get("/")
@operator_required
def cities():
    with database().transaction() as db:
        members = db.scalars(select(Municipality).order_by(Municipality.code)).all()
        counts = active_residents_by_city(db)  # counts only: no one's record
    return render_template("operator/cities.html", members=members, counts=counts)


@bp.get("/cities/<code>")
@operator_required
def city(code: str):
    with database().transaction() as db:
        member = member_or_404(db, code)
        history = db.scalars(across_municipalities(
            select(ConfigChange).where(ConfigChange.municipality_id == member.id)
            .order_by(ConfigChange.changed_at.desc(), ConfigChange.id.desc()))).all()
    return render_template("operator/city.html", member=member, history=history)


from portal.operator import views_apportionment, views_config, views_usage  # noqa: E402,F401
