"""Story 1 of design.md, the cross-department deadlock, caught by the sweep in days."""

from datetime import UTC, datetime

import time_machine
from django.core import mail

from casedesk import handoffs, services
from casedesk.models import CaseEvent, HandOff, Notification
from escalation.models import Escalation
from escalation.sweep import sweep
from tests.casedesk.helpers import deliver_outbox, settle_outbox
from tests.factories import open_case


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_an_unanswered_hand_off_climbs_the_other_departments_chain_to_lee(org, as_actor):
    joanne = as_actor(org.joanne)
    with time_machine.travel("2026-11-23 09:00Z", tick=False):  # Monday morning
        case = open_case(org, subject="Move plan members to institutional billing")
        services.case_add_note(case=case, actor=joanne, text="On it.", client_visible=True)
        case.refresh_from_db()
        handoff = handoffs.handoff_request(
            case=case,
            actor=joanne,
            to_department=org.institutional,
            accountable=org.devon,
            request="Re-map the 40 member accounts.",
            shared_summary="Client moving 40 members to institutional billing.",
        )
    # Normal priority: 16 working hours to answer, so Tuesday 17:00. devon never answers.
    assert handoff.due_at == at("2026-11-24 17:00")
    assert sweep(now=at("2026-11-24 16:59")).escalated == []

    def joanne_updates_the_client(when):
        with time_machine.travel(when, tick=False):
            services.case_add_note(
                case=case.__class__.objects.get(pk=case.pk),
                actor=joanne,
                text="Still waiting on Institutional Services; I am chasing them.",
                client_visible=True,
            )

    joanne_updates_the_client("2026-11-24 12:00Z")
    with time_machine.travel("2026-11-24 17:05Z", tick=False):
        first = sweep(now=at("2026-11-24 17:05"))
    handoff.refresh_from_db()
    assert handoff.accountable == org.priya  # one level up the RECEIVING chain
    assert handoff.escalation_level == 1
    assert len(first.escalated) == 1
    assert first.escalated[0].endswith("Devon → Priya")
    told = {message.to[0] for message in deliver_outbox()}
    assert org.maria.user.email in told  # the requesting owner's supervisor is told
    assert org.priya.user.email in told

    repeat = sweep(now=at("2026-11-24 17:05"))  # the same instant again: nothing changes
    assert repeat.escalated == []
    assert Escalation.objects.filter(handoff=handoff).count() == 1

    joanne_updates_the_client("2026-11-25 12:00Z")
    with time_machine.travel("2026-11-25 17:05Z", tick=False):  # one escalation step later
        sweep(now=at("2026-11-25 17:05"))
    handoff.refresh_from_db()
    assert handoff.accountable == org.lee  # past IS's top: the lowest manager over both
    assert handoff.escalation_level == 2

    with time_machine.travel("2026-11-26 17:05Z", tick=False):
        sweep(now=at("2026-11-26 17:05"))
    handoff.refresh_from_db()
    assert handoff.accountable == org.lee  # nobody above lee: it stays, flagged
    assert handoff.at_top_of_chain
    assert handoff.due_at is not None

    steps = CaseEvent.objects.filter(case=case, kind="handoff_escalated").order_by("created_at")
    assert [event.target for event in steps] == [org.priya, org.lee, org.lee]
    for event in steps:
        assert "was not answered by its deadline" in event.reason
        assert event.actor_kind == "system"


def test_an_overdue_case_goes_to_the_owners_manager_with_the_reason(org):
    with time_machine.travel("2026-11-23 09:00Z", tick=False):
        case = open_case(org, priority="urgent")  # first response within 1 working hour

    report = sweep(now=at("2026-11-23 12:00"))

    case.refresh_from_db()
    assert (case.state, case.owner, case.escalation_level) == ("escalated", org.maria, 1)
    event = case.events.last()
    assert event.reason.startswith("Automatic: the first response deadline")
    assert "passed 2\xa0hours ago" in event.reason
    assert event.target == org.maria
    assert report.escalated == [
        event_line for event_line in report.escalated if case.reference in event_line
    ]
    assert case.due_at == at("2026-11-23 14:00")  # urgent: 2 working hours per level


def test_the_sweep_queues_its_email_and_leaves_the_sending_to_the_mail_queue(org):
    with time_machine.travel("2026-11-23 09:00Z", tick=False):
        open_case(org, priority="urgent")
        settle_outbox()

    sweep(now=at("2026-11-23 12:00"))

    assert mail.outbox == []  # a slow relay cannot hold up the sweep
    queued = Notification.objects.filter(status="pending", created_at=at("2026-11-23 12:00"))
    assert org.maria.user.email in {row.recipient_email for row in queued}
    assert sorted(m.to[0] for m in deliver_outbox()) == sorted(r.recipient_email for r in queued)


def test_the_top_of_the_chain_keeps_the_case_flagged(org):
    with time_machine.travel("2026-11-23 09:00Z", tick=False):
        case = open_case(org, owner=org.lee, priority="urgent")

    sweep(now=at("2026-11-23 12:00"))

    case.refresh_from_db()
    assert case.owner == org.lee
    assert case.at_top_of_chain
    assert case.due_at > at("2026-11-23 12:00")


def sweep_at(text: str):
    """A sweep as the beat would run it then: the clock too, so the emails it queues are
    due at that instant, whatever the real date."""
    with time_machine.travel(at(text), tick=False):
        return sweep(now=at(text))


def test_the_holder_is_warned_once_before_the_deadline(org):
    with time_machine.travel("2026-11-23 09:00Z", tick=False):
        case = open_case(org, priority="normal")  # due 13:00, warned at 12:00 (75%)

    early = sweep_at("2026-11-23 11:59")
    settle_outbox()  # the client's "we opened your case"
    warned = sweep_at("2026-11-23 12:01")
    again = sweep_at("2026-11-23 12:02")

    assert (early.warned, len(warned.warned), again.warned) == ([], 1, [])
    assert case.events.filter(kind="warned").count() == 1
    assert [m.to for m in deliver_outbox()] == [[org.joanne.user.email]]
    case.refresh_from_db()
    assert case.state == "open"


def test_a_dry_run_lists_what_would_escalate_and_changes_nothing(org):
    with time_machine.travel("2026-11-23 09:00Z", tick=False):
        case = open_case(org, priority="urgent")
    events_before = case.events.count()

    report = sweep(now=at("2026-11-23 12:00"), dry_run=True)

    assert len(report.escalated) == 1
    assert case.reference in report.escalated[0]
    case.refresh_from_db()
    assert (case.state, case.events.count()) == ("open", events_before)
    assert not Escalation.objects.exists()
    assert not HandOff.objects.exists()


def test_what_reached_the_top_of_a_chain_is_listed_as_such(client, org):
    with time_machine.travel("2026-11-23 09:00Z", tick=False):
        flagged = open_case(org, owner=org.lee, priority="urgent", subject="Flag me")
        open_case(org, priority="low", subject="Calm")
    sweep(now=at("2026-11-23 12:00"))
    client.force_login(org.lee.user)

    page = client.get("/cases/?view=flagged").content.decode()

    assert flagged.reference in page
    assert "top of the chain" in page
    assert "Calm" not in page
