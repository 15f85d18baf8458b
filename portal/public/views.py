from __future__ import annotations

from flask import (Blueprint, abort, current_app, redirect, render_template, request,
                   session, url_for)
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from portal.auth import Viewer, current_viewer, dev_mode, safe_next, sign_in
from portal.db import across_municipalities
from portal.extensions import database, get_db
from portal.migrate import current_heads, expected_heads
from portal.registry.models import Resident, ResidentStatus
from portal.sessions.services import DEMO
from portal.tenancy.models import Municipality
from portal.web.i18n import LANG_COOKIE

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    viewer = current_viewer()
    if viewer is None and session.get("kiosk_id") in current_app.config["KIOSKS"]:
        return redirect(url_for("kiosk.start", kiosk_id=session["kiosk_id"]))
    from portal.services_host import current_municipality, menu_for
    municipality = current_municipality()
    return render_template("home.html", municipality=municipality,
                           menu=menu_for(viewer, municipality) if viewer else [],
                           back_to=safe_next(request.args.get("next")))


@bp.get("/lang/<code>")
def set_language(code: str):
    if code not in current_app.config["LOCALES"]:
        abort(404)
    response = redirect(safe_next(request.args.get("next")) or "/")  # never off-site
    response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="Strict",
                        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True)
    return response


@bp.get("/healthz")
def healthz():
    """Liveness for the proxy: the process answers. No database, so a slow or lost database
    does not get workers restarted (that is /readyz's business)."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Readiness for the proxy: the database answers and its schema is at the code's heads
    (core and every loaded service); otherwise 503 and the proxy sends residents elsewhere."""
    try:
        with database().read() as db:
            heads = current_heads(db.connection())
    except SQLAlchemyError as exc:
        current_app.logger.error("not ready: database unavailable: %s", exc)
        return {"status": "unavailable", "reason": "database"}, 503
    # every head of the code present; a head the code does not know may be a service this
    # deployment does not load
    if not _expected_heads() <= heads:
        current_app.logger.error("not ready: schema at %s, code at %s; run `madoguchi db upgrade`",
                                 sorted(heads), sorted(_expected_heads()))
        return {"status": "unavailable", "reason": "migrations"}, 503
    return {"status": "ok"}


def _expected_heads() -> frozenset[str]:
    """Read from the migration scripts once per process: they change only with the code."""
    heads = current_app.extensions.get("madoguchi.migration_heads")
    if heads is None:
        heads = expected_heads(current_app.config["DATABASE_URL"],
                               current_app.extensions["madoguchi.services"])
        current_app.extensions["madoguchi.migration_heads"] = heads
    return heads


@bp.route("/dev/sign-in", methods=["GET", "POST"])
def dev_sign_in():
    """Development only: sign in as a demo resident without a card (card login is the
    real path; this page does not exist outside development mode)."""
    if not dev_mode():
        abort(404)
    db = get_db()
    if request.method == "POST":
        resident = db.scalar(across_municipalities(
            select(Resident).where(Resident.id == request.form.get("resident_id", type=int))))
        if resident is None or resident.status != ResidentStatus.ACTIVE:
            abort(400)
        sign_in(Viewer("resident", resident.id, resident.municipality_id, resident.name), DEMO)
        return redirect(url_for("public.home"))
    cities = db.scalars(select(Municipality).order_by(Municipality.code)).all()
    samples = {m.id: db.scalars(across_municipalities(
        select(Resident).where(Resident.municipality_id == m.id,
                               Resident.status == ResidentStatus.ACTIVE)
        .order_by(Resident.id).limit(8))).all() for m in cities}
    return render_template("dev_sign_in.html", cities=cities, samples=samples)
