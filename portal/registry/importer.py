"""CSV import of the resident registry (住民記録の一括取込).

One CSV row is one resident; household, guardian, seal and tax columns ride along on the
same row (see docs/registry-csv.md). The import is all-or-nothing: every row is validated
first, errors are collected (row as the spreadsheet shows it, header = row 1, and column),
and only a file without a single error is written, in one transaction, with Core
`executemany` batches so 100,000 rows take seconds rather than minutes.

Core inserts bypass the ORM tenancy events, so every row written here carries
`municipality_id` explicitly; the reads go through the municipality's ORM session and get
the tenant criteria from the event like any other query.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import pickle
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.db import Database
from portal.registry.models import (GuardianLink, Household, Resident, ResidentStatus,
                                    SealRegistration, Sex, TaxRecord)

MAX_ERRORS = 100
BATCH = 2000
HEAD = "世帯主"

# progress(stage, done, total): stage is "検証" (validating) or "登録" (writing).
Progress = Callable[[str, int, int], None]


# --- errors ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImportErrorItem:
    """One problem in the file. `row` counts like a spreadsheet (header = 1); `column` is
    the header as written in the file. Either is None for problems of the whole file."""
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.row}行目" if self.row is not None else "ファイル"
        if self.column:
            where += f"「{self.column}」"
        return f"{where}: {self.message}"


class ImportFailed(Exception):
    """Nothing was written; `errors` says why (at most `MAX_ERRORS`, then `truncated`)."""

    def __init__(self, errors: list[ImportErrorItem], truncated: bool = False) -> None:
        self.errors = errors
        self.truncated = truncated
        more = "（以降省略）" if truncated else ""
        super().__init__(f"取込を中止しました。{len(errors)}件のエラー{more}: "
                         + "; ".join(map(str, errors[:3])))


class _TooManyErrors(Exception):
    pass


@dataclass
class ImportResult:
    """What one import wrote."""
    residents: int = 0
    households_created: int = 0
    households_reused: int = 0
    guardian_links: int = 0
    seal_registrations: int = 0
    tax_records: int = 0
    encoding: str = ""


# --- columns -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    key: str
    aliases: tuple[str, ...]
    required: bool = False
    label: str = ""  # Japanese name, used in messages when the header is not in the file


COLUMNS: tuple[Column, ...] = (
    Column("resident_number", ("住民番号", "個人番号（市）", "宛名番号"), True, "住民番号"),
    Column("household_number", ("世帯番号",), True, "世帯番号"),
    Column("household_head_name", ("世帯主氏名", "世帯主"), False, "世帯主氏名"),
    Column("household_address", ("世帯住所",), False, "世帯住所"),
    Column("family_name", ("氏",), True, "氏"),
    Column("given_name", ("名",), True, "名"),
    Column("family_name_kana", ("氏カナ", "氏フリガナ", "氏（カナ）"), True, "氏カナ"),
    Column("given_name_kana", ("名カナ", "名フリガナ", "名（カナ）"), True, "名カナ"),
    Column("birth_date", ("生年月日",), True, "生年月日"),
    Column("sex", ("性別",), True, "性別"),
    Column("relationship_to_head", ("続柄",), True, "続柄"),
    Column("address", ("住所",), True, "住所"),
    Column("status", ("状態", "住民状態"), False, "状態"),
    Column("move_out_filed", ("転出届",), False, "転出届"),
    Column("support_block", ("支援措置",), False, "支援措置"),
    Column("honseki", ("本籍",), False, "本籍"),
    Column("hittosha", ("筆頭者",), False, "筆頭者"),
    Column("guardian_numbers", ("保護者住民番号", "保護者"), False, "保護者住民番号"),
    Column("seal_number", ("印鑑登録番号",), False, "印鑑登録番号"),
    Column("seal_registered_on", ("印鑑登録日",), False, "印鑑登録日"),
    Column("fiscal_year", ("課税年度", "年度"), False, "課税年度"),
    Column("total_income", ("総所得金額", "所得金額"), False, "総所得金額"),
    Column("taxable_income", ("課税所得金額", "課税標準額"), False, "課税所得金額"),
    Column("municipal_tax", ("市町村民税", "市民税", "町村民税"), False, "市町村民税"),
    Column("prefectural_tax", ("道府県民税", "都道府県民税", "県民税", "府民税", "道民税", "都民税"),
                              False, "道府県民税"),
)
COLUMN_KEYS = tuple(c.key for c in COLUMNS)
TAX_KEYS = ("fiscal_year", "total_income", "taxable_income", "municipal_tax", "prefectural_tax")
SEAL_KEYS = ("seal_number", "seal_registered_on")
_BY_NAME = {name: c for c in COLUMNS for name in (c.key, *c.aliases)}

# Resident column lengths from the model: a longer value would fail only at INSERT on
# PostgreSQL (SQLite ignores lengths), so it is reported with the other cell errors.
_LENGTHS = {c.key: c.type.length for c in Resident.__table__.columns
            if getattr(c.type, "length", None) and c.key in COLUMN_KEYS}
_LENGTHS.update(resident_number=20, household_number=20, household_head_name=65,
                household_address=200, seal_number=20)


def _header_key(name: str) -> str:
    """Headers match after NFKC and with case and blanks ignored, so `Family_Name`, `氏 `
    and full-width letters all find their column."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)).lower()


_LOOKUP = {_header_key(n): c for n, c in _BY_NAME.items()}


# --- cell parsers: each returns the value or raises CellError with a Japanese message ------

class CellError(ValueError):
    pass


_ERAS = (  # (prefixes, first day, first day of the next era)
    (("R", "令和"), date(2019, 5, 1), None),
    (("H", "平成"), date(1989, 1, 8), date(2019, 5, 1)),
    (("S", "昭和"), date(1926, 12, 25), date(1989, 1, 8)),
    (("T", "大正"), date(1912, 7, 30), date(1926, 12, 25)),
    (("M", "明治"), date(1868, 1, 25), date(1912, 7, 30)),
)
_ERA_BY_PREFIX = {p: era for era in _ERAS for p in era[0]}
_ISO = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_WAREKI = re.compile(r"(令和|平成|昭和|大正|明治|[RHSTM])\s*(元|\d{1,2})\s*[.年/]\s*(\d{1,2})"
                     r"\s*[.月/]\s*(\d{1,2})\s*日?", re.IGNORECASE)


def parse_date(text: str) -> date:
    """YYYY-MM-DD (or YYYY/MM/DD), or 和暦: R2.4.1, 令和2年4月1日, 令和元年5月1日."""
    # NFKC leaves ASCII as it is: most dates skip it.
    text = (text if text.isascii() else unicodedata.normalize("NFKC", text)).strip()
    if m := _ISO.fullmatch(text):
        return _make_date(int(m[1]), int(m[2]), int(m[3]), text)
    if m := _WAREKI.fullmatch(text):
        prefixes, start, end = _ERA_BY_PREFIX[m[1].upper() if len(m[1]) == 1 else m[1]]
        year = 1 if m[2] == "元" else int(m[2])
        value = _make_date(start.year + year - 1, int(m[3]), int(m[4]), text)
        if year < 1 or value < start or (end is not None and value >= end):
            raise CellError(f"{prefixes[1]}にない日付です ({text})")
        return value
    raise CellError(f"日付の形式が正しくありません ({text})。YYYY-MM-DD で入力してください")


def _make_date(year: int, month: int, day: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise CellError(f"日付の形式が正しくありません ({text})") from None


_SEX = {"1": Sex.MALE, "2": Sex.FEMALE, "9": Sex.NOT_APPLICABLE, "男": Sex.MALE,
        "女": Sex.FEMALE}
_STATUS_WORDS = {ResidentStatus.MOVED_OUT: "転出済み", ResidentStatus.DECEASED: "死亡"}
_STATUS = {"active": ResidentStatus.ACTIVE, "moved_out": ResidentStatus.MOVED_OUT,
           "deceased": ResidentStatus.DECEASED, "住民": ResidentStatus.ACTIVE,
           "在住": ResidentStatus.ACTIVE, "転出": ResidentStatus.MOVED_OUT,
           "死亡": ResidentStatus.DECEASED}
_TRUE = {"1", "true", "yes", "y", "はい", "有", "あり", "○", "◯"}
_FALSE = {"", "0", "false", "no", "n", "いいえ", "無", "なし", "×"}


def parse_sex(text: str) -> Sex:
    value = _SEX.get(unicodedata.normalize("NFKC", text))
    if value is None:
        raise CellError(f"性別は 1（男）、2（女）、9（適用不能）のいずれかです ({text})")
    return value


def parse_status(text: str) -> ResidentStatus:
    value = _STATUS.get(text.lower() or "active")
    if value is None:
        raise CellError(f"状態は active、moved_out、deceased のいずれかです ({text})")
    return value


def parse_bool(text: str) -> bool:
    folded = unicodedata.normalize("NFKC", text).lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise CellError(f"1/0、true/false、はい/いいえ のいずれかで入力してください ({text})")


# Katakana block plus the prolonged sound mark and middle dot; NFKC has already turned
# half-width kana (ｶﾅ) into full width and the ideographic space into a plain one.
_KATAKANA = re.compile(r"[\u30A1-\u30FA\u30FC-\u30FE ]+")


def parse_kana(text: str) -> str:
    if _KATAKANA.fullmatch(text) and "  " not in text and text[0] != " " != text[-1]:
        return text.replace(" ", "\u3000")   # already what NFKC and the clean-up would give
    value = re.sub(r" +", " ", unicodedata.normalize("NFKC", text)).strip()
    if not _KATAKANA.fullmatch(value):
        raise CellError(f"カタカナで入力してください ({text})")
    return value.replace(" ", "\u3000")


def parse_amount(text: str) -> int:
    if text.isascii() and text.isdigit():
        return int(text)
    folded = unicodedata.normalize("NFKC", text).replace(",", "").replace("円", "").strip()
    if not folded.isdigit():
        raise CellError(f"0以上の整数で入力してください ({text})")
    return int(folded)


def parse_year(text: str) -> int:
    year = parse_amount(text)
    if not 1900 <= year <= 2999:
        raise CellError(f"年度は西暦4桁で入力してください ({text})")
    return year


_LIST_SPLIT = re.compile(r"[;；、,，\s]+")


def split_list(text: str) -> list[str]:
    return [part for part in _LIST_SPLIT.split(text) if part]


# --- reading the file --------------------------------------------------------------------

def decode(data: bytes, encoding: str = "auto") -> tuple[str, str]:
    """Decode the file: UTF-8 (with or without BOM) or CP932 (Shift_JIS as Excel writes it).

    `auto` tries UTF-8 first because a CP932 file is almost never valid UTF-8, while the
    reverse happens easily. Returns (text, encoding name used)."""
    candidates = _candidates(encoding)
    failure: UnicodeDecodeError | None = None
    for name in candidates:
        try:
            return data.decode("utf-8-sig" if name == "utf-8" else name), name
        except UnicodeDecodeError as exc:
            failure = exc
    line = data.count(b"\n", 0, failure.start) + 1
    wanted = "UTF-8 でも CP932 でも" if encoding == "auto" else f"{encoding.upper()} として"
    raise ImportFailed([ImportErrorItem(line, None, f"文字コードを判別できません（{wanted}読めません）")])


def _read_source(source: bytes | str | os.PathLike) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    return Path(source).read_bytes()


def _open_binary(source: bytes | str | os.PathLike) -> BinaryIO:
    """The file as a binary stream: bytes are wrapped without a copy, a path is read as
    the rows are, so neither the whole file nor its decoded text is ever held at once."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(source)
    return open(source, "rb")


_CHUNK = 1 << 20


def _candidates(encoding: str) -> list[str]:
    if encoding not in ("auto", "utf-8", "cp932"):
        raise ValueError(f"encoding must be auto, utf-8 or cp932, not {encoding!r}")
    return ["utf-8", "cp932"] if encoding == "auto" else [encoding]


def _count_lines(source) -> tuple[int, bool]:
    """(newline count, ends with a newline), from the bytes: no decoding. A newline byte is
    never part of a multi-byte character in UTF-8 or CP932, so this counts the lines the
    decoded text has (for the progress bar)."""
    newlines, last = 0, b""
    with _open_binary(source) as stream:
        while chunk := stream.read(_CHUNK):
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    return newlines, last == b"\n"


# --- validation --------------------------------------------------------------------------

# The resident columns a validated row carries, in the order of its values tuple (`_Record`).
RESIDENT_FIELDS = ("number", "household_number", "family_name", "given_name",
                   "family_name_kana", "given_name_kana", "birth_date", "sex",
                   "relationship_to_head", "address", "status", "move_out_filed",
                   "support_block", "honseki", "hittosha")


# One validated row, in the shape the inserts need: (row, values in `RESIDENT_FIELDS`
# order, guardian numbers, (seal number, registered on) or None, tax tuples in `TAX_KEYS`
# order). A plain tuple, not a NamedTuple: unpickling calls no Python code for it.
_Record = tuple


class _RecordStore:
    """The validated records, held until the whole file has passed: pickled `BATCH` at a
    time, because 100,000 records as live objects cost several times the file's size,
    while parsing every cell a second time would cost as much time again. Pickling keeps
    each batch's enum members once (memo) and rebuilds the rest in C."""

    def __init__(self) -> None:
        self._batches: list[bytes] = []
        self._pending: list[_Record] = []
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def append(self, record: _Record) -> None:
        self._pending.append(record)
        self._count += 1
        if len(self._pending) == BATCH:
            self._seal_pending()

    def _seal_pending(self) -> None:
        if self._pending:
            self._batches.append(pickle.dumps(self._pending, pickle.HIGHEST_PROTOCOL))
            self._pending = []

    def batches(self) -> Iterator[list[_Record]]:
        """The records in file order, one batch at a time (can be walked repeatedly)."""
        self._seal_pending()
        for data in self._batches:
            yield pickle.loads(data)


@dataclass(slots=True)
class _HouseholdDraft:
    first_row: int
    head_name: str = ""
    address: str = ""
    head_rows: list[int] = field(default_factory=list)
    head_from_member: str = ""
    has_bad_rows: bool = False
    member_address: str = ""
    # 続柄「世帯主」 rows of people no longer living here: (row, name, status)
    former_heads: list[tuple[int, str, ResidentStatus]] = field(default_factory=list)
    has_active_members: bool = False


class _Validator:
    """Checks every cell of every row and collects errors; keeps the valid records."""

    def __init__(self, existing_residents: dict[str, int], existing_households: dict[str, int],
                 max_errors: int) -> None:
        self.errors: list[ImportErrorItem] = []
        self.max_errors = max_errors
        self.existing_residents = existing_residents
        self.existing_households = existing_households
        self.records = _RecordStore()
        # (row, number, guardian numbers) of the rows naming guardians, for `finish`.
        self.guardian_refs: list[tuple[int, str, tuple[str, ...]]] = []
        self.first_row_of: dict[str, int] = {}
        self.households: dict[str, _HouseholdDraft] = {}
        # Messages name a column as the file spells it; absent ones by their Japanese label.
        self.names: dict[str, str] = {c.key: c.label for c in COLUMNS}
        self.positions: dict[str, int] = {}
        self.width = 0

    # header

    def read_header(self, header: list[str]) -> None:
        self.width = len(header)
        positions = self.positions
        for index, raw in enumerate(header):
            name = raw.strip()
            if not name:
                continue
            column = _LOOKUP.get(_header_key(name))
            if column is None:
                self.error(1, name, "不明な列です。docs/registry-csv.md の列名を使ってください")
            elif column.key in positions:
                self.error(1, name, f"「{self.names[column.key]}」の列が重複しています")
            else:
                positions[column.key] = index
                self.names[column.key] = name
        for column in COLUMNS:
            if column.required and column.key not in positions:
                self.error(1, column.label, "必須の列がありません")
        self._check_groups(positions, SEAL_KEYS, "印鑑登録")
        self._check_groups(positions, TAX_KEYS, "課税")

    def _check_groups(self, positions: dict[str, int], keys: tuple[str, ...], what: str) -> None:
        present = [k for k in keys if k in positions]
        if present and len(present) != len(keys):
            for key in keys:
                if key not in positions:
                    self.error(1, self.names[key], f"{what}の列は揃えて指定してください")

    def error(self, row: int | None, column: str | None, message: str) -> None:
        self.errors.append(ImportErrorItem(row, column, message))
        if len(self.errors) >= self.max_errors:
            raise _TooManyErrors

    # rows

    def check(self, row: int, cells: list[str]) -> None:
        if len(cells) > self.width:
            self.error(row, None, f"列の数（{len(cells)}）が見出し行（{self.width}）より多くなっています")
            # Still known by number, so its children do not also report an unknown guardian.
            self.first_row_of.setdefault(cells[self.positions["resident_number"]].strip(), row)
            return
        raw = {key: (cells[i].strip() if i < len(cells) else "") for key, i in self.positions.items()}
        before = len(self.errors)
        values = self._resident_values(row, raw)
        guardians = self._guardians(row, raw)
        seal = self._seal(row, raw)
        taxes = self._taxes(row, raw)
        if len(self.errors) == before:
            self._note_household(row, raw, values)
            self.records.append((row, tuple(values[k] for k in RESIDENT_FIELDS),
                                 guardians, seal, taxes))
            if guardians:
                self.guardian_refs.append((row, values["number"], guardians))
        elif values["household_number"]:
            # A head row with a bad cell would otherwise also make its household "headless".
            self._draft(values["household_number"], row).has_bad_rows = True

    def _cell(self, row: int, raw: dict[str, str], key: str, parse=None, required=False):
        text = raw.get(key, "")
        if not text:
            if required:
                self.error(row, self.names[key], "必須項目が空です")
            return None
        limit = _LENGTHS.get(key)
        if limit and parse is None and len(text) > limit:
            self.error(row, self.names[key], f"{limit}文字以内で入力してください（{len(text)}文字）")
            return None
        if parse is None:
            return text
        try:
            return parse(text)
        except CellError as exc:
            self.error(row, self.names[key], str(exc))
            return None

    def _resident_values(self, row: int, raw: dict[str, str]) -> dict:
        cell = self._cell
        number = cell(row, raw, "resident_number", required=True)
        if number:
            self._check_unique(row, number)
        kana_family = cell(row, raw, "family_name_kana", parse_kana, required=True)
        kana_given = cell(row, raw, "given_name_kana", parse_kana, required=True)
        for key, value in (("family_name_kana", kana_family), ("given_name_kana", kana_given)):
            if value and len(value) > _LENGTHS[key]:
                self.error(row, self.names[key], f"{_LENGTHS[key]}文字以内で入力してください")
        return {
            "number": number,
            "household_number": cell(row, raw, "household_number", required=True),
            "family_name": cell(row, raw, "family_name", required=True),
            "given_name": cell(row, raw, "given_name", required=True),
            "family_name_kana": kana_family,
            "given_name_kana": kana_given,
            "birth_date": cell(row, raw, "birth_date", parse_date, required=True),
            "sex": cell(row, raw, "sex", parse_sex, required=True),
            "relationship_to_head": cell(row, raw, "relationship_to_head", required=True),
            "address": cell(row, raw, "address", required=True),
            "status": cell(row, raw, "status", parse_status) or ResidentStatus.ACTIVE,
            "move_out_filed": bool(cell(row, raw, "move_out_filed", parse_bool)),
            "support_block": bool(cell(row, raw, "support_block", parse_bool)),
            "honseki": cell(row, raw, "honseki"),
            "hittosha": cell(row, raw, "hittosha"),
        }

    def _check_unique(self, row: int, number: str) -> None:
        column = self.names["resident_number"]
        if number in self.first_row_of:
            self.error(row, column, f"住民番号 {number} が重複しています"
                                    f"（{self.first_row_of[number]}行目と同じ）")
        elif number in self.existing_residents:
            self.error(row, column, f"住民番号 {number} は登録済みです（上書きはしません）")
        else:
            self.first_row_of[number] = row

    def _guardians(self, row: int, raw: dict[str, str]) -> tuple[str, ...]:
        numbers = tuple(dict.fromkeys(split_list(raw.get("guardian_numbers", ""))))
        if raw.get("resident_number") in numbers:
            self.error(row, self.names["guardian_numbers"], "本人を保護者に指定することはできません")
        return numbers

    def _seal(self, row: int, raw: dict[str, str]) -> tuple[str, date] | None:
        number = self._cell(row, raw, "seal_number")
        registered = self._cell(row, raw, "seal_registered_on", parse_date)
        if number and registered:
            return number, registered
        if number and not raw.get("seal_registered_on"):
            self.error(row, self.names["seal_registered_on"], "印鑑登録番号があるときは登録日も必要です")
        if raw.get("seal_registered_on") and not raw.get("seal_number"):
            self.error(row, self.names["seal_number"], "印鑑登録日があるときは登録番号も必要です")
        return None

    def _taxes(self, row: int, raw: dict[str, str]) -> tuple:
        """Several fiscal years fit in one row: each tax cell lists values separated by
        `;`, in the same order, so a resident still takes exactly one row."""
        lists = {key: [p.strip() for p in raw.get(key, "").split(";")] if raw.get(key) else []
                 for key in TAX_KEYS}
        if not any(lists.values()):
            return ()
        count = len(lists["fiscal_year"])
        for key in TAX_KEYS:
            if len(lists[key]) != count:
                self.error(row, self.names[key], f"課税年度と同じ数（{count}件）の値を ; 区切りで入力してください")
                return ()
        parsed = self._parse_tax_cells(row, lists)
        if parsed is None:
            return ()
        years = [p[0] for p in parsed]
        if len(set(years)) != len(years):
            self.error(row, self.names["fiscal_year"], "同じ課税年度が重複しています")
            return ()
        return tuple(parsed)

    def _parse_tax_cells(self, row: int, lists: dict[str, list[str]]):
        columns = []
        for key in TAX_KEYS:
            parse = parse_year if key == "fiscal_year" else parse_amount
            try:
                columns.append([parse(text) for text in lists[key]])
            except CellError as exc:
                self.error(row, self.names[key], str(exc))
                return None
        return list(zip(*columns))

    def _note_household(self, row: int, raw: dict[str, str], values: dict) -> None:
        number = values["household_number"]
        draft = self._draft(number, row)
        for key, attr in (("household_head_name", "head_name"), ("household_address", "address")):
            text = raw.get(key, "")
            if text and getattr(draft, attr) and getattr(draft, attr) != text:
                self.error(row, self.names[key], f"世帯番号 {number} の{self.names[key]}が"
                                                 f"{draft.first_row}行目以降の行と異なります")
            elif text:
                setattr(draft, attr, text)
        draft.member_address = draft.member_address or values["address"]
        active = values["status"] == ResidentStatus.ACTIVE
        draft.has_active_members = draft.has_active_members or active
        if values["relationship_to_head"] == HEAD:
            name = f"{values['family_name']}\u3000{values['given_name']}"
            if active:
                draft.head_rows.append(row)
                draft.head_from_member = name
            else:
                draft.former_heads.append((row, name, values["status"]))

    def _draft(self, number: str, row: int) -> _HouseholdDraft:
        draft = self.households.get(number)
        if draft is None:
            draft = self.households[number] = _HouseholdDraft(first_row=row)
        return draft

    # whole-file checks, after every row has been read

    def finish(self) -> None:
        known = set(self.first_row_of) | set(self.existing_residents)
        for row, _, guardians in self.guardian_refs:
            for number in guardians:
                if number not in known:
                    self.error(row, self.names["guardian_numbers"],
                               f"保護者の住民番号 {number} がファイルにも登録済みの住民にもありません")
        for number, draft in self.households.items():
            self._finish_household(number, draft)

    def _finish_household(self, number: str, draft: _HouseholdDraft) -> None:
        if len(draft.head_rows) > 1:
            rows = "、".join(map(str, draft.head_rows))
            self.error(draft.head_rows[1], self.names["relationship_to_head"],
                       f"世帯番号 {number} に在住の世帯主が複数います（{rows}行目）")
        if number in self.existing_households:
            return  # reused as it is: the import adds members, it does not edit households
        draft.head_name = draft.head_name or draft.head_from_member or _former_head(draft)
        draft.address = draft.address or draft.member_address
        if draft.head_name or draft.has_bad_rows:
            return
        if draft.former_heads:
            row, name, status = draft.former_heads[-1]
            self.error(row, self.names["status"],
                       f"世帯番号 {number} の世帯主 {name} は{_STATUS_WORDS[status]}のため、"
                       f"在住の世帯員に世帯主がいません。在住の世帯員の続柄を「世帯主」にするか、"
                       f"「{self.names['household_head_name']}」の列に現在の世帯主を入力してください")
        else:
            self.error(draft.first_row, self.names["household_head_name"],
                       f"世帯番号 {number} は新しい世帯ですが、世帯主氏名も続柄「世帯主」の行もありません")


def _former_head(draft: _HouseholdDraft) -> str:
    """A household whose members have all left or died is kept as it was, headed by its
    last head; one with people still living here needs its current head instead."""
    if draft.former_heads and not draft.has_active_members:
        return draft.former_heads[-1][1]
    return ""


# --- writing -----------------------------------------------------------------------------

def _existing(session: Session) -> tuple[dict[str, int], dict[str, int]]:
    """Numbers already in this municipality, checked against before anything is written."""
    return _ids_by_number(session, Resident), _ids_by_number(session, Household)


def _batches(items: Iterable, size: int = BATCH) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(session: Session, table, rows: Iterable[dict]) -> int:
    """Core executemany in batches; returns the number of rows. No RETURNING: with ordered
    RETURNING SQLite falls back to one statement per row, several times slower than reading
    the new ids back. `rows` may be a generator, so only one batch of dicts is alive."""
    count = 0
    for batch in _batches(rows):
        session.execute(insert(table), batch)
        count += len(batch)
    return count


def _ids_by_number(session: Session, model) -> dict[str, int]:
    """number → id for the whole municipality (the session adds the tenant criteria)."""
    return dict(session.execute(select(model.number, model.id)).all())


class _Writer:
    def __init__(self, session: Session, municipality_id: int, progress: Progress | None) -> None:
        self.session = session
        self.mid = municipality_id
        self.progress = progress

    def households(self, drafts: dict[str, _HouseholdDraft], existing: dict[str, int],
                   result: ImportResult) -> dict[str, int]:
        rows = ({"municipality_id": self.mid, "number": n, "head_name": d.head_name,
                 "address": d.address} for n, d in drafts.items() if n not in existing)
        result.households_created = _insert(self.session, Household.__table__, rows)
        result.households_reused = len(drafts) - result.households_created
        return _ids_by_number(self.session, Household)

    def residents(self, records: _RecordStore, households: dict[str, int],
                  known: dict[str, int], result: ImportResult) -> dict[str, int]:
        """Residents a batch at a time, each batch followed by its seals and taxes (ids read
        back for that batch only), so the validated records are walked once. Returns
        number → id for the residents written and `known` (those already registered)."""
        ids = dict(known)
        done = 0
        for batch in records.batches():
            _insert(self.session, Resident.__table__,
                    [self._resident_row(r, households) for r in batch])
            ids.update(self.session.execute(select(Resident.number, Resident.id).where(
                Resident.number.in_([values[0] for _, values, _, _, _ in batch]))).all())
            self._extras(batch, ids, result)
            done += len(batch)
            if self.progress:
                self.progress("登録", done, len(records))
        return ids

    def _resident_row(self, record: _Record, households: dict[str, int]) -> dict:
        """The one place a resident row is built (columns added to Resident go here)."""
        row = dict(zip(RESIDENT_FIELDS, record[1]), municipality_id=self.mid)
        row["household_id"] = households[row.pop("household_number")]
        return row

    def _extras(self, batch: list[_Record], ids: dict[str, int], result: ImportResult) -> None:
        """Seals and taxes of one batch of records, in file order (so their ids are too)."""
        mid = self.mid
        seals = [{"municipality_id": mid, "resident_id": ids[values[0]], "active": True,
                  "registration_number": seal[0], "registered_on": seal[1]}
                 for _, values, _, seal, _ in batch if seal]
        taxes = [dict(zip(TAX_KEYS, t), municipality_id=mid, resident_id=ids[values[0]])
                 for _, values, _, _, year_taxes in batch for t in year_taxes]
        result.seal_registrations += _insert(self.session, SealRegistration.__table__, seals)
        result.tax_records += _insert(self.session, TaxRecord.__table__, taxes)

    def guardian_links(self, validator: _Validator, ids: dict[str, int], result: ImportResult) -> None:
        """After every resident is in: a guardian may come later in the file than the child."""
        links = ({"municipality_id": self.mid, "guardian_id": ids[g], "child_id": ids[number]}
                 for _, number, guardians in validator.guardian_refs for g in guardians)
        result.guardian_links = _insert(self.session, GuardianLink.__table__, links)


# --- the public entry points ---------------------------------------------------------------

def import_registry_csv(db: Database, municipality_id: int,
                        source: bytes | str | os.PathLike, *, encoding: str = "auto",
                        progress: Progress | None = None,
                        max_errors: int = MAX_ERRORS) -> ImportResult:
    """Import residents (with households, guardians, seals, taxes) from a CSV file.

    `source` is the file's bytes or its path; `encoding` is "auto" (UTF-8 with or without
    BOM, else CP932), "utf-8" or "cp932". `progress(stage, done, total)` is called as rows
    are validated ("検証") and written ("登録"). All-or-nothing: raises `ImportFailed` with
    every error found (up to `max_errors`) and writes nothing; otherwise everything is
    committed in one transaction."""
    candidates = _candidates(encoding)
    newlines, ends_with_newline = _count_lines(source)
    data_rows = max(newlines + (not ends_with_newline) - 1, 0)  # for the progress bar
    for used in candidates:
        # Decoded once, as the rows are read: a text stream over the bytes, not the decoded
        # text (StringIO keeps four bytes a character). `auto` tries UTF-8 first because a
        # CP932 file is almost never valid UTF-8; a file that is not UTF-8 fails at its first
        # non-UTF-8 byte, the transaction is rolled back with nothing written, and CP932 is
        # read from the start.
        try:
            with io.TextIOWrapper(_open_binary(source), "utf-8-sig" if used == "utf-8" else used,
                                  newline="") as text:
                result = import_rows(db, municipality_id, csv.reader(text), progress=progress,
                                     max_errors=max_errors, total=data_rows)
        except UnicodeDecodeError:
            continue
        result.encoding = used
        return result
    decode(_read_source(source), encoding)  # raises ImportFailed naming the line
    raise AssertionError("decode accepted a file the streaming decoder refused")


def import_rows(db: Database, municipality_id: int, rows: Iterable[list[str]], *,
                progress: Progress | None = None, max_errors: int = MAX_ERRORS,
                total: int = 0) -> ImportResult:
    """The import behind `import_registry_csv`, from already split rows (header first);
    the synthetic generator feeds it directly."""
    result = ImportResult()
    try:
        with db.transaction(municipality_id) as session:
            validator = _validate(session, iter(rows), progress, max_errors, total)
            _write(session, municipality_id, validator, progress, result)
    except IntegrityError:
        # Only a concurrent writer can get here: the validation saw every existing number.
        raise ImportFailed([ImportErrorItem(None, None, "取込中に別の処理が同じ番号を登録しました。"
                                                        "もう一度取り込んでください")]) from None
    db.refresh_statistics(Household, Resident, GuardianLink, SealRegistration, TaxRecord)
    return result


def _validate(session: Session, rows: Iterator[list[str]], progress: Progress | None,
              max_errors: int, total: int) -> _Validator:
    header = next(rows, None)
    if not header:
        raise ImportFailed([ImportErrorItem(1, None, "見出し行がありません（空のファイルです）")])
    validator = _Validator(*_existing(session), max_errors)
    try:
        validator.read_header(header)
        if validator.errors:  # a broken header makes every row's messages noise
            raise ImportFailed(validator.errors)
        _check_rows(validator, rows, progress, total)
        validator.finish()
    except _TooManyErrors:
        raise ImportFailed(validator.errors, truncated=True) from None
    if validator.errors:
        raise ImportFailed(validator.errors)
    if not validator.records:
        raise ImportFailed([ImportErrorItem(2, None, "データ行がありません")])
    return validator


def _check_rows(validator: _Validator, rows: Iterator[list[str]], progress: Progress | None,
                total: int) -> None:
    done = 0
    for done, cells in enumerate(_safe_rows(rows, validator), start=1):
        if any(c.strip() for c in cells):  # blank lines: often the end of an Excel file
            validator.check(done + 1, cells)
        if progress and done % BATCH == 0:
            progress("検証", done, max(total, done))
    if progress:
        progress("検証", done, done)


def _safe_rows(rows: Iterator[list[str]], validator: _Validator) -> Iterator[list[str]]:
    """csv.Error (a NUL byte, an unclosed quote eating the file) ends reading with an
    error naming the row rather than a traceback."""
    row = 1
    try:
        for row, cells in enumerate(rows, start=2):
            yield cells
    except csv.Error as exc:
        validator.error(row + 1, None, f"CSVとして読めません: {exc}")


def _write(session: Session, municipality_id: int, validator: _Validator,
           progress: Progress | None, result: ImportResult) -> None:
    writer = _Writer(session, municipality_id, progress)
    households = writer.households(validator.households, validator.existing_households, result)
    ids = writer.residents(validator.records, households, validator.existing_residents, result)
    writer.guardian_links(validator, ids, result)
    result.residents = len(validator.records)
