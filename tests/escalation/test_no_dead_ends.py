"""Paths where a case could get stuck or leak, found in review; each must stay closed."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts.models import AuthorityLevel
from casedesk import handoffs, services
from casedesk.errors import NotPermitted
from escalation.models import Escalation
from escalation.sweep import sweep
from tests.casedesk.helpers import case_in_state
from tests.factories import DepartmentFactory, open_case, staff


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_case_returned_after_a_missed_first_response_gets_a_fresh_deadline(org, as_actor):
    with time_machine.travel("2026-11-23 09:00Z", tick=False):
        case = open_case(org, priority="urgent")  # first response due 10:00
    sweep(now=at("2026-11-23 10:05"))  # missed: to maria
    with time_machine.travel("2026-11-23 10:30Z", tick=False):
        case = services.case_return_with_guidance(
            case=case.__class__.objects.get(pk=case.pk),
            actor=as_actor(org.maria),
            guidance="Call them today.",
        )

    assert case.due_at > at("2026-11-23 10:30")  # never the deadline that already passed
    sweep(now=case.due_at + timedelta(minutes=5))  # missed again: escalates again
    case.refresh_from_db()
    assert case.owner == org.maria
    assert Escalation.objects.filter(case=case).count() == 2


def test_one_receiving_department_cannot_answer_anothers_hand_off(org, as_actor):
    billing = DepartmentFactory(name="Billing")
    bo = staff("bo", billing, "Billing agent", AuthorityLevel.AGENT, org.lee)
    case = case_in_state(org, "cross_department")  # handed to Institutional Services
    handoffs.handoff_request(
        case=case,
        actor=as_actor(org.joanne),
        to_department=billing,
        accountable=bo,
        request="Refund the fee.",
        shared_summary="Fee refund.",
    )
    institutional = case.handoffs.get(to_department=org.institutional)

    with pytest.raises(NotPermitted):
        handoffs.handoff_complete(handoff=institutional, actor=as_actor(bo), answer="Done")
    with pytest.raises(NotPermitted):
        handoffs.handoff_assign(handoff=institutional, actor=as_actor(bo), to=bo)


def test_a_supervisor_cannot_undo_an_escalation_above_them_by_reassigning(org, as_actor):
    case = case_in_state(org, "escalated")
    case = services.case_escalate(case=case, actor=as_actor(org.maria), reason="Over my limit")
    assert case.owner == org.lee

    with pytest.raises(NotPermitted):
        services.case_reassign(case=case, actor=as_actor(org.maria), to=org.joanne)


def test_hand_offs_of_closed_cases_do_not_keep_climbing(org, as_actor):
    case = case_in_state(org, "cross_department")
    case = services.case_escalate(case=case, actor=as_actor(org.joanne), reason="Urgent")
    services.case_resolve(case=case, actor=as_actor(org.maria), summary="Solved another way")
    handoff = case.handoffs.get()

    report = sweep(now=handoff.created_at + timedelta(days=30))

    handoff.refresh_from_db()
    assert handoff.state == "withdrawn"  # settled with the case: nothing left to climb
    assert handoff.accountable == org.devon
    assert not any("hand-off" in line for line in report.escalated)


def test_writing_to_the_client_on_a_closed_case_sets_no_deadline(org, as_actor):
    case = case_in_state(org, "resolved")

    case = services.case_add_note(
        case=case, actor=as_actor(org.joanne), text="Glad it is fixed.", client_visible=True
    )

    assert (case.due_at, case.warn_at, case.first_response_at) == (None, None, None)


def test_searching_by_client_name_does_not_reveal_another_departments_client(client, org):
    case = case_in_state(org, "cross_department")
    client.force_login(org.devon.user)

    by_name = client.get("/cases/", {"view": "all", "q": "Harbor"}).content.decode()
    by_reference = client.get("/cases/", {"view": "all", "q": case.reference}).content.decode()

    assert case.reference not in by_name
    assert case.reference in by_reference


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_dashboard_day_far_outside_time_is_a_404_not_a_500(client, org, day):
    client.force_login(org.maria.user)
    assert client.get(f"/dashboard/cases/day-{day}/").status_code == 404
