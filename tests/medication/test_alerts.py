"""重複投薬の確認 rules (services.medication.alerts), without a database."""
from __future__ import annotations

from datetime import date, timedelta

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


# --- the drug code master: codes of two systems compared through it --------------------

def mapped(n, code_kind, code, pharmacy, structured="", unmapped="", start=START, days=30):
    """A course whose レセ電 / HOT code the master mapped to `structured` (or could not)."""
    return Course(n, f"薬{n}", "", code_kind, code, pharmacy, pharmacy, start,
                  course_end(start, days), structured, unmapped)


def test_loxoprofen_as_receipt_code_and_as_yj_is_the_same_ingredient():
    """The issue's failure: レセ電 620098801 at one pharmacy, YJ 1149019F1560 at another,
    overlapping, gave no alert."""
    report = find_duplicates([mapped(1, "2", "620098801", "A", "1149019F1560"),
                              course(2, "4", "1149019F1560", "B", date(2025, 3, 10))])
    [alert] = report.alerts
    assert (alert.kind, alert.basis) == ("same_ingredient", "drug_master")
    assert report.unchecked == []


def test_same_class_through_the_master_is_the_softer_alert():
    report = find_duplicates([mapped(1, "2", "620098801", "A", "1149019F1560"),
                              mapped(2, "6", "990000201", "B", "1149032F1027")])
    assert [(a.kind, a.basis) for a in report.alerts] == [("same_class", "drug_master")]


def test_pairs_that_cannot_be_compared_say_why():
    report = find_duplicates([mapped(1, "2", "620098801", "A", unmapped="no_master"),
                              course(2, "4", "2171022F1022", "B"),
                              mapped(3, "2", "699999999", "C", unmapped="not_in_master",
                                     start=date(2025, 5, 1)),
                              course(4, "4", "2171022F1022", "D", date(2025, 5, 2)),
                              course(5, "1", "", "E", date(2025, 7, 1)),
                              course(6, "4", "2171022F1022", "F", date(2025, 7, 2))])
    assert [(p.first.drug_id, p.second.drug_id, p.reason) for p in report.unchecked] == [
        (1, 2, "no_master"), (3, 4, "not_in_master"), (5, 6, "no_code")]
    assert [c.drug_id for c in report.unchecked[1].unmapped] == [3]
    assert report.unchecked_pairs == 3


def test_overlapping_pairs_are_every_overlapping_pair_once():
    import random
    from itertools import combinations
    from services.medication.alerts import overlapping_pairs
    rng = random.Random(15)
    courses = [course(n, "4", "2171022F1022", "A", date(2025, 1, 1) + timedelta(rng.randrange(200)),
                      rng.randrange(1, 60)) for n in range(60)]
    expected = {frozenset((a.drug_id, b.drug_id)) for a, b in combinations(courses, 2)
                if a.start <= b.end and b.start <= a.end}
    found = [frozenset((a.drug_id, b.drug_id)) for a, b in overlapping_pairs(courses)]
    assert len(found) == len(set(found)) and set(found) == expected
