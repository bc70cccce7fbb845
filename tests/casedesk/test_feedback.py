"""After resolution the client rates it; the owner and their supervisor read it."""

import pytest
from django.core.cache import cache

from casedesk.actors import Actor
from casedesk.client_services import feedback_give
from casedesk.errors import CaseConflict, InvalidTransition, NotPermitted
from casedesk.models import Feedback
from casedesk.status_links import status_token
from tests.casedesk.helpers import case_in_state, deliver_outbox, settle_outbox, take


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()


def url(case) -> str:
    return f"/status/{status_token(case)}/"


def test_the_client_rates_a_resolution_and_the_owner_and_supervisor_read_it(client, org):
    case = case_in_state(org, "resolved")
    settle_outbox()
    assert b"Tell us how we did" in client.get(url(case)).content

    response = client.post(
        url(case), {"action": "feedback", "rating": "4", "letter": "Quick, but two calls."}
    )

    assert response.status_code == 302
    feedback = Feedback.objects.get(case=case)
    assert (feedback.rating, feedback.owner) == (4, org.joanne)
    event = case.events.get(kind="feedback")
    assert event.reason == "Rated 4 of 5.\nQuick, but two calls."
    to_staff = [m for m in deliver_outbox() if m.to[0].endswith("@casedesk.example")]
    assert {m.to[0] for m in to_staff} == {org.joanne.user.email, org.maria.user.email}
    assert all("Quick, but two calls." in m.body for m in to_staff)
    page = client.get(url(case)).content.decode()
    assert "You rated this resolution 4 of 5" in page
    assert "Tell us how we did" not in page


def test_one_feedback_per_resolution_and_a_new_one_after_the_next(org):
    case = case_in_state(org, "resolved")
    client_actor = Actor.for_status_link(case.client_id)
    feedback_give(case=case, actor=client_actor, rating=2)
    with pytest.raises(CaseConflict):
        feedback_give(case=case, actor=client_actor, rating=5)

    case.refresh_from_db()
    take(org, "reopen", case, client_actor)
    case.refresh_from_db()
    take(org, "resolve", case, Actor.for_staff(org.joanne))
    case.refresh_from_db()
    feedback_give(case=case, actor=client_actor, rating=5)

    assert sorted(Feedback.objects.values_list("rating", flat=True)) == [2, 5]


def test_feedback_is_for_resolved_cases_from_the_client_only(org):
    case = case_in_state(org, "open")
    with pytest.raises(InvalidTransition):
        feedback_give(case=case, actor=Actor.for_status_link(case.client_id), rating=3)
    resolved = case_in_state(org, "resolved")
    with pytest.raises(NotPermitted):
        feedback_give(case=resolved, actor=Actor.for_staff(org.joanne), rating=5)
    with pytest.raises(NotPermitted):
        feedback_give(case=resolved, actor=Actor.for_status_link(org.northwind.pk), rating=5)


@pytest.mark.parametrize("rating", ["0", "6", "", "five"])
def test_a_rating_outside_1_to_5_is_a_400_that_keeps_the_letter(client, org, rating):
    case = case_in_state(org, "resolved")

    response = client.post(url(case), {"action": "feedback", "rating": rating, "letter": "Kept"})

    assert response.status_code == 400
    assert b"Kept" in response.content
    assert not Feedback.objects.exists()


def test_feedback_on_an_open_case_is_refused_with_a_reason(client, org):
    case = case_in_state(org, "open")

    response = client.post(url(case), {"action": "feedback", "rating": "5"})

    assert response.status_code == 400
    assert b"Feedback is for resolved cases." in response.content
