"""A fixed, manually advanced clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


class FixedClock:
    def __init__(self, start: datetime | str = "2026-12-02T15:00:00+00:00") -> None:
        moment = datetime.fromisoformat(start) if isinstance(start, str) else start
        self._now = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now += delta or timedelta(**kwargs)
        return self._now
