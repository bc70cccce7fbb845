from datetime import timedelta

import pytest
import time_machine

from casedesk import deadlines, services
from casedesk.actors import Actor
from casedesk.errors import NotPermitted
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


def test_waiting_on_the_client_pauses_the_clock_and_their_answer_resumes_it(org, as_actor):
    with time_machine.travel(MONDAY_9, tick=False):
        case = open_case(org, priority="normal")  # first response due 13:00
    with time_machine.travel("2026-11-23 10:00Z", tick=False):  # 3 working hours left
        case = services.case_wait_for_client(
            case=case, actor=as_actor(org.joanne), question="Which invoice number?"
        )
    assert case.paused_remaining == timedelta(hours=3)
    assert case.due_kind == "client_reply"
    assert case.due_at.isoformat() == "2026-11-30T10:00:00+00:00"  # 40 working hours, not 13:00
    assert case.events.last().client_visible

    with time_machine.travel("2026-11-25 16:00Z", tick=False):  # Wednesday afternoon
        case = services.case_client_message(
            case=case, actor=as_actor(org.sam), text="It is invoice 2291."
        )

    assert case.waiting_on_client_since is None
    assert case.due_kind == "first_response"
    assert case.due_at.isoformat() == "2026-11-26T11:00:00+00:00"  # 1h Wed + 2h Thursday
    assert case.events.last().kind == "clock_resumed"
    assert "paused for 2\xa0days" in case.events.last().reason


def test_a_client_may_only_write_on_their_own_clients_case(org, as_actor):
    case = open_case(org)

    with pytest.raises(NotPermitted):
        services.case_client_message(case=case, actor=as_actor(org.alex), text="Hello")
    assert case.events.count() == 1


def test_a_transition_while_waiting_ends_the_pause(org, as_actor):
    case = open_case(org)
    case = services.case_wait_for_client(case=case, actor=as_actor(org.joanne), question="?")

    case = services.case_escalate(case=case, actor=as_actor(org.joanne), reason="Stuck")

    assert case.waiting_on_client_since is None
    assert case.due_kind == "escalation"


def test_staff_record_a_phone_answer_from_the_case_page(client, org, as_actor):
    case = open_case(org)
    case = services.case_wait_for_client(case=case, actor=as_actor(org.joanne), question="?")
    client.force_login(org.joanne.user)

    page = client.get(f"/cases/{case.reference}/").content.decode()
    response = client.post(
        f"/cases/{case.reference}/act/resume", {"version": case.version, "note": "Called me."}
    )

    assert "Waiting on the client since" in page
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.waiting_on_client_since is None


def test_a_warning_falls_at_its_share_of_business_time_inside_opening_hours(org):
    with time_machine.travel("2026-11-27 16:30Z", tick=False):  # Friday, 30 minutes before close
        case = open_case(org, priority="normal")  # due Monday 12:30, 4 working hours

    hours = deadlines.hours_for(org.support.pk)
    assert hours.is_working_time(case.warn_at)  # not Saturday night
    # 75% of 4 working hours is 3: 30 minutes on Friday, then 2.5 hours on Monday.
    assert case.warn_at.isoformat() == "2026-11-30T11:30:00+00:00"


def test_a_hand_off_due_monday_is_not_warned_on_sunday(org, as_actor):
    with time_machine.travel("2026-11-27 15:00Z", tick=False):  # Friday afternoon
        case = case_in_state(org, "cross_department")
    handoff = case.handoffs.get()

    assert handoff.warn_at.weekday() < 5
    assert deadlines.hours_for(org.institutional.pk).is_working_time(handoff.warn_at)


def test_a_resolution_deadline_pauses_with_the_clock_and_lapses_after_it(org, as_actor):
    SlaPolicy.objects.filter(department=org.support, priority="normal").update(
        resolution=timedelta(hours=2)
    )
    with time_machine.travel(MONDAY_9, tick=False):
        case = open_case(org, priority="normal")  # resolution due 11:00
    with time_machine.travel("2026-11-23 10:00Z", tick=False):
        case = services.case_wait_for_client(
            case=case, actor=as_actor(org.joanne), question="Which invoice?"
        )
    with time_machine.travel("2026-11-24 10:00Z", tick=False):  # a working day later
        case = services.case_client_message(
            case=case, actor=Actor.for_contact(org.sam), text="The March one."
        )

    # One working hour was left when the pause began: it is due an hour after the answer.
    assert case.resolution_due_at.isoformat() == "2026-11-24T11:00:00+00:00"
    assert (case.due_kind, case.due_at) == ("resolution", case.resolution_due_at)
