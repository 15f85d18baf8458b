"""Japan time, whatever the server's time zone."""
from datetime import datetime, timedelta, timezone

from portal.clock import JST, to_jst, today_jst


def test_a_stored_utc_time_is_read_as_japan_time():
    assert to_jst(datetime(2026, 3, 31, 15, 30)) == datetime(2026, 4, 1, 0, 30, tzinfo=JST)


def test_today_is_the_date_in_japan():
    before = (datetime.now(timezone.utc) + timedelta(hours=9)).date()
    after = (datetime.now(timezone.utc) + timedelta(hours=9)).date()
    assert today_jst() in (before, after)   # the same, unless midnight passed in between
