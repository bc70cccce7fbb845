"""Convening a stalled hand-off: story 1's climax, with the people who did the work."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from icalendar import Calendar

from accounts.models import AuthorityLevel
from casedesk import handoffs
from casedesk.actors import Actor
from casedesk.demo import install_service_levels
from casedesk.errors import InvalidTransition, NotPermitted
from casedesk.models import Notification
from casedesk.notifications import notifications_deliver_pending
from escalation.convene import handoff_convene
from escalation.sweep import sweep
from tests.casedesk.helpers import case_in_state, settle_outbox
from tests.factories import ContactFactory, DepartmentFactory, open_case, staff

FORMAT = "%Y-%m-%dT%H:%M"
MONDAY = "2026-11-23 09:00Z"  # London keeps UTC in November: opening hours are 09:00-17:00Z
THURSDAY = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
FRIDAY_AT_TEN = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.fixture
def at_the_top(org):
    """joanne's hand-off to devon, unanswered for three days: the sweep has taken it up
    priya's chain to lee, and the case itself (never answered) up joanne's to lee too."""
    with time_machine.travel(MONDAY, tick=False):
        case = case_in_state(org, "cross_department")
    for evening in ("2026-11-24 17:05Z", "2026-11-25 17:05Z"):
        with time_machine.travel(evening, tick=False):
            sweep(now=datetime.fromisoformat(evening))
    handoff = case.handoffs.get()
    handoff.refresh_from_db()
    case.refresh_from_db()
    assert (handoff.accountable, case.owner) == (org.lee, org.lee)
    settle_outbox()  # the climbs' own emails
    return handoff


@pytest.fixture
def thursday_morning():
    with time_machine.travel(THURSDAY, tick=False):
        yield


def meeting(**fields):
    return {
        "starts_at": FRIDAY_AT_TEN.strftime(FORMAT),
        "minutes": "45",
        "agenda": "Agree who re-maps the accounts, and by when.",
    } | fields


def ticked(page: bytes) -> set[str]:
    """The values of the invitee checkboxes ticked on the page."""
    inputs = re.findall(r"<input[^>]*>", page.decode())
    return {
        re.search(r'value="([^"]*)"', tag).group(1)
        for tag in inputs
        if 'name="invitees"' in tag and " checked" in tag
    }


def invited(since: datetime) -> set[str]:
    rows = Notification.objects.filter(created_at__gte=since).exclude(calendar="")
    return set(rows.values_list("recipient_email", flat=True))


def test_lee_at_the_top_invites_both_departments_people_not_just_himself(
    client, org, at_the_top, thursday_morning
):
    ContactFactory(client=org.harbor, name="Robin Lee", email="robin@harbor.example")
    client.force_login(org.lee.user)

    form = client.get(f"/handoffs/{at_the_top.pk}/convene")
    parties = [org.joanne, org.maria, org.devon, org.priya]
    assert ticked(form.content) == {str(person.pk) for person in parties}
    assert b'name="include_client"' in form.content
    assert not re.search(rb'<input[^>]*name="include_client"[^>]*checked', form.content)

    response = client.post(
        f"/handoffs/{at_the_top.pk}/convene",
        meeting(invitees=[person.pk for person in parties]),
    )

    assert response.status_code == 302
    assert invited(THURSDAY) == {person.user.email for person in [*parties, org.lee]}


def test_without_a_choice_the_service_invites_the_parties_and_the_convener(
    org, at_the_top, thursday_morning
):
    names = handoff_convene(
        handoff=at_the_top,
        actor=Actor.for_staff(org.lee),
        starts_at=FRIDAY_AT_TEN,
        duration=timedelta(minutes=30),
        agenda="Unblock the re-mapping.",
        include_client=False,
        now=THURSDAY,
    )

    people = [org.lee, org.joanne, org.maria, org.devon, org.priya]
    assert names == [person.name for person in people]
    assert invited(THURSDAY) == {person.user.email for person in people}


def test_the_convener_adds_someone_of_either_department_and_drops_a_party(
    client, org, at_the_top, thursday_morning
):
    kim = staff("kim", org.institutional, "Agent", AuthorityLevel.AGENT, org.priya)
    client.force_login(org.lee.user)

    response = client.post(
        f"/handoffs/{at_the_top.pk}/convene",
        meeting(invitees=[org.joanne.pk, org.devon.pk, kim.pk]),
    )

    assert response.status_code == 302
    assert invited(THURSDAY) == {p.user.email for p in [org.lee, org.joanne, org.devon, kim]}


def test_nobody_outside_both_departments_can_be_invited(org, at_the_top, thursday_morning):
    billing = DepartmentFactory(name="Billing Operations")
    outsider = staff("quinn", billing, "Supervisor", AuthorityLevel.SUPERVISOR, org.lee)

    with pytest.raises(InvalidTransition, match="Invite people of Client Support or Institu"):
        handoff_convene(
            handoff=at_the_top,
            actor=Actor.for_staff(org.lee),
            starts_at=FRIDAY_AT_TEN,
            duration=timedelta(minutes=30),
            agenda="Talk",
            include_client=False,
            invitees=[org.devon, outsider],
            now=THURSDAY,
        )
    assert not Notification.objects.filter(created_at__gte=THURSDAY).exists()


def test_a_meeting_with_nobody_but_the_convener_is_refused(
    client, org, at_the_top, thursday_morning
):
    client.force_login(org.lee.user)

    response = client.post(f"/handoffs/{at_the_top.pk}/convene", meeting())  # nobody ticked

    assert response.status_code == 400
    assert b"Invite at least one other person" in response.content
    assert not invited(THURSDAY)


def test_the_client_is_invited_only_when_ticked_with_its_own_calendar_invite(
    client, org, at_the_top, thursday_morning
):
    ContactFactory(client=org.harbor, name="Robin Lee", email="robin@harbor.example")
    client.force_login(org.lee.user)
    parties = [org.joanne.pk, org.maria.pk, org.devon.pk, org.priya.pk]

    response = client.post(
        f"/handoffs/{at_the_top.pk}/convene", meeting(invitees=parties, include_client="on")
    )
    notifications_deliver_pending(now=THURSDAY)

    assert response.status_code == 302
    assert {"robin@harbor.example", org.sam.email} <= invited(THURSDAY)
    event = at_the_top.case.events.last()
    assert event.kind == "meeting_convened"
    assert "Agree who re-maps the accounts" in event.reason
    assert "Robin" not in event.reason  # the timeline names no client contact
    assert event.client_visible

    def invite_to(address):
        [message] = [m for m in mail.outbox if m.to == [address]]  # one email each: the invite
        name, content, mime = message.attachments[0]
        assert (name, mime) == ("invite.ics", "text/calendar; method=REQUEST")
        return message, Calendar.from_ical(content).walk("VEVENT")[0]

    client_message, client_event = invite_to("robin@harbor.example")
    assert "/cases/" not in client_message.body  # no staff link for the client
    assert client_event.decoded("dtstart") == FRIDAY_AT_TEN
    assert client_event.decoded("dtend") - FRIDAY_AT_TEN == timedelta(minutes=45)
    assert "casedesk.example" not in client_event.to_ical().decode()  # no staff addresses
    _, staff_event = invite_to(org.devon.user.email)
    assert "harbor" not in staff_event.to_ical().decode().lower()  # no client details
    assert len(staff_event.get("attendee")) == 5


@pytest.mark.parametrize(
    ("starts_at", "minutes"),
    [
        ("2026-11-27T18:30", "30"),  # Friday evening
        ("2026-11-28T10:00", "30"),  # Saturday
        ("2026-11-27T08:30", "30"),  # before opening
        ("2026-11-27T16:30", "60"),  # runs past closing
    ],
)
def test_a_meeting_outside_opening_hours_is_refused_naming_them_and_keeping_the_agenda(
    client, org, at_the_top, thursday_morning, starts_at, minutes
):
    client.force_login(org.lee.user)

    response = client.post(
        f"/handoffs/{at_the_top.pk}/convene",
        meeting(starts_at=starts_at, minutes=minutes, agenda="Keep me", invitees=[org.devon.pk]),
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Mon\u2013Fri 09:00\u201317:00 (Europe/London)" in page
    assert "Keep me" in page
    assert not invited(THURSDAY)


def test_a_meeting_ending_at_closing_time_is_accepted(client, org, at_the_top, thursday_morning):
    client.force_login(org.lee.user)

    response = client.post(
        f"/handoffs/{at_the_top.pk}/convene",
        meeting(starts_at="2026-11-27T16:00", minutes="60", invitees=[org.devon.pk]),
    )

    assert response.status_code == 302


def test_both_sides_supervisors_see_the_button_and_may_convene_after_the_climb(
    client, org, at_the_top, thursday_morning
):
    url = f"/handoffs/{at_the_top.pk}/convene"
    for supervisor in (org.maria, org.priya):
        client.force_login(supervisor.user)

        page = client.get(f"/cases/{at_the_top.case.reference}/")

        assert url.encode() in page.content, supervisor
        assert client.get(url).status_code == 200, supervisor


def test_a_supervisor_over_neither_side_sees_no_button_and_gets_a_404(client, org):
    """quinn supervises a third department that a second hand-off of the same case went to:
    he sees the case, and may convene his own side's hand-off but not the other one."""
    billing = DepartmentFactory(name="Billing Operations")
    install_service_levels(billing)
    quinn = staff("quinn", billing, "Supervisor", AuthorityLevel.SUPERVISOR, org.lee)
    with time_machine.travel(MONDAY, tick=False):
        case = case_in_state(org, "cross_department")
        to_devon = case.handoffs.get()
        case.refresh_from_db()
        to_quinn = handoffs.handoff_request(
            case=case,
            actor=Actor.for_staff(org.joanne),
            to_department=billing,
            accountable=quinn,
            request="Credit the duplicated invoice.",
            shared_summary="A duplicated invoice.",
        )
    client.force_login(quinn.user)

    page = client.get(f"/cases/{case.reference}/")

    assert page.status_code == 200
    assert f"/handoffs/{to_quinn.pk}/convene".encode() in page.content
    assert f"/handoffs/{to_devon.pk}/convene".encode() not in page.content
    assert client.get(f"/handoffs/{to_devon.pk}/convene").status_code == 404
    assert client.post(f"/handoffs/{to_devon.pk}/convene", meeting()).status_code == 404


def test_maria_cannot_convene_a_hand_off_neither_side_of_which_is_hers(client, org):
    billing = DepartmentFactory(name="Billing Operations")
    install_service_levels(billing)
    quinn = staff("quinn", billing, "Supervisor", AuthorityLevel.SUPERVISOR, org.lee)
    with time_machine.travel(MONDAY, tick=False):
        case = open_case(org, owner=org.devon, client=org.northwind)
        handoff = handoffs.handoff_request(
            case=case,
            actor=Actor.for_staff(org.devon),
            to_department=billing,
            accountable=quinn,
            request="Credit the fee.",
            shared_summary="A fee charged twice.",
        )
    client.force_login(org.maria.user)

    assert client.get(f"/handoffs/{handoff.pk}/convene").status_code == 404
    with pytest.raises(NotPermitted):
        handoff_convene(
            handoff=handoff,
            actor=Actor.for_staff(org.maria),
            starts_at=FRIDAY_AT_TEN,
            duration=timedelta(minutes=30),
            agenda="Talk",
            include_client=False,
            now=THURSDAY,
        )


def test_agents_see_no_button_and_cannot_convene(client, org):
    with time_machine.travel(MONDAY, tick=False):
        case = case_in_state(org, "cross_department")
    url = f"/handoffs/{case.handoffs.get().pk}/convene"
    client.force_login(org.joanne.user)

    assert url.encode() not in client.get(f"/cases/{case.reference}/").content
    assert client.get(url).status_code == 404


def test_the_receiving_side_is_not_offered_the_other_departments_client(
    client, org, at_the_top, thursday_morning
):
    client.force_login(org.priya.user)

    form = client.get(f"/handoffs/{at_the_top.pk}/convene")

    assert form.status_code == 200
    assert b'name="include_client"' not in form.content
    with pytest.raises(NotPermitted, match="Only Client Support can invite its client"):
        handoff_convene(
            handoff=at_the_top,
            actor=Actor.for_staff(org.priya),
            starts_at=FRIDAY_AT_TEN,
            duration=timedelta(minutes=30),
            agenda="Talk",
            include_client=True,
            now=THURSDAY,
        )
    assert not invited(THURSDAY)


def test_the_form_is_labelled_for_keyboard_and_screen_reader_use(
    client, org, at_the_top, thursday_morning
):
    client.force_login(org.lee.user)

    page = client.get(f"/handoffs/{at_the_top.pk}/convene").content.decode()

    fields = [
        tag
        for tag in re.findall(r"<(?:input|textarea|select)[^>]*>", page)
        if 'type="hidden"' not in tag
    ]
    ids = [re.search(r'id="([^"]+)"', tag).group(1) for tag in fields]
    assert len(ids) == 4 + 4  # when, length, agenda, the client; and the four parties
    for field_id in ids:
        assert f'for="{field_id}"' in page, field_id
    assert 'tabindex="-1"' not in page
    assert re.search(r'<button[^>]*type="submit"[^>]*>Send invitations</button>', page)
    assert re.search(r"<fieldset[^>]*>\s*<legend[^>]*>\s*Who is invited", page)  # names the group


def test_a_meeting_in_the_past_is_refused_keeping_the_agenda(client, org, at_the_top):
    client.force_login(org.maria.user)

    response = client.post(
        f"/handoffs/{at_the_top.pk}/convene",
        meeting(starts_at="2020-01-01T10:00", minutes="30", agenda="Keep me"),
    )

    assert response.status_code == 400
    assert b"Choose a time in the future" in response.content
    assert b"Keep me" in response.content


def test_a_meeting_years_ahead_is_refused_not_a_500(client, org, at_the_top):
    client.force_login(org.maria.user)

    response = client.post(
        f"/handoffs/{at_the_top.pk}/convene",
        meeting(starts_at="9999-12-31T23:30", minutes="240", agenda="Far away"),
    )

    assert response.status_code == 400
    assert b"within the next year" in response.content


def test_an_answered_hand_off_offers_no_convening_and_refuses_it_as_a_conflict(client, org):
    with time_machine.travel(MONDAY, tick=False):
        case = case_in_state(org, "cross_department")
        handoff = case.handoffs.get()
        handoffs.handoff_complete(
            handoff=handoff, actor=Actor.for_staff(org.devon), answer="Re-mapped."
        )
    client.force_login(org.maria.user)

    with time_machine.travel(THURSDAY, tick=False):
        page = client.get(f"/cases/{case.reference}/")
        response = client.post(f"/handoffs/{handoff.pk}/convene", meeting(invitees=[org.joanne.pk]))

    assert f"/handoffs/{handoff.pk}/convene".encode() not in page.content
    assert response.status_code == 409
    assert b"This hand-off was already completed" in response.content
