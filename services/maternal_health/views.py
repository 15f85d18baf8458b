"""The maternal_health blueprint and what its staff and guardian views share: whose
records the viewer may open, the day it is, and translating the domain's messages."""
from __future__ import annotations

from datetime import date
from functools import lru_cache

from flask import Blueprint, abort, current_app, redirect, url_for
from flask_babel import get_locale
from markupsafe import Markup
from portal.web.i18n import gettext as _, ngettext

from portal.api import (Fragment, Role, child_of, current_viewer, get_db, log_access,
                        signed_in_required, today_jst)
from services.maternal_health import growth, schedule
from services.maternal_health.services import (CHECKUP_OCCASIONS, RECORD_TYPES, find_resident,
                                               growth_points)

bp = Blueprint("maternal_health", __name__, template_folder="templates",
               static_folder="static", static_url_path="/static")


def today() -> date:
    """The service's idea of today (overridable in tests through MATERNAL_HEALTH_TODAY)."""
    fixed = current_app.config.get("MATERNAL_HEALTH_TODAY")
    return date.fromisoformat(fixed) if fixed else today_jst()


def is_health_staff() -> bool:
    viewer = current_viewer()
    return viewer is not None and viewer.has_role(Role.HEALTH_STAFF)


def child_for_viewer(child_id: int, purpose: str, resource: str):
    """The child whose pages the viewer asks for, access logged; 404 when the viewer may not
    see it (another city's id, not their child), so existence is not disclosed."""
    viewer = current_viewer()
    db = get_db()
    if viewer.is_resident:
        child = child_of(db, viewer.id, child_id) or abort(404)
    elif viewer.has_role(Role.HEALTH_STAFF):
        child = find_resident(db, child_id) or abort(404)
    else:
        abort(403)
    log_access(db, child.id, "read", resource, purpose)
    return child


def tr_status(status: schedule.VaccineStatus) -> dict:
    """A schedule answer with every text translated, ready for a template."""
    return {"label": _(schedule.VACCINE_LABELS[status.vaccine]) + (
                " " + _(status.phase) if status.phase else ""),
            "status": status.status.value,
            "status_label": _(schedule.STATUS_LABELS[status.status]),
            "reason": schedule.explain(status, _, display_value),
            "window": status.window, "given": status.doses_given,
            "planned": status.doses_planned}


def position_words(position: str) -> str:
    """A stored percentile position ("3未満", "25〜50", "97超") in the reader's language."""
    if position.endswith("未満"):
        return _("%(p)s未満", p=position[:-2])
    if position.endswith("超"):
        return _("%(p)s超", p=position[:-1])
    low, _sep, high = position.partition("〜")
    return _("%(low)s〜%(high)s", low=low, high=high) if high else position


bp.add_app_template_filter(position_words, "mh_position")


def tr_args(args: dict) -> dict:
    """A message's values in the reader's language too: a measure's name, a position."""
    out = dict(args)
    if isinstance(out.get("label"), str):
        out["label"] = _(out["label"])
    if out.get("position"):
        out["position"] = position_words(out["position"])
    return out


SEX_WORDS = {"male": "男の子", "female": "女の子"}

# A child's checkups, charts and immunisations, as the guardian's page and the nurse's
# record page show them: read far more often than written, and most of their rendering.
# Kept per worker, keyed by every record in full, the day (the schedule's statuses) and
# who reads (a nurse's copy has amend links).
_SECTIONS = Fragment("maternal_health/_child_sections.html", size=256)


def child_sections(book, staff: bool) -> Markup:
    """The handbook's sections of `book`. The child counts by id, birth date and sex: all
    the sections show of it (ages, the charts' reference curves, the schedule)."""
    child = book.child
    inputs = {"child": (child.id, child.birth_date, child.sex), "birth": book.birth,
              "checkups": book.checkups, "immunisations": book.immunisations,
              "today": book.today, "staff": staff}
    return _SECTIONS.render(inputs, lambda: {
        "book": book, "charts": charts_for(book), "schedule": schedule_rows(book),
        "occasions": dict(CHECKUP_OCCASIONS), "types": RECORD_TYPES, "staff": staff})


def charts_for(book) -> list[dict]:
    """The three growth charts (SVG markup) of a child's handbook."""
    sex = growth.sex_key(book.child.sex.value)
    words = {"age_months": _("月齢（か月）"), "age_years": _("年齢（歳）"),
             "survey": _("令和5年（2023年）乳幼児身体発育調査（こども家庭庁） 3〜97パーセンタイル"),
             "no_reference": _("この性別・年齢の基準曲線はありません"),
             "flagged": _("◆ 3〜97パーセンタイルの範囲外の値"),
             "beyond": _("□ 基準曲線のない年齢の値（比較していません）")}
    charts = []
    for measure in growth.Measure:
        points = growth_points(book, measure)
        title = _(growth.MEASURE_LABELS[measure]) + (
            _("（%(note)s）", note=_(SEX_WORDS[sex])) if sex else "")
        charts.append({"measure": measure.value, "title": title, "count": len(points),
                       "svg": _chart_svg(measure, sex, book.child.birth_date, tuple(points),
                                         title, tuple(words.items()))})
    return charts


@lru_cache(maxsize=2048)
def _chart_svg(measure, sex, birth, points, title, words) -> str:
    """A chart is a pure function of what it plots and its words: drawn once per worker.
    A new or amended measurement changes `points`, so a record write needs no invalidation."""
    return growth.growth_chart_svg(measure, sex, birth, points, title, dict(words))


def schedule_rows(book) -> tuple[dict, ...]:
    """The schedule as the page shows it, in the reader's language, kept like the charts
    (keyed by its full text: a status carries its reasons' arguments in a dict)."""
    key = (str(get_locale()), repr(book.schedule))
    rows = _SCHEDULE_ROWS.get(key)
    if rows is None:
        if len(_SCHEDULE_ROWS) >= 2048:
            _SCHEDULE_ROWS.clear()
        rows = _SCHEDULE_ROWS[key] = tuple(tr_status(s) for s in book.schedule)
    return rows


_SCHEDULE_ROWS: dict[tuple[str, str], tuple[dict, ...]] = {}


@bp.app_template_filter("mh_value")
def display_value(value, spec=None) -> str:
    """A stored value as the handbook writes it (choices by their label, dates in 年月日)."""
    if value is None or value == "":
        return "—"
    if spec is not None and spec.choices:
        return _(dict(spec.choices).get(value, value))
    if isinstance(value, bool):
        return _("あり") if value else _("なし")
    if isinstance(value, date):
        return _("%(y)s年%(m)s月%(d)s日", y=value.year, m=value.month, d=value.day)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@bp.app_template_filter("mh_age")
def display_age(birth: date, on: date) -> str:
    """Age at a checkup as the handbook writes it: 〇か月〇日 under 1 year, else 〇歳〇か月."""
    months = schedule.age_in_months(birth, on)
    days = (on - schedule.add_months(birth, months)).days
    if months < 12:
        return _("%(months)s%(days)s", months=ngettext("%(num)sか月", "%(num)sか月", months),
                 days=ngettext("%(num)s日", "%(num)s日", days))
    return _("%(years)s%(months)s", years=ngettext("%(num)s歳", "%(num)s歳", months // 12),
             months=ngettext("%(num)sか月", "%(num)sか月", months % 12))


@bp.get("/")
@signed_in_required
def index():
    if is_health_staff():
        return redirect(url_for("maternal_health.staff_home"))
    if not current_viewer().is_resident:
        abort(403)
    from services.maternal_health.views_resident import my_handbook
    return my_handbook()


from services.maternal_health import views_resident, views_staff  # noqa: E402,F401
