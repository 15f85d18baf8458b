"""What `import_document` stores, row by row: the views read these tables, so the bulk
writer must put every record where the ORM relationships expect it."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.db import UnscopedQueryError, across_municipalities
from services.medication import jahis, services
from services.medication import models as m
from tests.medication.helpers import TABLES, counts
from tests.medication.jahis_samples import SPEC_EXAMPLE, crlf

# Two doctors (two RPs, one without usage), drug supplements and cautions, usage
# supplements and cautions, every kind of visit note, and a second, plainer visit.
RICH = crlf("""JAHISTC08,1
1,高知 花子,2,19900401,,,,,,,
2,1,ペニシリンで発疹,1
2,3,高血圧,1
5,20250301,1
11,はりまや薬局,39,4,0412345,7830000,高知市はりまや町1,088-000-0000,1
15,薬剤師 花子,088-111-1111,1
51,高知中央病院,39,1,0123456,1
55,土佐 一郎,内科,1
201,1,アムロジピン錠5mg,1,錠,4,2171022F1022,1,アムロジピン,,
281,1,粉砕,1
291,1,グレープフルーツに注意,1
201,1,ロキソニン錠60mg,3,錠,2,620098801,1,,,
301,1,毎食後,7,日分,1,1,,1
311,1,食後30分以内,1
391,1,眠気に注意,1
55,坂本 龍子,皮膚科,1
201,2,ロコイド軟膏0.1%,5,g,2,620000001,1,,,
401,車の運転に注意,1
411,退院時の情報,31,1
421,残薬なし,1
501,正しい飲み方は薬袋をご覧下さい,1
601,飲み忘れが多い,20250302
5,20250310,1
11,ごめん駅前薬局,39,4,0498765,,,,1
51,高知中央病院,39,1,0123456,1
201,1,ムコスタ錠100mg,3,錠,2,620000511,1,,,
301,1,毎食後,10,日分,1,1,,1
""")


def test_every_record_is_stored_under_its_parent(db, make_city, make_resident):
    city = make_city()
    person = make_resident(city)
    result = jahis.parse(RICH)
    assert result.ok, result.errors
    with db.transaction(city.id) as s:
        outcome = services.import_document(s, person.id, result.document, "text", "test")
    assert (outcome.visits_added, outcome.visits_already_known) == (2, 0)

    with db.transaction(city.id) as s:
        document = s.get(m.MedicationDocument, outcome.document.id)
        assert document.canonical_text == jahis.write_text(result.document)
        assert document.content_hash == services.sha256(document.canonical_text)
        first, second = sorted(services.timeline(s, person.id), key=lambda v: v.dispensed_on)
        assert (first.pharmacy_name, first.pharmacy_address, first.pharmacist_contact,
                first.prescriber_code) == ("はりまや薬局", "高知市はりまや町1", "088-111-1111",
                                           "0123456")
        assert [(rp.position, rp.rp_number, rp.doctor_name) for rp in first.rps] == [
            (0, 1, "土佐 一郎"), (1, 2, "坂本 龍子")]
        amlodipine, loxonin = first.rps[0].drugs
        assert (amlodipine.position, amlodipine.supplements, amlodipine.cautions) == (
            0, "粉砕", "グレープフルーツに注意")
        assert amlodipine.search_text == services.normalize("アムロジピン錠5mg アムロジピン")
        assert (loxonin.position, loxonin.visit_id, loxonin.dispensed_on) == (
            1, first.id, date(2025, 3, 1))
        usage = first.rps[0].usage
        assert (usage.days, usage.supplements, usage.cautions) == (7, "食後30分以内", "眠気に注意")
        assert first.rps[1].usage is None
        assert [d.name for d in first.rps[1].drugs] == ["ロコイド軟膏0.1%"]
        assert [(n.kind, n.info_kind, n.text) for n in first.notes] == [
            ("caution", "", "車の運転に注意"), ("institution", "31", "退院時の情報"),
            ("leftover", "", "残薬なし"), ("remark", "", "正しい飲み方は薬袋をご覧下さい"),
            ("patient", "", "飲み忘れが多い")]
        assert first.notes[-1].written_on == date(2025, 3, 2)
        assert [(rp.doctor_name, [d.name for d in rp.drugs], rp.usage.days)
                for rp in second.rps] == [("", ["ムコスタ錠100mg"], 10)]
        assert second.notes == []

    stored = counts(db, city.id)
    # Drugs 4, usages 2, visit notes 5, visits 2, patient notes 2: the document's count.
    assert document.records_written == 15 == outcome.records_written
    assert stored["medication_drug"] == 4 and stored["medication_rp"] == 3
    assert stored["medication_usage"] == 2 and stored["medication_visit_note"] == 5
    with db.transaction() as s:
        for model in TABLES:
            owners = set(s.execute(across_municipalities(
                select(model.municipality_id, model.resident_id))).all())
            assert owners <= {(city.id, person.id)}, model.__tablename__


def test_a_visit_shared_with_an_earlier_document_keeps_its_rows(db, make_city, make_resident):
    city = make_city()
    person = make_resident(city)
    first = jahis.parse(SPEC_EXAMPLE).document
    both = jahis.parse(RICH + crlf(SPEC_EXAMPLE[SPEC_EXAMPLE.index("5,R020410"):])).document
    with db.transaction(city.id) as s:
        services.import_document(s, person.id, first, "qr", "test")
    before = counts(db, city.id)
    with db.transaction(city.id) as s:
        outcome = services.import_document(s, person.id, both, "file", "test")
        visits = services.timeline(s, person.id)
    assert (outcome.visits_added, outcome.visits_already_known) == (2, 1)
    assert len(visits) == 3
    assert len({v.content_hash for v in visits}) == 3
    after = counts(db, city.id)
    assert after["medication_visit"] == before["medication_visit"] + 2
    assert after["medication_drug"] == before["medication_drug"] + 4


def test_a_failing_import_stores_nothing(db, make_city, make_resident, monkeypatch):
    city = make_city()
    person = make_resident(city)
    before = counts(db, city.id)

    def broken(self, visit_id, visit):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services._VisitWriter, "visit_notes", broken)
    with pytest.raises(RuntimeError):
        with db.transaction(city.id) as s:
            services.import_document(s, person.id, jahis.parse(RICH).document, "text", "test")
    assert counts(db, city.id) == before


def test_import_without_a_municipality_is_refused(db, make_city, make_resident):
    city = make_city()
    person = make_resident(city)
    with pytest.raises(UnscopedQueryError):
        with db.transaction() as s:
            services.import_document(s, person.id, jahis.parse(RICH).document, "text", "test")
