"""Writing the access log. Every view that shows or changes a resident's records calls
`log_access` before it answers; if the entry cannot be written, the view fails."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.audit.models import AccessLogEntry
from portal.unit_of_work import Actor, unit_of, viewer_actor


class AccessLogImmutable(RuntimeError):
    """Access log rows are never updated or deleted."""


def log_access(db: Session, subject_resident_id: int, action: str, resource: str,
               purpose: str, actor: Actor | None = None) -> None:
    """Record who did `action` on whose `resource` and why; commits with the caller.
    In a unit of work the entries of one request are written together, in one statement,
    just before it commits; `actor` defaults to the unit's (or the signed-in viewer)."""
    work = unit_of(db)
    if work is not None:
        work.log(subject_resident_id, action, resource, purpose, actor)
        return
    _log_now(db, subject_resident_id, action, resource, purpose, actor)


def _log_now(db: Session, subject_resident_id: int, action: str, resource: str,
             purpose: str, actor: Actor | None) -> None:
    """A session outside any unit of work (older code paths): the row is written at once."""
    who = actor or viewer_actor()
    entry = AccessLogEntry(
        occurred_at=datetime.now(timezone.utc).replace(tzinfo=None),
        actor_type=who.kind, actor_id=who.id, actor_name=who.name, actor_role=who.role,
        subject_resident_id=subject_resident_id,
        action=action, resource=resource, purpose=purpose,
        request_path=request.path[:200] if has_request_context() else "",
    )
    db.add(entry)
    db.flush()


def log_listing(db: Session, resident_ids, resource: str, purpose: str) -> None:
    """A search result shows each listed person's name, kana, birth date or address: one
    "search" entry per person listed, so each sees the search in their own log."""
    listed = dict.fromkeys(resident_ids)  # once per person, in listed order
    work = unit_of(db)
    if work is not None:
        work.log_each(listed, "search", resource, purpose)
        return
    for resident_id in listed:
        _log_now(db, resident_id, "search", resource, purpose, None)


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, _ctx, _instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AccessLogEntry) and (obj in session.deleted
                                                 or session.is_modified(obj)):
            raise AccessLogImmutable("access log entries cannot be changed or deleted")


@event.listens_for(Session, "do_orm_execute")
def _read_your_own_log(state) -> None:
    """A query of the access log sees the entries its own unit of work has made so far."""
    if not state.is_select:
        return
    work = unit_of(state.session)
    if work is None or not work.has_unwritten or state.session.info.get("deferring"):
        return
    if any(m.class_ is AccessLogEntry for m in state.all_mappers):
        work.write_deferred()
