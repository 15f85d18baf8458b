"""Usage per city × service × month, active residents and storage — counts only, named
in words (a service by its title, a metric by what it counts), never by code or table."""
from __future__ import annotations

from datetime import datetime

from flask import render_template, request
from portal.web.i18n import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from portal.extensions import database
from portal.metering.services import (ACTIVE_RESIDENTS, RECORD_WRITTEN, SIGN_IN, STORAGE_ROWS,
                                      active_residents_by_city, active_residents_by_month,
                                      monthly_usage, storage_by_service)
from portal.operator.views import bp, operator_required
from portal.services_host import plugins
from portal.tenancy.models import Municipality


CORE = "core"
# Metrics every service may record (portal/metering/services.py); a service names its own
# through its plugin's `metric_label`.
METRIC_LABELS = {
    SIGN_IN: _l("ログインの回数"),
    RECORD_WRITTEN: _l("記録の作成・訂正"),
    ACTIVE_RESIDENTS: _l("利用した住民の数"),
    STORAGE_ROWS: _l("保存している記録の行数"),
    "oidc_token": _l("連携サービスへの情報提供の回数"),
}


def service_label(name: str) -> str:
    """A service by its title; the portal's own tables and sign-ins as 共通."""
    if name == CORE:
        return _("共通（ログイン・連携など）")
    plugin = plugins().get(name)
    return _(plugin.title) if plugin else name


def metric_label(service: str, metric: str) -> str:
    plugin = plugins().get(service)
    own = plugin.metric_label(metric) if plugin else None
    if own:
        return own
    if metric in METRIC_LABELS:
        return str(METRIC_LABELS[metric])
    return _("その他の指標（%(metric)s）", metric=metric)


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
        storage = storage_by_service(db, list(plugins()))
        active = active_residents_by_city(db)
    return render_template("operator/usage.html", members=members, rows=rows,
                           storage=storage, active=active, service_label=service_label,
                           metric_label=metric_label,
                           start=request.args.get("from", ""), to=request.args.get("to", ""))
