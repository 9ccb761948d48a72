"""Call-center hours: 8:00-17:00 Eastern, Monday-Friday, closed on NC state holidays."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from bot.config import CallCenterSettings
from bot.services.hours import CallCenterHours
from tests.fakes.clock import FixedClock

EASTERN = ZoneInfo("America/New_York")


def hours_at(iso_eastern: str) -> CallCenterHours:
    moment = datetime.fromisoformat(iso_eastern).replace(tzinfo=EASTERN)
    return CallCenterHours(CallCenterSettings(), FixedClock(moment.astimezone(timezone.utc)))


def test_open_on_a_weekday_afternoon() -> None:
    status = hours_at("2026-12-02T10:30").status()
    assert status.open and status.closes_at == datetime(2026, 12, 2, 17, 0, tzinfo=EASTERN)


def test_closed_in_the_evening_opens_next_morning() -> None:
    status = hours_at("2026-12-02T18:15").status()
    assert not status.open and status.reason == "after_hours"
    assert status.opens_at == datetime(2026, 12, 3, 8, 0, tzinfo=EASTERN)


def test_closed_before_eight_opens_same_day() -> None:
    status = hours_at("2026-12-02T07:59").status()
    assert status.reason == "before_hours" and status.opens_at == datetime(2026, 12, 2, 8, 0, tzinfo=EASTERN)


def test_closed_on_the_weekend_opens_monday() -> None:
    status = hours_at("2026-12-05T12:00").status()
    assert status.reason == "weekend" and status.opens_at == datetime(2026, 12, 7, 8, 0, tzinfo=EASTERN)


def test_closed_on_christmas() -> None:
    status = hours_at("2026-12-25T11:00").status()
    assert not status.open and status.reason == "holiday" and status.holiday == "Christmas Day"


def test_closed_the_day_after_thanksgiving() -> None:
    status = hours_at("2026-11-27T11:00").status()
    assert status.reason == "holiday" and status.opens_at == datetime(2026, 11, 30, 8, 0, tzinfo=EASTERN)


def test_closing_time_itself_is_closed() -> None:
    assert not hours_at("2026-12-02T17:00").status().open


def test_status_uses_eastern_time_not_utc() -> None:
    # 21:30 UTC is 16:30 in New York in December: still open.
    hours = CallCenterHours(CallCenterSettings(), FixedClock("2026-12-02T21:30:00+00:00"))
    assert hours.status().open
