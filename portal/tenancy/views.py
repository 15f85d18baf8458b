"""A member city's public look: its stylesheet and logo, and the branding every page of a
signed-in resident or staff member of that city shows (`city_branding` in templates).

Nothing here is personal: a city's name, colours and logo are public, so these routes
answer anyone, for any member city."""
from __future__ import annotations

from flask import Blueprint, Response, abort, g, request, send_file
from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import database
from portal.staff.models import Role
from portal.tenancy.assets import LOGO_TYPES, city_asset
from portal.tenancy.branding import Branding, branding_of, stylesheet
from portal.tenancy.models import Municipality

bp = Blueprint("tenancy", __name__, url_prefix="/cities")


def _member(code: str) -> Municipality:
    with database().read() as db:
        city = db.scalar(select(Municipality).where(Municipality.code == code[:6]))
    if city is None:
        abort(404)
    return city


@bp.get("/<code>/branding.css")
def branding_css(code: str):
    city = _member(code)
    return Response(stylesheet(branding_of(city)), mimetype="text/css")


@bp.get("/<code>/logo")
def logo(code: str):
    path = city_asset(_member(code), "logo")
    if path is None:
        abort(404)
    return send_file(path, mimetype=LOGO_TYPES[path.suffix.lower()])


def current_branding() -> Branding | None:
    """The branding of the viewer's city, or None outside a city's context: nobody signed
    in, or the joint-cloud operator's console and its operators, who work for every city."""
    if "city_branding" in g:
        return g.city_branding
    g.city_branding = None
    viewer = g.get("viewer")
    if viewer is None or request.blueprint == "operator" or (
            viewer.is_staff and viewer.roles == {Role.CLOUD_OPERATOR}):
        return None
    try:
        # read(): this runs while the page renders, often inside the view's own open
        # unit of work; a second writing transaction would wait for that one's lock
        with database().read() as db:
            city = db.get(Municipality, viewer.municipality_id)
            if city is not None:
                g.city_branding = branding_of(city, str(get_locale()),
                                              has_logo=city_asset(city, "logo") is not None)
    except SQLAlchemyError:
        return None  # an error page while the database is away still renders
    return g.city_branding


@bp.app_context_processor
def _inject_branding() -> dict:
    return {"city_branding": current_branding}
