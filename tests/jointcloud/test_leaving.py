"""Leaving without lock-in: export a city, import it into a fresh deployment with the same
counts and contents, delete it leaving no row behind, and sign a receipt."""
from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from portal.audit.models import AccessLogEntry
from portal.cards.models import CardBinding
from portal.db import Database, across_municipalities
from portal.jointcloud import leaving, receipt, services
from portal.metering.services import record_usage
from portal.migrate import upgrade
from portal.plugins import load_plugins
from portal.registry.models import GuardianLink, SealRegistration, TaxRecord


@pytest.fixture
def kami(make_city, make_resident, make_staff, db):
    """香美市 with a family, a seal, tax, a card, access log, usage and staff; and 南国市
    beside it, whose rows must survive."""
    nankoku = make_city("392049", "南国市")
    neighbour = make_resident(nankoku, family="南国", given="隣人")
    city = make_city("392120", "香美市", population=27_513)
    parent = make_resident(city, family="物部", given="花子")
    child = make_resident(city, family="物部", given="太郎", birth=date(2023, 6, 1),
                          household=parent.household_id, relationship="子")
    clerk = make_staff(city, roles=["registry_clerk"], username="kami_clerk")
    with db.transaction(city.id) as s:
        s.add(GuardianLink(guardian_id=parent.id, child_id=child.id))
        s.add(SealRegistration(resident_id=parent.id, registration_number="S1",
                               registered_on=date(2020, 1, 2), seal_image=b"\x89PNG\x00\xff"))
        s.add(TaxRecord(resident_id=parent.id, fiscal_year=2024, total_income=3_000_000,
                        taxable_income=2_000_000, municipal_tax=120_000, prefectural_tax=80_000))
        s.add(CardBinding(issuer="CN=JPKI", serial="0a1b", fingerprint_sha256="f" * 64,
                          resident_id=parent.id, not_after=datetime(2030, 1, 1)))
        s.add(AccessLogEntry(occurred_at=datetime(2025, 1, 1, 9), actor_type="staff",
                             actor_id=clerk.id, actor_name="職員", actor_role="registry_clerk",
                             subject_resident_id=parent.id, action="read",
                             resource="registry.resident", purpose="確認"))
        record_usage(s, "core", "sign_in", when=datetime(2025, 5, 1))
    with db.transaction(nankoku.id) as s:
        s.add(AccessLogEntry(occurred_at=datetime(2025, 1, 1), actor_type="system", actor_id=None,
                             actor_name="system", actor_role="system",
                             subject_resident_id=neighbour.id, action="read", resource="x",
                             purpose="確認"))
    return city


def _contents(session, municipality_id) -> dict[str, list[dict]]:
    """Every row of the city in every city table, secrets left out, as comparable dicts."""
    out = {}
    for ct in leaving.city_tables():
        if not ct.exported:
            continue
        cols = [c for c in ct.table.columns
                if c.name not in leaving.SECRET_COLUMNS.get(ct.table.name, {})]
        rows = session.execute(across_municipalities(
            select(*cols).where(leaving.city_rows(ct.table, municipality_id))
            .order_by(*ct.table.primary_key.columns))).all()
        out[ct.table.name] = [dict(zip([c.name for c in cols], row)) for row in rows]
    return out


def test_export_then_import_into_a_fresh_deployment_gives_the_same_rows(db, kami, tmp_path):
    with db.transaction() as s:
        manifest = leaving.export_city(s, "392120", tmp_path / "out")
        before = _contents(s, kami.id)
    assert manifest["tables"]["resident"]["rows"] == 2
    assert manifest["tables"]["access_log"]["rows"] == 1
    assert "password_hash" not in (tmp_path / "out/tables/staff_account.json").read_text()
    assert "user_session" not in manifest["tables"]

    fresh_url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    upgrade(fresh_url, load_plugins())
    fresh = Database(fresh_url)
    try:
        with fresh.transaction() as s:
            inserted = leaving.import_city(s, tmp_path / "out")
        with fresh.transaction() as s:
            after = _contents(s, kami.id)
            assert leaving.counts(s, kami.id) == {
                **{n: 0 for n in leaving.counts(s, kami.id)},
                **{n: e["rows"] for n, e in manifest["tables"].items()}}
    finally:
        fresh.engine.dispose()
    assert inserted == {n: e["rows"] for n, e in manifest["tables"].items()}
    assert after == before
    assert after["seal_registration"][0]["seal_image"] == b"\x89PNG\x00\xff"


def test_delete_leaves_no_row_of_the_city_in_any_table(db, kami, tmp_path):
    with db.transaction() as s:
        leaving.export_city(s, "392120", tmp_path / "out")
        others = leaving.counts(s, s.scalar(text("SELECT id FROM municipality WHERE code='392049'")))
    key = receipt.load_or_create_key(tmp_path / "key.pem")
    with db.transaction() as s:
        signed = services.depart(s, "392120", tmp_path / "out", key)
    with db.transaction() as s:
        # Table by table over the whole metadata: nothing of 香美市 is left.
        for ct in leaving.city_tables():
            left = s.execute(across_municipalities(select(ct.table).where(
                leaving.city_rows(ct.table, kami.id)))).all()
            assert left == [], ct.table.name
        assert leaving.counts(s, s.scalar(text("SELECT id FROM municipality WHERE code='392049'"))) == others
    document = receipt.verify(signed, receipt.public_key_pem(key))
    assert document["deleted"]["rows"]["resident"] == 2
    assert document["deleted"]["rows"]["access_log"] == 1
    assert document["export"]["manifest_sha256"] == leaving.manifest_digest(tmp_path / "out")


def test_access_log_is_append_only_again_after_a_departure(db, kami, tmp_path):
    with db.transaction() as s:
        leaving.export_city(s, "392120", tmp_path / "out")
    with db.transaction() as s:
        services.depart(s, "392120", tmp_path / "out", receipt.load_or_create_key(tmp_path / "k"))
    with pytest.raises(Exception, match="append-only"):
        with db.transaction() as s:
            s.execute(text("DELETE FROM access_log"))


def test_a_failed_deletion_changes_nothing(db, kami, tmp_path, monkeypatch):
    with db.transaction() as s:
        leaving.export_city(s, "392120", tmp_path / "out")
        before = leaving.counts(s, kami.id)

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full while signing")
    monkeypatch.setattr(receipt, "sign", broken)
    with pytest.raises(RuntimeError):
        with db.transaction() as s:
            services.depart(s, "392120", tmp_path / "out", receipt.load_or_create_key(tmp_path / "k"))
    with db.transaction() as s:
        assert leaving.counts(s, kami.id) == before
    with pytest.raises(Exception, match="append-only"):
        with db.transaction() as s:
            s.execute(text("DELETE FROM access_log"))


def test_deletion_refused_when_rows_changed_after_export(db, kami, tmp_path, make_resident):
    with db.transaction() as s:
        leaving.export_city(s, "392120", tmp_path / "out")
    make_resident(kami, family="後日", given="転入")
    with pytest.raises(leaving.LeavingError, match="もう一度エクスポート"):
        with db.transaction() as s:
            leaving.delete_city(s, "392120", leaving.read_manifest(tmp_path / "out"))


def test_tampered_export_and_receipt_are_detected(db, kami, tmp_path):
    with db.transaction() as s:
        leaving.export_city(s, "392120", tmp_path / "out")
    key = receipt.load_or_create_key(tmp_path / "k")
    with db.transaction() as s:
        signed = services.depart(s, "392120", tmp_path / "out", key)
    forged = json.loads(json.dumps(signed))
    forged["receipt"]["deleted"]["total"] = 0
    with pytest.raises(receipt.ReceiptInvalid):
        receipt.verify(forged, receipt.public_key_pem(key))
    other = receipt.load_or_create_key(tmp_path / "other")
    with pytest.raises(receipt.ReceiptInvalid):
        receipt.verify(signed, receipt.public_key_pem(other))
    csv_file = tmp_path / "out/csv/resident.csv"
    csv_file.write_text(csv_file.read_text() + "x\n")
    with pytest.raises(leaving.LeavingError, match="resident.csv"):
        leaving.read_manifest(tmp_path / "out")


def test_import_refuses_a_city_already_present(db, kami, tmp_path):
    with db.transaction() as s:
        leaving.export_city(s, "392120", tmp_path / "out")
    with pytest.raises(leaving.LeavingError, match="登録済み"):
        with db.transaction() as s:
            leaving.import_city(s, tmp_path / "out")


def test_export_refuses_a_non_empty_directory(db, kami, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.txt").write_text("x")
    with pytest.raises(leaving.LeavingError):
        with db.transaction() as s:
            leaving.export_city(s, "392120", tmp_path / "out")


def test_round_trip_on_this_database_export_delete_import(db, kami, tmp_path):
    """On the configured database (PostgreSQL in CI): leave, then come back from the files."""
    with db.transaction() as s:
        leaving.export_city(s, "392120", tmp_path / "out")
        before = _contents(s, kami.id)
    with db.transaction() as s:
        services.depart(s, "392120", tmp_path / "out", receipt.load_or_create_key(tmp_path / "k"))
    with db.transaction() as s:
        leaving.import_city(s, tmp_path / "out")
    with db.transaction() as s:
        assert _contents(s, kami.id) == before
    # New rows still get fresh ids after explicit ids were inserted (PostgreSQL sequences).
    with db.transaction(kami.id) as s:
        record_usage(s, "core", "sign_in")


def test_cli_export_delete_verify(cli_runner, kami, tmp_path, app):
    app.config["CLOUD_RECEIPT_KEY_FILE"] = str(tmp_path / "deploy-key.pem")
    out = cli_runner("export", "392120", tmp_path / "out")
    assert out.exit_code == 0, out.output
    refused = cli_runner("delete", "392120", "--export", tmp_path / "out", "--receipt",
                         tmp_path / "r.json", input="n\n")
    assert refused.exit_code != 0 and not (tmp_path / "r.json").exists()
    done = cli_runner("delete", "392120", "--export", tmp_path / "out", "--receipt",
                      tmp_path / "r.json", "--yes")
    assert done.exit_code == 0, done.output
    ok = cli_runner("verify-receipt", tmp_path / "r.json")
    assert ok.exit_code == 0 and "392120" in ok.output
    tampered = json.loads((tmp_path / "r.json").read_text())
    tampered["receipt"]["municipality"]["name"] = "別の市"
    (tmp_path / "bad.json").write_text(json.dumps(tampered, ensure_ascii=False))
    bad = cli_runner("verify-receipt", tmp_path / "bad.json")
    assert bad.exit_code != 0 and "署名" in bad.output
    assert cli_runner("verify-export", tmp_path / "out").exit_code == 0
