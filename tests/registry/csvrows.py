"""Rows for import tests: a header, a good file's rows, and ways to spoil one cell."""
from __future__ import annotations

import csv
import io

HEADER = ["resident_number", "household_number", "household_head_name", "household_address",
          "family_name", "given_name", "family_name_kana", "given_name_kana", "birth_date",
          "sex", "relationship_to_head", "address", "status", "support_block",
          "guardian_numbers", "seal_number", "seal_registered_on", "fiscal_year",
          "total_income", "taxable_income", "municipal_tax", "prefectural_tax"]

# A household of three (guardians for the child) and an elder living alone; spreadsheet
# rows 2-5. Row 4 uses half-width kana and a 和暦 date on purpose.
GOOD_ROWS = [
    ["R001", "H001", "", "南国市大そね1番地", "高知", "太郎", "コウチ", "タロウ", "1985-04-01",
     "1", "世帯主", "南国市大そね1番地", "active", "0", "", "1001", "2010-05-01",
     "2024;2025", "4000000;4100000", "3000000;3100000", "180000;186000", "120000;124000"],
    ["R002", "H001", "", "", "高知", "花子", "コウチ", "ハナコ", "1987-06-15", "2", "妻",
     "南国市大そね1番地", "", "", "", "", "", "", "", "", "", ""],
    ["R003", "H001", "", "", "高知", "一郎", "ｺｳﾁ", "ｲﾁﾛｳ", "R2.4.1", "1", "子",
     "南国市大そね1番地", "", "", "R001;R002", "", "", "", "", "", "", ""],
    ["R004", "H002", "土佐　ウメ", "南国市後免町2-3", "土佐", "ウメ", "トサ", "ウメ",
     "昭和15年3月3日", "2", "世帯主", "南国市後免町2-3", "active", "1", "", "", "", "2025",
     "1,200,000", "700000", "45000", "30000"],
]


def to_csv(rows, header=HEADER, encoding="utf-8") -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def replace(rows, row_number: int, column: str, value: str, header=HEADER):
    """A copy of `rows` with one cell changed; `row_number` counts like the spreadsheet."""
    changed = [list(r) for r in rows]
    changed[row_number - 2][header.index(column)] = value
    return changed
