from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, TenantScoped


class UsageEvent(TenantScoped, Base):
    """One countable use (a sign-in, a record written, a certificate issued…). Holds no
    personal data: the cost split among member cities is computed from these."""

    __tablename__ = "usage_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    service: Mapped[str] = mapped_column(String(40))  # "core" or a plugin name
    metric: Mapped[str] = mapped_column(String(60))   # e.g. sign_in, record_written, certificate_issued:juminhyo
    amount: Mapped[int] = mapped_column(default=1)
