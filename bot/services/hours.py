"""Is the call center open now? Hours from config.yml, NC state holidays closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import CallCenterSettings
from bot.errors import ConfigError
from bot.services.clock import Clock

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class HoursStatus:
    open: bool
    opens_at: datetime | None  # next opening (local time) when closed
    closes_at: datetime | None  # today's closing (local time) when open
    reason: str  # open | after_hours | before_hours | weekend | holiday
    holiday: str | None = None


def _parse_time(value: str, name: str) -> time:
    try:
        hour, minute = value.split(":")
        return time(int(hour), int(minute))
    except ValueError as exc:
        raise ConfigError(f"call_center.hours.{name} must be HH:MM, got {value!r}") from exc


class CallCenterHours:
    def __init__(self, settings: CallCenterSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.zone = ZoneInfo(settings.timezone)
        self.opens = _parse_time(settings.open, "open")
        self.closes = _parse_time(settings.close, "close")
        unknown = set(settings.days) - set(DAY_NAMES)
        if unknown:
            raise ConfigError(f"call_center.hours.days has unknown days: {sorted(unknown)}")
        self.days = {DAY_NAMES.index(day) for day in settings.days}
        self._holidays: Any = None  # NC's holiday calendar, built on first use (0.1 s off start-up)

    @property
    def phone(self) -> str:
        return self.settings.phone

    def holiday(self, day: date) -> str | None:
        if self._holidays is None:
            import holidays

            self._holidays = holidays.US(subdiv="NC")
        return self._holidays.get(day)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.days and self.holiday(day) is None

    def status(self, now: datetime | None = None) -> HoursStatus:
        local = (now or self.clock.now()).astimezone(self.zone)
        today = local.date()
        holiday = self.holiday(today)
        if self.is_business_day(today):
            opens = datetime.combine(today, self.opens, self.zone)
            closes = datetime.combine(today, self.closes, self.zone)
            if opens <= local < closes:
                return HoursStatus(open=True, opens_at=None, closes_at=closes, reason="open")
            if local < opens:
                return HoursStatus(open=False, opens_at=opens, closes_at=None, reason="before_hours")
            reason = "after_hours"
        else:
            reason = "holiday" if holiday else "weekend"
        return HoursStatus(
            open=False, opens_at=self._next_opening(today), closes_at=None, reason=reason, holiday=holiday
        )

    def _next_opening(self, today: date) -> datetime | None:
        day = today + timedelta(days=1)
        for _ in range(30):
            if self.is_business_day(day):
                return datetime.combine(day, self.opens, self.zone)
            day += timedelta(days=1)
        return None
