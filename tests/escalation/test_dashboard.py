import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casedesk import services
from casedesk.models import Case, CaseState
from casedesk.selectors import Viewer
from escalation.dashboard import dashboard_for
from escalation.demo import install_exception_policies
from escalation.exceptions import exception_decide, exception_request
from escalation.figures import figures_refresh
from escalation.models import ExceptionKind
from escalation.sweep import sweep
from tests.casedesk.helpers import case_in_state
from tests.casedesk.workspace import bulk_cases
from tests.factories import open_case

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday


@pytest.fixture
def history(org, as_actor):
    """Monday: three urgent cases opened; one answered in time; two missed their deadline
    (escalated by the sweep); one refund decided in 30 minutes."""
    install_exception_policies()
    joanne = as_actor(org.joanne)
    with time_machine.travel("2026-11-23 09:00Z", tick=False):
        answered = open_case(org, priority="urgent", subject="Answered")
        late_one = open_case(org, priority="urgent", subject="Late one")
        late_two = open_case(org, priority="urgent", subject="Late two")
        request = exception_request(
            case=answered,
            actor=joanne,
            kind=ExceptionKind.objects.get(name="Refund"),
            amount=Decimal("20"),
            justification="Charged twice",
        )
    with time_machine.travel("2026-11-23 09:20Z", tick=False):
        services.case_add_note(
            case=answered.__class__.objects.get(pk=answered.pk),
            actor=joanne,
            text="On it",
            client_visible=True,
        )
    with time_machine.travel("2026-11-23 09:30Z", tick=False):
        exception_decide(
            request=request, actor=as_actor(org.maria), approve=True, rationale="Our error"
        )
    sweep(now=datetime(2026, 11, 23, 10, 30, tzinfo=UTC))
    return {"answered": answered, "late": [late_one, late_two]}


def test_every_figure_equals_an_independent_count(org, history):
    with time_machine.travel(NOW, tick=False):
        figures_refresh(now=NOW)
        health = dashboard_for(Viewer.of(org.maria), now=NOW).health

    assert (health.cases, health.on_time) == (3, 1)
    assert health.breaches_this_week == 2
    assert health.median_first_response == timedelta(minutes=20)
    assert health.median_time_to_yes == timedelta(minutes=30)
    assert dict(health.breaches_per_day)[datetime(2026, 11, 23).date()] == 2
    assert sum(count for _, count in health.breaches_per_day) == 2
    assert health.on_time_by_department == [("Client Support", 1, 3)]


def test_each_figure_links_to_the_cases_behind_it(client, org, history):
    client.force_login(org.maria.user)
    with time_machine.travel(NOW, tick=False):
        figures_refresh(now=NOW)
        board = client.get("/dashboard/").content.decode()
        late = client.get("/dashboard/cases/late/").content.decode()
        on_time = client.get("/dashboard/cases/on-time/").content.decode()
        day = client.get("/dashboard/cases/day-2026-11-23/").content.decode()

    assert "/dashboard/cases/on-time/" in board
    assert "/dashboard/cases/day-2026-11-23/" in board
    assert "/dashboard/cases/department-Client%20Support/" in board
    late_refs = {case.reference for case in history["late"]}
    assert set(re.findall(r">(CD-\d{6})</a>", late)) == late_refs
    assert set(re.findall(r">(CD-\d{6})</a>", day)) == late_refs
    assert re.findall(r">(CD-\d{6})</a>", on_time) == [history["answered"].reference]


def test_the_dashboard_lists_escalations_to_me_and_stalled_hand_offs(client, org):
    escalated = case_in_state(org, "escalated")  # now maria's
    handed = case_in_state(org, "cross_department")
    handed.handoffs.update(due_at=handed.handoffs.get().due_at - timedelta(days=3))  # overdue
    client.force_login(org.maria.user)

    page = client.get("/dashboard/").content.decode()

    assert escalated.reference in page
    assert "Client Support → Institutional Services" in page
    assert "overdue by" in page
    assert "Devon" in page


def test_an_unknown_figure_is_a_404(client, org):
    client.force_login(org.maria.user)
    assert client.get("/dashboard/cases/nonsense/").status_code == 404


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get("/dashboard/").status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("viewer", ["maria", "lee"])
def test_the_dashboard_runs_the_same_queries_with_10_and_5000_cases(client, org, viewer):
    client.force_login(getattr(org, viewer).user)
    bulk_cases(org, 10)
    figures_refresh(now=timezone.now())
    with_ten = _queries(client)
    cases = bulk_cases(org, 4990, start=300_000)
    Case.objects.filter(pk__in=[case.pk for case in cases[:200]]).update(
        state=CaseState.ESCALATED, owner=getattr(org, viewer)
    )
    figures_refresh(now=timezone.now())
    with_five_thousand = _queries(client)

    assert with_ten == with_five_thousand
    assert with_five_thousand <= 10, f"dashboard budget: {with_five_thousand} queries"


def test_a_director_in_neither_department_sees_their_subtrees_stalled_hand_offs(client, org):
    from datetime import timedelta

    from casedesk.models import HandOff
    from tests.casedesk.helpers import ask_devon
    from tests.factories import DepartmentFactory

    handoff = ask_devon(org, open_case(org))
    HandOff.objects.filter(pk=handoff.pk).update(due_at=handoff.created_at - timedelta(hours=1))
    lee = org.lee
    lee.department = DepartmentFactory(name="Executive Office")  # over both, in neither
    lee.save()
    client.force_login(lee.user)

    board = client.get("/dashboard/").content.decode()

    assert handoff.case.reference in board
