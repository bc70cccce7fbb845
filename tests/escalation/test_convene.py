from datetime import timedelta

from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from casedesk.notifications import notifications_deliver_pending
from tests.casedesk.helpers import case_in_state
from tests.factories import ContactFactory

FORMAT = "%Y-%m-%dT%H:%M"


def test_lee_convenes_both_departments_and_the_client_with_a_calendar_invite(client, org):
    case = case_in_state(org, "cross_department")
    ContactFactory(client=org.harbor, name="Robin Lee", email="robin@harbor.example")
    handoff = case.handoffs.get()
    starts = (timezone.localtime() + timedelta(days=2)).replace(second=0, microsecond=0)
    client.force_login(org.lee.user)

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
    message = next(m for m in mail.outbox if m.to == ["robin@harbor.example"])
    assert "/cases/" not in message.body  # no staff link for the client
    name, content, mime = message.attachments[0]
    assert (name, mime) == ("invite.ics", "text/calendar; method=REQUEST")
    event_ics = Calendar.from_ical(content).walk("VEVENT")[0]
    assert event_ics.decoded("dtstart") == starts
    assert event_ics.decoded("dtend") - event_ics.decoded("dtstart") == timedelta(minutes=45)
    assert len(event_ics.get("attendee")) >= 6


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
