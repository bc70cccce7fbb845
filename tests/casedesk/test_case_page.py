import pytest
import time_machine

from casedesk import handoffs, services
from casedesk.models import Case, CaseState
from tests.casedesk.helpers import case_in_state
from tests.casedesk.workspace import bulk_events, queries_for
from tests.factories import open_case


@pytest.fixture
def as_joanne(client, org):
    client.force_login(org.joanne.user)
    return client


def act(client, case, action, **data):
    return client.post(f"/cases/{case.reference}/act/{action}", {"version": case.version, **data})


def offered(response) -> set[str]:
    return {action.name for action, _ in response.context["actions"]}


def test_the_page_shows_owner_supervisor_deadline_client_and_timeline(as_joanne, org):
    with time_machine.travel("2026-11-23 09:00Z", tick=False):
        case = open_case(org)
        page = as_joanne.get(f"/cases/{case.reference}/").content.decode()

    assert case.reference in page
    assert "Joanne" in page
    assert "supervisor: Maria" in page
    assert "in 4\xa0hours" in page  # normal priority: first response within 4 working hours
    assert 'title="Mon 23 Nov 2026, 13:00 GMT"' in page
    assert org.harbor.name in page
    assert org.sam.email in page
    assert "Opened" in page


def test_only_the_actions_the_state_machine_allows_are_offered(client, org, as_actor):
    case = open_case(org)
    client.force_login(org.joanne.user)
    assert offered(client.get(f"/cases/{case.reference}/")) == {
        "note",
        "message",
        "resolve",
        "escalate",
        "request_handoff",
        "deny",
        "wait_for_client",
        "flag_risk",
        "reissue_status_link",
    }

    services.case_escalate(case=case, actor=as_actor(org.joanne), reason="Over my limit")
    # Below the owner now, joanne can still write and raise the alarm, not decide.
    assert offered(client.get(f"/cases/{case.reference}/")) == {
        "note",
        "message",
        "flag_risk",
        "reissue_status_link",
    }

    client.force_login(org.maria.user)
    assert offered(client.get(f"/cases/{case.reference}/")) == {
        "note",
        "message",
        "resolve",
        "escalate",
        "request_handoff",
        "deny",
        "return_with_guidance",
        "reassign",
        "flag_risk",
        "reissue_status_link",
    }


def test_an_internal_note_is_added_to_the_timeline(as_joanne, org):
    case = open_case(org)

    response = act(as_joanne, case, "note", text="Called the bank; waiting for a reference.")

    assert response.status_code == 302
    event = case.events.last()
    assert (event.kind, event.client_visible) == ("note", False)
    assert "waiting for a reference" in as_joanne.get(f"/cases/{case.reference}/").content.decode()


def test_denying_needs_a_rationale_and_keeps_what_was_typed(as_joanne, org):
    case = open_case(org)

    empty = act(as_joanne, case, "deny", rationale="  ")
    denied = act(as_joanne, case, "deny", rationale="Refunds after 90 days are not possible.")

    assert empty.status_code == 400
    assert b"This field is required" in empty.content
    assert denied.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.DENIED
    assert case.denial_rationale == "Refunds after 90 days are not possible."


def test_acting_on_a_stale_page_is_a_conflict_that_keeps_the_text_and_shows_the_fresh_case(
    as_joanne, org, as_actor
):
    case = open_case(org)
    stale_version = case.version
    services.case_escalate(case=case, actor=as_actor(org.sam), reason="I want a supervisor")

    response = as_joanne.post(
        f"/cases/{case.reference}/act/note",
        {"version": stale_version, "text": "My carefully typed note"},
    )

    assert response.status_code == 409
    page = response.content.decode()
    assert "changed by someone else" in page
    assert "My carefully typed note" in page
    assert "I want a supervisor" in page  # the fresh timeline
    assert f'name="version" value="{stale_version + 1}"' in page
    assert case.events.filter(kind="note").count() == 0


def test_an_action_someone_may_not_take_is_refused_with_a_reason(client, org):
    case = case_in_state(org, "escalated")  # now maria's; joanne is below the owner
    client.force_login(org.joanne.user)

    response = act(client, case, "resolve", summary="Done")

    assert response.status_code == 403
    assert b"You may not resolve" in response.content
    assert Case.objects.get(pk=case.pk).state == CaseState.ESCALATED


def test_a_supervisor_reassigns_within_the_department(client, org):
    case = open_case(org)
    client.force_login(org.maria.user)

    response = act(client, case, "reassign", to=org.lee.pk, reason="Lee knows this client")

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.owner == org.lee
    assert case.events.last().target == org.lee


def test_a_supervisor_cannot_reassign_outside_the_department(client, org):
    case = open_case(org)
    client.force_login(org.maria.user)

    response = act(client, case, "reassign", to=org.devon.pk)

    assert response.status_code == 400
    assert Case.objects.get(pk=case.pk).owner == org.joanne


def test_the_receiving_department_answers_a_hand_off_and_the_case_reopens(client, org):
    case = case_in_state(org, "cross_department")
    handoff = case.handoffs.get()
    client.force_login(org.devon.user)

    page = client.get(f"/cases/{case.reference}/").content.decode()
    response = client.post(
        f"/cases/{case.reference}/handoffs/{handoff.pk}/answer",
        {"outcome": "complete", "answer": "Re-mapped all 40."},
    )

    assert org.sam.email not in page
    assert org.harbor.email not in page
    assert "Client moving" in page or "Billing move." in page
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).state == CaseState.OPEN


def test_the_case_page_runs_the_same_queries_for_5_and_300_events(as_joanne, org):
    case = open_case(org)
    bulk_events(case, 4, actor_user=org.joanne.user)
    with_five = queries_for(as_joanne, f"/cases/{case.reference}/")
    bulk_events(case, 295, actor_user=org.maria.user)
    with_three_hundred = queries_for(as_joanne, f"/cases/{case.reference}/")

    assert with_five == with_three_hundred
    assert with_three_hundred <= 8, f"case page budget: {with_three_hundred} queries"


# --- New case -----------------------------------------------------------------------------


def test_opening_a_case_from_the_form_lands_on_its_page(as_joanne, org):
    response = as_joanne.post(
        "/cases/new",
        {
            "client": org.harbor.pk,
            "subject": "Card declined",
            "priority": "high",
            "owner": org.joanne.pk,
        },
    )

    case = Case.objects.get(subject="Card declined")
    assert response.status_code == 302
    assert response.url == f"/cases/{case.reference}/"
    assert (case.owner, case.priority) == (org.joanne, "high")


def test_a_new_case_for_another_departments_client_is_refused_keeping_the_input(as_joanne, org):
    response = as_joanne.post(
        "/cases/new",
        {
            "client": org.northwind.pk,
            "subject": "Sneaky",
            "priority": "normal",
            "owner": org.joanne.pk,
        },
    )

    assert response.status_code == 400
    assert b"Select a valid choice" in response.content
    assert b'value="Sneaky"' in response.content
    assert not Case.objects.exists()


def test_the_new_case_page_runs_the_same_queries_however_many_cases(as_joanne, org):
    from tests.casedesk.workspace import bulk_cases

    bulk_cases(org, 5)
    with_five = queries_for(as_joanne, "/cases/new")
    bulk_cases(org, 195, start=200_000)

    assert queries_for(as_joanne, "/cases/new") == with_five
    assert with_five <= 7, f"new-case budget: {with_five} queries"


def test_times_are_shown_in_the_readers_own_time_zone(as_joanne, org):
    org.joanne.user.time_zone = "America/New_York"
    org.joanne.user.save(update_fields=["time_zone"])
    with time_machine.travel("2026-11-23 09:00Z", tick=False):
        case = open_case(org)
        page = as_joanne.get(f"/cases/{case.reference}/").content.decode()

    assert 'title="Mon 23 Nov 2026, 08:00 EST"' in page
    assert "23 Nov 2026, 04:00" in page  # the "opened" event


def test_someone_in_the_receiving_department_takes_the_hand_off(client, org):
    case = case_in_state(org, "cross_department")
    handoff = case.handoffs.get()
    due = handoff.due_at
    client.force_login(org.priya.user)

    response = client.post(
        f"/cases/{case.reference}/handoffs/{handoff.pk}/assign", {"to": org.priya.pk}
    )

    assert response.status_code == 302
    handoff.refresh_from_db()
    assert handoff.accountable == org.priya
    assert handoff.due_at == due  # moving it inside the department buys no time
    assert case.events.last().kind == "handoff_assigned"


def test_only_a_supervisor_gives_a_hand_off_to_someone_else(client, org, as_actor):
    case = case_in_state(org, "cross_department")
    handoff = case.handoffs.get()
    handoffs.handoff_assign(handoff=handoff, actor=as_actor(org.priya), to=org.priya)
    client.force_login(org.devon.user)

    refused = client.post(
        f"/cases/{case.reference}/handoffs/{handoff.pk}/assign", {"to": org.devon.pk}
    )
    client.force_login(org.priya.user)
    outsider = client.post(
        f"/cases/{case.reference}/handoffs/{handoff.pk}/assign", {"to": org.joanne.pk}
    )

    assert refused.status_code == 302  # devon may take it himself
    handoff.refresh_from_db()
    assert handoff.accountable == org.devon
    assert outsider.status_code == 400  # joanne is not in Institutional Services
    client.force_login(org.devon.user)
    agent_gives = client.post(
        f"/cases/{case.reference}/handoffs/{handoff.pk}/assign", {"to": org.priya.pk}
    )
    assert agent_gives.status_code == 403
    assert b"Only a supervisor" in agent_gives.content
