"""Tables of the medication service (お薬手帳); every table name starts with `medication_`.

One imported JAHIS document (`MedicationDocument`) holds its canonical text, so exports
give back exactly what was read; the rows below it are what the views query. Every row
names the resident it belongs to, so access checks need no joins."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.api import Base, TenantScoped


def _resident_id() -> Mapped[int]:
    return mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), index=True)


class MedicationDocument(TenantScoped, Base):
    """One imported JAHIS document (お薬手帳データ). `content_hash` is the SHA-256 of its
    canonical text: the same document imported again is recognised and changes nothing."""

    __tablename__ = "medication_document"
    __table_args__ = (UniqueConstraint("resident_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = _resident_id()
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # file, text, qr
    jahis_version: Mapped[str] = mapped_column(String(2))
    output_kind: Mapped[str] = mapped_column(String(1))
    canonical_text: Mapped[str] = mapped_column(Text)
    patient_name: Mapped[str] = mapped_column(String(128), default="")
    patient_birth_date: Mapped[date | None]
    imported_at: Mapped[datetime]
    imported_by: Mapped[str] = mapped_column(String(80))  # "resident:12" / "staff:3"
    records_written: Mapped[int] = mapped_column(default=0)


class MedicationVisit(TenantScoped, Base):
    """調剤 (one dispensing: record 5 with its pharmacy 11, pharmacist 15, prescriber 51)."""

    __tablename__ = "medication_visit"
    __table_args__ = (UniqueConstraint("resident_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = _resident_id()
    document_id: Mapped[int] = mapped_column(ForeignKey("medication_document.id"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))  # the same visit from two documents
    dispensed_on: Mapped[date] = mapped_column(index=True)
    pharmacy_name: Mapped[str] = mapped_column(String(200), default="")
    pharmacy_code: Mapped[str] = mapped_column(String(16), default="")
    pharmacy_prefecture: Mapped[str] = mapped_column(String(4), default="")
    pharmacy_address: Mapped[str] = mapped_column(String(200), default="")
    pharmacy_phone: Mapped[str] = mapped_column(String(40), default="")
    pharmacist_name: Mapped[str] = mapped_column(String(100), default="")
    pharmacist_contact: Mapped[str] = mapped_column(String(100), default="")
    prescriber_name: Mapped[str] = mapped_column(String(200), default="")
    prescriber_code: Mapped[str] = mapped_column(String(16), default="")

    rps: Mapped[list["MedicationRp"]] = relationship(
        order_by="MedicationRp.position", cascade="all, delete-orphan")
    notes: Mapped[list["MedicationVisitNote"]] = relationship(
        order_by="MedicationVisitNote.id", cascade="all, delete-orphan")

    @property
    def pharmacy_key(self) -> str:
        """Which pharmacy: its institution code when given, else its name."""
        return self.pharmacy_code or self.pharmacy_name


class MedicationRp(TenantScoped, Base):
    """RP (剤): drugs taken together under one usage, prescribed by one doctor (55)."""

    __tablename__ = "medication_rp"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = _resident_id()
    visit_id: Mapped[int] = mapped_column(ForeignKey("medication_visit.id"), index=True)
    position: Mapped[int]
    rp_number: Mapped[int]
    doctor_name: Mapped[str] = mapped_column(String(100), default="")
    doctor_department: Mapped[str] = mapped_column(String(100), default="")

    drugs: Mapped[list["MedicationDrug"]] = relationship(
        order_by="MedicationDrug.position", cascade="all, delete-orphan")
    usage: Mapped["MedicationUsage | None"] = relationship(cascade="all, delete-orphan")


class MedicationDrug(TenantScoped, Base):
    """薬品 (record 201, with its supplements 281 and cautions 291)."""

    __tablename__ = "medication_drug"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = _resident_id()
    rp_id: Mapped[int] = mapped_column(ForeignKey("medication_rp.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("medication_visit.id"), index=True)
    dispensed_on: Mapped[date] = mapped_column(index=True)  # the visit's, for queries
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    search_text: Mapped[str] = mapped_column(String(400), index=True)  # NFKC, for search
    dose: Mapped[str] = mapped_column(String(20), default="")
    unit: Mapped[str] = mapped_column(String(40), default="")
    code_kind: Mapped[str] = mapped_column(String(2), default="")
    code: Mapped[str] = mapped_column(String(20), default="")
    generic_name: Mapped[str] = mapped_column(String(200), default="")
    generic_code_kind: Mapped[str] = mapped_column(String(2), default="")
    generic_code: Mapped[str] = mapped_column(String(20), default="")
    supplements: Mapped[str] = mapped_column(Text, default="")
    cautions: Mapped[str] = mapped_column(Text, default="")

    visit: Mapped[MedicationVisit] = relationship()


class MedicationUsage(TenantScoped, Base):
    """用法 (record 301, one per RP, with supplements 311 and cautions 391). `days` is the
    number of days the RP lasts, known only when the quantity counts days (内服)."""

    __tablename__ = "medication_usage"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = _resident_id()
    rp_id: Mapped[int] = mapped_column(ForeignKey("medication_rp.id"), unique=True)
    text: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[str] = mapped_column(String(20), default="")
    quantity_unit: Mapped[str] = mapped_column(String(40), default="")
    dosage_form: Mapped[str] = mapped_column(String(2), default="")
    code_kind: Mapped[str] = mapped_column(String(2), default="")
    code: Mapped[str] = mapped_column(String(40), default="")
    days: Mapped[int | None] = mapped_column(Integer)
    supplements: Mapped[str] = mapped_column(Text, default="")
    cautions: Mapped[str] = mapped_column(Text, default="")


class MedicationVisitNote(TenantScoped, Base):
    """Notes of one visit: 服用注意 (401), 医療機関等提供情報 (411), 残薬確認 (421),
    備考 (501), 患者等記入 (601) — `kind` says which."""

    __tablename__ = "medication_visit_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = _resident_id()
    visit_id: Mapped[int] = mapped_column(ForeignKey("medication_visit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # caution, institution, leftover, remark, patient
    info_kind: Mapped[str] = mapped_column(String(4), default="")  # 411's 提供情報種別
    text: Mapped[str] = mapped_column(Text)
    written_on: Mapped[date | None]


class MedicationPatientNote(TenantScoped, Base):
    """患者特記 (record 2): allergies (1), adverse reactions (2), past illnesses (3)…"""

    __tablename__ = "medication_patient_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = _resident_id()
    document_id: Mapped[int] = mapped_column(ForeignKey("medication_document.id"), index=True)
    kind: Mapped[str] = mapped_column(String(2))
    text: Mapped[str] = mapped_column(Text)


class MedicationOtcDrug(TenantScoped, Base):
    """一般用医薬品 taken (record 3), its ingredients (31) joined by 「、」."""

    __tablename__ = "medication_otc_drug"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = _resident_id()
    document_id: Mapped[int] = mapped_column(ForeignKey("medication_document.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    jan_code: Mapped[str] = mapped_column(String(20), default="")
    ingredients: Mapped[str] = mapped_column(Text, default="")


class MedicationMemo(TenantScoped, Base):
    """手帳メモ (4), 患者等記入 outside a visit (601) and かかりつけ薬剤師 (701)."""

    __tablename__ = "medication_memo"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = _resident_id()
    document_id: Mapped[int] = mapped_column(ForeignKey("medication_document.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # memo, patient, family_pharmacist
    text: Mapped[str] = mapped_column(Text)
    written_on: Mapped[date | None]


# --- the drug code master (national data, shared by every city) -------------------------
# Not TenantScoped and no foreign key to a city's rows, like the joint cloud's cost tables:
# the published masters are the same for every municipality, hold nothing personal, are
# loaded once for the deployment and are neither exported with a leaving city nor counted
# as its storage.


class MedicationMasterVersion(Base):
    """The master loaded from one publisher (`source`: hot = MEDIS-DC 医薬品HOTコードマスター,
    ssk = 支払基金 医薬品マスター): which file, of which date. One row per source."""

    __tablename__ = "medication_master_version"

    source: Mapped[str] = mapped_column(String(8), primary_key=True)
    file_name: Mapped[str] = mapped_column(String(200))
    version_date: Mapped[date]
    content_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the file's bytes
    records: Mapped[int]          # data lines of the file
    codes: Mapped[int]            # rows of medication_master_code it gave
    loaded_at: Mapped[datetime]
    loaded_by: Mapped[str] = mapped_column(String(80))


class MedicationMasterCode(Base):
    """One drug code of a JAHIS code kind (2 レセ電, 6 HOT) and the 薬価基準収載医薬品コード
    the master maps it to: its first 7 characters name the ingredient and route, its first
    4 the therapeutic class (薬効分類)."""

    __tablename__ = "medication_master_code"
    __table_args__ = (Index("ix_medication_master_code_code", "code"),)

    source: Mapped[str] = mapped_column(String(8), primary_key=True)
    code_kind: Mapped[str] = mapped_column(String(2), primary_key=True)
    code: Mapped[str] = mapped_column(String(13), primary_key=True)
    structured_code: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(200), default="")
