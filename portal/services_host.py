"""Mounting service plugins and serving each only where a municipality enables it."""
from __future__ import annotations

from flask import Flask, abort, current_app, g, has_request_context, request

from portal.auth import sign_in_first
from portal.plugins import MenuItem, ServicePlugin, load_plugins
from portal.extensions import database, get_db
from portal.tenancy.models import Municipality


def init_services(app: Flask) -> None:
    plugins = load_plugins(app.config.get("SERVICES"))
    app.extensions["madoguchi.services"] = plugins
    for name, plugin in plugins.items():
        app.register_blueprint(plugin.blueprint(), url_prefix=f"/services/{name}")
    app.before_request(_require_enabled)


def plugins() -> dict[str, ServicePlugin]:
    return current_app.extensions["madoguchi.services"]


def _require_enabled():
    """A service answers only viewers of a municipality that enables it."""
    name = (request.blueprint or "").split(".")[0]
    if name not in plugins():
        return None
    if request.endpoint in plugins()[name].public_endpoints:
        return None  # e.g. a terminal API authenticated by card token; the view checks the city
    viewer = g.get("viewer")
    if viewer is None:
        return sign_in_first("public.home", request.path)
    if not service_enabled(viewer.municipality_id, name):
        abort(404)
    return None


def current_municipality() -> Municipality | None:
    """The signed-in viewer's city, read once per request in its unit of work and kept on
    `g` (the session's identity map holds rows weakly: unreferenced, they are read again)."""
    if "municipality" not in g:
        viewer = g.get("viewer")
        g.municipality = get_db().get(Municipality, viewer.municipality_id) if viewer else None
    return g.municipality


def service_enabled(municipality_id: int, name: str) -> bool:
    """In a request, read in its unit of work (the viewer's city once per request)."""
    if has_request_context():
        viewer = g.get("viewer")
        municipality = current_municipality() if viewer and viewer.municipality_id == municipality_id \
            else get_db().get(Municipality, municipality_id)
        return municipality is not None and name in municipality.enabled_services
    with database().read() as db:
        municipality = db.get(Municipality, municipality_id)
        return municipality is not None and name in municipality.enabled_services


def menu_for(viewer, municipality: Municipality | None) -> list[MenuItem]:
    if municipality is None:
        return []
    items: list[MenuItem] = []
    for name, plugin in plugins().items():
        if name in municipality.enabled_services:
            items.extend(plugin.menu_items(viewer))
    return items
