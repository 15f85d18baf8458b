"""Drug code masters in their published layouts: bytes in, code mappings out (no database).

Two publishers' files are read, both CSV in CP932 (Shift_JIS), as downloaded:

- **医薬品HOTコードマスター** (MEDIS-DC, e.g. `MEDIS20241031.TXT`): 24 columns, a header line
  of column names, every field quoted. Each row is one package (HOT13) and links HOT,
  JAN, 薬価基準収載医薬品コード, YJ and the two レセプト電算 codes (the product's own, and the
  統一名 code it is claimed under, when there is one).
- **支払基金 医薬品マスター** (レセプト電算処理システム 基本マスター, e.g. `y_ALL20241001.csv`):
  no header, one row per レセ電 code; column 3 is the code, column 32 the
  薬価基準収載医薬品コード. Recent layouts have 42 columns, older ones fewer; 32 are needed.

What is kept: for every code a JAHIS record 201 can carry that needs a master — kind 2
(レセプト電算, 9 digits) and kind 6 (HOT: 13, 9 or 7 digits) — the 薬価基準収載医薬品コード it
stands for (the YJ code when the row has none). Its first 7 characters are the ingredient
and route, its first 4 the therapeutic class, as for YJ codes (docs/medication.md).
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from services.medication.alerts import STRUCTURED_CODE

HOT, SSK = "hot", "ssk"
RECEIPT, HOT_CODE = "2", "6"  # JAHIS 薬品コード種別

# MEDIS-DC's column names, as its header line spells them (full-width letters and digits).
HOT_COLUMNS = (
    "基準番号（ＨＯＴコード）", "処方用番号（ＨＯＴ７）", "会社識別用番号", "調剤用番号", "物流用番号",
    "ＪＡＮコード", "薬価基準収載医薬品コード", "個別医薬品コード",
    "レセプト電算処理システムコード（１）", "レセプト電算処理システムコード（２）", "告示名称",
    "販売名", "レセプト電算処理システム医薬品名", "規格単位", "包装形態", "包装単位数",
    "包装単位単位", "包装総量数", "包装総量単位", "区分", "製造会社", "販売会社", "更新区分",
    "更新年月日")
H_HOT13, H_HOT7, H_YAKKA, H_YJ, H_RECE1, H_RECE2, H_NAME, H_UPDATED = 0, 1, 6, 7, 8, 9, 11, 23
# 支払基金 医薬品マスター: 1-based column numbers of its 記録条件仕様, minus one.
S_KIND, S_CODE, S_NAME, S_CHANGED, S_YAKKA = 1, 2, 4, 29, 31
SSK_MIN_COLUMNS = 32

MAX_PROBLEMS = 20
# Small files in both layouts (a handful of drugs; docs/medication.md says which codes are
# the published ones): the tests' fixture and the demo's master.
FIXTURES = Path(__file__).with_name("fixtures")
HOT_FIXTURE, SSK_FIXTURE = FIXTURES / "MEDIS20241031.TXT", FIXTURES / "y_ALL20241001.csv"
_DIGITS = {n: re.compile(rf"[0-9]{{{n}}}") for n in (7, 8, 9, 13)}
_FILE_DATE = re.compile(r"(20[0-9]{2})([01][0-9])([0-3][0-9])")


@dataclass(frozen=True)
class CodeRow:
    code_kind: str        # RECEIPT or HOT_CODE
    code: str
    structured_code: str  # 薬価基準収載医薬品コード (or YJ)
    name: str


@dataclass
class MasterFile:
    source: str           # HOT or SSK
    file_name: str
    version_date: date
    content_hash: str
    records: int
    codes: list[CodeRow] = field(default_factory=list)


class MasterFileError(ValueError):
    """The file is not a master this reader knows, or some lines are malformed: `problems`
    lists them in Japanese, each with its line number. Nothing of the file is used."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def read_master(data: bytes, file_name: str) -> MasterFile:
    """Parse a whole master file; raise MasterFileError naming every malformed line."""
    rows = list(_rows(_decode(data)))
    if not rows:
        raise MasterFileError(["ファイルにデータがありません。"])
    source = _detect(rows[0][1])
    if source == HOT and rows[0][1][0].startswith("基準番号"):
        rows = rows[1:]  # MEDIS-DC's header line
    reader = _HotRows() if source == HOT else _SskRows()
    for line, row in rows:
        reader.read(line, row)
    if reader.problems:
        extra = len(reader.problems) - MAX_PROBLEMS
        raise MasterFileError(reader.problems[:MAX_PROBLEMS]
                              + ([f"ほか {extra} 件の誤りがあります。"] if extra > 0 else []))
    if not reader.codes:
        raise MasterFileError(["ファイルにデータがありません。"])
    return MasterFile(source, file_name, version_date(file_name, reader.dates),
                      hashlib.sha256(data).hexdigest(), len(rows), list(reader.codes.values()))


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):  # re-saved by a spreadsheet as UTF-8
        encoding, data = "utf-8", data[3:]
    else:
        encoding = "cp932"
    try:
        return data.decode(encoding).rstrip("\x1a")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise MasterFileError([f"{line}行目：{encoding.upper()} として読めない文字があります。"]) from None


def _rows(text: str):
    """(line number, fields) of every non-empty line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            if any(f.strip() for f in row):
                yield reader.line_num, [f.strip() for f in row]
    except csv.Error as exc:
        raise MasterFileError([f"{reader.line_num}行目：CSV として読めません（{exc}）。"]) from None


def _detect(first: list[str]) -> str:
    if first[0].startswith("基準番号") or (len(first) == len(HOT_COLUMNS)
                                          and _DIGITS[13].fullmatch(first[0])):
        return HOT
    if len(first) >= SSK_MIN_COLUMNS and first[S_KIND] == "Y":
        return SSK
    raise MasterFileError(["1行目：医薬品HOTコードマスター（MEDIS-DC）・支払基金 医薬品マスターの"
                           "どちらの形式でもありません。"])


def version_date(file_name: str, dates: list[date]) -> date:
    """The master's date: the one in its published file name (MEDIS20241031.TXT), else the
    latest update date of its rows."""
    found = _FILE_DATE.search(file_name)
    if found:
        try:
            return date(*map(int, found.groups()))
        except ValueError:
            pass
    if not dates:
        raise MasterFileError([f"版の日付がわかりません。ファイル名に日付（例：MEDIS20241031.TXT）を"
                               f"含めてください（{file_name}）。"])
    return max(dates)


def _date(text: str) -> date | None:
    if not _DIGITS[8].fullmatch(text):
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


class _Rows:
    """Checks one layout's rows and collects their codes; the first row of a code wins."""

    def __init__(self):
        self.problems: list[str] = []
        self.codes: dict[tuple[str, str], CodeRow] = {}
        self.dates: list[date] = []

    def problem(self, line: int, text: str) -> None:
        self.problems.append(f"{line}行目：{text}")

    def add(self, kind: str, code: str, structured: str, name: str) -> None:
        if code:
            self.codes.setdefault((kind, code), CodeRow(kind, code, structured, name[:200]))

    def structured(self, line: int, column: str, value: str) -> bool:
        if value and not STRUCTURED_CODE.fullmatch(value):
            self.problem(line, f"{column}「{value}」は12桁の医薬品コードではありません。")
            return False
        return True

    def digits(self, line: int, column: str, value: str, n: int) -> bool:
        if value and not _DIGITS[n].fullmatch(value):
            self.problem(line, f"{column}「{value}」は{n}桁の数字ではありません。")
            return False
        return True

    def dated(self, line: int, column: str, value: str) -> bool:
        if not value:  # not every row need say when it changed; a wrong date is an error
            return True
        day = _date(value)
        if day is None:
            self.problem(line, f"{column}「{value}」は日付（YYYYMMDD）ではありません。")
            return False
        self.dates.append(day)
        return True


class _HotRows(_Rows):
    def read(self, line: int, row: list[str]) -> None:
        if len(row) != len(HOT_COLUMNS):
            self.problem(line, f"項目数が {len(row)} です（医薬品HOTコードマスターは {len(HOT_COLUMNS)}）。")
            return
        hot13, rece1, rece2 = row[H_HOT13], row[H_RECE1], row[H_RECE2]
        ok = self.digits(line, HOT_COLUMNS[H_HOT13], hot13, 13) and bool(hot13)
        if not hot13:
            self.problem(line, f"{HOT_COLUMNS[H_HOT13]}がありません。")
        ok &= self.digits(line, HOT_COLUMNS[H_HOT7], row[H_HOT7], 7)
        ok &= self.structured(line, HOT_COLUMNS[H_YAKKA], row[H_YAKKA])
        ok &= self.structured(line, HOT_COLUMNS[H_YJ], row[H_YJ])
        ok &= self.digits(line, HOT_COLUMNS[H_RECE1], rece1, 9)
        ok &= self.digits(line, HOT_COLUMNS[H_RECE2], rece2, 9)
        ok &= self.dated(line, HOT_COLUMNS[H_UPDATED], row[H_UPDATED])
        structured = row[H_YAKKA] or row[H_YJ]
        if not ok or not structured:  # not listed in the NHI price list: nothing to map
            return
        name = row[H_NAME]
        for hot in (hot13, hot13[:9], row[H_HOT7]):  # HOT13, HOT9 and HOT7 all occur
            self.add(HOT_CODE, hot, structured, name)
        self.add(RECEIPT, rece1, structured, name)
        self.add(RECEIPT, rece2, structured, row[H_NAME - 1] or name)  # 統一名: 告示名称


class _SskRows(_Rows):
    def read(self, line: int, row: list[str]) -> None:
        if len(row) < SSK_MIN_COLUMNS:
            self.problem(line, f"項目数が {len(row)} です（支払基金 医薬品マスターは {SSK_MIN_COLUMNS} 以上）。")
            return
        if row[S_KIND] != "Y":
            self.problem(line, f"マスター種別が「{row[S_KIND]}」です（医薬品マスターは Y）。")
            return
        ok = self.digits(line, "医薬品コード", row[S_CODE], 9) and bool(row[S_CODE])
        if not row[S_CODE]:
            self.problem(line, "医薬品コードがありません。")
        ok &= self.structured(line, "薬価基準収載医薬品コード", row[S_YAKKA])
        ok &= self.dated(line, "変更年月日", row[S_CHANGED])
        if ok and row[S_YAKKA]:
            self.add(RECEIPT, row[S_CODE], row[S_YAKKA], row[S_NAME])
