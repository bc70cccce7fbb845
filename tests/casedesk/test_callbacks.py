"""Call-backs: the client books a time, the holder is reminded, a missed call climbs."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache

from casedesk import services
from casedesk.actors import Actor
from casedesk.callbacks import GRACE, callback_complete, callback_request
from casedesk.errors import CaseConflict, InvalidTransition, NotPermitted
from casedesk.models import CallBack, CallBackState
from casedesk.status_links import status_token
from escalation.digest import digests_send
from escalation.models import Escalation
from escalation.sweep import sweep
from tests.casedesk.helpers import case_in_state, deliver_outbox, settle_outbox
from tests.factories import StaffFactory, open_case

MONDAY_10 = "2026-11-23 10:00Z"  # London is on UTC in November
TUESDAY_14 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _monday_morning():
    cache.clear()
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        yield traveller


def book(case, *, at=TUESDAY_14, actor=None, **extra):
    actor = actor or Actor.for_status_link(case.client_id)
    return callback_request(
        case=case,
        actor=actor,
        phone=extra.pop("phone", "+44 20 7946 0101"),
        at=at,
        time_zone=extra.pop("time_zone", "Europe/London"),
        **extra,
    )


def calls(lines: list[str]) -> list[str]:
    """The sweep's lines about call-backs (the case's own deadlines pass meanwhile too)."""
    return [line for line in lines if "call-back" in line]


def form(**fields):
    data = {
        "action": "callback",
        "phone": "+44 20 7946 0101",
        "date": "2026-11-24",
        "time": "14:00",
        "time_zone": "Europe/London",
        "note": "",
    }
    return data | fields


def test_the_client_books_a_call_and_the_owner_holds_it_against_its_own_deadline(client, org):
    case = open_case(org)
    settle_outbox()

    response = client.post(f"/status/{status_token(case)}/", form(note="About invoice 2291"))

    assert response.status_code == 302
    callback = CallBack.objects.get(case=case)
    assert (callback.accountable, callback.state) == (org.joanne, CallBackState.PENDING)
    assert callback.requested_for == TUESDAY_14
    assert callback.due_at == TUESDAY_14 + timedelta(minutes=15)
    event = case.events.get(kind="callback_requested")
    assert event.client_visible
    assert "Joanne will call you on Tuesday 24 November at 14:00 (Europe/London)" in event.reason
    page = client.get(f"/status/{status_token(case)}/").content.decode()
    assert "Call-back booked." in page
    assert "ending 0101" in page
    assert "7946 0101" not in page  # a forwarded link does not give the number away
    assert org.joanne.user.email in {m.to[0] for m in deliver_outbox()}


def test_a_time_in_the_clients_own_zone_is_kept_as_that_instant(org):
    case = open_case(org)

    new_york_9am = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    callback = book(case, at=new_york_9am, time_zone="America/New_York")

    assert callback.requested_for == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    event = case.events.get(kind="callback_requested")
    assert "09:00 (America/New_York)" in event.reason


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"date": "2026-11-23", "time": "09:30"}, "at least 15 minutes from now"),
        ({"date": "2026-11-28", "time": "11:00"}, "opening hours, Mon\u2013Fri 09:00\u201317:00"),
        ({"date": "2026-11-24", "time": "20:00"}, "Please pick a time then"),
        ({"date": "2027-03-01", "time": "11:00"}, "within the next 60 days"),
        ({"phone": "call me maybe"}, "Enter a phone number"),
        ({"date": "not a date"}, "Enter a valid date"),
        ({"time_zone": "Mars/Olympus"}, "Select a valid choice"),
    ],
)
def test_a_time_we_cannot_keep_is_refused_with_a_reason_and_the_form_kept(
    client, org, fields, message
):
    case = open_case(org)

    response = client.post(f"/status/{status_token(case)}/", form(note="Keep me", **fields))

    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "Keep me" in page  # nothing the client typed is lost
    assert not CallBack.objects.exists()


def test_a_new_booking_replaces_the_one_before(org):
    case = open_case(org)
    first = book(case)

    second = book(case, at=TUESDAY_14 + timedelta(hours=1))

    first.refresh_from_db()
    assert (first.state, first.due_at) == (CallBackState.REPLACED, None)
    assert second.is_pending
    assert "replaces the call booked for Tuesday 24 November at 14:00" in (
        case.events.filter(kind="callback_requested").last().reason
    )


def test_nobody_books_calls_on_a_resolved_case_or_for_another_client(org):
    case = open_case(org)
    with pytest.raises(NotPermitted):
        book(case, actor=Actor.for_status_link(org.northwind.pk))
    with pytest.raises(NotPermitted):
        book(case, actor=Actor.for_staff(org.devon))
    resolved = case_in_state(org, "resolved")
    with pytest.raises(InvalidTransition):
        book(resolved)


def test_the_owner_records_the_call_and_the_client_reads_what_was_agreed(client, org):
    case = open_case(org)
    callback = book(case)
    client.force_login(org.joanne.user)

    response = client.post(
        f"/cases/{case.reference}/callbacks/{callback.pk}/done",
        {"made": "yes", "outcome": "Refund agreed; it arrives by Friday."},
    )

    assert response.status_code == 302
    callback.refresh_from_db()
    assert (callback.state, callback.completed_by, callback.due_at) == (
        CallBackState.DONE,
        org.joanne,
        None,
    )
    case.refresh_from_db()
    assert case.first_response_at is not None  # the owner's call answers the client
    client.logout()
    page = client.get(f"/status/{status_token(case)}/").content.decode()
    assert "We called you back" in page
    assert "Refund agreed; it arrives by Friday." in page


def test_recording_a_call_twice_is_a_conflict_and_needs_an_outcome(org):
    case = open_case(org)
    callback = book(case)
    joanne, maria = Actor.for_staff(org.joanne), Actor.for_staff(org.maria)
    with pytest.raises(InvalidTransition):
        callback_complete(callback=callback, actor=joanne, outcome="  ")

    callback_complete(callback=callback, actor=joanne, outcome="Done.")

    with pytest.raises(CaseConflict):
        callback_complete(callback=callback, actor=maria, outcome="Also done.")


def test_another_department_never_sees_nor_records_the_call(client, org):
    case = open_case(org)
    callback = book(case)
    client.force_login(org.devon.user)

    response = client.post(
        f"/cases/{case.reference}/callbacks/{callback.pk}/done", {"made": "yes", "outcome": "Done."}
    )

    assert response.status_code == 404
    with pytest.raises(NotPermitted):
        callback_complete(callback=callback, actor=Actor.for_staff(org.devon), outcome="x")


def test_an_empty_outcome_is_a_400_on_the_case_page(client, org):
    case = open_case(org)
    callback = book(case)
    client.force_login(org.joanne.user)

    response = client.post(
        f"/cases/{case.reference}/callbacks/{callback.pk}/done", {"made": "yes", "outcome": ""}
    )

    assert response.status_code == 400
    assert b"This field is required" in response.content
    assert b"Call-backs the client asked for" in response.content


def test_the_holder_is_reminded_and_a_missed_call_climbs_the_chain_once(org):
    case = open_case(org)
    # Answered, so the case itself is next due on Wednesday and stays with joanne meanwhile.
    case = services.case_add_note(
        case=case, actor=Actor.for_staff(org.joanne), text="On it.", client_visible=True
    )
    book(case)
    settle_outbox()

    reminded = sweep(now=TUESDAY_14 - timedelta(minutes=10))
    on_time = sweep(now=TUESDAY_14 + timedelta(minutes=10))
    missed = sweep(now=TUESDAY_14 + timedelta(minutes=16))
    again = sweep(now=TUESDAY_14 + timedelta(minutes=17))

    assert calls(reminded.warned) == [f"{case.reference} call-back: reminded Joanne"]
    assert calls(on_time.escalated) == []
    assert len(calls(missed.escalated)) == 1
    assert calls(again.escalated) == []
    callback = CallBack.objects.get(case=case)
    assert (callback.accountable, callback.escalation_level) == (org.maria, 1)
    assert callback.due_at > TUESDAY_14 + timedelta(minutes=16)
    assert Escalation.objects.filter(callback=callback).count() == 1
    event = case.events.get(kind="callback_escalated")
    assert event.client_visible
    assert "Maria" in event.reason
    assert "will call you by" in event.reason
    told = {m.to[0] for m in deliver_outbox()}
    assert {org.joanne.user.email, org.maria.user.email, org.harbor.contacts.get().email} <= told


def test_at_the_top_of_the_chain_a_missed_call_stays_flagged(org):
    case = open_case(org, owner=org.lee)
    book(case)

    sweep(now=TUESDAY_14 + timedelta(minutes=16))

    callback = CallBack.objects.get(case=case)
    assert (callback.accountable, callback.at_top_of_chain) == (org.lee, True)
    assert callback.due_at > TUESDAY_14 + timedelta(minutes=16)  # still held, on a deadline


def test_a_dry_run_reports_the_missed_call_and_changes_nothing(org):
    case = open_case(org)
    book(case)

    report = sweep(now=TUESDAY_14 + timedelta(minutes=16), dry_run=True)

    assert calls(report.escalated) == [
        f"{case.reference} call-back: the call booked for Tuesday 24 November at 14:00 "
        "(Europe/London) was missed; Joanne → Maria"
    ]
    assert CallBack.objects.get(case=case).accountable == org.joanne
    assert not Escalation.objects.exists()


def test_a_booked_call_follows_the_case_to_whoever_holds_it_keeping_its_time(client, org):
    case = open_case(org)
    callback = book(case)
    client.post(f"/status/{status_token(case)}/", {"action": "appeal", "reason": "Too slow."})

    callback.refresh_from_db()
    assert (callback.accountable, callback.due_at) == (org.maria, TUESDAY_14 + GRACE)
    page = client.get(f"/status/{status_token(case)}/").content.decode()
    assert "Maria will call you" in page

    case.refresh_from_db()
    reassigned_to = StaffFactory(department=org.support, manager=org.maria)
    services.case_reassign(case=case, actor=Actor.for_staff(org.maria), to=reassigned_to)
    callback.refresh_from_db()
    assert callback.accountable == reassigned_to


def test_a_call_escalated_for_being_missed_stays_with_whom_it_went_to(org):
    case = open_case(org)
    book(case)
    sweep(now=TUESDAY_14 + timedelta(minutes=16))  # the case and the call both go to maria
    case.refresh_from_db()
    callback = CallBack.objects.get(case=case)
    assert (case.owner, callback.accountable, callback.escalation_level) == (
        org.maria,
        org.maria,
        1,
    )

    services.case_return_with_guidance(
        case=case, actor=Actor.for_staff(org.maria), guidance="Refund it."
    )

    assert CallBack.objects.get(case=case).accountable == org.maria


def test_the_director_a_call_climbed_to_can_record_it(client, org):
    case = open_case(org, owner=org.devon, client=org.northwind)
    case = services.case_escalate(case=case, actor=Actor.for_staff(org.devon), reason="Sign-off.")
    case = services.case_escalate(case=case, actor=Actor.for_staff(org.priya), reason="Higher.")
    callback = book(case)
    assert callback.accountable == org.lee
    client.force_login(org.lee.user)

    page = client.get(f"/cases/{case.reference}/")
    response = client.post(
        f"/cases/{case.reference}/callbacks/{callback.pk}/done", {"made": "yes", "outcome": "Done."}
    )

    assert b"Close the call-back" in page.content
    assert response.status_code == 302
    callback.refresh_from_db()
    assert callback.state == CallBackState.DONE


def test_staff_close_a_call_that_is_not_needed_saying_why(client, org):
    case = open_case(org)
    callback = book(case)
    client.force_login(org.joanne.user)

    client.post(
        f"/cases/{case.reference}/callbacks/{callback.pk}/done",
        {"made": "no", "outcome": "You confirmed by email that it is sorted."},
    )

    callback.refresh_from_db()
    assert callback.state == CallBackState.CANCELLED
    event = case.events.get(kind="callback_cancelled")
    assert event.client_visible
    assert "You confirmed by email that it is sorted." in event.reason


def test_the_client_cancels_their_own_call(client, org):
    case = open_case(org)
    callback = book(case)

    response = client.post(
        f"/status/{status_token(case)}/", {"action": "cancel_callback", "callback": callback.pk}
    )
    again = client.post(
        f"/status/{status_token(case)}/", {"action": "cancel_callback", "callback": callback.pk}
    )

    assert response.status_code == 302
    callback.refresh_from_db()
    assert callback.state == CallBackState.CANCELLED
    assert again.status_code == 400
    assert b"That call-back is no longer booked." in again.content


def test_a_client_cannot_cancel_another_cases_call(client, org):
    mine, other = open_case(org), open_case(org, subject="Other")
    theirs = book(other)

    response = client.post(
        f"/status/{status_token(mine)}/", {"action": "cancel_callback", "callback": theirs.pk}
    )

    assert response.status_code == 400
    theirs.refresh_from_db()
    assert theirs.is_pending


def test_at_the_top_a_missed_call_reminds_the_holder_without_emailing_the_client_again(org):
    case = open_case(org, owner=org.lee)
    book(case)
    sweep(now=TUESDAY_14 + timedelta(minutes=16))
    settle_outbox()
    callback = CallBack.objects.get(case=case)

    sweep(now=callback.due_at + timedelta(minutes=1))

    assert CallBack.objects.get(case=case).escalations.count() == 2
    latest = case.events.filter(kind="callback_escalated").last()
    assert not latest.client_visible
    assert deliver_outbox() == []  # nobody at once: lee's daily digest lists it
    digests_send(now=callback.due_at + timedelta(minutes=2))
    [digest] = deliver_outbox()
    assert digest.to == [org.lee.user.email]
    assert "stalled with you" in digest.subject
    assert case.reference in digest.body
