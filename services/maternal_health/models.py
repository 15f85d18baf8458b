"""Tables of the maternal_health service (母子健康手帳); every name starts with
`maternal_health_`.

Records are entered by health staff and never overwritten silently: a correction updates
the row *and* writes an `Amendment` per changed field holding the old value, the new one,
who, when and why. Lookups go by person and date through two-column indexes: with
only single-column ones, SQLite may pick the municipality index (every row of the city)
over the person's — the tenancy filter adds `municipality_id = ?` to every query.
Measurements are Numeric (exact decimals as written in the handbook)
read back as float. Clock times of birth are kept as written ("HH:MM", local), not as UTC
instants: the handbook records the local time of birth.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.api import Base, TenantScoped


def _measure(precision: int = 6, scale: int = 2):
    return mapped_column(Numeric(precision, scale, asdecimal=False), nullable=True)


class _Entered:
    """Who entered a record and when (UTC, naive)."""
    entered_by_id: Mapped[int | None] = mapped_column(nullable=True)
    entered_by_name: Mapped[str] = mapped_column(String(64), default="")
    entered_at: Mapped[datetime] = mapped_column(DateTime)


class Pregnancy(_Entered, TenantScoped, Base):
    """妊娠届出 — the registration that opens a handbook."""

    __tablename__ = "maternal_health_pregnancy"
    __table_args__ = (Index("ix_maternal_health_pregnancy_mother_date", "mother_id", "notified_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mother_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    notified_on: Mapped[date] = mapped_column(Date)               # 妊娠届出日
    last_menstrual_period: Mapped[date | None] = mapped_column(Date)
    expected_delivery_on: Mapped[date | None] = mapped_column(Date)   # 出産予定日
    mother_height_cm: Mapped[float | None] = _measure(5, 1)
    pre_pregnancy_weight_kg: Mapped[float | None] = _measure(5, 1)
    first_visit_on: Mapped[date | None] = mapped_column(Date)
    quickening_on: Mapped[date | None] = mapped_column(Date)      # 胎動を感じた日
    blood_type_abo: Mapped[str | None] = mapped_column(String(2))
    blood_type_rh: Mapped[str | None] = mapped_column(String(1))
    syphilis_result: Mapped[str | None] = mapped_column(String(16))
    syphilis_tested_on: Mapped[date | None] = mapped_column(Date)
    hbs_antigen_result: Mapped[str | None] = mapped_column(String(16))
    hbs_antigen_tested_on: Mapped[date | None] = mapped_column(Date)

    @property
    def bmi(self) -> float | None:
        """Pre-pregnancy BMI (非妊娠時BMI)."""
        if not (self.mother_height_cm and self.pre_pregnancy_weight_kg):
            return None
        return round(self.pre_pregnancy_weight_kg / (self.mother_height_cm / 100) ** 2, 1)


class PrenatalCheckup(_Entered, TenantScoped, Base):
    """妊婦健康診査 — one prenatal visit."""

    __tablename__ = "maternal_health_prenatal_checkup"
    __table_args__ = (Index("ix_maternal_health_prenatal_checkup_mother_date", "mother_id", "checked_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pregnancy_id: Mapped[int] = mapped_column(ForeignKey("maternal_health_pregnancy.id"), index=True)
    mother_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    checked_on: Mapped[date] = mapped_column(Date)
    gestational_weeks: Mapped[int]
    gestational_days: Mapped[int] = mapped_column(default=0)
    fundal_height_cm: Mapped[float | None] = _measure(4, 1)     # 子宮底長
    abdominal_girth_cm: Mapped[float | None] = _measure(5, 1)   # 腹囲
    systolic_bp: Mapped[int | None]
    diastolic_bp: Mapped[int | None]
    oedema: Mapped[str | None] = mapped_column(String(4))        # − / + / ++
    urine_protein: Mapped[str | None] = mapped_column(String(4))
    urine_glucose: Mapped[str | None] = mapped_column(String(4))
    weight_kg: Mapped[float | None] = _measure(5, 1)
    other_tests: Mapped[str | None] = mapped_column(Text)
    instructions: Mapped[str | None] = mapped_column(Text)       # 特記指示
    facility: Mapped[str | None] = mapped_column(String(100))


class BirthRecord(_Entered, TenantScoped, Base):
    """出産の状態 — one baby's birth (a multiple birth has one record per baby)."""

    __tablename__ = "maternal_health_birth"
    __table_args__ = (Index("ix_maternal_health_birth_child_date", "child_id", "born_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mother_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    pregnancy_id: Mapped[int | None] = mapped_column(ForeignKey("maternal_health_pregnancy.id"))
    born_on: Mapped[date] = mapped_column(Date)
    born_time: Mapped[str | None] = mapped_column(String(5))     # "HH:MM" local
    gestational_weeks: Mapped[int]
    gestational_days: Mapped[int] = mapped_column(default=0)
    presentation: Mapped[str | None] = mapped_column(String(16))   # 頭位・骨盤位…
    delivery_method: Mapped[str | None] = mapped_column(String(32))
    labour_minutes: Mapped[int | None]
    blood_loss_ml: Mapped[int | None]
    transfusion: Mapped[bool] = mapped_column(Boolean, default=False)
    multiplicity: Mapped[str | None] = mapped_column(String(8))   # 単胎・多胎
    weight_kg: Mapped[float | None] = _measure(5, 3)
    length_cm: Mapped[float | None] = _measure(4, 1)
    chest_cm: Mapped[float | None] = _measure(4, 1)
    head_cm: Mapped[float | None] = _measure(4, 1)
    findings: Mapped[str | None] = mapped_column(Text)
    attendant: Mapped[str | None] = mapped_column(String(64))
    place: Mapped[str | None] = mapped_column(String(100))


class PostpartumCheck(_Entered, TenantScoped, Base):
    """産後の健康診査."""

    __tablename__ = "maternal_health_postpartum_check"
    __table_args__ = (Index("ix_maternal_health_postpartum_check_mother_date", "mother_id", "checked_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mother_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    checked_on: Mapped[date] = mapped_column(Date)
    days_after_birth: Mapped[int]
    uterine_involution: Mapped[str | None] = mapped_column(String(32))  # 子宮復古
    lochia: Mapped[str | None] = mapped_column(String(32))              # 悪露
    breasts: Mapped[str | None] = mapped_column(String(32))
    systolic_bp: Mapped[int | None]
    diastolic_bp: Mapped[int | None]
    urine_protein: Mapped[str | None] = mapped_column(String(4))
    weight_kg: Mapped[float | None] = _measure(5, 1)


class ChildCheckup(_Entered, TenantScoped, Base):
    """乳幼児健康診査 (newborn and routine ages). The `*_flag` columns hold the percentile
    position when a measurement was outside the 3rd–97th band (else NULL)."""

    __tablename__ = "maternal_health_child_checkup"
    __table_args__ = (Index("ix_maternal_health_child_checkup_child_date", "child_id", "checked_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    occasion: Mapped[str] = mapped_column(String(16))   # see services.CHECKUP_OCCASIONS
    checked_on: Mapped[date] = mapped_column(Date)
    weight_kg: Mapped[float | None] = _measure(5, 3)
    height_cm: Mapped[float | None] = _measure(4, 1)
    chest_cm: Mapped[float | None] = _measure(4, 1)
    head_cm: Mapped[float | None] = _measure(4, 1)
    weight_flag: Mapped[str | None] = mapped_column(String(8))
    height_flag: Mapped[str | None] = mapped_column(String(8))
    head_flag: Mapped[str | None] = mapped_column(String(8))
    nutrition: Mapped[str | None] = mapped_column(String(32))
    feeding: Mapped[str | None] = mapped_column(String(16))     # 母乳・混合・人工
    findings: Mapped[str | None] = mapped_column(String(16))    # 健康・要観察・要精密…
    decayed_teeth: Mapped[int | None]
    notes: Mapped[str | None] = mapped_column(Text)
    facility: Mapped[str | None] = mapped_column(String(100))


class Immunisation(_Entered, TenantScoped, Base):
    """予防接種 — one dose given."""

    __tablename__ = "maternal_health_immunisation"
    __table_args__ = (Index("ix_maternal_health_immunisation_child_date", "child_id", "given_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    vaccine: Mapped[str] = mapped_column(String(16))       # schedule.Vaccine
    dose_number: Mapped[int]
    given_on: Mapped[date] = mapped_column(Date)
    product: Mapped[str | None] = mapped_column(String(32))  # e.g. rotarix / rotateq
    lot: Mapped[str | None] = mapped_column(String(32))
    facility: Mapped[str | None] = mapped_column(String(100))


class Amendment(TenantScoped, Base):
    """訂正履歴 — one changed field of one record: old and new value, who, when, why."""

    __tablename__ = "maternal_health_amendment"
    __table_args__ = (Index("ix_maternal_health_amendment_record", "record_type", "record_id"),
                      Index("ix_maternal_health_amendment_subject_date", "subject_resident_id",
                            "amended_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int]
    subject_resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    field_name: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    amended_by_id: Mapped[int | None]
    amended_by_name: Mapped[str] = mapped_column(String(64))
    amended_at: Mapped[datetime] = mapped_column(DateTime)
