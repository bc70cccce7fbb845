from datetime import timedelta

import time_machine

from casedesk import services
from casedesk.models import SlaPolicy
from tests.casedesk.helpers import case_in_state
from tests.factories import open_case

MONDAY_9 = "2026-11-23 09:00Z"


def test_a_new_case_is_due_for_its_first_response_in_business_hours(org):
    with time_machine.travel("2026-11-27 16:30Z", tick=False):  # Friday, 30 minutes before close
        case = open_case(org, priority="normal")  # 4 working hours

    assert case.due_kind == "first_response"
    assert case.due_at.isoformat() == "2026-11-30T12:30:00+00:00"  # Monday, 3.5h after opening


def test_the_owners_first_message_to_the_client_meets_the_first_response(org, as_actor):
    with time_machine.travel(MONDAY_9, tick=False):
        case = open_case(org, priority="normal")
    with time_machine.travel("2026-11-23 10:00Z", tick=False):
        case = services.case_add_note(
            case=case, actor=as_actor(org.joanne), text="We are on it.", client_visible=True
        )

    assert case.first_response_at.isoformat() == "2026-11-23T10:00:00+00:00"
    assert case.due_kind == "next_update"
    assert case.due_at.isoformat() == "2026-11-25T10:00:00+00:00"  # 16 working hours later


def test_an_internal_note_does_not_count_as_a_response(org, as_actor):
    with time_machine.travel(MONDAY_9, tick=False):
        case = open_case(org)
        due = case.due_at
        case = services.case_add_note(case=case, actor=as_actor(org.joanne), text="Checking.")

    assert case.first_response_at is None
    assert case.due_at == due


def test_the_resolution_deadline_caps_every_other_one(org):
    SlaPolicy.objects.filter(department=org.support, priority="normal").update(
        resolution=timedelta(hours=1)
    )
    with time_machine.travel(MONDAY_9, tick=False):
        case = open_case(org, priority="normal")

    assert case.due_kind == "resolution"
    assert case.due_at.isoformat() == "2026-11-23T10:00:00+00:00"


def test_an_escalated_case_gives_its_new_holder_one_escalation_step(org, as_actor):
    with time_machine.travel(MONDAY_9, tick=False):
        case = case_in_state(org, "escalated")

    assert case.due_kind == "escalation"
    assert case.due_at.isoformat() == "2026-11-23T17:00:00+00:00"  # normal: 8 working hours


def test_a_hand_off_runs_on_the_receiving_departments_policy(org):
    SlaPolicy.objects.filter(department=org.institutional, priority="normal").update(
        handoff_response=timedelta(hours=2)
    )
    with time_machine.travel(MONDAY_9, tick=False):
        case = case_in_state(org, "cross_department")

    assert case.handoffs.get().due_at.isoformat() == "2026-11-23T11:00:00+00:00"
