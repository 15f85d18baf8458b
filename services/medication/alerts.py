"""重複投薬の確認: the same ingredient or the same therapeutic class dispensed by different
pharmacies in overlapping periods. Pure functions over `Course`s, no database.

What can be told apart depends on the codes the pharmacies sent:
- YJ (4) and 厚労省 (3) codes carry the ingredient (first 7 characters) and the
  therapeutic class (first 4): compared structurally.
- レセプト電算 codes (2, 9 digits) are arbitrary numbers: without a drug master they can
  only be compared exactly; the generic name (一般名) is compared when both give it.
- Everything else is counted as "not checkable" and the page says so.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import combinations

STRUCTURED_KINDS = {"3", "4"}  # 厚労省コード, YJコード
_STRUCTURED = re.compile(r"[0-9]{4}[0-9A-Z]{3}[A-Z0-9][0-9A-Z]{4}")

SAME_INGREDIENT, SAME_CLASS, SAME_DRUG = "same_ingredient", "same_class", "same_drug"


def normalize(text: str) -> str:
    """Fold half-width kana, full-width letters and spaces so names compare as read."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).casefold()


@dataclass(frozen=True)
class Course:
    """One drug as dispensed: 服用期間 from `start` to `end` (None when the days are
    unknown, e.g. 屯服 or 外用)."""

    drug_id: int
    name: str
    generic_name: str
    code_kind: str
    code: str
    pharmacy: str
    pharmacy_key: str
    start: date
    end: date | None

    @property
    def structured_code(self) -> str | None:
        code = self.code.strip().upper()
        if self.code_kind in STRUCTURED_KINDS and _STRUCTURED.fullmatch(code):
            return code
        return None


@dataclass(frozen=True)
class DuplicateAlert:
    """Two courses from different pharmacies that overlap; `basis` says how we know."""

    kind: str       # same_ingredient, same_class, same_drug
    basis: str      # structured_code, exact_code, generic_name, name
    first: Course
    second: Course
    overlap_start: date
    overlap_end: date


@dataclass
class AlertReport:
    alerts: list[DuplicateAlert] = field(default_factory=list)
    unchecked_pairs: int = 0            # overlapping pairs that need a drug master
    unknown_period: list[Course] = field(default_factory=list)


def course_end(start: date, days: int | None) -> date | None:
    """Last day of a course of `days` days starting on the dispensing date."""
    return start + timedelta(days=days - 1) if days and days > 0 else None


def find_duplicates(courses: list[Course]) -> AlertReport:
    """Compare every pair of courses from different pharmacies whose periods overlap."""
    report = AlertReport(unknown_period=[c for c in courses if c.end is None])
    dated = sorted((c for c in courses if c.end is not None), key=lambda c: c.start)
    for a, b in combinations(dated, 2):
        if a.pharmacy_key == b.pharmacy_key or b.start > a.end:
            continue
        verdict = compare(a, b)
        if verdict is None:
            continue
        if verdict == ("unchecked", ""):
            report.unchecked_pairs += 1
            continue
        report.alerts.append(DuplicateAlert(verdict[0], verdict[1], a, b, max(a.start, b.start),
                                            min(a.end, b.end)))
    return report


def compare(a: Course, b: Course) -> tuple[str, str] | None:
    """(kind, basis) when the two are duplicates, ("unchecked", "") when that cannot be
    told without a drug master, None when they are known to differ."""
    code_a, code_b = a.structured_code, b.structured_code
    if code_a and code_b:
        if code_a[:7] == code_b[:7]:
            return SAME_INGREDIENT, "structured_code"
        if code_a[:4] == code_b[:4]:
            return SAME_CLASS, "structured_code"
        return None
    if a.code and a.code_kind == b.code_kind and a.code.strip() == b.code.strip():
        return SAME_DRUG, "exact_code"
    if a.generic_name and b.generic_name:
        same = normalize(a.generic_name) == normalize(b.generic_name)
        return (SAME_INGREDIENT, "generic_name") if same else None
    if normalize(a.name) == normalize(b.name):
        return SAME_DRUG, "name"
    return ("unchecked", "")
