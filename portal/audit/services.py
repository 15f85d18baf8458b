"""Writing the access log. Every view that shows or changes a resident's records calls
`log_access` before it answers; if the entry cannot be written, the view fails."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import g, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.audit.models import AccessLogEntry


class AccessLogImmutable(RuntimeError):
    """Access log rows are never updated or deleted."""


def log_access(db: Session, subject_resident_id: int, action: str, resource: str,
               purpose: str) -> AccessLogEntry:
    """Record who did `action` on whose `resource` and why; commits with the caller."""
    viewer = g.get("viewer")
    entry = AccessLogEntry(
        occurred_at=datetime.now(timezone.utc).replace(tzinfo=None),
        actor_type=viewer.kind if viewer else "system",
        actor_id=viewer.id if viewer else None,
        actor_name=viewer.name if viewer else "system",
        actor_role=viewer.role_label if viewer else "system",
        subject_resident_id=subject_resident_id,
        action=action, resource=resource, purpose=purpose,
        request_path=request.path[:200] if request else "",
    )
    db.add(entry)
    db.flush()
    return entry


def log_listing(db: Session, resident_ids, resource: str, purpose: str) -> None:
    """A search result shows each listed person's name, kana, birth date or address: one
    "search" entry per person listed, so each sees the search in their own log."""
    for resident_id in dict.fromkeys(resident_ids):  # once per person, in listed order
        log_access(db, resident_id, "search", resource, purpose)


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, _ctx, _instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AccessLogEntry) and (obj in session.deleted
                                                 or session.is_modified(obj)):
            raise AccessLogImmutable("access log entries cannot be changed or deleted")
