"""The department's unassigned mail and the held mail on its cases: who sees them, what
each action does, and that nothing of an email is ever shown as markup."""

import pytest

from casedesk.models import ClientContact, EventKind, Notification
from casedesk.notifications import message_id
from inbound.models import InboundMessage, Outcome
from inbound.receive import receive_message
from tests.clock import MONDAY_10
from tests.factories import open_case
from tests.inbound.helpers import email

pytestmark = pytest.mark.usefixtures("monday_morning")
XSS = (
    "<script>alert(1)</script> <img src=x onerror=alert(2)> "
    '<a href="javascript:alert(3)">x</a> <svg onload=alert(4)>'
)


@pytest.fixture
def stranger_mail(mailbox):
    raw = email(sender="Pat Doe <pat@nowhere.example>", subject="New member", text=XSS)
    return receive_message(mailbox, raw, now=MONDAY_10).message


@pytest.fixture
def held_mail(org, mailbox):
    case = open_case(org)
    notice = Notification.objects.filter(case=case, recipient_email=org.sam.email).latest("pk")
    ours = message_id(notice)
    raw = email(sender="mallory@evil.example", text=XSS, headers={"In-Reply-To": ours})
    return receive_message(mailbox, raw, now=MONDAY_10).message


def _as(client, person):
    client.force_login(person.user)
    return client


def test_the_departments_staff_see_its_unassigned_mail_and_nobody_else(client, org, stranger_mail):
    page = _as(client, org.joanne).get("/mail/unassigned/")

    assert page.status_code == 200
    assert b"pat@nowhere.example" in page.content
    assert _as(client, org.devon).get("/mail/unassigned/").content.count(b"pat@nowhere") == 0
    assert _as(client, org.devon).get(f"/mail/message/{stranger_mail.pk}/").status_code == 404


def test_nothing_of_an_email_is_rendered_as_markup(client, org, stranger_mail, held_mail):
    client = _as(client, org.joanne)
    pages = [
        client.get(f"/mail/message/{stranger_mail.pk}/"),
        client.get(f"/mail/message/{held_mail.pk}/"),
    ]
    for page in pages:
        html = page.content.decode()
        assert "<script>alert(1)" not in html
        assert "<img src=x" not in html
        assert '<a href="javascript:' not in html
        assert "<svg onload" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "&lt;svg onload=alert(4)&gt;" in html


def test_attaching_unassigned_mail_makes_the_sender_a_contact_and_opens_a_case(
    client, org, stranger_mail
):
    response = _as(client, org.joanne).post(
        f"/mail/message/{stranger_mail.pk}/attach", {"client": org.harbor.pk}
    )

    assert response.status_code == 302
    stranger_mail.refresh_from_db()
    contact = ClientContact.objects.get(email="pat@nowhere.example")
    assert (contact.client, contact.name) == (org.harbor, "Pat Doe")
    assert stranger_mail.outcome == Outcome.OPENED
    assert (stranger_mail.contact, stranger_mail.handled_by) == (contact, org.joanne)
    case = stranger_mail.case
    assert (case.client, case.subject, case.description) == (org.harbor, "New member", XSS)
    assert stranger_mail.event.kind == EventKind.OPENED


def test_mail_handled_once_cannot_be_handled_again(client, org, stranger_mail):
    client = _as(client, org.joanne)
    client.post(f"/mail/message/{stranger_mail.pk}/discard", {"reason": "Spam."})

    again = client.post(f"/mail/message/{stranger_mail.pk}/attach", {"client": org.harbor.pk})

    assert again.status_code == 409
    assert b"This email was handled already by Joanne" in again.content
    assert InboundMessage.objects.get().outcome == Outcome.DISCARDED


def test_attaching_to_another_departments_client_is_refused(client, org, stranger_mail):
    response = _as(client, org.joanne).post(
        f"/mail/message/{stranger_mail.pk}/attach", {"client": org.northwind.pk}
    )

    assert response.status_code == 400
    assert InboundMessage.objects.get().outcome == Outcome.UNASSIGNED


def test_discarding_needs_a_reason_and_keeps_it(client, org, stranger_mail):
    client = _as(client, org.maria)
    assert (
        client.post(f"/mail/message/{stranger_mail.pk}/discard", {"reason": ""}).status_code == 400
    )

    client.post(f"/mail/message/{stranger_mail.pk}/discard", {"reason": "A newsletter."})

    stranger_mail.refresh_from_db()
    assert (stranger_mail.outcome, stranger_mail.reason) == (Outcome.DISCARDED, "A newsletter.")
    assert (stranger_mail.handled_by, stranger_mail.handled_at) == (org.maria, MONDAY_10)


def test_held_mail_is_seen_by_the_cases_side_and_nobody_else(client, org, held_mail):
    assert b"mallory@evil.example" in _as(client, org.maria).get("/mail/held/").content
    assert b"mallory@evil.example" in _as(client, org.lee).get("/mail/held/").content
    assert b"mallory@evil.example" not in _as(client, org.priya).get("/mail/held/").content
    assert _as(client, org.devon).get(f"/mail/message/{held_mail.pk}/").status_code == 404
    assert (
        _as(client, org.devon).post(f"/mail/message/{held_mail.pk}/reject", {"reason": "x"})
    ).status_code == 404


def test_accepting_held_mail_adds_it_to_the_case_as_the_clients_message(client, org, held_mail):
    response = _as(client, org.joanne).post(
        f"/mail/message/{held_mail.pk}/accept", {"add_contact": "on"}
    )

    assert response.status_code == 302
    held_mail.refresh_from_db()
    assert held_mail.outcome == Outcome.ACCEPTED
    assert held_mail.contact.email == "mallory@evil.example"
    assert held_mail.contact.client == org.harbor
    assert held_mail.event.kind == EventKind.MESSAGE
    assert held_mail.event.actor_contact == held_mail.contact


def test_accepting_held_mail_without_adding_the_sender_says_who_sent_it(client, org, held_mail):
    _as(client, org.joanne).post(f"/mail/message/{held_mail.pk}/accept", {})

    held_mail.refresh_from_db()
    assert held_mail.event.reason.startswith("(By email from mallory@evil.example.)")
    assert not ClientContact.objects.filter(email="mallory@evil.example").exists()


def test_rejecting_held_mail_adds_nothing_to_the_case(client, org, held_mail):
    events = held_mail.case.events.count()

    _as(client, org.maria).post(f"/mail/message/{held_mail.pk}/reject", {"reason": "Phishing."})

    held_mail.refresh_from_db()
    assert (held_mail.outcome, held_mail.reason) == (Outcome.REJECTED, "Phishing.")
    assert held_mail.case.events.count() == events


def test_the_queue_links_the_lists_with_how_many_wait(client, org, stranger_mail, held_mail):
    page = _as(client, org.joanne).get("/cases/").content.decode()

    assert (
        'href="/mail/unassigned/">unassigned <span class="badge text-bg-warning">1</span>' in page
    )
    assert 'href="/mail/held/">held <span class="badge text-bg-warning">1</span>' in page


def test_the_lists_page_by_the_last_id_and_refuse_a_mangled_link(client, org, mailbox):
    for number in range(27):
        receive_message(mailbox, email(sender=f"p{number}@nowhere.example"), now=MONDAY_10)
    client = _as(client, org.joanne)

    first = client.get("/mail/unassigned/")
    older = client.get(f"/mail/unassigned/?before={first.context['next_before']}")

    assert len(first.context["rows"]) == 25
    assert len(older.context["rows"]) == 2
    assert older.context["next_before"] is None
    assert client.get("/mail/unassigned/?before=x1").status_code == 400
    assert client.get("/mail/nonsense/").status_code == 404
