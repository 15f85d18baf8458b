from __future__ import annotations

from flask import Blueprint, abort, render_template

from portal.audit.services import log_access
from portal.auth import current_viewer, resident_required, sign_out
from portal.extensions import get_db
from portal.registry.access import self_and_children

bp = Blueprint("residents", __name__, url_prefix="/me")


@bp.get("/")
@resident_required
def my_record():
    db = get_db()
    me, children = self_and_children(db, current_viewer().id)
    if me is None:
        abort(404)
    log_access(db, me.id, "read", "registry.resident", "本人による住民情報の確認")
    return render_template("residents/me.html", me=me, children=children)


@bp.post("/sign-out")
def sign_out_view():
    sign_out()
    return render_template("signed_out.html")
