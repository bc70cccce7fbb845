"""One fixed moment for tests whose deadlines must land in working hours: a Monday at
10:00 (London is on UTC in November), long enough ago that nothing depends on today."""

from datetime import UTC, datetime

import pytest
import time_machine

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def monday_morning():
    """The clock stopped at MONDAY_10 for the whole test (a module asks for it with
    `pytestmark = pytest.mark.usefixtures("monday_morning")`)."""
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        yield traveller
