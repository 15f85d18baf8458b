"""Concurrent payment confirmations on a real database (SQLite file or PostgreSQL), each in
its own connection and transaction: one payment, one certificate, however many arrive.

These tests commit for real (parallel sessions cannot share the rolled-back test
connection), so they use a city code no other test uses and delete what they made."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from portal.db import Database, across_municipalities
from portal.metering.models import UsageEvent
from portal.registry.models import Household, Resident, Sex
from portal.tenancy.models import Municipality
from services.convenience_issuance import issuance
from services.convenience_issuance.models import (IssuanceLogEntry, IssuanceRequest,
                                                  IssuedCertificate, Payment, RequestState)

CODE = "399906"  # valid check digit, used by no other test
NOW = datetime(2026, 7, 1, 1, 0)
THREADS = 8


@pytest.fixture
def committed(migrated_url):
    database = Database(migrated_url)
    with database.transaction() as s:
        city = Municipality(code=CODE, name="試験市", settings={"services": ["convenience_issuance"]})
        s.add(city)
        s.flush()
        city_id = city.id
    with database.transaction(city_id) as s:
        home = Household(number="CI-H1", head_name="並行\u3000太郎", address="試験市1番地")
        s.add(home)
        s.flush()
        person = Resident(number="CI-R1", household_id=home.id, family_name="並行", given_name="太郎",
                          family_name_kana="ヘイコウ", given_name_kana="タロウ", birth_date=date(1980, 1, 1),
                          sex=Sex.MALE, address="試験市1番地", relationship_to_head="世帯主")
        s.add(person)
        s.flush()
        resident_id = person.id
    yield database, city_id, resident_id
    with database.transaction() as s:
        for model in (IssuanceLogEntry, IssuedCertificate, Payment, IssuanceRequest, UsageEvent,
                      Resident, Household):
            s.execute(across_municipalities(delete(model).where(model.municipality_id == city_id)))
        s.execute(delete(Municipality).where(Municipality.id == city_id))
    database.engine.dispose()


def quoted_request(database: Database, city_id: int, resident_id: int, token: str) -> int:
    with database.transaction(city_id) as s:
        request = IssuanceRequest(resident_id=resident_id, token_hash=issuance.hash_token(token),
                                  terminal_id="t1", state=RequestState.QUOTED,
                                  certificate_type="juminhyo", options={}, fee=200, created_at=NOW,
                                  updated_at=NOW, expires_at=NOW + timedelta(minutes=10))
        s.add(request)
        s.flush()
        return request.id


def confirm_in_parallel(database: Database, city_id: int, request_id: int, keys: list[str]):
    barrier = threading.Barrier(len(keys))
    results: list = [None] * len(keys)

    def worker(index: int, key: str) -> None:
        barrier.wait()
        try:
            with database.transaction(city_id) as s:
                outcome = issuance.confirm_payment(s, request_id, key, 200, NOW, ("並行", "太郎"))
                results[index] = ("replayed" if outcome.replayed else "charged",
                                  outcome.certificate.verification_code)
        except Exception as error:  # noqa: BLE001 - the outcome is what the test inspects
            results[index] = ("refused", type(error).__name__)

    threads = [threading.Thread(target=worker, args=(i, k)) for i, k in enumerate(keys)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def totals(database: Database, city_id: int) -> tuple[int, int, int]:
    with database.transaction(city_id) as s:
        return (s.scalar(select(func.count()).select_from(Payment)),
                s.scalar(select(func.coalesce(func.sum(Payment.amount), 0))),
                s.scalar(select(func.count()).select_from(IssuedCertificate)))


def test_concurrent_same_key_charges_once(committed):
    database, city_id, resident_id = committed
    request_id = quoted_request(database, city_id, resident_id, "tok-same")
    results = confirm_in_parallel(database, city_id, request_id, ["same-key-0001"] * THREADS)
    kinds = [r[0] for r in results]
    assert kinds.count("charged") == 1, results
    assert kinds.count("replayed") == THREADS - 1, results
    assert len({r[1] for r in results}) == 1  # everyone got the same certificate
    assert totals(database, city_id) == (1, 200, 1)


def test_concurrent_different_keys_charge_once(committed):
    database, city_id, resident_id = committed
    request_id = quoted_request(database, city_id, resident_id, "tok-diff")
    results = confirm_in_parallel(database, city_id, request_id,
                                  [f"diff-key-{i:04d}" for i in range(THREADS)])
    kinds = [r[0] for r in results]
    assert kinds.count("charged") == 1, results
    assert all(r == ("refused", "AlreadyPaid") for r in results if r[0] != "charged"), results
    assert totals(database, city_id) == (1, 200, 1)


def test_concurrent_requests_each_get_their_own_number(committed):
    database, city_id, resident_id = committed
    ids = [quoted_request(database, city_id, resident_id, f"tok-{i}") for i in range(4)]
    barrier = threading.Barrier(len(ids))
    errors = []

    def worker(request_id: int) -> None:
        barrier.wait()
        try:
            with database.transaction(city_id) as s:
                issuance.confirm_payment(s, request_id, f"own-key-{request_id}", 200, NOW, ("並行", "太郎"))
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert totals(database, city_id) == (4, 800, 4)
