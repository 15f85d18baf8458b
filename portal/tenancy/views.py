"""A member city's public look: its stylesheet and logo, and the branding every page of a
signed-in resident or staff member of that city shows (`city_branding` in templates).

Nothing here is personal: a city's name, colours and logo are public, so these routes
answer anyone, for any member city."""
from __future__ import annotations

import time

from flask import Blueprint, Response, abort, current_app, g, request, send_file
from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import get_db
from portal.staff.models import Role
from portal.tenancy.assets import LOGO_TYPES, city_asset
from portal.tenancy.branding import Branding, branding_of, stylesheet
from portal.tenancy.models import Municipality

bp = Blueprint("tenancy", __name__, url_prefix="/cities")


# A city's look is public and changes rarely: browsers and proxies may keep it a few
# minutes and then ask again with the ETag (a 304 costs no stylesheet and no file read).
PUBLIC_CACHE = "public, max-age=300"


def _member(code: str) -> Municipality:
    city = get_db().scalar(select(Municipality).where(Municipality.code == code[:6]))
    if city is None:
        abort(404)
    return city


@bp.get("/<code>/branding.css")
def branding_css(code: str):
    response = Response(stylesheet(branding_of(_member(code))), mimetype="text/css")
    return _public(response)


@bp.get("/<code>/logo")
def logo(code: str):
    path = city_asset(_member(code), "logo")
    if path is None:
        abort(404)
    response = send_file(path, mimetype=LOGO_TYPES[path.suffix.lower()], etag=True,
                         conditional=False)
    return _public(response)


def _public(response: Response) -> Response:
    """Not personal: cacheable, with an ETag, and 304 when the browser has it already."""
    if response.get_etag() == (None, None):
        response.add_etag()
    response.headers["Cache-Control"] = PUBLIC_CACHE
    response.make_conditional(request)
    return response


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
        # the request's own unit of work: the city row is usually in its identity map
        # already (the session check, the service check or the view read it)
        from portal.services_host import current_municipality
        city = current_municipality()
        if city is not None:
            g.city_branding = _branding(city, str(get_locale()))
    except SQLAlchemyError:
        return None  # an error page while the database is away still renders
    return g.city_branding


def _branding(city: Municipality, locale: str) -> Branding:
    """Kept per app for a minute, per city, language and settings: the logo file is looked
    for once a minute, not on every page; a settings change shows at once."""
    cache = current_app.extensions.setdefault("madoguchi.branding", {})
    key = (city.id, locale, _settings_key(city.settings),
           current_app.config.get("CITY_ASSETS_DIR"), int(time.monotonic() // 60))
    found = cache.get(key)
    if found is None:
        if len(cache) > 256:
            cache.clear()
        found = cache[key] = branding_of(city, locale,
                                         has_logo=city_asset(city, "logo") is not None)
    return found


def _settings_key(settings) -> str:
    import json
    return json.dumps(settings or {}, sort_keys=True, ensure_ascii=False, default=str)


@bp.app_context_processor
def _inject_branding() -> dict:
    return {"city_branding": current_branding}
