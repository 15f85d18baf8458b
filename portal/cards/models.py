from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, TenantScoped


class CardBinding(TenantScoped, Base):
    """Maps a user-authentication certificate (issuer + serial, SHA-256 fingerprint) to a
    resident or a staff account. The My Number is never part of it."""

    __tablename__ = "card_binding"
    __table_args__ = (UniqueConstraint("issuer", "serial"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(300))
    serial: Mapped[str] = mapped_column(String(64))  # hex
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"), index=True)
    not_after: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]


class LoginChallenge(Base):
    """A nonce the card signs (with the origin). Single use, five minutes, bound to the
    browser session that asked for it; stored in the database so any worker can consume it."""

    __tablename__ = "login_challenge"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    session_binding: Mapped[str] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # login, enroll, bind_staff
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    consumed_at: Mapped[datetime | None]
