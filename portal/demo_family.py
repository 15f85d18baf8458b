"""The demo's family in 南国市: the people on the demo cards and something on every page.

坂本 美咲 (the first card) and 坂本 健太 (the second) are the guardians of three children whose
handbooks cover every state a guardian meets: doses done, due, upcoming, overdue and no
longer eligible, checkups on time and one missed, growth charts with a point outside the
reference band. 美咲 is pregnant (a current handbook with prenatal checkups), her medication
notebook holds acetaminophen from two pharmacies at the same time (a duplicate-ingredient
alert) and famotidine from both under two code systems (found through the drug code
master the demo loads), and certificates were issued to her at a store and can be verified. The records are
written through the services' own functions (range checks, usage metering) and dated
relative to today, so the demo reads the same whichever day it is built.

Development only (`madoguchi demo`); nothing here runs in production."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator

from sqlalchemy import select

from portal.audit.models import AccessLogEntry
from portal.clock import JST, today_jst
from portal.registry.importer import COLUMN_KEYS, import_rows
from portal.registry.models import Resident
from portal.staff.models import StaffAccount

ADDRESS = "南国市大そね甲1234番地"
FACILITY = "南国市保健福祉センター"
CLINIC = "高知中央こどもクリニック"
HOUSEHOLD = "DH00000001"
MOTHER, FATHER = "D000000002", "D000000001"


@dataclass(frozen=True)
class Member:
    number: str
    family: str
    given: str
    family_kana: str
    given_kana: str
    sex: str          # "1" male, "2" female
    relationship: str
    age_months: int
    guardians: str = ""


def members(today: date) -> tuple[Member, ...]:
    """The household: the head first (the registry wants him there), the children last."""
    parents = f"{FATHER};{MOTHER}"
    return (
        Member(FATHER, "坂本", "健太", "サカモト", "ケンタ", "1", "世帯主", 37 * 12 + 4),
        Member(MOTHER, "坂本", "美咲", "サカモト", "ミサキ", "2", "妻", 34 * 12 + 7),
        Member("D000000003", "坂本", "陽菜", "サカモト", "ヒナ", "2", "子", 7 * 12 + 3, parents),
        Member("D000000004", "坂本", "湊", "サカモト", "ミナト", "1", "子", 3 * 12 + 5, parents),
        Member("D000000005", "坂本", "結菜", "サカモト", "ユイナ", "2", "子", 19, parents),
    )


def birth_date(today: date, months: int) -> date:
    from services.maternal_health.schedule import add_months
    return add_months(today, -months) - timedelta(days=9)   # not a birthday today


def registry_rows(today: date) -> Iterator[list[str]]:
    """The family as registry CSV rows (imported like any city's file: seals, taxes)."""
    yield list(COLUMN_KEYS)
    for m in members(today):
        adult = m.age_months >= 18 * 12
        row = {"resident_number": m.number, "household_number": HOUSEHOLD,
               "household_head_name": "坂本\u3000健太", "household_address": ADDRESS,
               "family_name": m.family, "given_name": m.given,
               "family_name_kana": m.family_kana, "given_name_kana": m.given_kana,
               "birth_date": birth_date(today, m.age_months).isoformat(), "sex": m.sex,
               "relationship_to_head": m.relationship, "address": ADDRESS, "status": "active",
               "guardian_numbers": m.guardians}
        if adult:
            income = 4_200_000 if m.sex == "1" else 1_800_000
            years = (today.year - 2, today.year - 1)
            row.update(fiscal_year=";".join(map(str, years)),
                       total_income=f"{income};{income + 60_000}",
                       taxable_income=f"{income // 2};{income // 2 + 30_000}",
                       municipal_tax=f"{income // 40};{income // 40 + 1_800}",
                       prefectural_tax=f"{income // 60};{income // 60 + 1_200}")
        if m.number == MOTHER:
            row.update(seal_number="D0000001", seal_registered_on=(today - timedelta(days=900)).isoformat())
        yield [row.get(key, "") for key in COLUMN_KEYS]


def add_family(database, city) -> None:
    """Register the family (before the synthetic residents, so it heads the demo lists)."""
    import_rows(database, city.id, registry_rows(today_jst()))


def family(db) -> dict[str, Resident]:
    numbers = [m.number for m in members(today_jst())]
    return {r.number: r for r in db.scalars(select(Resident).where(Resident.number.in_(numbers)))}


def card_holders(db) -> list[Resident]:
    """The residents on the two 南国市 demo cards: the mother first, then the father."""
    people = family(db)
    return [people[MOTHER], people[FATHER]]


# ---------------------------------------------------------------- the handbook

# (occasion, age in months at the checkup); the last of a child's list the age allows
CHECKUPS = (("m1", 1), ("m3_4", 3), ("m6_7", 6), ("m9_10", 9), ("y1", 12), ("y1_6", 18),
            ("y3", 36))
# vaccine → ages in months of the doses (as the standard schedule gives them)
ON_SCHEDULE = {
    "dpt_ipv_hib": (2, 3, 4, 13), "pcv": (2, 3, 4, 12), "hepb": (2, 3, 7), "rota": (2, 3),
    "bcg": (5,), "mr": (12, 72), "varicella": (12, 18), "je": (36, 37, 48),
}


def add_handbook(database, city) -> None:
    """Birth records, checkups and doses of the three children, and the mother's current
    pregnancy, entered as the demo nurse through the service's own checks."""
    from services.maternal_health import services as mh
    today = today_jst()
    with database.transaction(city.id) as db:
        nurse = db.scalar(select(StaffAccount).where(StaffAccount.username == "nurse"))
        author = mh.Author(nurse.id, nurse.display_name)
        people = family(db)
        mother = people[MOTHER]
        _pregnancy(db, mh, mother, author, today)
        # 陽菜 never had varicella (now past its ages), 湊 missed rotavirus, his 5種混合
        # booster and the 3歳児 checkup (overdue), 結菜 is on time (one dose due now)
        for number, skip in (("D000000003", {"varicella"}),
                             ("D000000004", {"rota", "dpt_ipv_hib:4", "y3"}),
                             ("D000000005", set())):
            child = people[number]
            _child(db, mh, child, mother, author, today, skip)
            _log_staff_writes(db, nurse, child)


def _pregnancy(db, mh, mother, author, today) -> None:
    lmp = today - timedelta(weeks=24, days=3)
    pregnancy, _ = mh.create_record(db, mh.RECORD_TYPES["pregnancy"], mother, {
        "notified_on": lmp + timedelta(weeks=9), "last_menstrual_period": lmp,
        "expected_delivery_on": lmp + timedelta(days=280), "mother_height_cm": 158.0,
        "pre_pregnancy_weight_kg": 52.0, "first_visit_on": lmp + timedelta(weeks=7),
        "quickening_on": lmp + timedelta(weeks=19), "blood_type_abo": "A", "blood_type_rh": "+",
        "syphilis_result": "negative", "syphilis_tested_on": lmp + timedelta(weeks=10),
        "hbs_antigen_result": "negative", "hbs_antigen_tested_on": lmp + timedelta(weeks=10)},
        author, today)
    for weeks, weight, fundus in ((12, 52.8, None), (16, 53.9, 15.0), (20, 55.1, 18.5),
                                  (24, 56.4, 22.0)):
        mh.create_record(db, mh.RECORD_TYPES["prenatal"], mother, {
            "checked_on": lmp + timedelta(weeks=weeks), "gestational_weeks": weeks,
            "gestational_days": 0, "fundal_height_cm": fundus, "systolic_bp": 112,
            "diastolic_bp": 68, "urine_protein": "−", "urine_glucose": "−", "oedema": "−",
            "weight_kg": weight, "facility": "高知中央産婦人科"}, author, today,
            pregnancy_id=pregnancy.id)


def _child(db, mh, child, mother, author, today, skip: set[str]) -> None:
    from services.maternal_health import growth
    from services.maternal_health.schedule import add_months
    born = child.birth_date
    sex = growth.sex_key(child.sex.value)
    at_birth = {m: growth.band_at(m, sex, 0).at(50) for m in growth.Measure}
    mh.create_record(db, mh.RECORD_TYPES["birth"], child, {
        "born_on": born, "born_time": "10:24", "gestational_weeks": 39, "gestational_days": 2,
        "presentation": "cephalic", "delivery_method": "vaginal", "multiplicity": "single",
        "weight_kg": round(at_birth[growth.Measure.WEIGHT], 3),
        "length_cm": round(at_birth[growth.Measure.HEIGHT], 1),
        "head_cm": round(at_birth[growth.Measure.HEAD], 1), "place": "高知中央産婦人科"},
        author, today, mother_id=mother.id)
    for occasion, months in CHECKUPS:
        day = add_months(born, months) + timedelta(days=3)
        if day > today or occasion in skip:
            continue
        values = {"occasion": occasion, "checked_on": day, "findings": "healthy",
                  "nutrition": "good", "facility": FACILITY}
        age = growth.age_months(born, day)
        for name, measure in mh.MEASURED.items():
            band = growth.band_at(measure, sex, age)
            if band is not None:
                # 結菜 stayed light after her first birthday: a point below the 3rd percentile
                light = measure == growth.Measure.WEIGHT and child.given_name == "結菜" and months >= 12
                values[name] = round(band.at(3) * 0.97 if light else band.at(50), 1)
        if child.given_name == "結菜" and months >= 12:
            values.update(findings="observe", notes="体重の増えが緩やか。次回の健診で確認します。")
        mh.create_record(db, mh.RECORD_TYPES["checkup"], child, values, author, today)
    for vaccine, ages in ON_SCHEDULE.items():
        if vaccine in skip:
            continue
        for number, months in enumerate(ages, start=1):
            day = add_months(born, months) + timedelta(days=5)
            if day > today or f"{vaccine}:{number}" in skip:
                continue
            if vaccine == "varicella" and child.given_name == "結菜" and number == 2:
                continue   # her second varicella dose is still to come
            mh.create_record(db, mh.RECORD_TYPES["immunisation"], child, {
                "vaccine": vaccine, "dose_number": number, "given_on": day,
                "product": "rotarix" if vaccine == "rota" else None, "facility": CLINIC},
                author, today)


def _log_staff_writes(db, nurse, child) -> None:
    """The nurse's entries as the staff pages log them: the guardians read them in the
    child's やりとり履歴."""
    when = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=1)
    for resource in ("birth", "checkup", "immunisation"):
        db.add(AccessLogEntry(occurred_at=when, actor_type="staff", actor_id=nurse.id,
                              actor_name=nurse.display_name, actor_role="health_staff",
                              subject_resident_id=child.id, action="write",
                              resource=f"maternal_health.{resource}",
                              purpose="母子健康手帳の記録（職員）",
                              request_path=f"/services/maternal_health/people/{child.id}/{resource}/new"))


# ---------------------------------------------------------------- the medication notebook

def _visit(day: date, pharmacy: str, code: str, drug: str, yj: str, days: int) -> str:
    return (f"5,{day:%Y%m%d},1\n11,{pharmacy},39,4,{code},,,,1\n15,薬剤師 山本,,1\n"
            f"51,高知中央病院,39,1,0123456,1\n55,土佐 一郎,内科,1\n"
            f"201,1,{drug},1,錠,4,{yj},1,,,\n301,1,頭痛時 1日3回まで,{days},日分,1,1,,1\n")


def notebook_text(mother: Resident, today: date) -> str:
    """Two pharmacies' QR codes: acetaminophen from both while the first course runs, and
    famotidine from both under two code systems (レセ電 at one, YJ at the other), which
    only the drug code master (`add_drug_master`) recognises as the same ingredient."""
    head = (f"JAHISTC08,1\n1,{mother.family_name} {mother.given_name},2,"
            f"{mother.birth_date:%Y%m%d},,,,,,,\n2,1,ペニシリン系抗生物質で発疹,1\n")
    return (head
            + _visit(today - timedelta(days=12), "はりまや薬局", "0412345", "カロナール錠200",
                     "1141007F1063", 14)
            + "201,2,マグミット錠330mg,3,錠,4,2344009F1032,1,,,\n301,2,1日1回就寝前,14,日分,1,1,,1\n"
            + "201,3,ガスター散２％,0.4,ｇ,2,610406079,1,,,\n301,3,1日2回朝夕食後,14,日分,1,1,,1\n"
            + _visit(today - timedelta(days=4), "ごめん駅前薬局", "0498765",
                     "アセトアミノフェン錠200mg「JG」", "1141007F1217", 7)
            + "201,2,ガスター散２％,0.4,ｇ,4,2325003B2029,1,,,\n301,2,1日2回朝夕食後,7,日分,1,1,,1\n"
            + "421,妊娠中のため、市販の痛み止めを飲む前に相談してください,1\n")


def add_notebook(database, city) -> None:
    from services.medication.jahis.reader import parse
    from services.medication.services import import_document
    with database.transaction(city.id) as db:
        mother = family(db)[MOTHER]
        parsed = parse(notebook_text(mother, today_jst()))
        if parsed.errors:
            raise RuntimeError(f"demo notebook does not parse: {parsed.errors}")
        import_document(db, mother.id, parsed.document, "qr", "デモ（薬局のQRコード）")


def add_drug_master(database) -> None:
    """The small master fixtures (the published layouts, a handful of drugs), as a city
    loads the real files with `madoguchi medication master load`."""
    from services.medication import drug_master
    from services.medication.master_files import FIXTURES, read_master
    for path in sorted(FIXTURES.iterdir()):
        with database.transaction() as db:
            drug_master.load(db, read_master(path.read_bytes(), path.name), "demo")


# ---------------------------------------------------------------- certificates

def add_certificates(database, city) -> list[str]:
    """A 住民票の写し and a 印鑑登録証明書 issued to the mother at a store, printed; returns
    their verification codes."""
    from services.convenience_issuance import issuance
    from services.convenience_issuance.services import load_catalogue
    codes = []
    with database.transaction(city.id) as db:
        mother = family(db)[MOTHER]
        catalogue = load_catalogue(city.settings)
        for kind, options, days_ago in (("juminhyo", {"household": True, "relationship": True}, 9),
                                        ("inkan", {}, 2)):
            now = open_moment(catalogue, days_ago)
            request, _token = issuance.start_request(db, catalogue, mother, "demo-store-0001", now)
            issuance.quote(db, catalogue, request, kind, options, now)
            paid = issuance.confirm_payment(db, request.id, f"demo-{kind}-{request.id}",
                                            request.fee, now, (mother.family_name, mother.given_name))
            issuance.report_outcome(db, request, True, "", now + timedelta(minutes=1))
            codes.append(paid.certificate.verification_code)
    return codes


def open_moment(catalogue, days_ago: int) -> datetime:
    """A UTC moment `days_ago` or earlier at 10:00 in Japan when stores issue."""
    from services.convenience_issuance.services import IssuanceRefused, check_open
    day = today_jst() - timedelta(days=days_ago)
    for back in range(30):
        local = datetime.combine(day - timedelta(days=back), time(10, 0), JST)
        moment = (local - local.utcoffset()).replace(tzinfo=None)
        try:
            check_open(catalogue, moment)
            return moment
        except IssuanceRefused:
            continue
    raise RuntimeError("no open day in the last month")
