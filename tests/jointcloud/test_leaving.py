"""Leaving without lock-in: export a city, import it into a fresh deployment with the same
counts and contents, delete it leaving no row behind, and sign a receipt."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
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


# Every service's tables must hold rows of the leaving city, so that "same rows after the
# round trip" and "no row left" cannot pass on empty tables.
SERVICE_TABLES = (
    "maternal_health_pregnancy", "maternal_health_prenatal_checkup",
    "maternal_health_postpartum_check", "maternal_health_birth",
    "maternal_health_child_checkup", "maternal_health_immunisation", "maternal_health_amendment",
    "medication_document", "medication_visit", "medication_rp", "medication_drug",
    "medication_usage", "medication_visit_note",
    "convenience_issuance_request", "convenience_issuance_payment",
    "convenience_issuance_certificate", "convenience_issuance_log",
)
# 2026-07-01 10:00 in Japan, inside the default opening hours of convenience issuance.
OPEN_TIME = datetime(2026, 7, 1, 1, 0)


def seed_services(db, city, mother, child, staff_id: int | None) -> None:
    """Handbook records, an imported お薬手帳 and two certificate issuances of one city,
    written through each service's own functions."""
    from services.convenience_issuance import issuance
    from services.convenience_issuance.services import load_catalogue
    from services.maternal_health.services import RECORD_TYPES, Author, amend_record, create_record
    from services.medication import jahis
    from services.medication import services as medication
    from tests.medication.jahis_samples import SPEC_EXAMPLE

    today, nurse = date(2025, 3, 1), Author(staff_id, "保健師")
    with db.transaction(city.id) as s:
        pregnancy, _ = create_record(s, RECORD_TYPES["pregnancy"], mother, {
            "notified_on": date(2022, 11, 1), "expected_delivery_on": date(2023, 6, 5),
            "mother_height_cm": 158.5, "pre_pregnancy_weight_kg": 50.2, "blood_type_abo": "A",
            "blood_type_rh": "+"}, nurse, today)
        create_record(s, RECORD_TYPES["prenatal"], mother, {
            "checked_on": date(2023, 1, 10), "gestational_weeks": 14, "gestational_days": 2,
            "systolic_bp": 112, "diastolic_bp": 70, "weight_kg": 52.0, "urine_protein": "-",
            "instructions": "特になし"}, nurse, today, pregnancy_id=pregnancy.id)
        create_record(s, RECORD_TYPES["postpartum"], mother, {
            "checked_on": child.birth_date + timedelta(days=30), "days_after_birth": 30,
            "uterine_involution": "good", "systolic_bp": 118, "diastolic_bp": 72}, nurse, today)
        create_record(s, RECORD_TYPES["birth"], child, {
            "born_on": child.birth_date, "born_time": "04:30", "gestational_weeks": 39,
            "weight_kg": 3.05, "length_cm": 49.5, "transfusion": False}, nurse, today,
            mother_id=mother.id, pregnancy_id=pregnancy.id)
        checkup, _ = create_record(s, RECORD_TYPES["checkup"], child, {
            "occasion": "m3_4", "checked_on": child.birth_date + timedelta(days=100),
            "weight_kg": 6.4, "height_cm": 61.0, "findings": "healthy"}, nurse, today)
        amend_record(s, RECORD_TYPES["checkup"], checkup, child, {
            "occasion": "m3_4", "checked_on": checkup.checked_on, "weight_kg": 6.5,
            "height_cm": 61.0, "findings": "healthy"}, "転記誤り", nurse, today)
        create_record(s, RECORD_TYPES["immunisation"], child, {
            "vaccine": "hib", "dose_number": 1, "given_on": child.birth_date + timedelta(days=62),
            "lot": "AB123"},
            nurse, today)

        document = jahis.parse(SPEC_EXAMPLE.encode("cp932")).document
        assert medication.import_document(s, mother.id, document, "text", "test").visits_added

        catalogue = load_catalogue(city.settings)
        kept, _token = issuance.start_request(s, catalogue, mother, "store-0001", OPEN_TIME)
        issuance.quote(s, catalogue, kept, "juminhyo", {"household": True}, OPEN_TIME)
        issuance.confirm_payment(s, kept.id, f"pay-{city.code}-1", kept.fee, OPEN_TIME,
                                 (mother.family_name, mother.given_name))
        kept.pdf = b"%PDF-1.7 not yet printed"  # issued, waiting for the store's printer
        printed, _token = issuance.start_request(s, catalogue, mother, "store-0002", OPEN_TIME)
        issuance.quote(s, catalogue, printed, "juminhyo", {}, OPEN_TIME)
        outcome = issuance.confirm_payment(s, printed.id, f"pay-{city.code}-2", printed.fee,
                                           OPEN_TIME, (mother.family_name, mother.given_name))
        issuance.report_outcome(s, printed, True, "", OPEN_TIME)
        if staff_id is not None:
            issuance.revoke(s, outcome.certificate, staff_id, "記載誤り", OPEN_TIME)


@pytest.fixture
def kami(make_city, make_resident, make_staff, db):
    """香美市 with a family, a seal, tax, a card, access log, usage, staff and records in
    every service; and 南国市 beside it with service records too, which must survive."""
    nankoku = make_city("392049", "南国市")
    neighbour = make_resident(nankoku, family="南国", given="隣人")
    neighbour_child = make_resident(nankoku, family="南国", given="次郎", birth=date(2024, 1, 5),
                                    household=neighbour.household_id, relationship="子")
    seed_services(db, nankoku, neighbour, neighbour_child, None)
    city = make_city("392120", "香美市", population=27_513)
    parent = make_resident(city, family="物部", given="花子")
    child = make_resident(city, family="物部", given="太郎", birth=date(2023, 6, 1),
                          household=parent.household_id, relationship="子")
    clerk = make_staff(city, roles=["registry_clerk"], username="kami_clerk")
    seed_services(db, city, parent, child, clerk.id)
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


def _plugin_extras(app):
    """The services' own export files (medication as JAHIS text), as the CLI passes them."""
    return [plugin.export_city for plugin in app.extensions["madoguchi.services"].values()
            if callable(getattr(plugin, "export_city", None))]


def test_export_then_import_into_a_fresh_deployment_gives_the_same_rows(app, db, kami, tmp_path):
    with db.transaction() as s:
        manifest = leaving.export_city(s, "392120", tmp_path / "out", extras=_plugin_extras(app))
        before = _contents(s, kami.id)
    assert manifest["tables"]["resident"]["rows"] == 2
    # the seeded read, and the export itself: one entry for each resident, carried along
    assert manifest["tables"]["access_log"]["rows"] == 1 + 2
    exported = [e for e in before["access_log"] if e["action"] == "export"]
    assert sorted(e["subject_resident_id"] for e in exported) == sorted(
        r["id"] for r in before["resident"])
    # Every service's tables hold rows of the city: the comparison below is not vacuous.
    empty = [t for t in SERVICE_TABLES if manifest["tables"][t]["rows"] == 0 or not before[t]]
    assert empty == []
    assert manifest["tables"]["convenience_issuance_certificate"]["rows"] == 2
    assert manifest["tables"]["maternal_health_amendment"]["rows"] == 1
    notebooks = [x["file"] for x in manifest["extras"]]
    assert [Path(f).name for f in notebooks] == [f"resident-{before['resident'][0]['id']}.txt"]
    assert "ｺﾘｵﾊﾟﾝ" in (tmp_path / "out" / notebooks[0]).read_bytes().decode("cp932")
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
    assert after["convenience_issuance_request"][0]["pdf"] == b"%PDF-1.7 not yet printed"
    assert after["convenience_issuance_request"][0]["options"]["household"] is True
    assert after["maternal_health_birth"][0]["weight_kg"] == 3.05
    assert {r["revoked_by"] for r in after["convenience_issuance_certificate"]} == {
        None, before["staff_account"][0]["id"]}


def test_delete_leaves_no_row_of_the_city_in_any_table(db, kami, tmp_path):
    with db.transaction() as s:
        leaving.export_city(s, "392120", tmp_path / "out")
        nankoku_id = s.scalar(text("SELECT id FROM municipality WHERE code='392049'"))
        others = leaving.counts(s, nankoku_id)
        others_contents = _contents(s, nankoku_id)
        mine = leaving.counts(s, kami.id)
    assert [t for t in SERVICE_TABLES if not mine[t] or not others[t]] == []
    key = receipt.load_or_create_key(tmp_path / "key.pem")
    with db.transaction() as s:
        signed = services.depart(s, "392120", tmp_path / "out", key)
    with db.transaction() as s:
        # Table by table over the whole metadata: nothing of 香美市 is left.
        for ct in leaving.city_tables():
            left = s.execute(across_municipalities(select(ct.table).where(
                leaving.city_rows(ct.table, kami.id)))).all()
            assert left == [], ct.table.name
        # 南国市 keeps every row, its service records included, unchanged.
        assert leaving.counts(s, nankoku_id) == others
        assert _contents(s, nankoku_id) == others_contents
    document = receipt.verify(signed, receipt.public_key_pem(key))
    assert document["deleted"]["rows"]["resident"] == 2
    assert {t: document["deleted"]["rows"][t] for t in SERVICE_TABLES} == {
        t: mine[t] for t in SERVICE_TABLES}
    assert document["deleted"]["rows"]["access_log"] == 1 + 2   # the seeded read and the export
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


def test_cli_export_takes_the_citys_logo_and_seal_image(cli_runner, kami, app, db, tmp_path):
    from portal.tenancy.models import Municipality
    folder = tmp_path / "city-assets"
    (folder / "seals").mkdir(parents=True)
    (folder / "branding").mkdir()
    (folder / "seals" / "392120.png").write_bytes(b"\x89PNG seal of Kami")
    (folder / "branding" / "392120.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (folder / "seals" / "392049.png").write_bytes(b"\x89PNG seal of Nankoku")
    app.config["CITY_ASSETS_DIR"] = str(folder)
    with db.transaction() as s:
        city = s.get(Municipality, kami.id)
        city.settings = {**city.settings, "seal_image": "seals/392120.png",
                         "branding": {"logo": "branding/392120.svg"}}
    out = cli_runner("export", "392120", tmp_path / "out")
    assert out.exit_code == 0, out.output
    extras = {x["file"] for x in leaving.read_manifest(tmp_path / "out")["extras"]}
    assert {"assets/seals/392120.png", "assets/branding/392120.svg"} <= extras
    assert (tmp_path / "out/assets/seals/392120.png").read_bytes() == b"\x89PNG seal of Kami"
    assert not (tmp_path / "out/assets/seals/392049.png").exists()  # 南国市's stays
