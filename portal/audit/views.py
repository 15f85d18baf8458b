"""The resident's own やりとり履歴 (as マイナポータル calls it): who read or changed their
records and their children's, when (Japan time) and why, in the resident's words."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from portal.audit.models import AccessLogEntry
from portal.audit.words import sentence
from portal.auth import current_viewer, resident_required
from portal.clock import to_jst
from portal.db import scoped
from portal.extensions import get_db
from portal.registry.access import children_of

bp = Blueprint("audit", __name__, url_prefix="/me/access-log")


@bp.get("/")
@resident_required
def my_log():
    """A guardian reads the entries of each child's records beside her own (staff writing
    a child's handbook is the guardian's business too)."""
    db = get_db()
    me = current_viewer()
    page = max(request.args.get("page", 1, type=int), 1)
    size = current_app.config["ACCESS_LOG_PAGE_SIZE"]
    whose = {child.id: child.name for child in children_of(db, me.id)}
    stmt = (scoped(AccessLogEntry, AccessLogEntry.subject_resident_id.in_([me.id, *whose]))
            .order_by(AccessLogEntry.occurred_at.desc(), AccessLogEntry.id.desc())
            .limit(size).offset((page - 1) * size))
    entries = [{"at": to_jst(e.occurred_at), "whose": whose.get(e.subject_resident_id),
                "sentence": sentence(e, me.id), "purpose": e.purpose}
               for e in db.scalars(stmt).all()]
    return render_template("audit/my_log.html", entries=entries, page=page,
                           has_next=len(entries) == size, has_children=bool(whose))
