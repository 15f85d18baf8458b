from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base


class UserSession(Base):
    """One signed-in browser. Looked up before the viewer's municipality is known, so it is
    not TenantScoped; it carries the municipality for the scope that follows."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the cookie value
    viewer_kind: Mapped[str] = mapped_column(String(16))
    viewer_id: Mapped[int]
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"), index=True)
    kiosk: Mapped[bool] = mapped_column(default=False)
    # How the viewer proved who they are (see portal.sessions.services: CARD_PIN, ...).
    auth_method: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
