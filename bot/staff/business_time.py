"""Time counted in call-center business hours (config.yml call_center.hours, NC holidays
closed), and the first-response timer that pauses while a ticket is pending."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable

from bot.services.hours import CallCenterHours

MAX_DAYS = 800  # a guard: a ticket older than this counts only its last 800 days


def business_seconds(start: datetime, end: datetime, hours: CallCenterHours) -> float:
    if end <= start:
        return 0.0
    local_start, local_end = start.astimezone(hours.zone), end.astimezone(hours.zone)
    day = max(local_start.date(), local_end.date() - timedelta(days=MAX_DAYS))
    total = 0.0
    while day <= local_end.date():
        if hours.is_business_day(day):
            opens = datetime.combine(day, hours.opens, hours.zone)
            closes = datetime.combine(day, hours.closes, hours.zone)
            low, high = max(opens, local_start), min(closes, local_end)
            if high > low:
                total += (high - low).total_seconds()
        day += timedelta(days=1)
    return total


def first_response_seconds(*, created_at: datetime, responded_at: datetime | None, now: datetime,
                           history: Iterable[tuple[str, datetime]], hours: CallCenterHours) -> float:
    """Business seconds from filing to the first response (or now), less the time pending."""
    end = responded_at or now
    total = business_seconds(created_at, end, hours)
    pending_since: datetime | None = None
    for status, at in sorted(history, key=lambda item: item[1]):
        if at >= end:
            break
        if status == "pending" and pending_since is None:
            pending_since = at
        elif status != "pending" and pending_since is not None:
            total -= business_seconds(pending_since, at, hours)
            pending_since = None
    if pending_since is not None:
        total -= business_seconds(pending_since, end, hours)
    return max(total, 0.0)


def format_duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
