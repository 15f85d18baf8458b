from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session

from portal.metering.models import UsageEvent


def record_usage(db: Session, service: str, metric: str, amount: int = 1,
                 when: datetime | None = None) -> None:
    """Count a use in the session's municipality; commits with the caller's transaction."""
    db.add(UsageEvent(service=service, metric=metric, amount=amount,
                      occurred_at=when or datetime.now(timezone.utc).replace(tzinfo=None)))
