"""Helpers for the medication view tests."""
from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func, select

from portal.audit.models import AccessLogEntry
from portal.db import across_municipalities
from services.medication import models as m
from tests.medication.jahis_samples import visit_text

TABLES = (m.MedicationDocument, m.MedicationVisit, m.MedicationRp, m.MedicationDrug,
          m.MedicationUsage, m.MedicationVisitNote, m.MedicationPatientNote,
          m.MedicationOtcDrug, m.MedicationMemo)


def csrf(client, path: str) -> str:
    body = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body)[1]


def post_import(client, resident_id: int, **data):
    path = f"/services/medication/people/{resident_id}/import"
    data["csrf_token"] = csrf(client, path)
    return client.post(path, data=data, content_type="multipart/form-data")


def counts(db, city_id: int) -> dict[str, int]:
    with db.transaction(city_id) as s:
        return {model.__tablename__: s.scalar(select(func.count()).select_from(model)
                                              .where(model.municipality_id == city_id))
                for model in TABLES}


def access_log(db, resident_id: int) -> list[AccessLogEntry]:
    with db.transaction() as s:
        return list(s.scalars(across_municipalities(
            select(AccessLogEntry).where(AccessLogEntry.subject_resident_id == resident_id)
            .order_by(AccessLogEntry.id))))


def ymd(day: date) -> str:
    return day.strftime("%Y%m%d")


def overlapping_case(today: date) -> str:
    """Amlodipine from two pharmacies, the second started while the first still runs,
    plus a 9-digit-coded pair that cannot be compared without a drug master."""
    first, second = today - timedelta(days=20), today - timedelta(days=5)
    return ("JAHISTC08,1\n1,高知 花子,2,19900401,,,,,,,\n2,1,ペニシリン系抗生物質で発疹,1\n"
            + visit_text(ymd(first), "はりまや薬局", "0412345", "アムロジピン錠5mg「サワイ」",
                         "4", "2171022F1022", 60)
            + "201,2,ﾛｷｿﾆﾝ錠60mg,3,錠,2,620098801,1,,,\n301,2,毎食後,30,日分,1,1,,1\n"
            + visit_text(ymd(second), "ごめん駅前薬局", "0498765", "ノルバスク錠5mg",
                         "4", "2171022F2029", 30)
            + "201,2,ムコスタ錠100mg,3,錠,2,620000511,1,,,\n301,2,毎食後,30,日分,1,1,,1\n"
            + "421,ノルバスク錠が5錠残っています,1\n")
