"""Who is told: every action, and exactly who its outbox rows go to.

The matrix of the README, walked action by action: whoever newly holds an item and whoever
held it, the requester of a hand-off at every step, the holder when the client writes, both
departments' supervisors when a hand-off climbs, the client's contacts of what they may
see, and never the person who acted.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import AuthorityLevel
from casedesk import callbacks, client_services, deadlines, handoffs, services
from casedesk.actors import SYSTEM, Actor
from casedesk.attachments import attachment_remove
from casedesk.models import Attachment, Case, Notification
from casedesk.notifications import message_id
from escalation.digest import digests_send
from escalation.exceptions import exception_decide, exception_request
from escalation.models import AuthorityRule, ExceptionKind
from escalation.sweep import sweep
from inbound import services as inbound
from inbound.models import Mailbox
from inbound.receive import receive_message
from tests.casedesk.helpers import ask_devon
from tests.clock import MONDAY_10
from tests.factories import ContactFactory, open_case
from tests.inbound.helpers import email, support_mailbox

pytestmark = pytest.mark.usefixtures("monday_morning")


@pytest.fixture
def people(org):
    """Each person's name by email, for readable assertions."""
    staff = [org.joanne, org.maria, org.lee, org.devon, org.priya]
    names = {p.user.email: p.user.username for p in staff}
    names[org.sam.email] = "sam"
    robin = ContactFactory(client=org.harbor, name="Robin", email="robin@harbor.example")
    names[robin.email] = "robin"
    return names


@pytest.fixture
def told(people):
    """told(action) runs it and answers the names its outbox rows went to (only those whose
    subject mentions `about`, when a sweep also moves something else that is due)."""

    def run(action, about: str = "") -> set[str]:
        before = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        action()
        rows = Notification.objects.filter(pk__gt=before, subject__icontains=about)
        return {people[email] for email in rows.values_list("recipient_email", flat=True)}

    return run


def staff(person) -> Actor:
    return Actor.for_staff(person)


CLIENT = {"sam", "robin"}  # Harbor Dental's contacts


def test_opening_a_case_for_a_colleague_tells_them_and_the_client(org, told):
    assert told(lambda: open_case(org)) == CLIENT  # joanne opened it for herself
    opened_by_maria = lambda: services.case_open(  # noqa: E731
        actor=staff(org.maria), client=org.harbor, subject="Billing", owner=org.joanne
    )
    assert told(opened_by_maria) == {"joanne"} | CLIENT


def test_a_request_the_client_sends_in_tells_its_holder_and_the_other_contacts(org, told):
    """Sam's request lands with Client Support's intake (its agents in turn: joanne); sam,
    who sent it, sees it on his page; the client's other contact is told as for any case."""
    sent = lambda: services.case_request_open(  # noqa: E731
        contact=org.sam, subject="Card declined", description="At the pharmacy."
    )
    assert told(sent) == {"joanne", "robin"}


def test_every_change_of_holder_tells_the_new_and_the_previous_holder(org, told):
    case = open_case(org)

    escalate = lambda: services.case_escalate(  # noqa: E731
        case=case, actor=staff(org.joanne), reason="Over my limit"
    )
    assert told(escalate) == {"maria"} | CLIENT  # joanne moved it herself
    case.refresh_from_db()
    back = lambda: services.case_return_with_guidance(  # noqa: E731
        case=case, actor=staff(org.maria), guidance="Offer the credit"
    )
    assert told(back) == {"joanne"}
    case.refresh_from_db()
    appeal = lambda: services.case_escalate(  # noqa: E731
        case=case, actor=Actor.for_contact(org.sam), reason="I want a supervisor"
    )
    assert told(appeal) == {"maria", "joanne", "robin"}  # sam asked: sam is not told
    case.refresh_from_db()
    reassign = lambda: services.case_reassign(  # noqa: E731
        case=case, actor=staff(org.lee), to=org.joanne
    )
    assert told(reassign) == {"joanne", "maria"}


def test_the_sweep_moving_a_case_tells_both_holders_and_the_client(org, told):
    case = open_case(org)

    assert told(lambda: sweep(now=case.due_at + timedelta(minutes=1))) == (
        {"maria", "joanne"} | CLIENT
    )


def test_a_deadline_passing_at_the_top_tells_nobody_at_once_but_the_days_digest(org, told):
    case = open_case(org, owner=org.lee)

    assert told(lambda: sweep(now=case.due_at + timedelta(minutes=1))) == set()
    case.refresh_from_db()
    assert case.at_top_of_chain
    monday_next_week = MONDAY_10 + timedelta(days=7)
    assert told(lambda: digests_send(now=monday_next_week)) == {"lee"}
    assert told(lambda: digests_send(now=monday_next_week + timedelta(hours=2))) == set()


def test_a_risk_flag_moves_the_case_and_tells_the_new_holder_and_the_previous(org, told):
    case = open_case(org)
    flag = lambda: services.case_flag_risk(  # noqa: E731
        case=case, actor=staff(org.maria), risk="legal", reason="Solicitor's letter"
    )

    assert told(flag) == {"lee", "joanne"}  # the client sees who has it, not why


def test_every_step_of_a_hand_off_tells_the_receiving_person_and_the_requester(org, told):
    case = open_case(org)
    ask = lambda: handoffs.handoff_request(  # noqa: E731
        case=case,
        actor=staff(org.joanne),
        to_department=org.institutional,
        accountable=org.devon,
        request="Re-map the accounts",
        shared_summary="Two accounts to re-map",
    )
    assert told(ask) == {"devon"}
    handoff = case.handoffs.get()

    take = lambda: handoffs.handoff_assign(  # noqa: E731
        handoff=handoff, actor=staff(org.priya), to=org.priya
    )
    assert told(take) == {"devon", "joanne"}
    handoff.refresh_from_db()

    climb = lambda: sweep(now=handoff.due_at + timedelta(minutes=1))  # noqa: E731
    # priya → lee; both departments' supervisors (maria, priya) hear of it.
    assert told(climb, about="hand-off") == {"lee", "priya", "joanne", "maria"}
    handoff.refresh_from_db()

    answer = lambda: handoffs.handoff_complete(  # noqa: E731
        handoff=handoff, actor=staff(org.lee), answer="Re-mapped."
    )
    case.refresh_from_db()  # its own deadline passed meanwhile: maria holds it now
    assert told(answer) == {"joanne", case.owner.user.username}


def test_a_declined_hand_off_tells_the_requester(org, told):
    case = open_case(org)
    handoff = ask_devon(org, case)
    decline = lambda: handoffs.handoff_decline(  # noqa: E731
        handoff=handoff, actor=staff(org.devon), reason="Not ours"
    )

    assert told(decline) == {"joanne"}


def test_a_client_writing_reaches_whoever_holds_the_case_and_starts_their_clock(org, told):
    case = open_case(org)
    services.case_add_note(
        case=case, actor=staff(org.joanne), text="We are on it.", client_visible=True
    )
    case.refresh_from_db()
    case.resolution_due_at = None  # only the response clock matters here
    case.save(update_fields=["resolution_due_at"])
    later = MONDAY_10 + timedelta(days=1)
    reply_due = deadlines.working_deadline(case, now=later)

    write = lambda: services.case_client_message(  # noqa: E731
        case=case, actor=Actor.for_contact(org.sam), text="I am taking legal advice.", now=later
    )
    assert told(write) == {"joanne", "robin"}
    case.refresh_from_db()
    assert case.due_at == min(case.due_at, reply_due.due_at)  # never later than a reply


def test_exception_requests_tell_the_approver_and_the_requester_and_the_client(org, told):
    kind = ExceptionKind.objects.create(name="Refund", policy="Refunds follow the price list.")
    AuthorityRule.objects.create(
        kind=kind, min_authority_level=AuthorityLevel.SUPERVISOR, max_amount=Decimal("100")
    )
    AuthorityRule.objects.create(kind=kind, min_authority_level=AuthorityLevel.DIRECTOR)
    case = open_case(org)

    ask = lambda: exception_request(  # noqa: E731
        case=case,
        actor=staff(org.joanne),
        kind=kind,
        amount=Decimal("50"),
        justification="Charged twice",
    )
    assert told(ask) == {"maria"}
    request = case.exception_requests.get()
    climb = lambda: sweep(now=request.due_at + timedelta(minutes=1))  # noqa: E731
    assert "lee" in told(climb)  # the case's own deadline may pass too; checked above
    request.refresh_from_db()
    assert request.approver == org.lee
    decide = lambda: exception_decide(  # noqa: E731
        request=request, actor=staff(org.lee), approve=True, rationale="Our error"
    )
    assert told(decide) == {"joanne"} | CLIENT


def test_an_undecided_request_climbing_tells_the_new_and_previous_approver_and_requester(org, told):
    kind = ExceptionKind.objects.create(name="Refund", policy="Refunds follow the price list.")
    AuthorityRule.objects.create(kind=kind, min_authority_level=AuthorityLevel.SUPERVISOR)
    case = open_case(org)
    # Maria answers the client herself, so the case's own deadline is far off.
    request = exception_request(
        case=case,
        actor=staff(org.joanne),
        kind=kind,
        amount=Decimal("50"),
        justification="Charged twice",
    )
    case.refresh_from_db()
    services.case_add_note(
        case=case, actor=staff(org.joanne), text="On it.", client_visible=True, now=MONDAY_10
    )

    climb = lambda: sweep(now=request.due_at + timedelta(minutes=1))  # noqa: E731

    assert told(climb) == {"lee", "maria", "joanne"}


def test_closing_a_case_withdraws_what_hangs_on_it_and_tells_each_holder(org, told):
    kind = ExceptionKind.objects.create(name="Refund", policy="Refunds follow the price list.")
    AuthorityRule.objects.create(kind=kind, min_authority_level=AuthorityLevel.SUPERVISOR)
    case = open_case(org)
    exception_request(
        case=case, actor=staff(org.joanne), kind=kind, amount=Decimal("5"), justification="x"
    )
    case.refresh_from_db()
    ask_devon(org, case)
    case.refresh_from_db()
    services.case_escalate(case=case, actor=staff(org.joanne), reason="Needs a decision")
    case.refresh_from_db()

    resolve = lambda: services.case_resolve(  # noqa: E731
        case=case, actor=staff(org.maria), summary="Settled by phone"
    )
    assert told(resolve) == {"devon", "joanne"} | CLIENT
    assert set(case.handoffs.values_list("state", flat=True)) == {"withdrawn"}
    assert set(case.exception_requests.values_list("state", flat=True)) == {"withdrawn"}
    kinds = set(case.events.values_list("kind", flat=True))
    assert {"handoff_withdrawn", "exception_withdrawn"} <= kinds


def test_client_visible_changes_reach_the_client_and_internal_ones_nobody(org, told):
    case = open_case(org)
    note = lambda: services.case_add_note(  # noqa: E731
        case=case, actor=staff(org.joanne), text="Internal only"
    )
    assert told(note) == set()
    case.refresh_from_db()
    message = lambda: services.case_add_note(  # noqa: E731
        case=case, actor=staff(org.joanne), text="We found it", client_visible=True
    )
    assert told(message) == CLIENT
    case.refresh_from_db()
    wait = lambda: services.case_wait_for_client(  # noqa: E731
        case=case, actor=staff(org.joanne), question="Which invoice?"
    )
    assert told(wait) == CLIENT
    case.refresh_from_db()
    deny = lambda: services.case_deny(  # noqa: E731
        case=case, actor=staff(org.joanne), rationale="Outside the policy"
    )
    assert told(deny) == CLIENT
    case.refresh_from_db()
    reopen = lambda: services.case_reopen(  # noqa: E731
        case=case, actor=Actor.for_contact(org.sam), reason="Please look again"
    )
    assert told(reopen) == {"joanne", "robin"}
    case.refresh_from_db()
    link = lambda: services.case_reissue_status_link(  # noqa: E731
        case=case, actor=staff(org.joanne)
    )
    assert told(link) == set()


def test_call_backs_and_feedback_reach_the_holder_and_the_client(org, told):
    case = open_case(org)
    tuesday_14 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    book = lambda: callbacks.callback_request(  # noqa: E731
        case=case,
        actor=Actor.for_contact(org.sam),
        phone="+44 20 7946 0101",
        at=tuesday_14,
        time_zone="Europe/London",
    )
    assert told(book) == {"joanne", "robin"}
    callback = case.callbacks.get()
    remind = lambda: sweep(now=callback.warn_at + timedelta(seconds=1))  # noqa: E731
    reminded = told(remind, about="call the client")
    callback.refresh_from_db()  # the call follows the case to whoever holds it
    assert reminded == {callback.accountable.user.username}
    callback.refresh_from_db()
    done = lambda: callbacks.callback_complete(  # noqa: E731
        callback=callback, actor=staff(org.joanne), outcome="Agreed a refund"
    )
    assert told(done) == CLIENT
    case.refresh_from_db()
    holder = case.owner.user.username  # maria: the case's own deadline passed meanwhile
    services.case_resolve(case=case, actor=staff(org.lee))
    case.refresh_from_db()
    rate = lambda: client_services.feedback_give(  # noqa: E731
        case=case, actor=Actor.for_contact(org.sam), rating=4
    )
    # the owner who resolved it and their supervisor; the other contact
    assert told(rate) == {holder, "lee", "robin"}


def test_nobody_is_told_of_their_own_action(org, told):
    case = open_case(org, owner=org.maria)
    escalate = lambda: services.case_escalate(  # noqa: E731
        case=case, actor=SYSTEM, reason="Automatic: test"
    )
    assert "maria" in told(escalate)  # the system acted: maria hears she lost it
    case.refresh_from_db()
    back = lambda: services.case_return_with_guidance(  # noqa: E731
        case=case, actor=staff(org.lee), guidance="Yours again"
    )
    assert "lee" not in told(back)


def _pdf(name="statement.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.7\n%%EOF\n")


def test_files_travel_with_their_message_and_tell_nobody_more(org, told):
    case = open_case(org)
    note = lambda: services.case_add_note(  # noqa: E731
        case=case, actor=staff(org.joanne), text="Internal", files=[_pdf()]
    )
    assert told(note) == set()
    case.refresh_from_db()
    message = lambda: services.case_add_note(  # noqa: E731
        case=case, actor=staff(org.joanne), text="Yours", client_visible=True, files=[_pdf()]
    )
    assert told(message) == CLIENT
    case.refresh_from_db()
    write = lambda: services.case_client_message(  # noqa: E731
        case=case, actor=Actor.for_contact(org.sam), text="Here it is", files=[_pdf()]
    )
    assert told(write) == {"joanne", "robin"}
    assert Attachment.objects.filter(case=case).count() == 3


def test_removing_a_file_tells_its_uploader_and_the_client_who_could_see_it(org, told):
    case = open_case(org)
    services.case_add_note(
        case=case, actor=staff(org.joanne), text="Yours", client_visible=True, files=[_pdf()]
    )
    services.case_add_note(
        case=Case.objects.get(pk=case.pk), actor=staff(org.joanne), text="x", files=[_pdf()]
    )
    seen, internal = Attachment.objects.filter(case=case).order_by("pk")

    by_maria = lambda: attachment_remove(  # noqa: E731
        attachment=seen, actor=staff(org.maria), reason="The wrong client's"
    )
    assert told(by_maria) == {"joanne"} | CLIENT
    own = lambda: attachment_remove(  # noqa: E731
        attachment=internal, actor=staff(org.joanne), reason="Duplicate"
    )
    assert told(own) == set()  # nobody is told of their own action


# --- Email in (inbound): what arrives by email, and what staff do with what waits -------


def _received(org, **fields):
    mailbox = Mailbox.objects.first() or support_mailbox(org)
    return receive_message(mailbox, email(**fields), now=MONDAY_10).message


def test_email_in_tells_as_the_same_request_or_message_from_the_clients_page_would(org, told):
    """A known contact's new email: the intake holder and the other contacts; their reply
    by email: the holder and the other contacts; a stranger's new mail, a forged reply and
    an auto-reply: nobody (they wait in a list, or are only recorded)."""
    sam = f"Sam <{org.sam.email}>"
    assert told(lambda: _received(org, sender=sam)) == {"joanne", "robin"}
    case = open_case(org)
    ours = Notification.objects.filter(case=case, recipient_email=org.sam.email).latest("pk")
    reply = {"In-Reply-To": message_id(ours)}
    assert told(lambda: _received(org, sender=sam, headers=reply)) == {"joanne", "robin"}
    assert told(lambda: _received(org, sender="pat@nowhere.example")) == set()
    assert told(lambda: _received(org, sender="pat@nowhere.example", headers=reply)) == set()
    automatic = {"Auto-Submitted": "auto-replied"}
    assert told(lambda: _received(org, sender=sam, headers=automatic)) == set()


def test_staff_handling_waiting_mail_tell_as_the_request_or_message_would(org, told, people):
    """Attaching a stranger's mail opens a case as theirs: its holder and the client's
    contacts are told (the new contact, who sent it, is not); accepting held mail is the
    client writing: the holder and the contacts; discarding and rejecting tell nobody."""
    stranger = _received(org, sender="pat@nowhere.example")
    attach = lambda: inbound.inbound_attach(  # noqa: E731
        message=stranger, actor=staff(org.maria), client=org.harbor, now=MONDAY_10
    )
    assert told(attach) == {"joanne", "sam", "robin"}
    people["pat@nowhere.example"] = "pat"  # a contact of Harbor now
    discarded = _received(org, sender="lou@nowhere.example")
    discard = lambda: inbound.inbound_discard(  # noqa: E731
        message=discarded, actor=staff(org.maria), reason="Spam.", now=MONDAY_10
    )
    assert told(discard) == set()

    case = open_case(org)
    ours = Notification.objects.filter(case=case, recipient_email=org.sam.email).latest("pk")
    forged = {"In-Reply-To": message_id(ours)}
    held = _received(org, sender="lou@nowhere.example", headers=forged)
    accept = lambda: inbound.inbound_accept(  # noqa: E731
        message=held, actor=staff(org.maria), add_contact=False, now=MONDAY_10
    )
    assert told(accept) == {"joanne", "sam", "robin", "pat"}
    rejected = _received(org, sender="lou@nowhere.example", headers=forged)
    reject = lambda: inbound.inbound_reject(  # noqa: E731
        message=rejected, actor=staff(org.maria), reason="Phishing.", now=MONDAY_10
    )
    assert told(reject) == set()
