"""One clock for the services, so tests can move time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

# Contest days (attempts per day, daily bests) follow China Standard Time, which has no DST.
CONTEST_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


class Clock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock(Clock):
    """A clock that moves only when told to (tests)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        self._now = when


def contest_day(when: datetime) -> str:
    """The contest-local calendar day of a moment, as YYYY-MM-DD."""
    return when.astimezone(CONTEST_TZ).date().isoformat()


def to_ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def iso(when: datetime | None) -> str | None:
    """ISO 8601 with the contest time zone, as the API promises."""
    return when.astimezone(CONTEST_TZ).isoformat(timespec="milliseconds") if when else None
