from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.db import Base, across_municipalities

from portal.metering.models import UsageEvent
from portal.registry.models import Resident, ResidentStatus


def record_usage(db: Session, service: str, metric: str, amount: int = 1,
                 when: datetime | None = None) -> None:
    """Count a use in the session's municipality; commits with the caller's transaction."""
    db.add(UsageEvent(service=service, metric=metric, amount=amount,
                      occurred_at=when or datetime.now(timezone.utc).replace(tzinfo=None)))


# --- Aggregation (集計): counts per city × service × month, never a person --------------

# Metric names services record (documented in docs/joint-cloud.md).
SIGN_IN = "sign_in"                    # a resident or staff sign-in
RECORD_WRITTEN = "record_written"      # a record created or changed
CERTIFICATE_ISSUED = "certificate_issued"  # "certificate_issued:<type>", e.g. :juminhyo


def month_of(db: Session, column):
    """'YYYY-MM' of a timestamp column, in the database's own dialect."""
    if db.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m", column)
    return func.to_char(column, "YYYY-MM")


def monthly_usage(db: Session, start: datetime | None = None,
                  end: datetime | None = None) -> list[tuple[int, str, str, str, int]]:
    """(municipality_id, service, metric, 'YYYY-MM', total) for events in [start, end),
    across all member cities — aggregates only, so the operator may see them."""
    month = month_of(db, UsageEvent.occurred_at).label("month")
    query = (select(UsageEvent.municipality_id, UsageEvent.service, UsageEvent.metric, month,
                    func.sum(UsageEvent.amount))
             .group_by(UsageEvent.municipality_id, UsageEvent.service, UsageEvent.metric, month)
             .order_by(month, UsageEvent.municipality_id, UsageEvent.service, UsageEvent.metric))
    if start is not None:
        query = query.where(UsageEvent.occurred_at >= start)
    if end is not None:
        query = query.where(UsageEvent.occurred_at < end)
    return [tuple(row) for row in db.execute(across_municipalities(query)).all()]


def fiscal_year_bounds(fiscal_year: int) -> tuple[datetime, datetime]:
    """年度: 1 April of `fiscal_year` to 1 April of the next year."""
    return datetime(fiscal_year, 4, 1), datetime(fiscal_year + 1, 4, 1)


def usage_for_fiscal_year(db: Session, fiscal_year: int) -> dict[int, dict[str, int]]:
    """{municipality_id: {"service:metric": total}} over one fiscal year (the usage basis
    of the apportionment)."""
    out: dict[int, dict[str, int]] = {}
    for mid, service, metric, _month, total in monthly_usage(db, *fiscal_year_bounds(fiscal_year)):
        key = f"{service}:{metric}"
        out.setdefault(mid, {})[key] = out.get(mid, {}).get(key, 0) + int(total)
    return out


def storage_by_city(db: Session) -> dict[int, dict[str, int]]:
    """Rows held per city per table (every table with `municipality_id`, services' too)."""
    out: dict[int, dict[str, int]] = {}
    for table in Base.metadata.sorted_tables:
        column = table.c.get("municipality_id")
        if column is None:
            continue
        query = select(column, func.count()).select_from(table).group_by(column)
        for mid, count in db.execute(across_municipalities(query)).all():
            out.setdefault(mid, {})[table.name] = count
    return out


def active_residents_by_city(db: Session) -> dict[int, int]:
    """Residents currently registered as active, per city (a count)."""
    query = (select(Resident.municipality_id, func.count())
             .where(Resident.status == ResidentStatus.ACTIVE).group_by(Resident.municipality_id))
    return {mid: n for mid, n in db.execute(across_municipalities(query)).all()}
