"""Importing what the notebook already holds changes nothing, whatever the form it comes
in: our own export, another encoding, JAHIS version, line ending or record order."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from services.medication import jahis, services
from tests.medication.helpers import TABLES
from tests.medication.jahis_samples import crlf
from tests.medication.test_jahis_properties import documents

NOTEBOOK = crlf("""JAHISTC08,1
1,高知 花子,2,19900401,,,,,,,
2,1,ペニシリンで発疹,1
2,2,ロキソニンで胃痛,1
3,パブロン,20250101,20250107,2,1,4987306054455
31,1,アセトアミノフェン,,,2
4,朝は血圧を測る,20250102,2
601,よく眠れない,20250103
701,薬剤師 花子,はりまや薬局,088-000-0000,20240401,,1
5,20250301,1
11,はりまや薬局,39,4,0412345,,,,1
201,1,アムロジピン錠5mg,1,錠,4,2171022F1022,1,,,
301,1,1日1回朝食後,28,日分,1,1,,1
5,20250310,1
11,ごめん駅前薬局,39,4,0498765,,,,1
201,1,ムコスタ錠100mg,3,錠,2,620000511,1,,,
301,1,毎食後,10,日分,1,1,,1
""")


@pytest.fixture
def city(make_city):
    return make_city()


def resident_counts(db, city_id: int, resident_id: int) -> dict[str, int]:
    with db.transaction(city_id) as s:
        return {model.__tablename__: s.scalar(select(func.count()).select_from(model)
                                              .where(model.resident_id == resident_id))
                for model in TABLES}


def import_text(db, city_id: int, resident_id: int, data) -> services.ImportOutcome:
    result = jahis.parse(data)
    assert result.ok, [str(d) for d in result.errors]
    with db.transaction(city_id) as s:
        return services.import_document(s, resident_id, result.document, "file", "test")


def export(db, city_id: int, resident_id: int) -> bytes:
    with db.transaction(city_id) as s:
        return jahis.write(services.notebook(s, resident_id))


def reordered(text: str) -> str:
    """The same records, top-level ones and visits in reverse order."""
    document = jahis.parse(text).document
    for attr in ("notes", "otc_drugs", "memos", "visits"):
        getattr(document, attr).reverse()
    return jahis.write_text(document)


def variants(text: str) -> dict[str, bytes]:
    return {"export is our own": b"",  # filled in by the test: needs the database
            "UTF-8 with BOM": b"\xef\xbb\xbf" + text.encode("utf-8"),
            "CP932, LF line ends": text.replace("\r\n", "\n").encode("cp932"),
            "CR line ends": text.replace("\r\n", "\r").encode("cp932"),
            "JAHIS Ver.2.4 header": text.replace("JAHISTC08", "JAHISTC07").encode("cp932"),
            "records in another order": reordered(text).encode("cp932")}


def test_the_notebook_in_any_form_imports_as_nothing_new(db, make_city, make_resident):
    city = make_city()
    person = make_resident(city)
    first = import_text(db, city.id, person.id, NOTEBOOK.encode("cp932"))
    assert first.added == {"visits": 2, "notes": 2, "otc_drugs": 1, "memos": 3, "other": 0}
    before = resident_counts(db, city.id, person.id)
    forms = variants(NOTEBOOK)
    forms["export is our own"] = export(db, city.id, person.id)
    for name, data in forms.items():
        outcome = import_text(db, city.id, person.id, data)
        assert outcome.duplicate, name
        assert not any(outcome.added.values()), (name, outcome.added)
        assert outcome.known == {"visits": 2, "notes": 2, "otc_drugs": 1, "memos": 3,
                                 "other": 0}, name
        assert resident_counts(db, city.id, person.id) == before, name


def test_only_what_is_new_is_added(db, make_city, make_resident):
    city = make_city()
    person = make_resident(city)
    import_text(db, city.id, person.id, NOTEBOOK)
    grown = NOTEBOOK.replace("4,朝は", "4,夜も血圧を測る,20250104,2\r\n4,朝は")
    outcome = import_text(db, city.id, person.id, grown)
    assert not outcome.duplicate
    assert outcome.added == {"visits": 0, "notes": 0, "otc_drugs": 0, "memos": 1, "other": 0}
    assert outcome.known["memos"] == 3 and outcome.known["otc_drugs"] == 1
    assert resident_counts(db, city.id, person.id)["medication_memo"] == 4


def test_an_unknown_record_counts_as_other(db, make_city, make_resident):
    city = make_city()
    person = make_resident(city)
    import_text(db, city.id, person.id, NOTEBOOK)
    with_unknown = NOTEBOOK.replace("5,20250301", "999,独自の記録\r\n5,20250301", 1)
    assert import_text(db, city.id, person.id, with_unknown).added["other"] == 1
    assert import_text(db, city.id, person.id, with_unknown).duplicate


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(documents, st.sampled_from(["utf-8-sig", "cp932"]), st.sampled_from(["\r\n", "\n"]))
def test_export_then_import_round_trips_without_change(db, city, make_resident, document,
                                                       encoding, line_end):
    """(`city` is made once for all examples; each example has a resident of its own.)"""
    person = make_resident(city)
    import_text(db, city.id, person.id, jahis.write(document))
    before = resident_counts(db, city.id, person.id)
    exported = jahis.parse(export(db, city.id, person.id)).document
    again = jahis.write_text(exported).replace("\r\n", line_end).encode(encoding)
    outcome = import_text(db, city.id, person.id, again)
    assert not any(outcome.added.values()), outcome.added
    assert resident_counts(db, city.id, person.id) == before
    # …and the original, once more, is known too.
    assert not any(import_text(db, city.id, person.id, jahis.write(document)).added.values())
