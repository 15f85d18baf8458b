"""Usage per city × service × month, active residents and storage — counts only."""
from __future__ import annotations

from datetime import datetime

from flask import render_template, request
from sqlalchemy import select

from portal.extensions import database
from portal.metering.services import (active_residents_by_city, active_residents_by_month,
                                      monthly_usage, storage_by_city)
from portal.operator.views import bp, operator_required
from portal.services_host import plugins
from portal.tenancy.models import Municipality


def _month(value: str | None) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m") if value else None
    except ValueError:
        return None


def _next_month(moment: datetime) -> datetime:
    return moment.replace(year=moment.year + moment.month // 12, month=moment.month % 12 + 1)


@bp.get("/usage")
@operator_required
def usage():
    start, last = _month(request.args.get("from")), _month(request.args.get("to"))
    end = _next_month(last) if last else None
    with database().transaction() as db:
        members = {m.id: m for m in db.scalars(select(Municipality).order_by(Municipality.code))}
        rows = sorted(monthly_usage(db, start, end)
                      + active_residents_by_month(db, list(plugins()), start, end),
                      key=lambda row: (row[3], row[0], row[1], row[2]))
        storage = storage_by_city(db)
        active = active_residents_by_city(db)
    return render_template("operator/usage.html", members=members, rows=rows,
                           storage=storage, active=active,
                           start=request.args.get("from", ""), to=request.args.get("to", ""))
