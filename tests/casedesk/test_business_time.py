from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casedesk.business_time import (
    BusinessHours,
    NoWorkingTime,
    add_business_time,
    business_time_between,
)

LONDON = BusinessHours(zone=ZoneInfo("Europe/London"), holidays={date(2026, 12, 25)})


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_time_inside_a_working_day_simply_adds():
    assert add_business_time(utc("2026-11-23 10:00"), timedelta(hours=4), LONDON) == utc(
        "2026-11-23 14:00"
    )


def test_what_does_not_fit_today_carries_over_to_the_next_morning():
    # Monday 15:00 + 4h = 2h Monday, 2h Tuesday from 09:00
    assert add_business_time(utc("2026-11-23 15:00"), timedelta(hours=4), LONDON) == utc(
        "2026-11-24 11:00"
    )


def test_a_request_on_friday_evening_waits_for_monday():
    assert add_business_time(utc("2026-11-27 18:30"), timedelta(hours=1), LONDON) == utc(
        "2026-11-30 10:00"
    )


def test_public_holidays_do_not_count():
    # Thursday 24 Dec 16:00 + 2h: 1h on Thursday, Christmas Day skipped, 1h on Saturday? no:
    # the weekend too, so Monday 28 Dec 10:00.
    assert add_business_time(utc("2026-12-24 16:00"), timedelta(hours=2), LONDON) == utc(
        "2026-12-28 10:00"
    )


def test_hours_are_local_so_summer_time_shifts_them_in_utc():
    # 1 July: London is UTC+1, so 09:00 local is 08:00 UTC.
    assert add_business_time(utc("2026-07-01 06:00"), timedelta(hours=1), LONDON) == utc(
        "2026-07-01 09:00"
    )


def test_working_time_between_two_instants_skips_nights_and_weekends():
    assert business_time_between(
        utc("2026-11-27 16:00"), utc("2026-11-30 10:00"), LONDON
    ) == timedelta(hours=2)


def test_a_calendar_without_working_days_refuses_instead_of_looping():
    never = BusinessHours(work_days=frozenset())
    with pytest.raises(NoWorkingTime):
        add_business_time(utc("2026-11-23 10:00"), timedelta(hours=1), never)


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2))  # SLA-sized
calendars = st.builds(
    BusinessHours,
    zone=st.sampled_from(
        [ZoneInfo("Europe/London"), ZoneInfo("America/New_York"), ZoneInfo("UTC")]
    ),
    work_days=st.frozensets(st.integers(0, 6), min_size=1),
    opens=st.sampled_from([time(0), time(8), time(9, 30)]),
    closes=st.sampled_from([time(12), time(17), time(20)]),
)


@given(start=instants, duration=durations, hours=calendars)
def test_the_deadline_is_exactly_that_much_working_time_later(start, duration, hours):
    deadline = add_business_time(start, duration, hours)

    assert deadline >= start
    assert business_time_between(start, deadline, hours) == duration


@given(start=instants, first=durations, second=durations, hours=calendars)
def test_adding_in_two_steps_lands_where_adding_once_does(start, first, second, hours):
    via_two = add_business_time(add_business_time(start, first, hours), second, hours)
    assert via_two == add_business_time(start, first + second, hours)
