"""Domain logic of the handbook: what each record type holds and which values are
plausible, writing and amending records, a child's handbook, and the staff worklists.

No Flask here: functions take a SQLAlchemy session scoped to the city (the portal's
tenancy adds the municipality to every query) and plain values. Messages are Japanese
templates marked with `N_`; the views translate them.
"""
from __future__ import annotations

from functools import lru_cache

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Iterable

from sqlalchemy import bindparam, event
from sqlalchemy.orm import Session

from portal.api import Resident, ResidentStatus, Rows, SearchResult, find_residents, scoped
from services.maternal_health import growth, schedule
from services.maternal_health.models import (Amendment, BirthRecord, ChildCheckup,
                                             Immunisation, PostpartumCheck, Pregnancy,
                                             PrenatalCheckup)

N_ = schedule.N_


# ---------------------------------------------------------------- field catalogue

class Kind(enum.StrEnum):
    DATE = "date"
    INT = "int"
    DECIMAL = "decimal"
    CHOICE = "choice"
    TEXT = "text"
    LONGTEXT = "longtext"
    BOOL = "bool"
    TIME = "time"


@dataclass(frozen=True)
class FieldSpec:
    """One field of a handbook record: label (Japanese msgid), type, and the range a value
    must lie in to be possible at all (outside it the form refuses it)."""
    name: str
    label: str
    kind: Kind
    required: bool = False
    low: float | None = None
    high: float | None = None
    choices: tuple[tuple[str, str], ...] = ()


SIGNS = (("−", "−"), ("+", "+"), ("++", "++"))
VACCINE_CHOICES = tuple((v.value, schedule.VACCINE_LABELS[v]) for v in schedule.Vaccine)

CHECKUP_OCCASIONS = (
    ("newborn_early", N_("新生児（早期）")), ("newborn_late", N_("新生児（後期）")),
    ("m1", N_("1か月児")), ("m3_4", N_("3〜4か月児")), ("m6_7", N_("6〜7か月児")),
    ("m9_10", N_("9〜10か月児")), ("y1", N_("1歳児")), ("y1_6", N_("1歳6か月児")),
    ("y2", N_("2歳児")), ("y3", N_("3歳児")), ("y4", N_("4歳児")), ("y5", N_("5歳児")),
    ("y6", N_("6歳児")),
)

# The statutory municipal checkups (法定健診) a worklist chases: occasion, first month of
# the target ages, month from which a child without it is late, month the target ends.
STATUTORY_CHECKUPS = (("y1_6", 18, 20, 24), ("y3", 36, 38, 48))


@dataclass(frozen=True)
class RecordType:
    """A kind of handbook record: its model, whose record it is, and its fields."""
    key: str
    label: str
    model: type
    subject: str            # attribute naming the resident the record is about
    date_field: str
    fields: tuple[FieldSpec, ...]
    # besides person and date, what must match for a new entry to look like one already
    # kept (the same paper entered twice): a checkup's occasion, a vaccine
    same_as: tuple[str, ...] = ()


F, K = FieldSpec, Kind
RECORD_TYPES: dict[str, RecordType] = {rt.key: rt for rt in (
    RecordType("pregnancy", N_("妊娠届出"), Pregnancy, "mother_id", "notified_on", (
        F("notified_on", N_("妊娠届出日"), K.DATE, True),
        F("last_menstrual_period", N_("最終月経開始日"), K.DATE),
        F("expected_delivery_on", N_("出産予定日"), K.DATE),
        F("mother_height_cm", N_("身長（cm）"), K.DECIMAL, False, 120, 200),
        F("pre_pregnancy_weight_kg", N_("妊娠前の体重（kg）"), K.DECIMAL, False, 25, 200),
        F("first_visit_on", N_("初診日"), K.DATE),
        F("quickening_on", N_("胎動を感じた日"), K.DATE),
        F("blood_type_abo", N_("血液型（ABO）"), K.CHOICE, choices=(
            ("A", "A"), ("B", "B"), ("O", "O"), ("AB", "AB"))),
        F("blood_type_rh", N_("血液型（Rh）"), K.CHOICE, choices=(("+", "Rh+"), ("-", "Rh−"))),
        F("syphilis_result", N_("梅毒血清反応"), K.CHOICE, choices=(
            ("negative", N_("陰性")), ("positive", N_("陽性")))),
        F("syphilis_tested_on", N_("梅毒血清反応の検査日"), K.DATE),
        F("hbs_antigen_result", N_("HBs抗原"), K.CHOICE, choices=(
            ("negative", N_("陰性")), ("positive", N_("陽性")))),
        F("hbs_antigen_tested_on", N_("HBs抗原の検査日"), K.DATE),
    )),
    RecordType("prenatal", N_("妊婦健康診査"), PrenatalCheckup, "mother_id", "checked_on", (
        F("checked_on", N_("健診日"), K.DATE, True),
        F("gestational_weeks", N_("妊娠週数（週）"), K.INT, True, 4, 42),
        F("gestational_days", N_("妊娠週数（日）"), K.INT, False, 0, 6),
        F("fundal_height_cm", N_("子宮底長（cm）"), K.DECIMAL, False, 5, 45),
        F("abdominal_girth_cm", N_("腹囲（cm）"), K.DECIMAL, False, 50, 150),
        F("systolic_bp", N_("血圧（最高）"), K.INT, False, 60, 250),
        F("diastolic_bp", N_("血圧（最低）"), K.INT, False, 30, 150),
        F("oedema", N_("浮腫"), K.CHOICE, choices=SIGNS),
        F("urine_protein", N_("尿蛋白"), K.CHOICE, choices=SIGNS),
        F("urine_glucose", N_("尿糖"), K.CHOICE, choices=SIGNS),
        F("weight_kg", N_("体重（kg）"), K.DECIMAL, False, 25, 200),
        F("other_tests", N_("その他の検査（血色素など）"), K.TEXT),
        F("instructions", N_("特記指示（安静・休業・母性健康管理指導事項連絡カードなど）"), K.LONGTEXT),
        F("facility", N_("施設名または担当者名"), K.TEXT),
    )),
    RecordType("birth", N_("出産の状態"), BirthRecord, "child_id", "born_on", (
        F("born_on", N_("出生日"), K.DATE, True),
        F("born_time", N_("出生時刻"), K.TIME),
        F("gestational_weeks", N_("妊娠週数（週）"), K.INT, True, 22, 44),
        F("gestational_days", N_("妊娠週数（日）"), K.INT, False, 0, 6),
        F("presentation", N_("胎位"), K.CHOICE, choices=(
            ("cephalic", N_("頭位")), ("breech", N_("骨盤位")), ("other", N_("その他")))),
        F("delivery_method", N_("分娩方法"), K.CHOICE, choices=(
            ("vaginal", N_("経腟分娩")), ("assisted", N_("吸引・鉗子分娩")),
            ("caesarean", N_("帝王切開")))),
        F("labour_minutes", N_("分娩所要時間（分）"), K.INT, False, 0, 4320),
        F("blood_loss_ml", N_("出血量（mL）"), K.INT, False, 0, 10000),
        F("transfusion", N_("輸血あり"), K.BOOL),
        F("multiplicity", N_("単胎・多胎"), K.CHOICE, choices=(
            ("single", N_("単胎")), ("multiple", N_("多胎")))),
        F("weight_kg", N_("体重（kg）"), K.DECIMAL, False, 0.2, 7),
        F("length_cm", N_("身長（cm）"), K.DECIMAL, False, 20, 65),
        F("chest_cm", N_("胸囲（cm）"), K.DECIMAL, False, 15, 45),
        F("head_cm", N_("頭囲（cm）"), K.DECIMAL, False, 15, 45),
        F("findings", N_("特記事項・処置"), K.LONGTEXT),
        F("attendant", N_("出産に立ち会った者"), K.TEXT),
        F("place", N_("出産の場所"), K.TEXT),
    )),
    RecordType("postpartum", N_("産後の健康診査"), PostpartumCheck, "mother_id", "checked_on", (
        F("checked_on", N_("健診日"), K.DATE, True),
        F("days_after_birth", N_("産後日数"), K.INT, True, 0, 365),
        F("uterine_involution", N_("子宮復古"), K.CHOICE, choices=(
            ("good", N_("良")), ("poor", N_("不良")))),
        F("lochia", N_("悪露"), K.CHOICE, choices=(("normal", N_("正常")), ("abnormal", N_("異常")))),
        F("breasts", N_("乳房の状態"), K.CHOICE, choices=(("normal", N_("正常")), ("abnormal", N_("異常")))),
        F("systolic_bp", N_("血圧（最高）"), K.INT, False, 60, 250),
        F("diastolic_bp", N_("血圧（最低）"), K.INT, False, 30, 150),
        F("urine_protein", N_("尿蛋白"), K.CHOICE, choices=SIGNS),
        F("weight_kg", N_("体重（kg）"), K.DECIMAL, False, 25, 200),
    )),
    RecordType("checkup", N_("乳幼児健康診査"), ChildCheckup, "child_id", "checked_on", (
        F("occasion", N_("健診の時期"), K.CHOICE, True, choices=CHECKUP_OCCASIONS),
        F("checked_on", N_("健診日"), K.DATE, True),
        F("weight_kg", N_("体重（kg）"), K.DECIMAL, False, 0.2, 80),
        F("height_cm", N_("身長（cm）"), K.DECIMAL, False, 20, 200),
        F("chest_cm", N_("胸囲（cm）"), K.DECIMAL, False, 15, 120),
        F("head_cm", N_("頭囲（cm）"), K.DECIMAL, False, 15, 70),
        F("nutrition", N_("栄養状態"), K.CHOICE, choices=(
            ("good", N_("良")), ("watch", N_("要指導")))),
        F("feeding", N_("栄養法"), K.CHOICE, choices=(
            ("breast", N_("母乳")), ("mixed", N_("混合")), ("formula", N_("人工乳")))),
        F("findings", N_("健康状態"), K.CHOICE, choices=(
            ("healthy", N_("健康")), ("observe", N_("要観察")), ("refer", N_("要精密")),
            ("treating", N_("要治療")))),
        F("decayed_teeth", N_("むし歯の数"), K.INT, False, 0, 20),
        F("notes", N_("所見・指導事項"), K.LONGTEXT),
        F("facility", N_("施設名または担当者名"), K.TEXT),
    ), same_as=("occasion",)),
    RecordType("immunisation", N_("予防接種"), Immunisation, "child_id", "given_on", (
        F("vaccine", N_("ワクチン"), K.CHOICE, True, choices=VACCINE_CHOICES),
        F("dose_number", N_("回数"), K.INT, True, 1, 5),
        F("given_on", N_("接種日"), K.DATE, True),
        F("product", N_("製品名（ロタはロタリックス／ロタテック）"), K.CHOICE, choices=(
            (schedule.ROTARIX, N_("ロタリックス（1価）")),
            (schedule.ROTATEQ, N_("ロタテック（5価）")))),
        F("lot", N_("ロット番号"), K.TEXT),
        F("facility", N_("接種機関"), K.TEXT),
    ), same_as=("vaccine",)),
)}

MOTHER_RECORDS = ("pregnancy", "prenatal", "postpartum")
CHILD_RECORDS = ("birth", "checkup", "immunisation")
MEASURED = {"weight_kg": growth.Measure.WEIGHT, "height_cm": growth.Measure.HEIGHT,
            "head_cm": growth.Measure.HEAD}


# ---------------------------------------------------------------- validation

class RecordRefused(ValueError):
    """Values that cannot be stored; `errors` maps field name → Japanese message templates
    (with `args` for their placeholders)."""

    def __init__(self, errors: dict[str, list[tuple[str, dict]]]):
        super().__init__("record refused")
        self.errors = errors


@dataclass
class Checked:
    """Values that passed, and the percentile flags to show beside them."""
    values: dict[str, Any]
    flags: dict[str, growth.Classification] = field(default_factory=dict)


def check_record(record_type: RecordType, subject: Resident, values: dict[str, Any],
                 today: date) -> Checked:
    """Cross-field and age-dependent checks beyond each field's range: dates not in the
    future nor before birth, systolic above diastolic, and measurements plausible for the
    child's age (impossible → refused; outside 3rd–97th → flagged)."""
    errors: dict[str, list[tuple[str, dict]]] = {}

    def refuse(name: str, message: str, **args):
        errors.setdefault(name, []).append((message, args))

    values = _blanks_filled(record_type, values, refuse)
    day = values.get(record_type.date_field)
    if day is not None and day > today:
        refuse(record_type.date_field, N_("未来の日付は入力できません。"))
    if record_type.subject == "child_id" and day is not None and day < subject.birth_date:
        refuse(record_type.date_field, N_("生年月日より前の日付です。"))
    sys_bp, dia_bp = values.get("systolic_bp"), values.get("diastolic_bp")
    if sys_bp is not None and dia_bp is not None and sys_bp <= dia_bp:
        refuse("diastolic_bp", N_("最低血圧は最高血圧より低い値を入力してください。"))
    checked = Checked(values)
    if record_type.key == "checkup" and day is not None and day >= subject.birth_date:
        _check_growth(subject, values, day, checked, refuse)
    if errors:
        raise RecordRefused(errors)
    return checked


def _blanks_filled(record_type: RecordType, values: dict[str, Any], refuse) -> dict[str, Any]:
    """`values` with each field left empty whose column holds no NULL set to the column's
    default: gestational days left empty mean 0 days. On insert the default would fill it,
    but an amendment writes the value itself, and NULL there fails the whole request. A
    NULL-free column without a default is refused as an empty required field would be."""
    columns = record_type.model.__table__.c
    filled = dict(values)
    for name, value in values.items():
        column = columns[name]
        if value is not None or column.nullable:
            continue
        if column.default is not None and column.default.is_scalar:
            filled[name] = column.default.arg
        else:
            refuse(name, N_("入力してください。"))
    return filled


def _check_growth(child: Resident, values: dict, day: date, checked: Checked, refuse) -> None:
    months = growth.age_months(child.birth_date, day)
    sex = growth.sex_key(child.sex.value if hasattr(child.sex, "value") else child.sex)
    for name, measure in MEASURED.items():
        value = values.get(name)
        if value is None:
            continue
        verdict = growth.classify(measure, sex, months, float(value))
        if verdict.refused:
            refuse(name, verdict.message, **verdict.args)
        elif verdict.flagged:
            checked.flags[name] = verdict


# ---------------------------------------------------------------- writing

def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class Author:
    """The staff member writing (職員)."""
    id: int | None
    name: str


class LikelyDuplicate(ValueError):
    """The entry looks like records already kept (`rows`): asked about, not refused."""

    def __init__(self, rows: list):
        super().__init__("likely duplicate")
        self.rows = rows


def create_record(db: Session, record_type: RecordType, subject: Resident, values: dict,
                  author: Author, today: date, confirmed: Iterable[int] = (),
                  **links) -> tuple[Any, Checked]:
    """Check and add a record about `subject`; flushes, commits with the caller. Raises
    LikelyDuplicate when records of the same day and kind exist, unless `confirmed` names
    exactly those (the staff member saw them and asked for one more)."""
    checked = check_record(record_type, subject, values, today)
    _unless_confirmed(likely_duplicates(db, record_type, subject, checked.values), confirmed)
    row = record_type.model(**checked.values, **links,
                            **{record_type.subject: subject.id},
                            entered_by_id=author.id, entered_by_name=author.name,
                            entered_at=_now())
    _store_flags(row, checked)
    db.add(row)
    db.flush()
    return row, checked


def _unless_confirmed(duplicates: list, confirmed: Iterable[int]) -> None:
    """Raise LikelyDuplicate unless `confirmed` names exactly the records found: a tick
    confirms the records the staff member was shown, not others found since."""
    if duplicates and [row.id for row in duplicates] != list(confirmed):
        raise LikelyDuplicate(duplicates)


def likely_duplicates(db: Session, record_type: RecordType, subject: Resident,
                      values: dict, besides: int | None = None) -> list:
    """Records of `subject` already kept of the same type, day (and occasion or vaccine):
    what entering the same paper twice would make. Staff are asked before one more is
    added, not refused: two entries on one day can be right (a re-measurement).
    `besides` is the id of a record being amended, which is no duplicate of itself."""
    day = values.get(record_type.date_field)
    if day is None:
        return []
    model = record_type.model
    criteria = [getattr(model, record_type.subject) == subject.id,
                getattr(model, record_type.date_field) == day]
    criteria += [getattr(model, name) == values[name] for name in record_type.same_as
                 if values.get(name) is not None]
    if besides is not None:
        criteria.append(model.id != besides)
    return list(db.scalars(scoped(model, *criteria).order_by(model.id)))


def amend_record(db: Session, record_type: RecordType, row, subject: Resident, values: dict,
                 reason: str, author: Author, today: date,
                 confirmed: Iterable[int] = ()) -> tuple[list[Amendment], Checked]:
    """Correct a record: every changed field gets an Amendment keeping the old value, the
    new one, who, when and why. Refuses an empty reason or no change at all. Raises
    LikelyDuplicate, as create_record does, when the correction moves the record onto the
    day (occasion, vaccine) of others, unless `confirmed` names exactly those."""
    if not reason.strip():
        raise RecordRefused({"reason": [(N_("訂正の理由を入力してください。"), {})]})
    checked = check_record(record_type, subject, values, today)
    changes = [(name, getattr(row, name), value) for name, value in checked.values.items()
               if _text(getattr(row, name)) != _text(value)]
    if not changes:
        raise RecordRefused({"reason": [(N_("変更された項目がありません。"), {})]})
    # asked only when the day or occasion changes: a record that stays where it is was
    # asked about (or confirmed) when entered, and correcting its weight is no new entry
    if {name for name, _old, _new in changes} & {record_type.date_field, *record_type.same_as}:
        _unless_confirmed(likely_duplicates(db, record_type, subject, checked.values,
                                            besides=row.id), confirmed)
    when = _now()
    amendments = []
    for name, old, new in changes:
        amendments.append(Amendment(
            record_type=record_type.key, record_id=row.id, subject_resident_id=subject.id,
            field_name=name, old_value=_text(old), new_value=_text(new), reason=reason.strip(),
            amended_by_id=author.id, amended_by_name=author.name, amended_at=when))
        setattr(row, name, new)
    _store_flags(row, checked)
    db.add_all(amendments)
    db.flush()
    return amendments, checked


def _store_flags(row, checked: Checked) -> None:
    if not isinstance(row, ChildCheckup):
        return
    for name in MEASURED:
        flag = checked.flags.get(name)
        setattr(row, name.split("_")[0] + "_flag", flag.position if flag else None)


def _text(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@event.listens_for(Session, "before_flush")
def _amendments_are_permanent(session: Session, _ctx, _instances) -> None:
    """The amendment history is evidence: rows are added, never changed or removed."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, Amendment) and (obj in session.deleted or session.is_modified(obj)):
            raise PermissionError("amendment history cannot be changed")


def amendments_for(db: Session, subject_id: int) -> list[Amendment]:
    return list(db.scalars(scoped(Amendment, Amendment.subject_resident_id == subject_id)
                           .order_by(Amendment.amended_at.desc(), Amendment.id.desc())))


# ---------------------------------------------------------------- reading

def find_resident(db: Session, resident_id: int) -> Resident | None:
    """A resident of the session's city (None for another city's id: the scope hides it)."""
    return db.scalar(scoped(Resident, Resident.id == resident_id))


def find_record(db: Session, record_type: RecordType, record_id: int):
    return db.scalar(scoped(record_type.model, record_type.model.id == record_id))


def search_residents(db: Session, query: str, limit: int = 50) -> SearchResult:
    """Residents of the city whose name, kana or resident number matches, youngest first
    (the handbook is mostly about children); at most `limit`, and whether there are more."""
    return find_residents(db, query, Resident.birth_date.desc(), limit=limit)


@dataclass
class Handbook:
    """Everything of one child's pages: birth, checkups, immunisations and schedule. The
    records are rows with the models' column names (read, never written through)."""
    child: Resident
    birth: BirthRecord | None
    checkups: list[ChildCheckup]
    immunisations: list[Immunisation]
    schedule: list[schedule.VaccineStatus]
    today: date | None = None          # the day the schedule was worked out for


def child_handbook(db: Session, child: Resident, today: date) -> Handbook:
    """Read as rows (the pages only read them); ordered by the indexed date, so the
    planner takes the child's index."""
    births = _BIRTHS(db, child_id=child.id)
    checkups = _CHECKUPS(db, child_id=child.id)
    doses = _DOSES(db, child_id=child.id)
    birth = births[0] if births else None
    return Handbook(child, birth, checkups, doses,
                    list(schedule_of(child.birth_date, tuple(to_doses(doses)), today)), today)


_BIRTHS = Rows(BirthRecord, BirthRecord.child_id == bindparam("child_id"),
               order_by=(BirthRecord.born_on.desc(), BirthRecord.id.desc()))
_CHECKUPS = Rows(ChildCheckup, ChildCheckup.child_id == bindparam("child_id"),
                 order_by=(ChildCheckup.checked_on, ChildCheckup.id))
_DOSES = Rows(Immunisation, Immunisation.child_id == bindparam("child_id"),
              order_by=(Immunisation.given_on, Immunisation.id))


@lru_cache(maxsize=4096)
def schedule_of(birth: date, doses: tuple[schedule.Dose, ...], today: date) -> tuple:
    """The schedule is a pure function of the birth date, the doses and the day: kept per
    worker, so a page seen again does not work it out again. A new or amended dose is a
    different key — the cache needs no invalidation."""
    return tuple(schedule.schedule_for(birth, list(doses), today))


def to_doses(rows: Iterable[Immunisation]) -> list[schedule.Dose]:
    out = []
    for row in rows:
        try:
            out.append(schedule.Dose(schedule.Vaccine(row.vaccine), row.given_on, row.product))
        except ValueError:   # a vaccine outside the routine schedule: not the engine's business
            continue
    return out


def growth_points(book: Handbook, measure: growth.Measure) -> list[growth.Point]:
    """The child's measurements of `measure` (birth record first), flags included."""
    column = {growth.Measure.WEIGHT: "weight_kg", growth.Measure.HEIGHT: "height_cm",
              growth.Measure.HEAD: "head_cm"}[measure]
    points = []
    if book.birth is not None:
        at_birth = getattr(book.birth, "length_cm" if column == "height_cm" else column)
        if at_birth is not None:
            points.append(growth.Point(book.birth.born_on, float(at_birth)))
    for row in book.checkups:
        value = getattr(row, column)
        if value is not None:
            points.append(growth.Point(row.checked_on, float(value),
                                       getattr(row, column.split("_")[0] + "_flag") is not None))
    return points


@dataclass
class MotherRecords:
    pregnancies: list[Pregnancy]
    prenatal: list[PrenatalCheckup]
    postpartum: list[PostpartumCheck]


def mother_records(db: Session, mother_id: int) -> MotherRecords:
    return MotherRecords(
        list(db.scalars(scoped(Pregnancy, Pregnancy.mother_id == mother_id)
                        .order_by(Pregnancy.notified_on.desc()))),
        list(db.scalars(scoped(PrenatalCheckup, PrenatalCheckup.mother_id == mother_id)
                        .order_by(PrenatalCheckup.checked_on))),
        list(db.scalars(scoped(PostpartumCheck, PostpartumCheck.mother_id == mother_id)
                        .order_by(PostpartumCheck.checked_on))))


@dataclass(frozen=True)
class TimelineEntry:
    """One step of the pregnancy timeline (妊娠の経過)."""
    on: date
    label: str
    detail: str = ""
    args: dict = field(default_factory=dict)


def pregnancy_timeline(pregnancy: Pregnancy, checkups: list[PrenatalCheckup]) -> list[TimelineEntry]:
    entries = [TimelineEntry(pregnancy.notified_on, N_("妊娠届出"))]
    if pregnancy.first_visit_on:
        entries.append(TimelineEntry(pregnancy.first_visit_on, N_("初診")))
    if pregnancy.quickening_on:
        entries.append(TimelineEntry(pregnancy.quickening_on, N_("胎動を感じた日")))
    for c in checkups:
        if c.pregnancy_id == pregnancy.id:
            entries.append(TimelineEntry(c.checked_on, N_("妊婦健康診査"),
                                         N_("妊娠%(w)s週%(d)s日"),
                                         {"w": c.gestational_weeks, "d": c.gestational_days}))
    if pregnancy.expected_delivery_on:
        entries.append(TimelineEntry(pregnancy.expected_delivery_on, N_("出産予定日")))
    return sorted(entries, key=lambda e: e.on)


# ---------------------------------------------------------------- worklists

@dataclass(frozen=True)
class WorklistRow:
    """A child to remind (未接種者・未受診者への勧奨) and why."""
    child: Resident
    item: str                        # vaccine label or checkup label (msgid)
    reasons: tuple[str, ...]         # why, as msgids filled from reason_args
    reason_args: dict
    since: date | None

    def explain(self, translate=lambda m: m, day=None) -> str:
        """The reason in the reader's language (views pass gettext and the locale's date
        format; Japanese otherwise)."""
        return schedule.fill(self.reasons, self.reason_args, translate, day)


def children_of_city(db: Session, today: date) -> list[Resident]:
    """Active residents young enough for the routine schedule (under 13)."""
    cutoff = schedule.add_months(today, -156)
    return list(db.scalars(scoped(Resident, Resident.birth_date > cutoff,
                                  Resident.status == ResidentStatus.ACTIVE)
                           .order_by(Resident.birth_date)))


def worklist(db: Session, today: date) -> list[WorklistRow]:
    """Children of the city overdue for a vaccine or a statutory checkup."""
    children = children_of_city(db, today)
    ids = [c.id for c in children]
    doses: dict[int, list[Immunisation]] = {}
    occasions: dict[int, set[str]] = {}
    for chunk in _chunks(ids, 500):
        for row in db.scalars(scoped(Immunisation, Immunisation.child_id.in_(chunk))):
            doses.setdefault(row.child_id, []).append(row)
        for child_id, occasion in db.execute(
                scoped(ChildCheckup).with_only_columns(ChildCheckup.child_id, ChildCheckup.occasion)
                .where(ChildCheckup.child_id.in_(chunk))):
            occasions.setdefault(child_id, set()).add(occasion)
    rows: list[WorklistRow] = []
    for child in children:
        statuses = schedule.schedule_for(child.birth_date, to_doses(doses.get(child.id, [])), today)
        for s in schedule.overdue(statuses):
            rows.append(WorklistRow(child, s.label, s.reasons, s.reason_args,
                                    s.window.end if s.window else None))
        rows += _missed_checkups(child, occasions.get(child.id, set()), today)
    return rows


def _missed_checkups(child: Resident, had: set[str], today: date) -> list[WorklistRow]:
    labels = dict(CHECKUP_OCCASIONS)
    rows = []
    for occasion, first, late, end in STATUTORY_CHECKUPS:
        late_from = schedule.add_months(child.birth_date, late)
        if occasion not in had and late_from <= today < schedule.add_months(child.birth_date, end):
            last = schedule.before_months(child.birth_date, end)
            rows.append(WorklistRow(child, labels[occasion], (N_("未受診です（%(last)sまで受診できます）。"),),
                                    {"last": last}, late_from))
    return rows


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]
