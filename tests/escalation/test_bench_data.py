"""The bench data set has the shape `make bench` promises, and the page bench runs on it
end to end: not timed here, only kept from rotting."""

from io import StringIO

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AuthorityLevel, Department, StaffProfile
from casedesk.models import (
    ACTIVE_STATES,
    CallBack,
    Case,
    CaseEvent,
    CaseState,
    Client,
    ClientContact,
    HandOff,
    HandOffState,
)
from escalation import bench_data, due
from escalation.models import ExceptionRequest
from escalation.sweep import WORK
from tests.factories import open_case

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def loaded():
    now = timezone.now()
    pools = bench_data.load(200, now=now)
    return now, pools


def test_the_bench_data_set_has_two_departments_of_people_and_twenty_clients(loaded):
    assert set(Department.objects.values_list("name", flat=True)) == {
        "Client Support",
        "Institutional Services",
    }
    agents = StaffProfile.objects.filter(authority_level=AuthorityLevel.AGENT)
    assert dict(agents.values_list("department__name").annotate(Count("pk"))) == {
        "Client Support": 4,
        "Institutional Services": 4,
    }
    assert Client.objects.count() == 20
    assert not Client.objects.filter(contacts__isnull=True).exists()
    assert ClientContact.objects.count() == 2 + 18 * 2


def test_a_tenth_of_the_cases_are_open_and_some_of_those_overdue_or_at_risk(loaded):
    now, _ = loaded
    assert Case.objects.count() == 200
    active = Case.objects.filter(state__in=ACTIVE_STATES)
    assert active.count() == 20
    assert not active.filter(due_at__isnull=True).exists()
    assert active.filter(late_since__lt=now, at_top_of_chain=True).count() == 1  # overdue
    assert active.filter(due_at__lt=now + timezone.timedelta(hours=6)).count() == 1  # at risk
    assert active.filter(state=CaseState.ESCALATED).count() == 2
    assert Case.objects.filter(state=CaseState.DENIED).count() == 4
    assert Case.objects.values("client").distinct().count() == 20


def test_cases_carry_hand_offs_call_backs_exception_requests_and_six_timeline_entries(loaded):
    open_handoffs = HandOff.objects.filter(state=HandOffState.OPEN)
    assert open_handoffs.count() == 3
    assert set(open_handoffs.values_list("case__state", flat=True)) == {CaseState.CROSS_DEPARTMENT}
    assert HandOff.objects.filter(state=HandOffState.COMPLETED).count() == 2
    assert CallBack.objects.count() == 1
    assert ExceptionRequest.objects.count() == 1
    per_case = Case.objects.annotate(entries=Count("events")).values_list("entries", flat=True)
    assert set(per_case) <= {6, 7}
    assert CaseEvent.objects.count() == 200 * 6 + 2  # the two closed after a hand-off: 7


def test_nothing_is_due_when_loaded_and_the_sweeps_pools_are_its_not_due_items(loaded):
    now, pools = loaded
    assert due.anything_due([(work.kind, work.overdue) for work in WORK], now) == [False] * len(
        WORK
    )
    assert len(pools[HandOff]) == 3
    assert len(pools[CallBack]) == 1
    assert len(pools[ExceptionRequest]) == 1
    plain = Case.objects.filter(pk__in=pools[Case])
    assert plain.count() == len(pools[Case]) == 11
    assert set(plain.values_list("state", flat=True)) == {CaseState.OPEN}


def test_the_loaders_queries_do_not_grow_with_the_cases_of_a_chunk():
    now = timezone.now()
    bench_data.load(10, now=now)  # the organisation is built once, then found
    with CaptureQueriesContext(connection) as small:
        bench_data.load(200, now=now)
    with CaptureQueriesContext(connection) as larger:
        bench_data.load(1000, now=now)
    assert Case.objects.count() == 1000
    assert len(larger) == len(small)


def test_the_page_bench_times_every_roles_pages_on_the_data_set(loaded):
    out = StringIO()
    call_command("bench_pages", requests=2, warmups=1, stdout=out)
    table = out.getvalue()
    assert "Pages over 200 cases (20 open)" in table
    for page in (
        'agent\'s queue, "My cases"',
        'agent\'s queue, "My department"',
        'director\'s queue, "Everything I may see"',
        'search "refund"',
        'search "duplicate invoice"',
        "dashboard (director, every case)",
        "case page (its owner)",
        "client status page",
        "client's case list",
    ):
        line = next(line for line in table.splitlines() if line.startswith(page))
        median, p90, queries = line.split()[-4:-1]
        assert 0 < float(median) <= float(p90)
        assert int(queries) > 0


@pytest.mark.django_db
def test_the_load_test_refuses_a_database_not_named_for_the_bench_before_signing_anyone_in(
    org, settings, tmp_path, monkeypatch
):
    """`manage.py loadtest` without --cases ran on whatever DATABASE_URL names (here a
    production database's name): it signed in every agent, stored their live session
    cookies in var/loadtest/plan.json and started gunicorn against it."""
    monkeypatch.setitem(connection.settings_dict, "NAME", "casedesk")  # the name it reads
    settings.DEBUG = False
    settings.VAR_DIR = tmp_path
    open_case(org)
    assert Case.objects.exists()
    before = Session.objects.count()

    with pytest.raises(CommandError, match="not named as a benchmark"):
        call_command("loadtest", "--seconds", "1")

    assert Session.objects.count() == before, "sessions were made on a non-bench database"
    assert not (tmp_path / "loadtest" / "plan.json").exists()
