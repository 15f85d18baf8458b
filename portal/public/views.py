from __future__ import annotations

from flask import (Blueprint, abort, current_app, redirect, render_template, request,
                   session, url_for)
from sqlalchemy import select, text

from portal.auth import Viewer, current_viewer, dev_mode, safe_next, sign_in
from portal.db import across_municipalities
from portal.extensions import database, get_db
from portal.registry.models import Resident, ResidentStatus
from portal.tenancy.models import Municipality
from portal.web.i18n import LANG_COOKIE

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    viewer = current_viewer()
    if viewer is None and session.get("kiosk_id") in current_app.config["KIOSKS"]:
        return redirect(url_for("kiosk.start", kiosk_id=session["kiosk_id"]))
    municipality = get_db().get(Municipality, viewer.municipality_id) if viewer else None
    from portal.services_host import menu_for
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
    with database().transaction() as db:
        db.execute(text("SELECT 1"))
    return {"status": "ok"}


@bp.route("/dev/sign-in", methods=["GET", "POST"])
def dev_sign_in():
    """Development only: sign in as a demo resident without a card (card login is the
    real path; this page does not exist outside development mode)."""
    if not dev_mode():
        abort(404)
    # read(): sign_in below opens its own unit of work, which on SQLite would wait for an
    # open writing transaction here until the busy timeout
    with database().read() as db:
        if request.method == "POST":
            resident = db.scalar(across_municipalities(
                select(Resident).where(Resident.id == request.form.get("resident_id", type=int))))
            if resident is None or resident.status != ResidentStatus.ACTIVE:
                abort(400)
            sign_in(Viewer("resident", resident.id, resident.municipality_id, resident.name))
            return redirect(url_for("public.home"))
        cities = db.scalars(select(Municipality).order_by(Municipality.code)).all()
        samples = {m.id: db.scalars(across_municipalities(
            select(Resident).where(Resident.municipality_id == m.id,
                                   Resident.status == ResidentStatus.ACTIVE)
            .order_by(Resident.id).limit(8))).all() for m in cities}
        return render_template("dev_sign_in.html", cities=cities, samples=samples)
