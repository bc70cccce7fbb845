import pytest
import time_machine
from django.db import DatabaseError, connection, transaction

from casedesk import handoffs, services
from casedesk.errors import CaseConflict, InvalidTransition, NotPermitted
from casedesk.models import Case, CaseEvent, CaseState, HandOffState
from tests.casedesk.helpers import actor_named, case_in_state
from tests.factories import open_case


def test_opening_a_case_gives_it_a_reference_an_owner_and_a_deadline(org, as_actor):
    with time_machine.travel("2026-11-23 09:00Z", tick=False):
        case = services.case_open(
            actor=as_actor(org.joanne), client=org.harbor, subject="Refund", priority="urgent"
        )

    assert case.reference == f"CD-{case.pk:06d}"
    assert case.owner == org.joanne
    assert case.due_at.isoformat() == "2026-11-23T10:00:00+00:00"  # urgent: 1 working hour
    assert case.due_kind == "first_response"
    assert case.warn_at.isoformat() == "2026-11-23T09:45:00+00:00"  # at 75% of the time
    assert case.events.get().kind == "opened"


def test_only_staff_of_the_clients_department_can_open_its_cases(org, as_actor):
    with pytest.raises(NotPermitted):
        services.case_open(actor=as_actor(org.devon), client=org.harbor, subject="Refund")
    with pytest.raises(InvalidTransition, match="does not work in"):
        services.case_open(
            actor=as_actor(org.joanne), client=org.harbor, subject="Refund", owner=org.devon
        )
    assert not Case.objects.exists()


def test_escalation_goes_to_the_owners_manager_and_names_them(org, as_actor):
    case = open_case(org)

    case = services.case_escalate(case=case, actor=as_actor(org.sam), reason="I want a supervisor")

    assert (case.state, case.owner, case.escalation_level) == ("escalated", org.maria, 1)
    event = case.events.last()
    assert event.target == org.maria
    assert event.actor_contact == org.sam
    assert event.client_visible


def test_the_top_of_the_chain_keeps_the_case_flagged_instead_of_escalating_into_nothing(org):
    case = open_case(org, owner=org.lee)

    case = services.case_escalate(case=case, actor=actor_named(org, "system"), reason="Overdue")

    assert case.owner == org.lee
    assert case.at_top_of_chain
    assert case.due_at is not None
    assert "top of the chain" in case.events.last().reason


def test_returning_with_guidance_gives_the_case_back_to_whoever_worked_it(org, as_actor):
    case = case_in_state(org, "escalated")
    case = services.case_escalate(case=case, actor=as_actor(org.maria), reason="Over my limit")
    assert case.owner == org.lee

    case = services.case_return_with_guidance(
        case=case, actor=as_actor(org.lee), guidance="Approve the refund."
    )

    assert (case.state, case.owner, case.escalation_level) == ("open", org.joanne, 0)
    assert case.events.last().reason == "Approve the refund."


def test_the_case_returns_to_open_only_when_its_last_handoff_is_answered(org, as_actor):
    case = case_in_state(org, "cross_department")
    second = handoffs.handoff_request(
        case=case,
        actor=as_actor(org.joanne),
        to_department=org.institutional,
        accountable=org.priya,
        request="Also confirm the fees.",
        shared_summary="Billing move.",
    )
    first = case.handoffs.exclude(pk=second.pk).get()

    handoffs.handoff_complete(handoff=first, actor=as_actor(org.devon), answer="Re-mapped.")
    assert Case.objects.get(pk=case.pk).state == CaseState.CROSS_DEPARTMENT

    handoffs.handoff_decline(handoff=second, actor=as_actor(org.priya), reason="Not ours.")
    case.refresh_from_db()
    assert case.state == CaseState.OPEN
    assert case.due_at is not None
    assert list(case.events.values_list("kind", flat=True)) == [
        "opened",
        "handoff_requested",
        "handoff_requested",
        "handoff_completed",
        "handoff_declined",
    ]
    assert case.events.last().reason == "Not ours."


def test_a_handoff_cannot_be_answered_twice(org, as_actor):
    case = case_in_state(org, "cross_department")
    handoff = case.handoffs.get()
    handoffs.handoff_complete(handoff=handoff, actor=as_actor(org.devon), answer="Done.")

    with pytest.raises(CaseConflict, match="already completed"):
        handoffs.handoff_complete(handoff=handoff, actor=as_actor(org.priya), answer="Done too.")
    kinds = list(handoff.events.values_list("kind", flat=True))
    assert kinds == ["handoff_requested", "handoff_completed"]


def test_a_handoff_goes_to_someone_in_the_receiving_department(org, as_actor):
    case = open_case(org)

    with pytest.raises(InvalidTransition, match="does not work in"):
        handoffs.handoff_request(
            case=case,
            actor=as_actor(org.joanne),
            to_department=org.institutional,
            accountable=org.maria,
            request="Re-map.",
            shared_summary="Billing move.",
        )
    assert not case.handoffs.exists()


def test_acting_on_a_case_someone_else_changed_meanwhile_is_a_conflict(org, as_actor):
    seen_by_maria = case_in_state(org, "open")
    seen_by_joanne = Case.objects.get(pk=seen_by_maria.pk)
    services.case_resolve(case=seen_by_joanne, actor=as_actor(org.joanne), summary="Refunded.")

    with pytest.raises(CaseConflict, match="changed by someone else"):
        services.case_escalate(case=seen_by_maria, actor=as_actor(org.maria), reason="Mine now")

    case = Case.objects.get(pk=seen_by_maria.pk)
    assert case.state == CaseState.RESOLVED
    assert case.events.count() == 2


def _make_event_inserts_fail_for(reason: str) -> None:
    """A real database failure after the case row is written: a trigger on the events table."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION fail_event() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'injected failure'; END; $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER fail_event BEFORE INSERT ON casedesk_caseevent FOR EACH ROW "
                f"WHEN (NEW.reason = '{reason}') EXECUTE FUNCTION fail_event()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER fail_event BEFORE INSERT ON casedesk_caseevent "
                f"WHEN NEW.reason = '{reason}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
            )


def test_a_transition_whose_event_cannot_be_written_leaves_no_trace(org, as_actor):
    case = case_in_state(org, "open")
    _make_event_inserts_fail_for("boom")

    with pytest.raises(DatabaseError), transaction.atomic():
        services.case_escalate(case=case, actor=as_actor(org.joanne), reason="boom")

    case = Case.objects.get(pk=case.pk)
    assert (case.state, case.owner, case.version) == ("open", org.joanne, 0)
    assert case.escalation_reason == ""
    assert case.events.count() == 1


def test_a_handoff_request_whose_event_fails_leaves_no_handoff(org, as_actor):
    case = case_in_state(org, "open")
    _make_event_inserts_fail_for("boom")

    with pytest.raises(DatabaseError), transaction.atomic():
        handoffs.handoff_request(
            case=case,
            actor=as_actor(org.joanne),
            to_department=org.institutional,
            accountable=org.devon,
            request="boom",
            shared_summary="Billing move.",
        )

    assert not case.handoffs.exists()
    assert Case.objects.get(pk=case.pk).state == CaseState.OPEN


def test_closed_handoffs_have_no_deadline_and_open_ones_always_do(org, as_actor):
    case = case_in_state(org, "cross_department")
    handoff = case.handoffs.get()
    assert handoff.due_at is not None

    handoffs.handoff_complete(handoff=handoff, actor=as_actor(org.devon), answer="Done.")

    handoff.refresh_from_db()
    assert (handoff.state, handoff.due_at) == (HandOffState.COMPLETED, None)
    assert CaseEvent.objects.filter(handoff=handoff, kind="handoff_completed").count() == 1
