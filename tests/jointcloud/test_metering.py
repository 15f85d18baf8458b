"""Usage metering per city × service × month: active residents counted in the database
from the access log, monthly storage snapshots, and staff sign-ins counted like residents'."""
from __future__ import annotations

from datetime import datetime

import pyotp
from sqlalchemy import select

from portal.audit.models import AccessLogEntry
from portal.metering.models import UsageEvent
from portal.metering.services import (active_residents_by_month, monthly_usage,
                                      snapshot_storage)
from tests.conftest import STAFF_PASSWORD
from tests.core.test_staff_auth import password_step, totp_step
from tests.jointcloud.test_operator_console import console  # noqa: F401  (fixture)

SERVICES = ["maternal_health", "medication", "convenience_issuance"]


def read(s, resident, resource, when):
    s.add(AccessLogEntry(occurred_at=when, actor_type="staff", actor_id=None, actor_name="職員",
                         actor_role="health_staff", subject_resident_id=resident.id,
                         action="read", resource=resource, purpose="確認"))


def test_active_residents_per_service_and_month(db, make_city, make_resident):
    city = make_city("392111", "香南市")
    other = make_city("392120", "香美市")
    hanako, taro = make_resident(city, given="花子"), make_resident(city, given="太郎")
    stranger = make_resident(other, given="次郎")
    with db.transaction(city.id) as s:
        read(s, hanako, "maternal_health.checkup", datetime(2025, 4, 2))
        read(s, hanako, "maternal_health.child", datetime(2025, 4, 9))   # same person: once
        read(s, taro, "maternal_health.child", datetime(2025, 4, 30))
        read(s, taro, "medication.timeline", datetime(2025, 4, 30))
        read(s, hanako, "registry.resident", datetime(2025, 5, 1))
    with db.transaction(other.id) as s:
        read(s, stranger, "maternal_health.child", datetime(2025, 4, 5))
    with db.transaction() as s:
        rows = active_residents_by_month(s, SERVICES, datetime(2025, 4, 1), datetime(2025, 6, 1))
    assert sorted(rows) == sorted([
        (city.id, "maternal_health", "active_residents", "2025-04", 2),
        (city.id, "medication", "active_residents", "2025-04", 1),
        (city.id, "core", "active_residents", "2025-05", 1),
        (other.id, "maternal_health", "active_residents", "2025-04", 1)])


def test_an_underscore_in_a_service_name_is_no_wildcard(db, make_city, make_resident):
    """maternal_health's "_" used to match any character: a resource of another service
    named like it was counted as the handbook's."""
    city = make_city("392111", "香南市")
    hanako = make_resident(city, given="花子")
    with db.transaction(city.id) as s:
        read(s, hanako, "maternal-health.lookalike", datetime(2025, 4, 2))
    with db.transaction() as s:
        rows = active_residents_by_month(s, SERVICES, datetime(2025, 4, 1), datetime(2025, 5, 1))
    assert rows == [(city.id, "core", "active_residents", "2025-04", 1)]


def test_storage_snapshot_is_one_per_city_service_and_month(db, make_city, make_resident):
    city = make_city("392111", "香南市")
    make_resident(city)
    with db.transaction() as s:
        first = snapshot_storage(s, SERVICES, when=datetime(2025, 4, 3))
    assert first[city.id]["core"] >= 2            # the resident and the household at least
    make_resident(city, given="次郎")
    with db.transaction() as s:
        again = snapshot_storage(s, SERVICES, when=datetime(2025, 4, 28))  # replaces April's
        snapshot_storage(s, SERVICES, when=datetime(2025, 5, 2))
    assert again[city.id]["core"] > first[city.id]["core"]       # the new resident is counted
    with db.transaction() as s:
        rows = [r for r in monthly_usage(s) if r[0] == city.id and r[2] == "storage_rows"]
    assert (city.id, "core", "storage_rows", "2025-04", again[city.id]["core"]) in rows
    assert len([r for r in rows if r[3] == "2025-04"]) == len(again[city.id])


def test_staff_sign_in_is_counted(client, db, make_city, make_staff):
    city = make_city()
    account = make_staff(city, roles=["registry_clerk"], username="clerk")
    password_step(client, city.code, "clerk", STAFF_PASSWORD)
    totp_step(client, pyotp.TOTP(account.totp_secret).now())
    with db.transaction(city.id) as s:
        metrics = s.scalars(select(UsageEvent.metric)).all()
    assert metrics == ["sign_in"]


def test_the_usage_page_shows_active_residents(console, db, make_city, make_resident):
    city = make_city("392111", "香南市")
    hanako = make_resident(city)
    with db.transaction(city.id) as s:
        read(s, hanako, "medication.timeline", datetime(2025, 4, 2))
    body = console.get("/operator/usage?from=2025-04&to=2025-04").get_data(as_text=True)
    assert "<td>お薬手帳</td><td>利用した住民の数</td>" in body
    assert hanako.name not in body


def test_meter_storage_command(cli_runner, db, make_city, make_resident):
    city = make_city("392111", "香南市")
    make_resident(city)
    result = cli_runner("meter-storage")
    assert result.exit_code == 0 and f"{city.id}: " in result.output
    with db.transaction(city.id) as s:
        snapshot = s.scalars(select(UsageEvent).where(UsageEvent.metric == "storage_rows")).all()
    assert {e.service for e in snapshot} == {"core"} and snapshot[0].amount >= 2
