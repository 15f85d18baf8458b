"""Every sign-in attempt, successful or not, card or password: who tried, how, what came of
it. Failed attempts often have no known person or city, so the row allows none."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from flask import request
from sqlalchemy import ForeignKey, String, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base
from portal.unit_of_work import write_now

log = logging.getLogger("madoguchi.auth")


class AuthEvent(Base):
    __tablename__ = "auth_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    method: Mapped[str] = mapped_column(String(24))     # card, card_enroll, staff_password, staff_totp, staff_card_bind
    outcome: Mapped[str] = mapped_column(String(12))    # ok, refused, enrollment
    reason: Mapped[str] = mapped_column(String(64), default="")  # error code when refused
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipality.id"), index=True)
    subject_kind: Mapped[str | None] = mapped_column(String(16))
    subject_id: Mapped[int | None]
    # The card certificate the attempt concerned (as presented, when it was refused).
    certificate_issuer: Mapped[str | None] = mapped_column(String(255))
    certificate_serial: Mapped[str | None] = mapped_column(String(64))
    remote_addr: Mapped[str] = mapped_column(String(64), default="")


_RECORD = insert(AuthEvent.__table__)


def record_attempt(method: str, outcome: str, reason: str = "", municipality_id: int | None = None,
                   subject_kind: str | None = None, subject_id: int | None = None,
                   certificate: tuple[str, str] | None = None) -> None:
    """Written in the request's unit of work: a refusal is an answer, not a failure, so it
    is committed with the rest (the challenge it used up included). `certificate` is
    (issuer, serial in hex) of the card certificate concerned."""
    issuer, serial = certificate or (None, None)
    from portal.extensions import get_db
    addr = (request.remote_addr or "")[:64] if request else ""
    # A Core INSERT, written at once (as an added object was at the next flush): the row
    # is never read back as an object, and the ORM's flush cost more than the statement.
    write_now(get_db(), _RECORD, {
        "occurred_at": datetime.now(timezone.utc).replace(tzinfo=None), "method": method,
        "outcome": outcome, "reason": reason[:64], "municipality_id": municipality_id,
        "subject_kind": subject_kind, "subject_id": subject_id,
        "certificate_issuer": issuer and issuer[:255], "certificate_serial": serial and serial[:64],
        "remote_addr": addr})
    log.info("auth %s %s %s city=%s %s=%s certificate=%s/%s from %s", method, outcome, reason,
             municipality_id, subject_kind, subject_id, issuer, serial, addr)


def lockouts_of_staff(db, staff_id: int, since: datetime | None) -> list[datetime]:
    """When attempts on this staff account were refused as locked since `since` (their
    last sign-in): what the owner is told when they next sign in."""
    query = select(AuthEvent.occurred_at).where(
        AuthEvent.subject_kind == "staff", AuthEvent.subject_id == staff_id,
        AuthEvent.reason == "locked")
    if since is not None:
        query = query.where(AuthEvent.occurred_at > since)
    return list(db.scalars(query.order_by(AuthEvent.occurred_at)))
