"""The resident's own access log (like マイナポータル's やりとり履歴)."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from portal.audit.models import AccessLogEntry
from portal.auth import current_viewer, resident_required
from portal.db import scoped
from portal.extensions import get_db

bp = Blueprint("audit", __name__, url_prefix="/me/access-log")


@bp.get("/")
@resident_required
def my_log():
    db = get_db()
    page = max(request.args.get("page", 1, type=int), 1)
    size = current_app.config["ACCESS_LOG_PAGE_SIZE"]
    stmt = (scoped(AccessLogEntry,
                   AccessLogEntry.subject_resident_id == current_viewer().id)
            .order_by(AccessLogEntry.occurred_at.desc(), AccessLogEntry.id.desc())
            .limit(size).offset((page - 1) * size))
    entries = db.scalars(stmt).all()
    return render_template("audit/my_log.html", entries=entries, page=page,
                           has_next=len(entries) == size)
