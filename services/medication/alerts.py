"""重複投薬の確認: the same ingredient or the same therapeutic class dispensed by different
pharmacies in overlapping periods. Pure functions over `Course`s, no database.

What can be told apart depends on the codes the pharmacies sent:
- YJ (4) and 厚労省 (3) codes carry the ingredient (first 7 characters) and the
  therapeutic class (first 4): compared structurally.
- レセプト電算 codes (2, 9 digits) and HOT codes (6) are arbitrary numbers: the drug code
  master (services.medication.drug_master) maps them to the 薬価基準収載医薬品コード, which is
  then compared as above (`Course.mapped_code`). Without a master, or for a code the master
  does not list, they are only compared exactly; the generic name (一般名) is compared when
  both give it.
- Every other overlapping pair is listed as "not checkable", with the reason, and the page
  says so.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property, lru_cache

STRUCTURED_KINDS = {"3", "4"}  # 厚労省コード, YJコード
MASTER_KINDS = {"2", "6"}      # レセプト電算コード, HOTコード: need the drug code master
STRUCTURED_CODE = re.compile(r"[0-9]{4}[0-9A-Z]{3}[A-Z0-9][0-9A-Z]{4}")
INGREDIENT, THERAPEUTIC_CLASS = 7, 4  # leading characters of a 薬価基準収載医薬品コード / YJ

SAME_INGREDIENT, SAME_CLASS, SAME_DRUG = "same_ingredient", "same_class", "same_drug"
# Why a pair could not be compared (UncheckedPair.reason).
NO_MASTER, NOT_IN_MASTER, NO_CODE = "no_master", "not_in_master", "no_code"


@lru_cache(maxsize=8192)
def normalize(text: str) -> str:
    """Fold half-width kana, full-width letters and spaces so names compare as read.
    Kept per worker: a notebook's pairs compare the same few names over and over."""
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
    mapped_code: str = ""  # the 薬価基準収載医薬品コード the drug master gives `code`
    unmapped: str = ""     # why a code of MASTER_KINDS has none: NO_MASTER, NOT_IN_MASTER

    @cached_property
    def structured_code(self) -> str | None:
        """The code that carries ingredient and class: its own YJ / 厚労省 code, else the
        one the drug master maps its レセ電 or HOT code to. Worked out once per course: a
        course is compared with every course it overlaps."""
        code = self.code.strip().upper()
        if self.code_kind in STRUCTURED_KINDS and STRUCTURED_CODE.fullmatch(code):
            return code
        return self.mapped_code or None


@dataclass(frozen=True)
class DuplicateAlert:
    """Two courses from different pharmacies that overlap; `basis` says how we know."""

    kind: str       # same_ingredient, same_class, same_drug
    basis: str      # structured_code, drug_master, exact_code, generic_name, name
    first: Course
    second: Course
    overlap_start: date
    overlap_end: date


@dataclass(frozen=True)
class UncheckedPair:
    """Two overlapping courses from different pharmacies that could not be compared."""

    first: Course
    second: Course
    reason: str     # NO_MASTER, NOT_IN_MASTER, NO_CODE

    @property
    def unmapped(self) -> list[Course]:
        """The courses whose code the master would have to map (the page names them)."""
        return [c for c in (self.first, self.second) if c.unmapped]


@dataclass
class AlertReport:
    alerts: list[DuplicateAlert] = field(default_factory=list)
    unchecked: list[UncheckedPair] = field(default_factory=list)
    unknown_period: list[Course] = field(default_factory=list)

    @property
    def unchecked_pairs(self) -> int:
        return len(self.unchecked)


def course_end(start: date, days: int | None) -> date | None:
    """Last day of a course of `days` days starting on the dispensing date."""
    return start + timedelta(days=days - 1) if days and days > 0 else None


def find_duplicates(courses: list[Course]) -> AlertReport:
    """Compare every pair of courses from different pharmacies whose periods overlap."""
    report = AlertReport(unknown_period=[c for c in courses if c.end is None])
    for a, b in overlapping_pairs([c for c in courses if c.end is not None]):
        if a.pharmacy_key == b.pharmacy_key:
            continue
        verdict = compare(a, b)
        if verdict is None:
            continue
        if verdict[0] == "unchecked":
            report.unchecked.append(UncheckedPair(a, b, verdict[1]))
            continue
        report.alerts.append(DuplicateAlert(verdict[0], verdict[1], a, b, max(a.start, b.start),
                                            min(a.end, b.end)))
    return report


def overlapping_pairs(dated: list[Course]):
    """Pairs whose periods overlap, each once: sorted by start, the courses after `a` are
    compared only while they start before `a` ends (not every pair of a long notebook)."""
    dated = sorted(dated, key=lambda c: c.start)
    for index, a in enumerate(dated):
        later = index + 1
        while later < len(dated) and dated[later].start <= a.end:
            yield a, dated[later]
            later += 1


def compare(a: Course, b: Course) -> tuple[str, str] | None:
    """(kind, basis) when the two are duplicates, ("unchecked", reason) when that cannot
    be told, None when they are known to differ. Same ingredient (first 7 characters of the
    薬価基準 / YJ code) is the alert; same therapeutic class (同効薬, first 4) the softer one."""
    code_a, code_b = a.structured_code, b.structured_code
    if code_a and code_b:
        basis = "drug_master" if a.mapped_code or b.mapped_code else "structured_code"
        if code_a[:INGREDIENT] == code_b[:INGREDIENT]:
            return SAME_INGREDIENT, basis
        if code_a[:THERAPEUTIC_CLASS] == code_b[:THERAPEUTIC_CLASS]:
            return SAME_CLASS, basis
        return None
    if a.code and a.code_kind == b.code_kind and a.code.strip() == b.code.strip():
        return SAME_DRUG, "exact_code"
    if a.generic_name and b.generic_name:
        same = normalize(a.generic_name) == normalize(b.generic_name)
        return (SAME_INGREDIENT, "generic_name") if same else None
    if normalize(a.name) == normalize(b.name):
        return SAME_DRUG, "name"
    return "unchecked", a.unmapped or b.unmapped or NO_CODE
