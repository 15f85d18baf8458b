"""The routine immunisation schedule engine, worked case by worked case (定期接種)."""
from datetime import date, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from services.maternal_health.schedule import (
    ROTARIX, ROTATEQ, Dose, Status, Vaccine, add_months, age_in_months, dpt_ipv_hib, hib,
    mr_phases, overdue, pcv, primary_school_entry, rotavirus, schedule_for)

BIRTH = date(2024, 6, 10)


def status_of(statuses, vaccine, phase=""):
    return next(s for s in statuses if s.vaccine is vaccine and (not phase or s.phase == phase))


def on_time_doses(birth):
    """Every infant dose given at the first day of its standard window."""
    m = lambda n: add_months(birth, n)  # noqa: E731
    return ([Dose(Vaccine.DPT_IPV_HIB, d) for d in (m(2), m(3), m(4), m(11))]
            + [Dose(Vaccine.PCV, d) for d in (m(2), m(3), m(4), m(12))]
            + [Dose(Vaccine.HEPB, d) for d in (m(2), m(3), m(7))]
            + [Dose(Vaccine.ROTA, d, ROTARIX) for d in (m(2), m(3))]
            + [Dose(Vaccine.BCG, m(5)), Dose(Vaccine.MR, m(12)),
               Dose(Vaccine.VARICELLA, m(12)), Dose(Vaccine.VARICELLA, m(18))])


def test_child_vaccinated_on_time_has_every_infant_series_done():
    today = add_months(BIRTH, 19)
    statuses = schedule_for(BIRTH, on_time_doses(BIRTH), today)
    done = {s.vaccine for s in statuses if s.status is Status.DONE}
    assert done == {Vaccine.DPT_IPV_HIB, Vaccine.PCV, Vaccine.HEPB, Vaccine.ROTA, Vaccine.BCG,
                    Vaccine.MR, Vaccine.VARICELLA}
    assert status_of(statuses, Vaccine.MR, "第2期").status is Status.UPCOMING
    assert status_of(statuses, Vaccine.JE, "第1期").status is Status.UPCOMING
    assert overdue(statuses) == []


def test_two_month_old_has_the_first_round_due_now():
    statuses = schedule_for(BIRTH, [], add_months(BIRTH, 2))
    due = {s.vaccine for s in statuses if s.status is Status.DUE}
    assert due == {Vaccine.DPT_IPV_HIB, Vaccine.PCV, Vaccine.HEPB, Vaccine.ROTA}
    assert status_of(statuses, Vaccine.BCG).status is Status.UPCOMING
    assert status_of(statuses, Vaccine.BCG).window.start == date(2024, 11, 10)


# ---------------------------------------------------------------- PCV late start

def test_pcv_started_at_eight_months_is_two_primaries_and_a_booster():
    first = add_months(BIRTH, 8)
    after_first = pcv(BIRTH, [first], first + timedelta(days=10))
    assert after_first.doses_planned == 3
    assert after_first.status is Status.UPCOMING
    assert after_first.window.start == first + timedelta(days=27)
    assert "初回2回＋追加1回" in after_first.reason

    second = first + timedelta(days=30)
    booster = pcv(BIRTH, [first, second], second + timedelta(days=1))
    assert booster.next_dose == 3
    # ≥60 days after the second dose and not before the first birthday
    assert booster.window.start == max(second + timedelta(days=60), add_months(BIRTH, 12))
    done = pcv(BIRTH, [first, second, booster.window.start], booster.window.start)
    assert done.status is Status.DONE and done.doses_planned == 3


def test_pcv_not_started_at_eight_months_is_overdue_with_the_late_plan():
    status = pcv(BIRTH, [], add_months(BIRTH, 8))
    assert status.status is Status.OVERDUE
    assert status.doses_planned == 3
    assert "生後7〜12か月で開始" in status.reason


def test_pcv_started_between_one_and_two_years_is_two_doses_sixty_days_apart():
    first = add_months(BIRTH, 14)
    status = pcv(BIRTH, [first], first + timedelta(days=1))
    assert (status.doses_planned, status.window.start) == (2, first + timedelta(days=60))


def test_pcv_started_after_two_years_is_one_dose_and_closes_at_five():
    assert pcv(BIRTH, [add_months(BIRTH, 30)], add_months(BIRTH, 31)).status is Status.DONE
    assert pcv(BIRTH, [], add_months(BIRTH, 60)).status is Status.NOT_ELIGIBLE


def test_pcv_third_primary_is_skipped_when_the_second_came_after_one_year():
    doses = [add_months(BIRTH, 6), add_months(BIRTH, 12) + timedelta(days=5)]
    status = pcv(BIRTH, doses, doses[1] + timedelta(days=1))
    assert status.next_dose == 3 and status.doses_planned == 3  # the booster, not primary 3
    assert status.window.start == doses[1] + timedelta(days=60)


# ---------------------------------------------------------------- Hib late start

def test_hib_started_at_eight_months_is_two_plus_one_and_booster_seven_months_later():
    first = add_months(BIRTH, 8)
    second = first + timedelta(days=28)
    status = hib(BIRTH, [first, second], second + timedelta(days=1))
    assert status.doses_planned == 3 and status.next_dose == 3
    assert status.window.start == add_months(second, 7)


def test_hib_primaries_stop_at_one_year():
    first = add_months(BIRTH, 3)
    status = hib(BIRTH, [first], add_months(BIRTH, 13))
    assert status.next_dose == 2 and status.doses_planned == 2
    assert "残りの初回接種は行わず" in status.reason
    assert status.window.start == add_months(first, 7)


def test_hib_started_after_one_year_is_a_single_dose():
    assert hib(BIRTH, [add_months(BIRTH, 20)], add_months(BIRTH, 21)).status is Status.DONE


def test_hib_appears_only_for_children_on_the_separate_series():
    with_hib = schedule_for(BIRTH, [Dose(Vaccine.HIB, add_months(BIRTH, 2))], add_months(BIRTH, 3))
    without = schedule_for(BIRTH, [], add_months(BIRTH, 3))
    assert any(s.vaccine is Vaccine.HIB for s in with_hib)
    assert not any(s.vaccine is Vaccine.HIB for s in without)


# ---------------------------------------------------------------- rotavirus

def test_rotavirus_first_dose_asked_at_fifteen_weeks_is_not_eligible():
    status = rotavirus(BIRTH, [], BIRTH + timedelta(weeks=15))
    assert status.status is Status.NOT_ELIGIBLE
    assert "14週6日" in status.reason


def test_rotavirus_first_dose_at_fourteen_weeks_six_days_is_still_due():
    status = rotavirus(BIRTH, [], BIRTH + timedelta(weeks=14, days=6))
    assert status.status is Status.DUE
    assert status.window.last_day == BIRTH + timedelta(weeks=14, days=6)


def test_rotarix_series_closes_at_24_weeks_rotateq_at_32():
    first = BIRTH + timedelta(weeks=8)
    late = BIRTH + timedelta(weeks=25)
    assert rotavirus(BIRTH, [first], late, ROTARIX).status is Status.NOT_ELIGIBLE
    rotateq = rotavirus(BIRTH, [first, first + timedelta(days=28)], late, ROTATEQ)
    assert rotateq.status is Status.DUE and rotateq.doses_planned == 3
    assert rotateq.window.last_day == BIRTH + timedelta(weeks=32)


def test_rotavirus_second_dose_waits_27_days():
    first = BIRTH + timedelta(weeks=8)
    status = rotavirus(BIRTH, [first], first + timedelta(days=10), ROTARIX)
    assert status.status is Status.UPCOMING
    assert status.window.start == first + timedelta(days=27)


# ---------------------------------------------------------------- MR phase 2

@pytest.mark.parametrize("birth, entry", [
    (date(2019, 4, 1), date(2025, 4, 1)),   # 早生まれ: born April 1 enters a year early
    (date(2019, 4, 2), date(2026, 4, 1)),
    (date(2019, 12, 25), date(2026, 4, 1)),
    (date(2020, 3, 31), date(2026, 4, 1)),
])
def test_primary_school_entry_follows_the_april_first_cut(birth, entry):
    assert primary_school_entry(birth) == entry


def test_mr_phase_two_window_is_the_school_year_before_primary_school():
    birth = date(2019, 12, 25)
    p1 = add_months(birth, 12)
    before = mr_phases(birth, [p1], date(2025, 3, 31))[1]
    assert before.status is Status.UPCOMING
    assert (before.window.start, before.window.end) == (date(2025, 4, 1), date(2026, 3, 31))
    assert mr_phases(birth, [p1], date(2025, 4, 1))[1].status is Status.DUE
    assert mr_phases(birth, [p1], date(2026, 4, 1))[1].status is Status.NOT_ELIGIBLE
    done = mr_phases(birth, [p1, date(2025, 6, 1)], date(2025, 6, 2))
    assert [s.status for s in done] == [Status.DONE, Status.DONE]


def test_mr_phase_one_missed_does_not_cancel_phase_two():
    birth = date(2019, 12, 25)
    first, second = mr_phases(birth, [], date(2025, 5, 1))
    assert first.status is Status.NOT_ELIGIBLE
    assert second.status is Status.DUE


# ---------------------------------------------------------------- 5種混合 booster

def test_five_in_one_booster_opens_six_months_after_the_third_dose():
    thirds = [add_months(BIRTH, 2), add_months(BIRTH, 3), add_months(BIRTH, 4)]
    opens = add_months(thirds[2], 6)
    assert dpt_ipv_hib(BIRTH, thirds, opens - timedelta(days=1)).status is Status.UPCOMING
    due = dpt_ipv_hib(BIRTH, thirds, opens)
    assert due.status is Status.DUE and due.next_dose == 4
    assert due.window.end == add_months(thirds[2], 18)
    late = dpt_ipv_hib(BIRTH, thirds, add_months(thirds[2], 18) + timedelta(days=1))
    assert late.status is Status.OVERDUE and late.needs_reminder
    assert dpt_ipv_hib(BIRTH, thirds, add_months(BIRTH, 90)).status is Status.NOT_ELIGIBLE


def test_five_in_one_primaries_are_20_to_56_days_apart():
    first = add_months(BIRTH, 2)
    status = dpt_ipv_hib(BIRTH, [first], first + timedelta(days=19))
    assert status.status is Status.UPCOMING
    assert (status.window.start, status.window.end) == (first + timedelta(days=20),
                                                         first + timedelta(days=56))
    assert dpt_ipv_hib(BIRTH, [first], first + timedelta(days=57)).status is Status.OVERDUE


# ---------------------------------------------------------------- moved in

def test_child_who_moved_in_with_a_partial_record():
    """Moved in at 9 months with what the previous city recorded: 5種混合 ×2, PCV ×1,
    B型肝炎 ×2, ロタ (Rotarix) ×2 — no BCG. Record order and numbering are not trusted."""
    m = lambda n: add_months(BIRTH, n)  # noqa: E731
    brought = [Dose(Vaccine.DPT_IPV_HIB, m(3)), Dose(Vaccine.DPT_IPV_HIB, m(2)),
               Dose(Vaccine.PCV, m(2)), Dose(Vaccine.HEPB, m(2)), Dose(Vaccine.HEPB, m(3)),
               Dose(Vaccine.ROTA, m(2), ROTARIX), Dose(Vaccine.ROTA, m(3), ROTARIX)]
    today = m(9)
    statuses = schedule_for(BIRTH, brought, today)
    five = status_of(statuses, Vaccine.DPT_IPV_HIB)
    assert (five.status, five.next_dose) == (Status.OVERDUE, 3)
    pcv_status = status_of(statuses, Vaccine.PCV)
    # PCV primaries are standard until 12 months, so the second one is due, not late
    assert (pcv_status.status, pcv_status.next_dose, pcv_status.doses_planned) == (Status.DUE, 2, 4)
    assert status_of(statuses, Vaccine.HEPB).status is Status.OVERDUE
    assert status_of(statuses, Vaccine.ROTA).status is Status.DONE
    assert status_of(statuses, Vaccine.BCG).status is Status.OVERDUE
    assert status_of(statuses, Vaccine.MR, "第1期").window.start == m(12)
    reminders = {s.vaccine for s in overdue(statuses)}
    assert reminders == {Vaccine.DPT_IPV_HIB, Vaccine.HEPB, Vaccine.BCG}


def test_a_dose_dated_in_the_future_does_not_count():
    statuses = schedule_for(BIRTH, [Dose(Vaccine.BCG, add_months(BIRTH, 6))], add_months(BIRTH, 5))
    assert status_of(statuses, Vaccine.BCG).status is Status.DUE


# ---------------------------------------------------------------- properties

@settings(max_examples=200, deadline=None)
@given(birth=st.dates(date(2012, 1, 1), date(2026, 12, 31)),
       age_days=st.integers(0, 13 * 366),
       offsets=st.lists(st.tuples(st.sampled_from(list(Vaccine)), st.integers(0, 13 * 366)),
                        max_size=12))
def test_every_status_is_consistent_with_its_window(birth, age_days, offsets):
    today = birth + timedelta(days=age_days)
    doses = [Dose(v, birth + timedelta(days=o)) for v, o in offsets]
    for s in schedule_for(birth, doses, today):
        assert s.reason  # every answer explains itself
        if s.status is Status.DONE:
            assert s.window is None
            continue
        if s.window is None:
            assert s.status is Status.NOT_ELIGIBLE
            continue
        if s.status is Status.UPCOMING:
            assert today < s.window.start
        elif s.status is Status.DUE:
            assert s.window.start <= today <= s.window.end
        elif s.status is Status.OVERDUE:
            assert s.window.end < today <= s.window.last_day
        else:
            assert today > s.window.last_day


@given(birth=st.dates(date(2000, 1, 1), date(2030, 12, 31)), months=st.integers(0, 200))
def test_age_in_months_inverts_add_months(birth, months):
    assert age_in_months(birth, add_months(birth, months)) == months
