from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from portal.db import Read
from portal.sessions.models import UserSession
from portal.tenancy.models import CityRead, Municipality
from portal.unit_of_work import write_now

# Writing last_seen on every request would make each page a write; a minute of slack in
# an idle timeout of minutes is fine (kiosks time out in seconds, but they end the session
# on their own clock in the page, and on the server by `created`/last_seen of the minute).
TOUCH_EVERY = timedelta(minutes=1)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# How a session signed in (user_session.auth_method); partners see it as acr/amr.
CARD_PIN = "card_pin"            # My Number card, user-authentication key unlocked by the PIN
PASSWORD_TOTP = "password_totp"  # staff: password, then a TOTP code
DEMO = "demo"                    # development mode only: no authentication at all


_OPEN = insert(UserSession.__table__)


def open_session(db: Session, kind: str, viewer_id: int, municipality_id: int,
                 kiosk: bool = False, method: str | None = None) -> str:
    """Start a session and return the secret that goes into the (signed) cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    # written at once, as the flush did (readers in this transaction see it), but in Core:
    # nothing needs the row as an object, and a flush cost more than the INSERT
    write_now(db, _OPEN, {"token_hash": _hash(token), "viewer_kind": kind,
                          "viewer_id": viewer_id, "municipality_id": municipality_id,
                          "kiosk": kiosk, "created_at": now, "last_seen_at": now,
                          "auth_method": method})
    return token


def find_live_session(db: Session, token: str, idle: timedelta, kiosk_idle: timedelta,
                      absolute: timedelta, write=None) -> Read | None:
    """The session for `token` if it has not ended or timed out; ends it if it has.
    `write` takes the (idempotent) UPDATE that ends or touches it; by default it runs now."""
    write = write or db.execute
    record = _session_with_city(db, token)
    if record is None or record.ended_at is not None:
        return None
    now = utcnow()
    limit = kiosk_idle if record.kiosk else idle
    if now - record.last_seen_at > limit:
        write(_ending(record.id, now, "idle"))
        return None
    if now - record.created_at > absolute:
        write(_ending(record.id, now, "absolute"))
        return None
    if now - record.last_seen_at > _touch_every(limit):
        write(update(UserSession).where(UserSession.id == record.id,
                                        UserSession.last_seen_at < now).values(last_seen_at=now))
    return record


# Every signed-in request runs this: one Core statement, built once, for the session and
# its city (the city's services, menu and branding are on every page). Through the ORM
# the two cost about a third of a plain page.
_SESSION, _CITY = UserSession.__table__, Municipality.__table__
_CITY_PREFIX = "city_"
_SESSION_WITH_CITY = (
    select(_SESSION, *(c.label(_CITY_PREFIX + c.name) for c in _CITY.c))
    .join(_CITY, _CITY.c.id == _SESSION.c.municipality_id)
    .where(_SESSION.c.token_hash == bindparam("token_hash")))


def _session_with_city(db: Session, token: str) -> Read | None:
    """The session row of `token` (a stand-in with its columns) and, as `.municipality`,
    its city (CityRead)."""
    row = db.connection().execute(_SESSION_WITH_CITY, {"token_hash": _hash(token)}).first()
    if row is None:
        return None
    values = row._asdict()
    city = {k[len(_CITY_PREFIX):]: values.pop(k) for k in list(values) if k.startswith(_CITY_PREFIX)}
    return Read(values, municipality=CityRead(city))


def _touch_every(limit: timedelta) -> timedelta:
    """Once a minute, or more often when the idle limit itself is short (a kiosk's)."""
    return min(TOUCH_EVERY, limit / 4)


def _ending(session_id: int, now: datetime, reason: str):
    return (update(UserSession).where(UserSession.id == session_id,
                                      UserSession.ended_at.is_(None))
            .values(ended_at=now, end_reason=reason))


def end_session(db: Session, token: str, reason: str) -> None:
    record = db.scalar(select(UserSession).where(UserSession.token_hash == _hash(token)))
    if record is not None and record.ended_at is None:
        _end(record, utcnow(), reason)


def end_all_sessions(db: Session, kind: str, viewer_id: int, municipality_id: int) -> int:
    """End every live session of one person (after a lost card, say); returns how many."""
    result = db.execute(update(UserSession).where(
        UserSession.viewer_kind == kind, UserSession.viewer_id == viewer_id,
        UserSession.municipality_id == municipality_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason="ended_by_user"))
    return result.rowcount


def live_sessions(db: Session, kind: str, viewer_id: int, municipality_id: int) -> list[UserSession]:
    return list(db.scalars(select(UserSession).where(
        UserSession.viewer_kind == kind, UserSession.viewer_id == viewer_id,
        UserSession.municipality_id == municipality_id, UserSession.ended_at.is_(None))
        .order_by(UserSession.created_at.desc())))


def _end(record: UserSession, now: datetime, reason: str) -> None:
    record.ended_at = now
    record.end_reason = reason
