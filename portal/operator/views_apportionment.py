"""Cost lines, the stored basis, and the apportionment report (table, SVG, CSV, PDF)."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from portal.web.i18n import gettext as _
from sqlalchemy import delete, select

from portal.auth import current_viewer
from portal.extensions import database
from portal.jointcloud import report as reports
from portal.jointcloud.apportion import ApportionmentError
from portal.jointcloud.models import ApportionmentBasis, CostLine
from portal.metering.services import usage_for_fiscal_year
from portal.operator.forms import BasisForm, CostLineForm
from portal.operator.views import bp, operator_required
from portal.tenancy.models import Municipality


def _years() -> tuple[int | None, int | None]:
    def year(name):
        value = request.args.get(name, "")
        return int(value) if value.isdigit() and 2000 <= int(value) <= 2100 else None
    return year("from"), year("to")


def _report():
    with database().transaction() as db:
        return reports.build(db, *_years())


@bp.get("/apportionment")
@operator_required
def apportionment():
    line_form, basis_form = CostLineForm(prefix="line"), BasisForm(prefix="basis")
    return _page(line_form, basis_form)


def _page(line_form, basis_form, status: int = 200):
    problem = None
    try:
        report = _report()
    except ApportionmentError as exc:
        report, problem = None, str(exc)
    with database().transaction() as db:
        basis = db.scalars(select(ApportionmentBasis).order_by(
            ApportionmentBasis.fiscal_year, ApportionmentBasis.city_code)).all()
    start, end = _years()
    return render_template("operator/apportionment.html", report=report, problem=problem,
                           basis=basis, line_form=line_form, basis_form=basis_form,
                           labels=reports.CATEGORY_LABELS, man_yen=reports.man_yen,
                           gettext=_,   # a Python gettext: the template's takes its context
                           totals=reports.comparison_totals(report) if report else [],
                           start=start or "", end=end or ""), status


@bp.post("/apportionment/lines")
@operator_required
def add_cost_line():
    form = CostLineForm(prefix="line")
    if not form.validate_on_submit():
        return _page(form, BasisForm(prefix="basis"), 400)
    with database().transaction() as db:
        db.add(CostLine(fiscal_year=form.fiscal_year.data, category=form.category.data,
                        label=form.label.data.strip(), amount_yen=form.amount_yen.data,
                        weight_equal=form.weight_equal.data or 0,
                        weight_population=form.weight_population.data or 0,
                        weight_usage=form.weight_usage.data or 0,
                        usage_metric=(form.usage_metric.data or "*").strip(),
                        note=form.note.data or "", created_by=current_viewer().name))
    flash(_("費目を登録しました。"))
    return redirect(url_for("operator.apportionment"))


@bp.post("/apportionment/basis")
@operator_required
def fix_basis():
    """Store each member's current population and the year's usage as that year's basis
    (replacing an earlier basis of the same year)."""
    form = BasisForm(prefix="basis")
    if not form.validate_on_submit():
        return _page(CostLineForm(prefix="line"), form, 400)
    year = form.fiscal_year.data
    with database().transaction() as db:
        usage = usage_for_fiscal_year(db, year)
        db.execute(delete(ApportionmentBasis).where(ApportionmentBasis.fiscal_year == year))
        for member in db.scalars(select(Municipality).order_by(Municipality.code)):
            db.add(ApportionmentBasis(fiscal_year=year, city_code=member.code,
                                      city_name=member.name, population=member.population,
                                      usage=usage.get(member.id, {}),
                                      source=_("団体設定の人口・利用記録（%(who)s が確定）",
                                               who=current_viewer().name)))
    flash(_("%(year)d年度の按分基礎を確定しました。", year=year))
    return redirect(url_for("operator.apportionment"))


@bp.get("/apportionment.svg")
@operator_required
def apportionment_svg():
    try:
        svg = reports.to_svg(_report())
    except ApportionmentError as exc:
        return Response(str(exc), status=409, mimetype="text/plain")
    return Response(svg, mimetype="image/svg+xml")


@bp.get("/apportionment.csv")
@operator_required
def apportionment_csv():
    try:
        text = reports.to_csv(_report())
    except ApportionmentError as exc:
        return Response(str(exc), status=409, mimetype="text/plain")
    return Response(text, mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="apportionment.csv"'})


@bp.get("/apportionment.pdf")
@operator_required
def apportionment_pdf():
    try:
        pdf = reports.to_pdf(_report())
    except ApportionmentError as exc:
        return Response(str(exc), status=409, mimetype="text/plain")
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": 'attachment; filename="apportionment.pdf"'})
