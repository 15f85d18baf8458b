"""Japan time. The server stores UTC naive datetimes and may run in any time zone; what a
resident or nurse calls "today" is the date in Japan."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

JST = timezone(timedelta(hours=9), "JST")


def to_jst(moment: datetime) -> datetime:
    """UTC naive (as stored) or aware → Japan time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(JST)


def today_jst() -> date:
    return datetime.now(JST).date()
