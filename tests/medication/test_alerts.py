"""重複投薬の確認 rules (services.medication.alerts), without a database."""
from __future__ import annotations

from datetime import date

from services.medication.alerts import Course, course_end, find_duplicates

START = date(2025, 3, 1)


def course(n, code_kind, code, pharmacy, start=START, days=30, generic="", name=None):
    return Course(n, name or f"薬{n}", generic, code_kind, code, pharmacy, pharmacy, start,
                  course_end(start, days))


def test_same_yj_first_seven_is_the_same_ingredient():
    report = find_duplicates([course(1, "4", "2171022F1022", "A"),
                              course(2, "4", "2171022F2029", "B", date(2025, 3, 20))])
    [alert] = report.alerts
    assert (alert.kind, alert.basis) == ("same_ingredient", "structured_code")
    assert (alert.overlap_start, alert.overlap_end) == (date(2025, 3, 20), date(2025, 3, 30))


def test_same_first_four_is_the_same_class():
    report = find_duplicates([course(1, "3", "2171022F1022", "A"),
                              course(2, "4", "2171017F1020", "B")])
    assert [a.kind for a in report.alerts] == ["same_class"]


def test_different_class_is_no_alert_and_counts_as_checked():
    report = find_duplicates([course(1, "4", "2171022F1022", "A"),
                              course(2, "4", "1149019F1560", "B")])
    assert report.alerts == [] and report.unchecked_pairs == 0


def test_same_pharmacy_or_no_overlap_is_not_compared():
    report = find_duplicates([course(1, "4", "2171022F1022", "A"),
                              course(2, "4", "2171022F1022", "A"),
                              course(3, "4", "2171022F1022", "B", date(2025, 4, 1))])
    assert report.alerts == []


def test_receipt_codes_compare_only_exactly_or_by_generic_name():
    same = find_duplicates([course(1, "2", "620004992", "A"), course(2, "2", "620004992", "B")])
    assert [(a.kind, a.basis) for a in same.alerts] == [("same_drug", "exact_code")]
    generic = find_duplicates([course(1, "2", "620004992", "A", generic="【般】ｱﾑﾛｼﾞﾋﾟﾝ錠5mg"),
                               course(2, "2", "622222222", "B", generic="【般】アムロジピン錠５ｍｇ")])
    assert [(a.kind, a.basis) for a in generic.alerts] == [("same_ingredient", "generic_name")]
    unknown = find_duplicates([course(1, "2", "620004992", "A"), course(2, "2", "622222222", "B")])
    assert unknown.alerts == [] and unknown.unchecked_pairs == 1


def test_courses_without_days_are_listed_as_not_checkable():
    prn = course(1, "4", "1149019F1560", "A", days=None)
    report = find_duplicates([prn, course(2, "4", "1149019F1560", "B")])
    assert report.alerts == [] and report.unknown_period == [prn]
