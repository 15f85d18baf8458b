from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import case, delete, distinct, func, insert, literal, select
from sqlalchemy.orm import Session

from portal.db import Base, across_municipalities, tenant_of

from portal.audit.models import AccessLogEntry
from portal.metering.models import UsageEvent
from portal.registry.models import Resident, ResidentStatus
from portal.unit_of_work import write_now


_RECORD = insert(UsageEvent.__table__)


def record_usage(db: Session, service: str, metric: str, amount: int = 1,
                 when: datetime | None = None) -> None:
    """Count a use in the session's municipality; commits with the caller's transaction.
    A Core INSERT written at once (nothing reads the row as an object; a flush cost more
    than the statement), so the municipality is the session's, checked here as the
    flush's guard would (portal.db)."""
    tenant = tenant_of(db, "writing UsageEvent")
    write_now(db, _RECORD, {"municipality_id": tenant, "service": service, "metric": metric,
                            "amount": amount,
                            "occurred_at": when or datetime.now(timezone.utc).replace(tzinfo=None)})


# --- Aggregation (集計): counts per city × service × month, never a person --------------

# Metric names services record (documented in docs/joint-cloud.md).
SIGN_IN = "sign_in"                    # a resident or staff sign-in
RECORD_WRITTEN = "record_written"      # a record created or changed
CERTIFICATE_ISSUED = "certificate_issued"  # "certificate_issued:<type>", e.g. :juminhyo
ACTIVE_RESIDENTS = "active_residents"  # computed: residents whose records a service used
STORAGE_ROWS = "storage_rows"          # a monthly snapshot, one per city × service


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


def storage_by_service(db: Session, services: list[str]) -> dict[int, dict[str, int]]:
    """Rows held per city per service ("core" for the portal's own tables): the storage a
    city uses, in the units the operator and the apportionment speak of."""
    totals: dict[int, dict[str, int]] = {}
    for mid, tables in storage_by_city(db).items():
        if mid is None:
            continue  # rows of no city (a refused sign-in's record): nobody's storage
        for table, rows in tables.items():
            service = service_of(table, services)
            totals.setdefault(mid, {})[service] = totals.get(mid, {}).get(service, 0) + rows
    return totals


def active_residents_by_city(db: Session) -> dict[int, int]:
    """Residents currently registered as active, per city (a count)."""
    query = (select(Resident.municipality_id, func.count())
             .where(Resident.status == ResidentStatus.ACTIVE).group_by(Resident.municipality_id))
    return {mid: n for mid, n in db.execute(across_municipalities(query)).all()}


def service_of(name: str, services: list[str]) -> str:
    """The service a table or an access-log resource belongs to: its plugin's prefix, or core."""
    for service in services:
        if name == service or name.startswith(service + "_") or name.startswith(service + "."):
            return service
    return "core"


def active_residents_by_month(db: Session, services: list[str], start: datetime | None = None,
                              end: datetime | None = None) -> list[tuple[int, str, str, str, int]]:
    """(municipality_id, service, "active_residents", 'YYYY-MM', count) — residents whose
    records in a service were read or written that month, counted in the database from the
    access log, so no person leaves it."""
    # autoescape: service names hold "_", a LIKE wildcard
    whens = [(AccessLogEntry.resource.startswith(f"{name}.", autoescape=True), name)
             for name in services]
    service = (case(*whens, else_="core") if whens else literal("core")).label("service")
    month = month_of(db, AccessLogEntry.occurred_at).label("month")
    query = (select(AccessLogEntry.municipality_id, service, month,
                    func.count(distinct(AccessLogEntry.subject_resident_id)))
             .group_by(AccessLogEntry.municipality_id, service, month))
    if start is not None:
        query = query.where(AccessLogEntry.occurred_at >= start)
    if end is not None:
        query = query.where(AccessLogEntry.occurred_at < end)
    return [(mid, svc, ACTIVE_RESIDENTS, mon, int(n))
            for mid, svc, mon, n in db.execute(across_municipalities(query)).all()]


def snapshot_storage(db: Session, services: list[str], when: datetime | None = None) -> dict[int, dict[str, int]]:
    """Record this month's rows held per city × service as `storage_rows` usage (run monthly
    from cron). A second snapshot in the same month replaces the first, so the monthly total
    stays a snapshot and not a sum of snapshots."""
    when = when or datetime.now(timezone.utc).replace(tzinfo=None)
    first = when.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = first.replace(year=first.year + first.month // 12, month=first.month % 12 + 1)
    totals = storage_by_service(db, services)
    db.execute(across_municipalities(delete(UsageEvent).where(
        UsageEvent.metric == STORAGE_ROWS, UsageEvent.occurred_at >= first,
        UsageEvent.occurred_at < following)))
    # one row per member city, on purpose: a bulk insert, which leaves the session's
    # cross-city write guard on for anything else it writes
    rows = [dict(municipality_id=mid, service=service, metric=STORAGE_ROWS, amount=count,
                 occurred_at=when)
            for mid, by_service in totals.items() for service, count in by_service.items()]
    if rows:
        db.execute(insert(UsageEvent), rows)
    return totals
