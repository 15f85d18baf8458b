from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, TenantScoped


class AccessLogEntry(TenantScoped, Base):
    """One read or change of a resident's personal records. Append-only: the application
    refuses updates and deletes, and the database does too (a trigger, see migration)."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    actor_type: Mapped[str] = mapped_column(String(16))  # staff, resident, system
    actor_id: Mapped[int | None]
    actor_name: Mapped[str] = mapped_column(String(200))  # a resident's full name: up to 65
    actor_role: Mapped[str] = mapped_column(String(200))  # every role, comma-joined
    subject_resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # read, create, update, export, delete
    resource: Mapped[str] = mapped_column(String(64))  # e.g. registry.resident
    purpose: Mapped[str] = mapped_column(String(200))  # why, in words the resident reads
    request_path: Mapped[str] = mapped_column(String(200), default="")
