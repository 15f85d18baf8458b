"""JAHIS 電子版お薬手帳データフォーマット: the records and how their fields are typed.

Every line record is a dataclass whose *line fields* are listed, in order, in `FIELDS`
(the record number and, for RP-keyed records, the RP number are handled by the reader and
writer). Attributes not in `FIELDS` hold the records nested under it (a visit's pharmacy,
an RP's drugs…). Text stays as written (half-width kana included); only dates are
converted, because the same day may be written `20200410` or `R020410`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar

# Field kinds: N any text, X alphanumeric, 9 digits, D decimal, DATE a date (→ datetime.date).
TEXT, ALNUM, DIGITS, DECIMAL, DATE = "N", "X", "9", "D", "DATE"


@dataclass(frozen=True)
class FieldSpec:
    """One field of a line record: attribute name, Japanese label (for diagnostics),
    kind and whether the record means nothing without it."""

    attr: str
    label: str
    kind: str = TEXT
    required: bool = False


def _f(attr, label, kind=TEXT, required=False) -> FieldSpec:
    return FieldSpec(attr, label, kind, required)


CREATOR = _f("creator", "レコード作成者", DIGITS)


@dataclass
class PatientRecord:
    """1 患者情報レコード."""
    NUMBER: ClassVar[str] = "1"
    LABEL: ClassVar[str] = "患者情報"
    FIELDS: ClassVar[tuple] = (
        _f("name", "患者氏名", required=True), _f("sex", "性別", DIGITS),
        _f("birth_date", "生年月日", DATE), _f("postcode", "郵便番号", ALNUM),
        _f("address", "住所"), _f("phone", "電話番号", ALNUM),
        _f("emergency_contact", "緊急連絡先"), _f("blood_type", "血液型", ALNUM),
        _f("weight", "体重", DECIMAL), _f("name_kana", "患者カナ氏名"))
    name: str = ""
    sex: str = ""
    birth_date: date | None = None
    postcode: str = ""
    address: str = ""
    phone: str = ""
    emergency_contact: str = ""
    blood_type: str = ""
    weight: str = ""
    name_kana: str = ""


PATIENT_NOTE_KINDS = {"1": "アレルギー歴", "2": "副作用歴", "3": "既往歴", "9": "その他"}


@dataclass
class PatientNote:
    """2 患者特記レコード (allergy, adverse reaction, past illness)."""
    NUMBER: ClassVar[str] = "2"
    LABEL: ClassVar[str] = "患者特記"
    FIELDS: ClassVar[tuple] = (_f("kind", "特記種別", DIGITS, True),
                               _f("text", "患者特記", required=True), CREATOR)
    kind: str = ""
    text: str = ""
    creator: str = ""


@dataclass
class OtcIngredient:
    """31 一般用医薬品の成分 (of the OTC drug with the same serial)."""
    NUMBER: ClassVar[str] = "31"
    LABEL: ClassVar[str] = "一般用医薬品成分"
    FIELDS: ClassVar[tuple] = (_f("otc_serial", "一般用医薬品連番", DIGITS),
                               _f("name", "成分名", required=True),
                               _f("code_kind", "成分コード種別", DIGITS),
                               _f("code", "成分コード", ALNUM), CREATOR)
    otc_serial: str = ""
    name: str = ""
    code_kind: str = ""
    code: str = ""
    creator: str = ""


@dataclass
class OtcDrug:
    """3 一般用医薬品服用レコード."""
    NUMBER: ClassVar[str] = "3"
    LABEL: ClassVar[str] = "一般用医薬品服用"
    FIELDS: ClassVar[tuple] = (_f("name", "薬品名称", required=True),
                               _f("start_date", "服用開始年月日", DATE),
                               _f("end_date", "服用終了年月日", DATE), CREATOR,
                               _f("serial", "一般用医薬品連番", DIGITS),
                               _f("jan_code", "JANコード", ALNUM))
    name: str = ""
    start_date: date | None = None
    end_date: date | None = None
    creator: str = ""
    serial: str = ""
    jan_code: str = ""
    ingredients: list[OtcIngredient] = field(default_factory=list)


@dataclass
class NotebookMemo:
    """4 手帳メモレコード."""
    NUMBER: ClassVar[str] = "4"
    LABEL: ClassVar[str] = "手帳メモ"
    FIELDS: ClassVar[tuple] = (_f("text", "手帳メモ", required=True),
                               _f("written_on", "メモ入力年月日", DATE), CREATOR)
    text: str = ""
    written_on: date | None = None
    creator: str = ""


@dataclass
class DispensingInstitution:
    """11 調剤－医療機関等レコード (the pharmacy that dispensed)."""
    NUMBER: ClassVar[str] = "11"
    LABEL: ClassVar[str] = "調剤医療機関"
    FIELDS: ClassVar[tuple] = (
        _f("name", "医療機関等名称", required=True), _f("prefecture", "都道府県コード", DIGITS),
        _f("score_table", "点数表コード", DIGITS), _f("code", "医療機関等コード", DIGITS),
        _f("postcode", "郵便番号", ALNUM), _f("address", "住所"),
        _f("phone", "電話番号", ALNUM), CREATOR)
    name: str = ""
    prefecture: str = ""
    score_table: str = ""
    code: str = ""
    postcode: str = ""
    address: str = ""
    phone: str = ""
    creator: str = ""


@dataclass
class Pharmacist:
    """15 調剤－医師・薬剤師レコード."""
    NUMBER: ClassVar[str] = "15"
    LABEL: ClassVar[str] = "調剤医師・薬剤師"
    FIELDS: ClassVar[tuple] = (_f("name", "氏名", required=True),
                               _f("contact", "連絡先"), CREATOR)
    name: str = ""
    contact: str = ""
    creator: str = ""


@dataclass
class PrescribingInstitution:
    """51 処方－医療機関レコード."""
    NUMBER: ClassVar[str] = "51"
    LABEL: ClassVar[str] = "処方医療機関"
    FIELDS: ClassVar[tuple] = (
        _f("name", "医療機関名称", required=True), _f("prefecture", "都道府県コード", DIGITS),
        _f("score_table", "点数表コード", DIGITS), _f("code", "医療機関コード", DIGITS),
        CREATOR)
    name: str = ""
    prefecture: str = ""
    score_table: str = ""
    code: str = ""
    creator: str = ""


@dataclass
class DrugSupplement:
    """281 薬品補足レコード."""
    NUMBER: ClassVar[str] = "281"
    LABEL: ClassVar[str] = "薬品補足"
    RP_KEYED: ClassVar[bool] = True
    FIELDS: ClassVar[tuple] = (_f("text", "薬品補足情報", required=True), CREATOR)
    text: str = ""
    creator: str = ""


@dataclass
class DrugCaution:
    """291 薬品服用注意レコード."""
    NUMBER: ClassVar[str] = "291"
    LABEL: ClassVar[str] = "薬品服用注意"
    RP_KEYED: ClassVar[bool] = True
    FIELDS: ClassVar[tuple] = (_f("text", "内容", required=True), CREATOR)
    text: str = ""
    creator: str = ""


DRUG_CODE_KINDS = {"1": "コードなし", "2": "レセプト電算処理システム用コード",
                   "3": "厚生労働省コード", "4": "YJコード", "6": "HOTコード"}


@dataclass
class Drug:
    """201 薬品レコード. `dose` is daily for 内服, per dose for 屯服, total otherwise."""
    NUMBER: ClassVar[str] = "201"
    LABEL: ClassVar[str] = "薬品"
    RP_KEYED: ClassVar[bool] = True
    FIELDS: ClassVar[tuple] = (
        _f("name", "薬品名称", required=True), _f("dose", "用量", DECIMAL),
        _f("unit", "単位名"), _f("code_kind", "薬品コード種別", DIGITS),
        _f("code", "薬品コード", ALNUM), CREATOR, _f("generic_name", "一般名"),
        _f("generic_code_kind", "一般名コード種別", DIGITS),
        _f("generic_code", "一般名コード", ALNUM))
    name: str = ""
    dose: str = ""
    unit: str = ""
    code_kind: str = ""
    code: str = ""
    creator: str = ""
    generic_name: str = ""
    generic_code_kind: str = ""
    generic_code: str = ""
    supplements: list[DrugSupplement] = field(default_factory=list)
    cautions: list[DrugCaution] = field(default_factory=list)


DOSAGE_FORMS = {"1": "内服", "2": "内滴", "3": "屯服", "4": "注射", "5": "外用",
                "6": "浸煎", "7": "湯", "9": "材料", "10": "その他"}


@dataclass
class Usage:
    """301 用法レコード (one per RP). `quantity` is days for 内服, doses for 屯服."""
    NUMBER: ClassVar[str] = "301"
    LABEL: ClassVar[str] = "用法"
    RP_KEYED: ClassVar[bool] = True
    FIELDS: ClassVar[tuple] = (
        _f("text", "用法名称", required=True), _f("quantity", "調剤数量", DECIMAL),
        _f("quantity_unit", "調剤単位"), _f("dosage_form", "剤型コード", DIGITS),
        _f("code_kind", "用法コード種別", DIGITS), _f("code", "用法コード", ALNUM), CREATOR)
    text: str = ""
    quantity: str = ""
    quantity_unit: str = ""
    dosage_form: str = ""
    code_kind: str = ""
    code: str = ""
    creator: str = ""


@dataclass
class UsageSupplement:
    """311 用法補足レコード."""
    NUMBER: ClassVar[str] = "311"
    LABEL: ClassVar[str] = "用法補足"
    RP_KEYED: ClassVar[bool] = True
    FIELDS: ClassVar[tuple] = (_f("text", "用法補足情報", required=True), CREATOR)
    text: str = ""
    creator: str = ""


@dataclass
class PrescriptionCaution:
    """391 処方服用注意レコード."""
    NUMBER: ClassVar[str] = "391"
    LABEL: ClassVar[str] = "処方服用注意"
    RP_KEYED: ClassVar[bool] = True
    FIELDS: ClassVar[tuple] = (_f("text", "内容", required=True), CREATOR)
    text: str = ""
    creator: str = ""


@dataclass
class Rp:
    """One RP (剤): the drugs taken together under one usage. Not a line of its own."""
    number: int
    drugs: list[Drug] = field(default_factory=list)
    usage: Usage | None = None
    usage_supplements: list[UsageSupplement] = field(default_factory=list)
    cautions: list[PrescriptionCaution] = field(default_factory=list)


@dataclass
class PrescribingDoctor:
    """55 処方－医師レコード; the RPs that follow belong to this doctor."""
    NUMBER: ClassVar[str] = "55"
    LABEL: ClassVar[str] = "処方医師"
    FIELDS: ClassVar[tuple] = (_f("name", "医師氏名", required=True),
                               _f("department", "診療科名"), CREATOR)
    name: str = ""
    department: str = ""
    creator: str = ""
    rps: list[Rp] = field(default_factory=list)


@dataclass
class VisitCaution:
    """401 服用注意レコード (for the whole visit)."""
    NUMBER: ClassVar[str] = "401"
    LABEL: ClassVar[str] = "服用注意"
    FIELDS: ClassVar[tuple] = (_f("text", "内容", required=True), CREATOR)
    text: str = ""
    creator: str = ""


INSTITUTION_NOTE_KINDS = {"30": "入院中副作用情報", "31": "退院時情報", "99": "その他"}


@dataclass
class InstitutionNote:
    """411 医療機関等提供情報レコード."""
    NUMBER: ClassVar[str] = "411"
    LABEL: ClassVar[str] = "医療機関等提供情報"
    FIELDS: ClassVar[tuple] = (_f("text", "内容", required=True),
                               _f("kind", "提供情報種別", DIGITS), CREATOR)
    text: str = ""
    kind: str = ""
    creator: str = ""


@dataclass
class LeftoverNote:
    """421 残薬確認レコード."""
    NUMBER: ClassVar[str] = "421"
    LABEL: ClassVar[str] = "残薬確認"
    FIELDS: ClassVar[tuple] = (_f("text", "内容", required=True), CREATOR)
    text: str = ""
    creator: str = ""


@dataclass
class Remark:
    """501 備考レコード."""
    NUMBER: ClassVar[str] = "501"
    LABEL: ClassVar[str] = "備考"
    FIELDS: ClassVar[tuple] = (_f("text", "備考情報", required=True), CREATOR)
    text: str = ""
    creator: str = ""


@dataclass
class PatientEntry:
    """601 患者等記入レコード (written by the patient; no creator field)."""
    NUMBER: ClassVar[str] = "601"
    LABEL: ClassVar[str] = "患者等記入"
    FIELDS: ClassVar[tuple] = (_f("text", "内容", required=True),
                               _f("written_on", "入力年月日", DATE))
    text: str = ""
    written_on: date | None = None


@dataclass
class UnknownRecord:
    """A record whose number this reader does not know: kept verbatim, written back."""
    number: str
    fields: tuple[str, ...] = ()
    line: int | None = field(default=None, compare=False)


@dataclass
class Visit:
    """5 調剤等年月日レコード — opens one dispensing visit (調剤) and holds what follows."""
    NUMBER: ClassVar[str] = "5"
    LABEL: ClassVar[str] = "調剤等年月日"
    FIELDS: ClassVar[tuple] = (_f("dispensed_on", "調剤等年月日", DATE, True), CREATOR)
    dispensed_on: date | None = None
    creator: str = ""
    pharmacy: DispensingInstitution | None = None
    pharmacists: list[Pharmacist] = field(default_factory=list)
    prescriber: PrescribingInstitution | None = None
    rps_without_doctor: list[Rp] = field(default_factory=list)
    doctors: list[PrescribingDoctor] = field(default_factory=list)
    cautions: list[VisitCaution] = field(default_factory=list)
    institution_notes: list[InstitutionNote] = field(default_factory=list)
    leftover_notes: list[LeftoverNote] = field(default_factory=list)
    remarks: list[Remark] = field(default_factory=list)
    patient_entries: list[PatientEntry] = field(default_factory=list)
    unknown: list[UnknownRecord] = field(default_factory=list)

    def all_rps(self) -> list[tuple[PrescribingDoctor | None, Rp]]:
        """Every RP of the visit with the doctor who prescribed it (None if not stated)."""
        pairs: list[tuple[PrescribingDoctor | None, Rp]] = [
            (None, rp) for rp in self.rps_without_doctor]
        for doctor in self.doctors:
            pairs.extend((doctor, rp) for rp in doctor.rps)
        return pairs


@dataclass
class FamilyPharmacist:
    """701 かかりつけ薬剤師レコード."""
    NUMBER: ClassVar[str] = "701"
    LABEL: ClassVar[str] = "かかりつけ薬剤師"
    FIELDS: ClassVar[tuple] = (_f("name", "薬剤師氏名", required=True),
                               _f("pharmacy", "勤務先薬局名称"), _f("contact", "連絡先"),
                               _f("start_date", "担当開始日", DATE),
                               _f("end_date", "担当終了日", DATE), CREATOR)
    name: str = ""
    pharmacy: str = ""
    contact: str = ""
    start_date: date | None = None
    end_date: date | None = None
    creator: str = ""


@dataclass
class SplitControl:
    """911 分割制御レコード: the last line of each part of a split document."""
    NUMBER: ClassVar[str] = "911"
    LABEL: ClassVar[str] = "分割制御"
    FIELDS: ClassVar[tuple] = (_f("data_id", "データID", DIGITS, True),
                               _f("total", "分割数", DIGITS, True),
                               _f("part", "分割番号", DIGITS, True))
    data_id: str = ""
    total: str = ""
    part: str = ""


@dataclass
class Document:
    """One JAHIS document: header `JAHISTCnn,<出力区分>` and its records."""
    version: str = "08"
    output_kind: str = "1"
    patient: PatientRecord | None = None
    notes: list[PatientNote] = field(default_factory=list)
    otc_drugs: list[OtcDrug] = field(default_factory=list)
    memos: list[NotebookMemo] = field(default_factory=list)
    family_pharmacists: list[FamilyPharmacist] = field(default_factory=list)
    patient_entries: list[PatientEntry] = field(default_factory=list)
    unknown: list[UnknownRecord] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)


RECORD_TYPES = {cls.NUMBER: cls for cls in (
    PatientRecord, PatientNote, OtcDrug, OtcIngredient, NotebookMemo, Visit,
    DispensingInstitution, Pharmacist, PrescribingInstitution, PrescribingDoctor, Drug,
    DrugSupplement, DrugCaution, Usage, UsageSupplement, PrescriptionCaution, VisitCaution,
    InstitutionNote, LeftoverNote, Remark, PatientEntry, FamilyPharmacist, SplitControl)}
