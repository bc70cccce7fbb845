"""Every change the client can see is emailed to the client's contacts, with the link."""

import pytest
from django.core.cache import cache

from casedesk import services
from casedesk.actors import SYSTEM, Actor
from casedesk.status_links import status_token
from tests.casedesk.helpers import deliver_outbox, settle_outbox, take
from tests.factories import ContactFactory, open_case


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()


def to_client(org):
    return [m for m in deliver_outbox() if m.to == [org.sam.email]]


def test_opening_a_case_tells_the_client_with_their_status_link(org):
    case = open_case(org)

    [message] = to_client(org)

    assert message.subject == f"[casedesk] {case.reference}: We opened your case"
    assert f"/status/{status_token(case)}/" in message.body
    assert "/cases/" not in message.body  # never the staff page
    assert "Joanne" in message.body
    assert "What happens next: Joanne will get back to you" in message.body


@pytest.mark.parametrize(
    ("transition", "headline"),
    [
        ("escalate", "Your case went to a supervisor"),
        ("deny", "Your request was declined"),
        ("resolve", "Your case is resolved"),
    ],
)
def test_each_client_visible_change_is_emailed(org, transition, headline):
    case = open_case(org)
    settle_outbox()

    take(org, transition, case, Actor.for_staff(org.joanne))

    [message] = to_client(org)
    assert headline in message.subject
    assert f"/status/{status_token(case)}/" in message.body


def test_internal_notes_are_never_emailed_to_the_client(org):
    case = open_case(org)
    settle_outbox()

    services.case_add_note(case=case, actor=Actor.for_staff(org.joanne), text="Internal")

    assert to_client(org) == []


def test_a_message_to_the_client_is_emailed_with_its_text(org):
    case = open_case(org)
    settle_outbox()

    services.case_add_note(
        case=case, actor=Actor.for_staff(org.joanne), text="We found it.", client_visible=True
    )

    [message] = to_client(org)
    assert "We found it." in message.body


def test_the_link_in_an_email_is_the_one_that_works_when_it_is_sent(org):
    case = open_case(org)  # queued, not yet sent
    case = services.case_reissue_status_link(case=case, actor=Actor.for_staff(org.joanne))

    [message] = to_client(org)

    assert f"/status/{status_token(case)}/" in message.body


def test_the_contact_who_acted_is_not_told_of_their_own_change_but_colleagues_are(org):
    colleague = ContactFactory(client=org.harbor, name="Robin", email="robin@harbor.example")
    case = open_case(org)
    settle_outbox()

    services.case_client_message(case=case, actor=Actor.for_contact(org.sam), text="Here it is.")

    recipients = sorted(m.to[0] for m in deliver_outbox())
    assert recipients == sorted([colleague.email, org.joanne.user.email])  # joanne holds it


def test_another_clients_contacts_are_never_emailed(org):
    open_case(org)

    assert org.alex.email not in {m.to[0] for m in deliver_outbox()}


def test_a_clients_answer_tells_colleagues_the_clock_runs_again_not_that_we_wait(org):
    colleague = ContactFactory(client=org.harbor, name="Robin", email="robin@harbor.example")
    case = open_case(org)
    case = services.case_wait_for_client(
        case=case, actor=Actor.for_staff(org.joanne), question="Which invoice?"
    )
    settle_outbox()

    services.case_client_message(case=case, actor=Actor.for_contact(org.sam), text="It is 2291.")

    [message] = [m for m in deliver_outbox() if m.to == [colleague.email]]
    assert "It is 2291." in message.body
    assert "We are waiting for the information" not in message.body
    assert "Joanne will get back to you" in message.body


def test_a_deadline_passing_at_the_top_of_the_chain_is_not_news_for_the_client(org):
    case = open_case(org, owner=org.lee)
    settle_outbox()

    services.case_escalate(case=case, actor=SYSTEM, reason="Automatic: deadline passed.")

    assert to_client(org) == []
    assert not case.events.get(kind="escalated").client_visible


def test_a_client_appeal_at_the_top_of_the_chain_still_shows(org):
    case = open_case(org, owner=org.lee)

    services.case_escalate(case=case, actor=Actor.for_status_link(case.client_id), reason="Why?")

    assert case.events.get(kind="escalated").client_visible
