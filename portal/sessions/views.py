"""A person's own sessions: see where they are signed in, end them all."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from portal.web.i18n import gettext as _, ngettext

from portal.auth import current_viewer, sign_out, signed_in_required
from portal.extensions import get_db
from portal.sessions.services import end_all_sessions, live_sessions

bp = Blueprint("sessions", __name__, url_prefix="/sessions")


@bp.get("/")
@signed_in_required
def mine():
    viewer = current_viewer()
    records = live_sessions(get_db(), viewer.kind, viewer.id, viewer.municipality_id)
    return render_template("sessions/mine.html", sessions=records)


@bp.post("/end-all")
@signed_in_required
def end_all():
    viewer = current_viewer()
    count = end_all_sessions(get_db(), viewer.kind, viewer.id, viewer.municipality_id)
    sign_out("ended_by_user")
    flash(ngettext("%(count)d件のログインをすべて終了しました。", "%(count)d件のログインをすべて終了しました。",
                   count, count=count), "info")
    return redirect(url_for("public.home"))
