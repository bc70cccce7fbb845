from datetime import timedelta

from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from casedesk.notifications import notifications_deliver_pending
from tests.casedesk.helpers import case_in_state, settle_outbox
from tests.factories import ContactFactory

FORMAT = "%Y-%m-%dT%H:%M"


def test_lee_convenes_both_departments_and_the_client_with_a_calendar_invite(client, org):
    case = case_in_state(org, "cross_department")
    ContactFactory(client=org.harbor, name="Robin Lee", email="robin@harbor.example")
    handoff = case.handoffs.get()
    starts = (timezone.localtime() + timedelta(days=2)).replace(second=0, microsecond=0)
    client.force_login(org.lee.user)
    settle_outbox()  # the hand-off's own emails

    response = client.post(
        f"/handoffs/{handoff.pk}/convene",
        {
            "starts_at": starts.strftime(FORMAT),
            "minutes": "45",
            "agenda": "Agree who re-maps the accounts, and by when.",
            "include_client": "on",
        },
    )
    notifications_deliver_pending(now=timezone.now())

    assert response.status_code == 302
    event = case.events.last()
    assert event.kind == "meeting_convened"
    assert "Agree who re-maps the accounts" in event.reason
    assert "Robin" not in event.reason  # the timeline names no client contact
    assert event.client_visible
    recipients = {m.to[0] for m in mail.outbox}
    assert {
        org.joanne.user.email,
        org.maria.user.email,
        org.devon.user.email,
        org.priya.user.email,
        org.lee.user.email,
        "robin@harbor.example",
    } <= recipients

    def invite_to(address):
        [message] = [m for m in mail.outbox if m.to == [address]]  # one email each: the invite
        name, content, mime = message.attachments[0]
        assert (name, mime) == ("invite.ics", "text/calendar; method=REQUEST")
        return message, Calendar.from_ical(content).walk("VEVENT")[0]

    client_message, client_event = invite_to("robin@harbor.example")
    assert "/cases/" not in client_message.body  # no staff link for the client
    assert client_event.decoded("dtstart") == starts
    assert client_event.decoded("dtend") - starts == timedelta(minutes=45)
    client_ics = client_event.to_ical().decode()
    assert "casedesk.example" not in client_ics  # no staff addresses for the client
    _, staff_event = invite_to(org.devon.user.email)
    staff_ics = staff_event.to_ical().decode()
    assert "harbor" not in staff_ics.lower()  # the receiving side never gets client details
    assert len(staff_event.get("attendee")) == 5


def test_a_meeting_in_the_past_is_refused_keeping_the_agenda(client, org):
    case = case_in_state(org, "cross_department")
    client.force_login(org.maria.user)

    response = client.post(
        f"/handoffs/{case.handoffs.get().pk}/convene",
        {"starts_at": "2020-01-01T10:00", "minutes": "30", "agenda": "Keep me"},
    )

    assert response.status_code == 400
    assert b"Choose a time in the future" in response.content
    assert b"Keep me" in response.content


def test_agents_cannot_convene(client, org):
    case = case_in_state(org, "cross_department")
    client.force_login(org.joanne.user)

    assert client.get(f"/handoffs/{case.handoffs.get().pk}/convene").status_code == 404


def test_the_receiving_side_cannot_invite_the_other_departments_client(client, org):
    case = case_in_state(org, "cross_department")
    starts = timezone.localtime() + timedelta(days=2)
    client.force_login(org.priya.user)

    response = client.post(
        f"/handoffs/{case.handoffs.get().pk}/convene",
        {
            "starts_at": starts.strftime(FORMAT),
            "minutes": "30",
            "agenda": "Talk",
            "include_client": "on",
        },
    )

    assert response.status_code == 403
    assert b"Only Client Support can invite its client" in response.content
    assert not mail.outbox


def test_a_meeting_years_ahead_is_refused_not_a_500(client, org):
    case = case_in_state(org, "cross_department")
    client.force_login(org.maria.user)

    response = client.post(
        f"/handoffs/{case.handoffs.get().pk}/convene",
        {"starts_at": "9999-12-31T23:30", "minutes": "240", "agenda": "Far away"},
    )

    assert response.status_code == 400
    assert b"within the next year" in response.content
