"""The dashboard's stored figures (escalation/figures.py) against counts of the raw tables."""

import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from statistics import median
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections

from casedesk import services
from casedesk.models import Case, CaseState
from casedesk.selectors import Viewer
from escalation.dashboard import LISTED, dashboard_for
from escalation.demo import install_exception_policies
from escalation.exceptions import exception_decide, exception_request
from escalation.figures import figures_refresh
from escalation.models import (
    Escalation,
    ExceptionKind,
    ExceptionRequest,
    ExceptionState,
    FigureDay,
    FigureDuration,
    FigureRefresh,
)
from escalation.sweep import sweep
from tests.casedesk.helpers import ask_devon
from tests.casedesk.workspace import bulk_cases
from tests.factories import open_case

LONDON = ZoneInfo("Europe/London")  # the test settings' site time zone
TUESDAY = date(2026, 11, 24)


def at(hour: int, minute: int = 0, day: date = TUESDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def note(case, person, as_actor):
    services.case_add_note(
        case=Case.objects.get(pk=case.pk), actor=as_actor(person), text="On it", client_visible=True
    )


@pytest.fixture
def replayed_day(org, as_actor):
    """A day of both departments' work, action by action at the time it happened, after a
    case opened the day before that misses its deadline today."""
    install_exception_policies()
    refund = ExceptionKind.objects.get(name="Refund")
    with time_machine.travel(at(16, day=TUESDAY - timedelta(days=1)), tick=False):
        yesterdays = open_case(org, priority="urgent", subject="Opened Monday")
    with time_machine.travel(at(8), tick=False):
        answered = open_case(org, priority="urgent", subject="Answered in ten minutes")
        slow = open_case(org, priority="urgent", subject="Answered in forty minutes")
        missed = [open_case(org, priority="urgent", subject=f"Missed {n}") for n in range(3)]
        handed = open_case(org, subject="Needs Institutional Services")
        devons = open_case(org, owner=org.devon, client=org.northwind, subject="Devon's")
    with time_machine.travel(at(8, 10), tick=False):
        note(answered, org.joanne, as_actor)
    with time_machine.travel(at(8, 25), tick=False):
        note(devons, org.devon, as_actor)
    with time_machine.travel(at(8, 40), tick=False):
        note(slow, org.joanne, as_actor)
        ask_devon(org, Case.objects.get(pk=handed.pk))
    with time_machine.travel(at(9), tick=False):
        services.case_resolve(
            case=Case.objects.get(pk=answered.pk), actor=as_actor(org.joanne), summary="Done"
        )
        asked = exception_request(
            case=Case.objects.get(pk=slow.pk),
            actor=as_actor(org.joanne),
            kind=refund,
            amount=Decimal("20"),
            justification="Charged twice",
        )
    with time_machine.travel(at(9, 45), tick=False):
        exception_decide(request=asked, actor=as_actor(org.maria), approve=True, rationale="Ours")
    for hour in (10, 12, 15, 18):  # the sweep, as beat runs it through the day
        with time_machine.travel(at(hour, 30), tick=False):
            sweep(now=at(hour, 30))
    with time_machine.travel(at(17), tick=False):
        services.case_resolve(
            case=Case.objects.get(pk=missed[0].pk), actor=as_actor(org.lee), summary="Settled"
        )
    end_of_day = at(23, 30)
    with time_machine.travel(end_of_day, tick=False):
        figures_refresh(now=end_of_day)
    return {"end": end_of_day, "yesterdays": yesterdays}


def independent_health(people: set[int], now: datetime) -> dict:
    """What the dashboard must show, counted from the raw tables alone."""
    today = now.astimezone(LONDON).date()
    start = datetime.combine(today - timedelta(days=29), time.min, tzinfo=LONDON)
    late = {
        e.case_id
        for e in Escalation.objects.all()
        if e.handoff_id is None and e.exception_request_id is None
    }
    cases = [c for c in Case.objects.select_related("department") if c.owner_id in people]
    recent = [c for c in cases if c.created_at >= start]
    departments = defaultdict(lambda: [0, 0])
    for case in recent:
        departments[case.department.name][0] += case.pk not in late
        departments[case.department.name][1] += 1
    breaches = Counter(
        e.escalated_at.astimezone(LONDON).date()
        for e in Escalation.objects.all()
        if e.from_person_id in people and not e.repeat and e.escalated_at >= start
    )
    responses = [c.first_response_at - c.created_at for c in recent if c.first_response_at]
    decisions = [
        r.decided_at - r.created_at
        for r in ExceptionRequest.objects.exclude(state=ExceptionState.PENDING)
        if r.requested_by_id in people and r.decided_at >= start
    ]
    monday = today - timedelta(days=today.weekday())
    return {
        "cases": len(recent),
        "on_time": sum(c.pk not in late for c in recent),
        "resolved": sum(
            c.state == CaseState.RESOLVED and c.closed_at >= start
            for c in cases
            if c.closed_at is not None
        ),
        "breaches_this_week": sum(n for day, n in breaches.items() if day >= monday),
        "breaches_per_day": {day: n for day, n in breaches.items() if n},
        "median_first_response": median(responses) if responses else None,
        "median_time_to_yes": median(decisions) if decisions else None,
        "on_time_by_department": sorted((n, good, all_) for n, (good, all_) in departments.items()),
    }


def shown(health) -> dict:
    return {
        "cases": health.cases,
        "on_time": health.on_time,
        "resolved": health.resolved,
        "breaches_this_week": health.breaches_this_week,
        "breaches_per_day": {day: n for day, n in health.breaches_per_day if n},
        "median_first_response": health.median_first_response,
        "median_time_to_yes": health.median_time_to_yes,
        "on_time_by_department": health.on_time_by_department,
    }


@pytest.mark.parametrize("who", ["maria", "priya", "lee"])
def test_after_a_replayed_day_every_stored_figure_equals_an_independent_count(
    org, replayed_day, who
):
    now = replayed_day["end"]
    viewer = Viewer.of(getattr(org, who))

    with time_machine.travel(now, tick=False):
        health = dashboard_for(viewer, now=now).health

    assert shown(health) == independent_health(set(viewer.subtree_ids), now)
    assert health.as_of == now


def test_the_replayed_day_is_not_an_empty_one(org, replayed_day):
    """The comparison above means something: the day missed deadlines, answered clients,
    resolved cases and decided a request, in both departments."""
    now = replayed_day["end"]
    with time_machine.travel(now, tick=False):
        health = dashboard_for(Viewer.of(org.lee), now=now).health

    assert health.cases == 8
    assert 0 < health.on_time < health.cases
    assert health.resolved == 2
    assert dict(health.breaches_per_day)[TUESDAY] >= 4  # the Monday case's and three of today's
    assert health.median_first_response == timedelta(minutes=25)  # 10, 25 and 40 minutes
    assert health.median_time_to_yes == timedelta(minutes=45)
    assert [name for name, *_ in health.on_time_by_department] == [
        "Client Support",
        "Institutional Services",
    ]
    monday = FigureDay.objects.get(day=TUESDAY - timedelta(days=1))
    assert (monday.opened, monday.opened_late) == (1, 1)  # late since today, on its own day


def _stored() -> list[tuple]:
    days = FigureDay.objects.order_by("day", "department_id", "person_id").values_list(
        "day", "department_id", "person_id", "opened", "opened_late", "resolved", "breaches"
    )
    durations = FigureDuration.objects.order_by("kind", "day", "person_id", "seconds")
    return [*days, *durations.values_list("kind", "day", "department_id", "person_id", "seconds")]


def test_refreshing_again_or_rebuilding_from_history_writes_the_same_rows(org, replayed_day):
    now = replayed_day["end"]
    first = _stored()

    with time_machine.travel(now, tick=False):
        assert figures_refresh(now=now)
        again = _stored()
        call_command("rebuild_figures", stdout=open("/dev/null", "w"))  # noqa: SIM115
        rebuilt = _stored()

    assert first == again == rebuilt
    assert len(first) > 5


def test_a_change_after_a_refresh_shows_at_the_next_one(org, replayed_day, as_actor):
    now = replayed_day["end"]
    viewer = Viewer.of(org.maria)
    with time_machine.travel(now, tick=False):
        before = dashboard_for(viewer, now=now).health.cases
        open_case(org, subject="Late in the evening")
        assert dashboard_for(viewer, now=now).health.cases == before  # as of the last run
        figures_refresh(now=now + timedelta(minutes=5))
        assert dashboard_for(viewer, now=now).health.cases == before + 1


def test_figures_not_computed_yet_say_so(client, org):
    open_case(org)
    client.force_login(org.maria.user)

    page = client.get("/dashboard/").content.decode()

    assert "Figures are being computed for the first time" in page


def test_a_long_list_shows_its_first_few_its_count_and_a_link_to_all(client, org):
    cases = bulk_cases(org, LISTED + 5)
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(
        state=CaseState.ESCALATED, owner=org.maria
    )
    client.force_login(org.maria.user)

    page = client.get("/dashboard/").content.decode()

    section = page.split('id="escalated-heading"')[1].split("</section>")[0]
    assert len(set(re.findall(r">(CD-\d{6})</a>", section))) == LISTED
    assert f"Showing the first {LISTED} of {LISTED + 5}" in section
    assert 'href="/cases/?view=mine&amp;state=escalated"' in section
    queue = client.get("/cases/?view=mine&state=escalated").content.decode()
    assert all(case.reference in queue for case in cases[:LISTED])


def test_the_stored_median_of_an_even_count_is_the_mean_of_the_two_middle_ones(org):
    """percentile_cont on PostgreSQL, statistics.median on SQLite: the same number."""
    minutes = [10, 20, 40, 80]
    for n, minute in enumerate(minutes):
        created = at(8, n)
        with time_machine.travel(created, tick=False):
            case = open_case(org)
        Case.objects.filter(pk=case.pk).update(
            first_response_at=created + timedelta(minutes=minute)
        )
    now = at(20)
    figures_refresh(now=now)

    health = dashboard_for(Viewer.of(org.maria), now=now).health

    assert health.median_first_response == timedelta(minutes=30)


def test_a_supervisor_sees_only_their_own_subtrees_figures(client, org):
    with time_machine.travel(at(9), tick=False):
        open_case(org)
        open_case(org)
        open_case(org, owner=org.devon, client=org.northwind)
        figures_refresh(now=at(9))
        counts = {
            who: dashboard_for(Viewer.of(getattr(org, who)), now=at(9)).health.cases
            for who in ("maria", "priya", "lee")
        }

    assert counts == {"maria": 2, "priya": 1, "lee": 3}


@pytest.mark.django_db(transaction=True)
def test_a_refresh_while_another_holds_the_lock_writes_nothing(org):
    """A duplicate beat, or a retried task, while a refresh runs: it leaves the rows to it."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    open_case(org)
    FigureRefresh.objects.get_or_create(pk=1)
    other = connections.create_connection("default")
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {FigureRefresh._meta.db_table} WHERE id = 1 FOR UPDATE")
        assert figures_refresh(now=datetime.now(UTC)) is False
        assert not FigureDay.objects.exists()
    finally:
        other.rollback()
        other.close()
    assert figures_refresh(now=datetime.now(UTC)) is True
    assert FigureDay.objects.exists()
