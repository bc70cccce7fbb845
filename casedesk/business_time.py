"""Working-time arithmetic: deadlines count only a department's business hours.

Pure functions over a BusinessHours value (its time zone, working days, opening hours and
public holidays); no database. Business hours are assumed not to straddle midnight.
"""

from collections.abc import Container
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A deadline further than this many calendar days away means the calendar has no
# working time at all (every day a holiday, say): refuse rather than loop for ever.
MAX_DAYS = 3 * 366
DASH = "\u2013"


class NoWorkingTime(ValueError):
    """The calendar has no working time in which the duration could elapse."""


@dataclass(frozen=True)
class BusinessHours:
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    work_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday is 0
    opens: time = time(9)
    closes: time = time(17)
    holidays: Container[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.work_days and day not in self.holidays

    def working_window(self, day: date) -> tuple[datetime, datetime] | None:
        if not self.is_working_day(day) or self.opens >= self.closes:
            return None
        return (
            datetime.combine(day, self.opens, tzinfo=self.zone),
            datetime.combine(day, self.closes, tzinfo=self.zone),
        )

    def is_working_time(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        window = self.working_window(local.date())
        return window is not None and window[0] <= local < window[1]

    def describe(self) -> str:
        """'Mon-Fri 09:00-17:00 (Europe/London)' (with en dashes), for choosing a time."""
        names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        days = sorted(self.work_days)
        if days and days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
            span = f"{names[days[0]]}{DASH}{names[days[-1]]}"
        else:
            span = ", ".join(names[day] for day in days)
        return f"{span} {self.opens:%H:%M}{DASH}{self.closes:%H:%M} ({self.zone.key})"


ROUND_THE_CLOCK = BusinessHours(
    work_days=frozenset(range(7)), opens=time(0), closes=time(23, 59, 59, 999999)
)


def add_business_time(start: datetime, duration: timedelta, hours: BusinessHours) -> datetime:
    """The instant at which `duration` of working time has elapsed after `start` (UTC)."""
    remaining = duration
    cursor = start.astimezone(hours.zone)
    for _ in range(MAX_DAYS):
        window = hours.working_window(cursor.date())
        if window is not None:
            opens, closes = window
            begin = max(cursor, opens)
            if begin < closes or (begin == closes and remaining <= timedelta(0)):
                available = closes - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(UTC)
                remaining -= available
        cursor = datetime.combine(cursor.date() + timedelta(days=1), time(0), tzinfo=hours.zone)
    raise NoWorkingTime(f"no {duration} of working time within {MAX_DAYS} days of {start}")


def business_time_between(start: datetime, end: datetime, hours: BusinessHours) -> timedelta:
    """Working time from `start` to `end` (zero when end is not after start)."""
    if end <= start:
        return timedelta(0)
    total = timedelta(0)
    cursor = start.astimezone(hours.zone)
    end = end.astimezone(hours.zone)
    while cursor < end:
        window = hours.working_window(cursor.date())
        if window is not None:
            begin, finish = max(cursor, window[0]), min(end, window[1])
            if begin < finish:
                total += finish - begin
        cursor = datetime.combine(cursor.date() + timedelta(days=1), time(0), tzinfo=hours.zone)
    return total
