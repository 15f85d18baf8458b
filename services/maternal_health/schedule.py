"""Routine immunisation schedule engine (定期接種スケジュール).

Pure domain logic: a child's birth date, the doses on record and the day of the question go
in; one `VaccineStatus` per vaccine (and phase) comes out, saying whether the next dose is
done, due now, upcoming (with its date window), overdue, or no longer eligible — and why.
No Flask, no database.

Conventions (deliberate simplifications, stated so a reader can check them):
- "n months" is the monthly anniversary of the birth date (the 31st clamps to the month's
  last day). An age limit "before n months" ends the day before that anniversary.
- A dose's *window* is the standard schedule (標準的な接種期間); after it closes the dose
  is *overdue* while the child is still within the routine ages, and *no longer eligible*
  once those ages have passed (it would then be voluntary, not 定期接種).
- Doses count in date order; the dose number written on a record is not trusted, because
  records brought by children who moved in are often incomplete or renumbered.
- Hib is assessed only for a child already on the separate Hib series (a Hib dose on
  record); since 2024-04-01 the Hib component comes with 5種混合.

Reasons are Japanese message templates marked with `N_` so the catalog can translate them;
`VaccineStatus.reason` gives the Japanese text with its values filled in.
"""
from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable, Iterable, Sequence


def N_(message: str) -> str:
    """Mark a message for extraction without translating it here (no Flask in this layer)."""
    return message


class Status(enum.StrEnum):
    DONE = "done"                   # 接種済み
    DUE = "due"                     # 接種時期
    UPCOMING = "upcoming"           # これから
    OVERDUE = "overdue"             # 標準期間を過ぎた（未接種）
    NOT_ELIGIBLE = "not_eligible"   # 定期接種の対象外になった


STATUS_LABELS = {
    Status.DONE: N_("接種済み"),
    Status.DUE: N_("接種時期です"),
    Status.UPCOMING: N_("予定"),
    Status.OVERDUE: N_("接種期間を過ぎています"),
    Status.NOT_ELIGIBLE: N_("定期接種の対象外"),
}


class Vaccine(enum.StrEnum):
    """Vaccine codes as stored on immunisation records."""
    DPT_IPV_HIB = "dpt_ipv_hib"   # 5種混合
    HIB = "hib"                   # ヒブ（単独）
    PCV = "pcv"                   # 小児用肺炎球菌
    HEPB = "hepb"                 # B型肝炎
    ROTA = "rota"                 # ロタウイルス
    BCG = "bcg"
    MR = "mr"                     # 麻しん風しん混合
    VARICELLA = "varicella"       # 水痘
    JE = "je"                     # 日本脳炎
    DT = "dt"                     # 2種混合


VACCINE_LABELS = {
    Vaccine.DPT_IPV_HIB: N_("5種混合"),
    Vaccine.HIB: N_("ヒブ"),
    Vaccine.PCV: N_("小児用肺炎球菌"),
    Vaccine.HEPB: N_("B型肝炎"),
    Vaccine.ROTA: N_("ロタウイルス"),
    Vaccine.BCG: N_("BCG"),
    Vaccine.MR: N_("麻しん風しん混合（MR）"),
    Vaccine.VARICELLA: N_("水痘"),
    Vaccine.JE: N_("日本脳炎"),
    Vaccine.DT: N_("2種混合（DT）"),
}

ROTARIX = "rotarix"   # 1価, 2 doses, until 24 weeks
ROTATEQ = "rotateq"   # 5価, 3 doses, until 32 weeks


@dataclass(frozen=True)
class Dose:
    """One dose on record: what, when, and (for rotavirus) which product."""
    vaccine: Vaccine
    given_on: date
    product: str | None = None


@dataclass(frozen=True)
class DateWindow:
    """Dates of the next dose: `start`…`end` is the standard window; `last_day` is the last
    day it still counts as routine (定期接種)."""
    start: date
    end: date
    last_day: date


@dataclass(frozen=True)
class VaccineStatus:
    """The answer for one vaccine (or one phase of it) for one child on one day."""
    vaccine: Vaccine
    phase: str                       # "" or a phase label such as "第1期"
    status: Status
    doses_given: int
    doses_planned: int
    next_dose: int | None            # 1-based number of the next dose, None when none
    window: DateWindow | None
    reasons: tuple[str, ...]         # message templates (msgids), each filled from args
    reason_args: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return VACCINE_LABELS[self.vaccine] + (f" {self.phase}" if self.phase else "")

    @property
    def reason(self) -> str:
        """The reason in Japanese with its values filled in."""
        return explain(self)

    @property
    def needs_reminder(self) -> bool:
        """未接種者への勧奨の対象: overdue but still routine."""
        return self.status is Status.OVERDUE


# ---------------------------------------------------------------- date arithmetic

def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later (clamped to the month's last day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_after(birth: date, months: int) -> date:
    """The day a child born on `birth` reaches `months` months of age."""
    return add_months(birth, months)


def before_months(birth: date, months: int) -> date:
    """The last day before the child reaches `months` months."""
    return add_months(birth, months) - timedelta(days=1)


def weeks_days(birth: date, weeks: int, days: int = 0) -> date:
    """出生 `weeks` 週 `days` 日後."""
    return birth + timedelta(weeks=weeks, days=days)


def age_in_months(birth: date, on: date) -> int:
    """Completed months of age on `on`."""
    months = (on.year - birth.year) * 12 + on.month - birth.month
    return months - 1 if add_months(birth, months) > on else months


def primary_school_entry(birth: date) -> date:
    """April 1 of the school year the child enters primary school (学校教育法 17条: the first
    school year after the day the child reaches 6, so those born on April 1 go a year early)."""
    sixth = add_months(birth, 72)
    return date(sixth.year, 4, 1) if sixth <= date(sixth.year, 4, 1) else date(sixth.year + 1, 4, 1)


# ---------------------------------------------------------------- judging one dose

@dataclass(frozen=True)
class _Next:
    """The next dose a series calls for, before it is compared with today."""
    number: int
    planned: int
    start: date
    end: date
    last_day: date
    plan: str = ""            # how the series runs (late-start plans), message template
    plan_args: dict = field(default_factory=dict)
    note: str = ""            # a second explanation (e.g. primaries skipped)


def _judge(vaccine: Vaccine, given: int, nxt: _Next, today: date, phase: str = "") -> VaccineStatus:
    window = DateWindow(nxt.start, min(nxt.end, nxt.last_day), nxt.last_day)
    args = {"n": nxt.number, "start": window.start, "end": window.end,
            "last": window.last_day, **nxt.plan_args}
    if today > window.last_day:
        status, text = Status.NOT_ELIGIBLE, N_("第%(n)s回は%(last)sまでに受ける必要がありました。")
    elif today < window.start:
        status, text = Status.UPCOMING, N_("第%(n)s回は%(start)sから%(end)sまでが標準的な時期です。")
    elif today <= window.end:
        status, text = Status.DUE, N_("第%(n)s回の接種時期です（%(start)s〜%(end)s）。")
    else:
        status, text = Status.OVERDUE, N_("第%(n)s回の標準的な時期（%(end)sまで）を過ぎています。%(last)sまでは定期接種として受けられます。")
    reasons = tuple(part for part in (nxt.plan, nxt.note, text) if part)
    return VaccineStatus(vaccine, phase, status, given, nxt.planned, nxt.number, window,
                         reasons, args)


COMPLETE = N_("必要な%(planned)s回の接種が終わりました。")


def _done(vaccine: Vaccine, given: int, planned: int, phase: str = "",
          plan: str = "") -> VaccineStatus:
    reasons = (plan, COMPLETE) if plan else (COMPLETE,)
    return VaccineStatus(vaccine, phase, Status.DONE, given, planned, None, None, reasons,
                         {"planned": planned})


def _closed(vaccine: Vaccine, given: int, planned: int, text: str, phase: str = "",
            **args) -> VaccineStatus:
    return VaccineStatus(vaccine, phase, Status.NOT_ELIGIBLE, given, planned, None, None,
                         (text,), args)


def explain(status: VaccineStatus, translate: Callable[[str], str] = lambda m: m,
            day: Callable[[date], str] | None = None) -> str:
    """The reason as one sentence, each template passed through `translate` first and each
    date written by `day` (the views pass gettext and the locale's date format; plain
    Japanese otherwise)."""
    return fill(status.reasons, status.reason_args, translate, day)


def fill(templates, args: dict, translate: Callable[[str], str] = lambda m: m,
         day: Callable[[date], str] | None = None) -> str:
    """Message templates joined into one sentence, their dates written by `day`."""
    day = day or _fmt
    values = {k: day(v) if isinstance(v, date) else v for k, v in args.items()}
    return " ".join(translate(t) % values for t in templates)


def _fmt(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# ---------------------------------------------------------------- 5種混合

def dpt_ipv_hib(birth: date, doses: Sequence[date], today: date) -> VaccineStatus:
    """5種混合: 2 months – 7½ years; 3 primary doses 20–56 days apart, booster 6–18 months
    after the third."""
    last = before_months(birth, 90)
    n = len(doses)
    if n >= 4:
        return _done(Vaccine.DPT_IPV_HIB, n, 4)
    if n == 0:
        nxt = _Next(1, 4, months_after(birth, 2), before_months(birth, 7), last)
    elif n < 3:
        nxt = _Next(n + 1, 4, doses[-1] + timedelta(days=20), doses[-1] + timedelta(days=56), last)
    else:
        nxt = _Next(4, 4, add_months(doses[2], 6), add_months(doses[2], 18), last,
                    N_("追加接種は第3回から6か月以上あけます。"))
    return _judge(Vaccine.DPT_IPV_HIB, n, nxt, today)


# ---------------------------------------------------------------- Hib (separate series)

def hib(birth: date, doses: Sequence[date], today: date) -> VaccineStatus:
    """Hib for a child on the separate series: the number of doses depends on the age at the
    first dose (2–7 months: 3+1; 7–12 months: 2+1; 1–5 years: 1). Primary doses are only
    given before 12 months; the booster comes at least 7 months after the last primary."""
    last = before_months(birth, 60)
    first = doses[0] if doses else today
    start_age = age_in_months(birth, first)
    if start_age >= 12:
        plan = N_("1歳以降に始めたため1回接種です。")
        if doses:
            return _done(Vaccine.HIB, len(doses), 1, plan=plan)
        return _judge(Vaccine.HIB, 0, _Next(1, 1, months_after(birth, 2),
                                            before_months(birth, 7), last, plan), today)
    primaries_wanted = 3 if start_age < 7 else 2
    plan = (N_("生後7か月未満で開始：初回3回＋追加1回。") if primaries_wanted == 3
            else N_("生後7〜12か月で開始：初回2回＋追加1回。"))
    return _primary_then_booster(
        Vaccine.HIB, birth, doses, today, last, primaries_wanted, plan,
        primary_gap=(27, 56), primary_deadline=before_months(birth, 12),
        booster=lambda p: (add_months(p, 7), add_months(p, 13)))


PRIMARIES_SKIPPED = N_("初回接種の期限を過ぎたため残りの初回接種は行わず、追加接種に進みます。")


def _primary_then_booster(vaccine, birth, doses, today, last, wanted, plan, primary_gap,
                          primary_deadline, booster) -> VaccineStatus:
    """A primary series that stops at `primary_deadline` (remaining primaries are skipped),
    then one booster whose window `booster(last_primary)` gives."""
    primaries = [d for d in doses if d <= primary_deadline][:wanted]
    boosters = doses[len(primaries):]
    planned = len(primaries) + 1 if today > primary_deadline else wanted + 1
    if boosters:
        return _done(vaccine, len(doses), len(primaries) + 1, plan=plan)
    if len(primaries) < wanted and not today > primary_deadline:
        if not primaries:
            nxt = _Next(1, planned, months_after(birth, 2), before_months(birth, 7),
                        primary_deadline, plan)
        else:
            prev = primaries[-1]
            nxt = _Next(len(primaries) + 1, planned, prev + timedelta(days=primary_gap[0]),
                        prev + timedelta(days=primary_gap[1]), primary_deadline, plan)
        return _judge(vaccine, len(doses), nxt, today)
    if not primaries:
        raise ValueError("a primary series with no primary dose")  # guarded by callers
    start, end = booster(primaries[-1])
    nxt = _Next(len(primaries) + 1, len(primaries) + 1, start, end, last, plan,
                note=PRIMARIES_SKIPPED if len(primaries) < wanted else "")
    return _judge(vaccine, len(doses), nxt, today)


# ---------------------------------------------------------------- 小児用肺炎球菌

def pcv(birth: date, doses: Sequence[date], today: date) -> VaccineStatus:
    """小児用肺炎球菌: 2–60 months; the plan depends on the age at the first dose
    (2–7 months: 3+1; 7–12 months: 2+1; 12–24 months: 2 doses 60 days apart; 2–5 years: 1)."""
    last = before_months(birth, 60)
    if not doses:
        return _pcv_not_started(birth, today, last)
    start_age = age_in_months(birth, doses[0])
    if start_age >= 24:
        return _pcv_single(birth, doses, today, last)
    if start_age >= 12:
        return _pcv_two_doses(birth, doses, today, last)
    wanted = 3 if start_age < 7 else 2
    return _pcv_primary_series(birth, doses, today, last, wanted, PCV_PLANS[wanted])


PCV_PLANS = {
    3: N_("生後7か月未満で開始：初回3回＋追加1回。"),
    2: N_("生後7〜12か月で開始：初回2回＋追加1回。"),
    "two": N_("1歳〜2歳未満で開始：60日以上あけて2回。"),
    "one": N_("2歳以降に始めたため1回接種です。"),
}


def _pcv_not_started(birth, today, last) -> VaccineStatus:
    """Not started: the standard start is 2–7 months; starting later changes the plan."""
    age = age_in_months(birth, today)
    plan, planned = ((PCV_PLANS[3], 4) if age < 7 else (PCV_PLANS[2], 3) if age < 12
                     else (PCV_PLANS["two"], 2) if age < 24 else (PCV_PLANS["one"], 1))
    return _judge(Vaccine.PCV, 0, _Next(1, planned, months_after(birth, 2),
                                        before_months(birth, 7), last, plan), today)


def _pcv_primary_series(birth, doses, today, last, wanted, plan) -> VaccineStatus:
    """PCV primaries ≥27 days apart before 24 months (a third only if the second came
    before 12 months); booster ≥60 days after the last primary, from 12 months (12–15)."""
    if len(doses) >= 2 and doses[1] > before_months(birth, 12):
        wanted = 2  # 初回2回目が生後12月を超えたら初回3回目は行わない
    deadline = before_months(birth, 24)
    primaries = [d for d in doses if d <= deadline][:wanted]
    if len(doses) > len(primaries):
        return _done(Vaccine.PCV, len(doses), len(primaries) + 1, plan=plan)
    if len(primaries) < wanted and today <= deadline:
        # Standard: primaries before 12 months; they still count until 24 months.
        start = primaries[-1] + timedelta(days=27)
        nxt = _Next(len(primaries) + 1, wanted + 1, start,
                    max(start, before_months(birth, 12)), deadline, plan)
        return _judge(Vaccine.PCV, len(doses), nxt, today)
    start = max(primaries[-1] + timedelta(days=60), months_after(birth, 12))
    end = max(start, before_months(birth, 15))
    return _judge(Vaccine.PCV, len(doses),
                  _Next(len(primaries) + 1, len(primaries) + 1, start, end, last, plan,
                        note=PRIMARIES_SKIPPED if len(primaries) < wanted else ""), today)


def _pcv_two_doses(birth, doses, today, last) -> VaccineStatus:
    plan = PCV_PLANS["two"]
    if len(doses) >= 2:
        return _done(Vaccine.PCV, len(doses), 2, plan=plan)
    return _judge(Vaccine.PCV, 1, _Next(2, 2, doses[0] + timedelta(days=60),
                                        doses[0] + timedelta(days=120), last, plan), today)


def _pcv_single(birth, doses, today, last) -> VaccineStatus:
    plan = PCV_PLANS["one"]
    if doses:
        return _done(Vaccine.PCV, len(doses), 1, plan=plan)
    return _judge(Vaccine.PCV, 0, _Next(1, 1, months_after(birth, 2), before_months(birth, 7),
                                        last, plan), today)


# ---------------------------------------------------------------- B型肝炎

def hepatitis_b(birth: date, doses: Sequence[date], today: date) -> VaccineStatus:
    """B型肝炎: before 1 year; 3 doses — from 2 months, the 2nd ≥27 days later, the 3rd
    ≥139 days after the first."""
    last = before_months(birth, 12)
    n = len(doses)
    if n >= 3:
        return _done(Vaccine.HEPB, n, 3)
    if n == 0:
        nxt = _Next(1, 3, months_after(birth, 2), before_months(birth, 9), last)
    elif n == 1:
        nxt = _Next(2, 3, doses[0] + timedelta(days=27), doses[0] + timedelta(days=56), last)
    else:
        start = max(doses[0] + timedelta(days=139), doses[1] + timedelta(days=27))
        nxt = _Next(3, 3, start, max(start, doses[0] + timedelta(days=168)), last)
    return _judge(Vaccine.HEPB, n, nxt, today)


# ---------------------------------------------------------------- ロタ

def rotavirus(birth: date, doses: Sequence[date], today: date,
              product: str | None = None) -> VaccineStatus:
    """ロタ (oral): first dose from 6 weeks and by 14 weeks 6 days; doses ≥27 days apart;
    Rotarix 2 doses by 24 weeks, RotaTeq 3 doses by 32 weeks."""
    first_deadline = weeks_days(birth, 14, 6)
    n = len(doses)
    if n == 0:
        if today > first_deadline:
            return _closed(Vaccine.ROTA, 0, 0, N_(
                "初回接種は出生14週6日後（%(deadline)s）までに受ける必要があり、定期接種の対象外です。"),
                deadline=first_deadline)
        nxt = _Next(1, 2, weeks_days(birth, 6), first_deadline, first_deadline,
                    N_("初回は出生14週6日後までに受けてください。"))
        return _judge(Vaccine.ROTA, 0, nxt, today)
    planned, series_end = (3, weeks_days(birth, 32)) if product == ROTATEQ \
        else (2, weeks_days(birth, 24))
    if n >= planned:
        return _done(Vaccine.ROTA, n, planned)
    if today > series_end:
        return _closed(Vaccine.ROTA, n, planned, N_(
            "接種できる期間（%(end)sまで）を過ぎたため、残りの接種は定期接種として受けられません。"),
            end=series_end)
    nxt = _Next(n + 1, planned, doses[-1] + timedelta(days=27), series_end, series_end)
    return _judge(Vaccine.ROTA, n, nxt, today)


# ---------------------------------------------------------------- BCG

def bcg(birth: date, doses: Sequence[date], today: date) -> VaccineStatus:
    """BCG: one dose before 1 year, standard 5–8 months."""
    if doses:
        return _done(Vaccine.BCG, len(doses), 1)
    nxt = _Next(1, 1, months_after(birth, 5), before_months(birth, 8), before_months(birth, 12))
    return _judge(Vaccine.BCG, 0, nxt, today)


# ---------------------------------------------------------------- MR

def mr_phases(birth: date, doses: Sequence[date], today: date) -> list[VaccineStatus]:
    """MR 第1期 (12–24 months) and 第2期 (the school year before primary school: April 1 to
    March 31). A dose counts for the phase whose ages it falls in."""
    entry = primary_school_entry(birth)
    phase2_start, phase2_end = date(entry.year - 1, 4, 1), entry - timedelta(days=1)
    phase2 = [d for d in doses if phase2_start <= d <= phase2_end]
    phase1 = [d for d in doses if d not in phase2 and d < phase2_start]
    p1, p2 = N_("第1期"), N_("第2期")
    if phase1:
        first = _done(Vaccine.MR, len(phase1), 1, phase=p1)
    else:
        first = _judge(Vaccine.MR, 0, _Next(1, 1, months_after(birth, 12),
                                            before_months(birth, 24), before_months(birth, 24)),
                       today, phase=p1)
    if phase2:
        second = _done(Vaccine.MR, len(phase2), 1, phase=p2)
    else:
        second = _judge(Vaccine.MR, 0, _Next(1, 1, phase2_start, phase2_end, phase2_end,
                                             N_("小学校入学前の1年間（%(school_year)s年度）に受けます。"),
                                             {"school_year": entry.year - 1}),
                        today, phase=p2)
    return [first, second]


# ---------------------------------------------------------------- 水痘

def varicella(birth: date, doses: Sequence[date], today: date) -> VaccineStatus:
    """水痘: 12–36 months; 2 doses, the first at 12–15 months, the second 6–12 months later
    (at least 3)."""
    last = before_months(birth, 36)
    n = len(doses)
    if n >= 2:
        return _done(Vaccine.VARICELLA, n, 2)
    if n == 0:
        nxt = _Next(1, 2, months_after(birth, 12), before_months(birth, 15), last)
    else:
        nxt = _Next(2, 2, add_months(doses[0], 3), add_months(doses[0], 12), last,
                    N_("第2回は第1回から3か月以上（標準6〜12か月）あけます。"))
    return _judge(Vaccine.VARICELLA, n, nxt, today)


# ---------------------------------------------------------------- 日本脳炎

def japanese_encephalitis(birth: date, doses: Sequence[date], today: date) -> list[VaccineStatus]:
    """日本脳炎 第1期 (6–90 months, standard from 3 years: 2 doses 6–28 days apart, booster
    about a year later, at least 6 months) and 第2期 (9–13 years, 1 dose)."""
    phase2_start = months_after(birth, 108)
    phase1 = [d for d in doses if d < phase2_start][:3]
    phase2 = [d for d in doses if d >= phase2_start and d not in phase1]
    p1, p2 = N_("第1期"), N_("第2期")
    last1 = before_months(birth, 90)
    n = len(phase1)
    if n >= 3:
        first = _done(Vaccine.JE, n, 3, phase=p1)
    else:
        if n == 0:
            nxt = _Next(1, 3, months_after(birth, 36), before_months(birth, 48), last1,
                        N_("生後6か月から受けられますが、標準は3歳からです。"))
        elif n == 1:
            nxt = _Next(2, 3, phase1[0] + timedelta(days=6), phase1[0] + timedelta(days=28), last1)
        else:
            nxt = _Next(3, 3, add_months(phase1[1], 6), add_months(phase1[1], 13), last1)
        first = _judge(Vaccine.JE, n, nxt, today, phase=p1)
    if phase2:
        second = _done(Vaccine.JE, len(phase2), 1, phase=p2)
    else:
        second = _judge(Vaccine.JE, 0, _Next(1, 1, phase2_start, before_months(birth, 120),
                                             before_months(birth, 156)), today, phase=p2)
    return [first, second]


# ---------------------------------------------------------------- 2種混合

def dt_phase2(birth: date, doses: Sequence[date], today: date) -> VaccineStatus:
    """2種混合 第2期: one dose at 11–13 years (standard at 11)."""
    if doses:
        return _done(Vaccine.DT, len(doses), 1, phase=N_("第2期"))
    return _judge(Vaccine.DT, 0, _Next(1, 1, months_after(birth, 132), before_months(birth, 144),
                                       before_months(birth, 156)), today, phase=N_("第2期"))


# ---------------------------------------------------------------- the whole child

def schedule_for(birth: date, doses: Iterable[Dose], today: date) -> list[VaccineStatus]:
    """Every routine vaccine's status for a child born on `birth`, given the doses on
    record, as of `today` — in the order the handbook lists them."""
    by_vaccine: dict[Vaccine, list[Dose]] = {v: [] for v in Vaccine}
    for dose in sorted(doses, key=lambda d: d.given_on):
        if dose.given_on <= today:   # a dose dated in the future is not a dose yet
            by_vaccine[Vaccine(dose.vaccine)].append(dose)
    dates = {v: [d.given_on for d in ds] for v, ds in by_vaccine.items()}
    rota_product = next((d.product for d in by_vaccine[Vaccine.ROTA] if d.product), None)
    result = [dpt_ipv_hib(birth, dates[Vaccine.DPT_IPV_HIB], today)]
    if dates[Vaccine.HIB]:
        result.append(hib(birth, dates[Vaccine.HIB], today))
    result += [
        pcv(birth, dates[Vaccine.PCV], today),
        hepatitis_b(birth, dates[Vaccine.HEPB], today),
        rotavirus(birth, dates[Vaccine.ROTA], today, rota_product),
        bcg(birth, dates[Vaccine.BCG], today),
        *mr_phases(birth, dates[Vaccine.MR], today),
        varicella(birth, dates[Vaccine.VARICELLA], today),
        *japanese_encephalitis(birth, dates[Vaccine.JE], today),
        dt_phase2(birth, dates[Vaccine.DT], today),
    ]
    return result


def overdue(statuses: Iterable[VaccineStatus]) -> list[VaccineStatus]:
    """The statuses a reminder letter (未接種者への勧奨) is about."""
    return [s for s in statuses if s.needs_reminder]


SCHEDULERS: dict[Vaccine, Callable] = {
    Vaccine.DPT_IPV_HIB: dpt_ipv_hib, Vaccine.HIB: hib, Vaccine.PCV: pcv,
    Vaccine.HEPB: hepatitis_b, Vaccine.BCG: bcg, Vaccine.VARICELLA: varicella,
    Vaccine.DT: dt_phase2,
}
