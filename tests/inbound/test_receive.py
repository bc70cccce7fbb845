"""An email read from a mailbox becomes one action, decided only by what we sent: the
signed reply address or our Message-ID, never a reference in its subject; and nothing
from an email is ever shown as markup."""

import threading

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings

from casedesk import services
from casedesk.actors import Actor
from casedesk.models import Case, CaseEvent, ClientContact, EventKind, Notification
from casedesk.notifications import message_id, notification_deliver
from casedesk.reply_address import reply_address, reply_target
from inbound.models import InboundMessage, Outcome
from inbound.receive import receive_message
from tests.clock import MONDAY_10
from tests.factories import open_case
from tests.inbound.helpers import email

pytestmark = pytest.mark.usefixtures("monday_morning")


@pytest.fixture
def sam(org):
    return org.sam


def _from(contact) -> str:
    return f"{contact.name} <{contact.email}>"


def _notice_to(contact, case) -> Notification:
    return Notification.objects.filter(case=case, recipient_email=contact.email).latest("pk")


def test_a_new_email_from_a_known_contact_opens_a_case_held_by_the_intake(org, mailbox, sam):
    receipt = receive_message(
        mailbox, email(sender=_from(sam).upper(), subject="Card declined"), now=MONDAY_10
    )

    message = receipt.message
    assert receipt.new
    assert message.outcome == Outcome.OPENED
    case = message.case
    assert (case.client, case.subject, case.owner) == (org.harbor, "Card declined", org.joanne)
    assert case.description == "My card was declined at the pharmacy."
    assert message.event.kind == EventKind.OPENED
    assert message.contact == sam


def test_a_contact_of_a_client_of_another_department_opens_it_in_their_clients_department(
    org, mailbox
):
    receipt = receive_message(mailbox, email(sender=_from(org.alex)), now=MONDAY_10)

    assert receipt.message.case.department == org.institutional
    assert receipt.message.case.owner == org.devon


def test_a_new_email_from_a_stranger_opens_nothing_and_waits_unassigned(org, mailbox):
    receipt = receive_message(mailbox, email(sender="pat@nowhere.example"), now=MONDAY_10)

    assert receipt.message.outcome == Outcome.UNASSIGNED
    assert "pat@nowhere.example is not a contact" in receipt.message.reason
    assert not Case.objects.exists()


def test_the_same_message_delivered_twice_is_handled_once(org, mailbox, sam):
    raw = email(sender=_from(sam), message_id="<once@mail.example>")

    first = receive_message(mailbox, raw, now=MONDAY_10)
    second = receive_message(mailbox, raw, now=MONDAY_10)

    assert (first.new, second.new) == (True, False)
    assert second.message.pk == first.message.pk
    assert "received before" in str(second)
    assert Case.objects.count() == 1


def test_a_message_without_a_message_id_gets_a_stable_one_from_its_bytes(org, mailbox):
    raw = email(sender="pat@nowhere.example").replace(b"Message-ID:", b"X-Old-ID:")

    first = receive_message(mailbox, raw, now=MONDAY_10)
    second = receive_message(mailbox, raw, now=MONDAY_10)

    assert first.message.message_id.startswith("<sha256.")
    assert not second.new


def test_a_reply_to_the_signed_reply_address_joins_its_case_as_the_clients_message(
    org, mailbox, sam
):
    case = open_case(org)
    to = reply_address(case_id=case.pk, contact_id=sam.pk, mailbox_address=mailbox.address)
    text = "It happened again today.\n\nOn Mon, 23 Nov 2026, casedesk wrote:\n> Your case"

    receipt = receive_message(mailbox, email(sender=_from(sam), to=to, text=text), now=MONDAY_10)

    message = receipt.message
    assert (message.outcome, message.case) == (Outcome.THREADED, case)
    assert message.event.kind == EventKind.MESSAGE
    assert message.event.reason == "It happened again today."
    assert message.quoted.startswith("On Mon, 23 Nov 2026, casedesk wrote:")
    assert Case.objects.count() == 1


def test_a_reply_by_in_reply_to_one_of_our_emails_joins_its_case(org, mailbox, sam):
    case = open_case(org)
    ours = message_id(_notice_to(sam, case))

    receipt = receive_message(
        mailbox,
        email(sender=_from(sam), subject="Re: something", headers={"In-Reply-To": ours}),
        now=MONDAY_10,
    )

    assert (receipt.message.outcome, receipt.message.case) == (Outcome.THREADED, case)


def test_a_forged_reply_from_a_stranger_is_held_with_the_reason(org, mailbox, sam):
    case = open_case(org)
    ours = message_id(_notice_to(sam, case))
    events = CaseEvent.objects.filter(case=case).count()

    receipt = receive_message(
        mailbox,
        email(sender="mallory@evil.example", headers={"In-Reply-To": ours}),
        now=MONDAY_10,
    )

    message = receipt.message
    assert (message.outcome, message.case) == (Outcome.HELD, case)
    assert message.reason == "Sent from mallory@evil.example, not a contact of Harbor Dental Group."
    assert CaseEvent.objects.filter(case=case).count() == events


def test_a_contact_of_another_client_replying_on_a_case_is_held(org, mailbox, sam):
    case = open_case(org)
    to = reply_address(case_id=case.pk, contact_id=sam.pk, mailbox_address=mailbox.address)

    receipt = receive_message(mailbox, email(sender=_from(org.alex), to=to), now=MONDAY_10)

    assert receipt.message.outcome == Outcome.HELD


def test_a_subject_naming_a_case_from_anyone_opens_or_holds_nothing_in_that_case(org, mailbox, sam):
    case = open_case(org)
    events = CaseEvent.objects.filter(case=case).count()

    stranger = receive_message(
        mailbox, email(sender="pat@nowhere.example", subject=f"Re: {case.reference}"), now=MONDAY_10
    )
    contact = receive_message(
        mailbox, email(sender=_from(sam), subject=f"Re: {case.reference}"), now=MONDAY_10
    )

    assert (stranger.message.outcome, stranger.message.case) == (Outcome.UNASSIGNED, None)
    assert contact.message.outcome == Outcome.OPENED  # a new case, not a reply on that one
    assert contact.message.case != case
    assert CaseEvent.objects.filter(case=case).count() == events


def test_a_reply_address_with_a_wrong_signature_or_a_guessed_message_id_threads_nothing(
    org, mailbox, sam
):
    case = open_case(org)
    good = reply_address(case_id=case.pk, contact_id=sam.pk, mailbox_address=mailbox.address)
    forged = good.replace(good.split("@")[0][-4:], "0000", 1)
    notice = _notice_to(sam, case)
    guessed = f"<notification.{notice.pk}.20200101000000000000@127.0.0.1>"

    by_address = receive_message(mailbox, email(sender=_from(sam), to=forged), now=MONDAY_10)
    by_id = receive_message(
        mailbox, email(sender=_from(sam), headers={"References": guessed}), now=MONDAY_10
    )

    assert reply_target(forged) is None
    assert by_address.message.outcome == by_id.message.outcome == Outcome.OPENED
    assert case not in (by_address.message.case, by_id.message.case)


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "Out of office"},
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
        {"Return-Path": "<>"},
    ],
)
def test_auto_replies_are_recorded_as_ignored_and_never_answered(org, mailbox, sam, headers):
    receipt = receive_message(mailbox, email(sender=_from(sam), headers=headers), now=MONDAY_10)

    assert receipt.message.outcome == Outcome.IGNORED
    assert not Case.objects.exists()
    assert not Notification.objects.exists()


def test_a_bounce_from_the_mailer_daemon_is_ignored(org, mailbox):
    bounce = (
        b"From: Mail Delivery System <MAILER-DAEMON@mail.example>\r\n"
        b"To: support@casedesk.example\r\nSubject: Undelivered Mail\r\n"
        b"Message-ID: <bounce1@mail.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nIt failed.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--b--\r\n"
    )

    receipt = receive_message(mailbox, bounce, now=MONDAY_10)

    assert receipt.message.outcome == Outcome.IGNORED
    assert "multipart/report" in receipt.message.reason


def test_auto_submitted_no_is_a_person(org, mailbox, sam):
    receipt = receive_message(
        mailbox, email(sender=_from(sam), headers={"Auto-Submitted": "no"}), now=MONDAY_10
    )

    assert receipt.message.outcome == Outcome.OPENED


def test_an_html_only_email_is_kept_as_plain_text_with_every_tag_gone(org, mailbox, sam):
    markup = (
        "<p>Hello <b>team</b></p><script>alert(1)</script>"
        '<img src=x onerror="alert(2)"><a href="javascript:alert(3)">click</a>'
        '<svg onload="alert(4)"></svg><p>Fish &amp; chips</p>'
    )

    receipt = receive_message(
        mailbox, email(sender=_from(sam), text=None, html=markup), now=MONDAY_10
    )

    text = receipt.message.text
    assert text == "Hello team\nclick\nFish & chips"
    assert receipt.message.case.description == text


def test_plain_text_is_preferred_over_the_html_alternative(org, mailbox, sam):
    receipt = receive_message(
        mailbox,
        email(sender=_from(sam), text="The plain words.", html="<p>The <i>HTML</i></p>"),
        now=MONDAY_10,
    )

    assert receipt.message.text == "The plain words."


@override_settings(CASEDESK_MAIL_MAX_TEXT=1000)
def test_a_huge_body_is_cut_with_a_note(org, mailbox, sam):
    receipt = receive_message(mailbox, email(sender=_from(sam), text="x" * 50_000), now=MONDAY_10)

    assert receipt.message.text.startswith("x" * 1000 + "\n\n[Cut: the email went on for 49,")
    assert receipt.message.outcome == Outcome.OPENED


def test_an_emails_files_go_with_its_case_and_a_refused_one_is_named_with_the_reason(
    org, mailbox, sam, settings
):
    """The same check as a file uploaded on a page (by content, size and count): what
    passes is stored with the event, what does not is named in the text the sender reads."""
    from casedesk.models import Attachment
    from tests.casedesk.test_attachments import stored_files

    receipt = receive_message(
        mailbox,
        email(
            sender=_from(sam),
            attachments=[
                ("invoice.pdf", b"%PDF-1.4\n%%EOF\n"),
                ("invoice-copy.pdf", b"MZ\x90\x00" + b"\x00" * 60),  # a program
                ("page.html", b"<html><script>alert(1)</script></html>"),
            ],
        ),
        now=MONDAY_10,
    )

    message = receipt.message
    assert message.outcome == Outcome.OPENED
    assert message.attachment_names == ["invoice.pdf", "invoice-copy.pdf", "page.html"]
    [kept] = Attachment.objects.all()
    assert (kept.original_name, kept.event, kept.uploaded_by_contact) == (
        "invoice.pdf",
        message.event,
        sam,
    )
    assert len(stored_files(settings)) == 1
    assert "Files not kept: invoice-copy.pdf" in message.case.description
    assert "page.html" in message.case.description.split("Files not kept:")[1]


def test_a_replys_files_go_with_the_clients_message(org, mailbox, sam):
    from casedesk.models import Attachment

    case = open_case(org)
    notice = _notice_to(sam, case)
    receive_message(
        mailbox,
        email(
            sender=_from(sam),
            headers={"In-Reply-To": message_id(notice)},
            attachments=[("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)],
        ),
        now=MONDAY_10,
    )

    [kept] = Attachment.objects.filter(case=case)
    assert kept.event.kind == EventKind.MESSAGE
    assert kept.content_type == "image/png"


def test_a_contact_past_the_hourly_limit_of_new_requests_waits_unassigned(org, mailbox, sam):
    for number in range(services.REQUESTS_PER_CONTACT_PER_HOUR):
        services.case_request_open(contact=sam, subject=f"Request {number}", now=MONDAY_10)

    receipt = receive_message(mailbox, email(sender=_from(sam)), now=MONDAY_10)

    assert receipt.message.outcome == Outcome.UNASSIGNED
    assert "Not opened: You have sent 10 new requests" in receipt.message.reason
    assert Case.objects.count() == services.REQUESTS_PER_CONTACT_PER_HOUR


def test_client_emails_carry_the_signed_reply_address_and_say_they_are_automatic(org, mailbox, sam):
    case = open_case(org)
    notice = _notice_to(sam, case)

    assert notification_deliver(notification_id=notice.pk, now=MONDAY_10)

    sent = mail.outbox[-1]
    assert sent.extra_headers["Auto-Submitted"] == "auto-generated"
    (reply_to,) = sent.reply_to
    assert reply_to.startswith("support+")
    assert reply_to.endswith("@casedesk.example")
    assert len(reply_to.split("@")[0]) <= 64
    target = reply_target(reply_to.upper())
    assert (target.case_id, target.contact_id) == (case.pk, sam.pk)


@override_settings(CASEDESK_REPLY_DOMAIN="replies.example")
def test_without_a_department_mailbox_the_reply_domain_setting_is_used(org, sam):
    case = open_case(org)

    assert notification_deliver(notification_id=_notice_to(sam, case).pk, now=MONDAY_10)

    assert mail.outbox[-1].reply_to[0].startswith("reply+")
    assert mail.outbox[-1].reply_to[0].endswith("@replies.example")


def test_staff_emails_carry_no_reply_address(org, mailbox):
    case = services.case_open(
        actor=Actor.for_staff(org.joanne), client=org.harbor, subject="Billing", owner=org.maria
    )
    notice = Notification.objects.get(case=case, recipient_email=org.maria.user.email)

    assert notification_deliver(notification_id=notice.pk, now=MONDAY_10)

    assert mail.outbox[-1].reply_to == []


def test_nothing_of_an_email_is_lost_when_it_is_recorded(org, mailbox, sam):
    receive_message(mailbox, email(sender=_from(sam), subject="Billing"), now=MONDAY_10)

    stored = InboundMessage.objects.get()
    assert (stored.sender_email, stored.sender_name, stored.subject) == (
        sam.email,
        "Sam Rivera",
        "Billing",
    )
    assert stored.received_at == MONDAY_10


def test_a_sender_who_is_a_contact_of_two_clients_waits_unassigned_naming_neither(
    org, mailbox, sam
):
    ClientContact.objects.create(client=org.northwind, name="Sam", email=sam.email.upper())

    receipt = receive_message(mailbox, email(sender=_from(sam)), now=MONDAY_10)

    assert receipt.message.outcome == Outcome.UNASSIGNED
    assert (
        receipt.message.reason == f"{sam.email} is a contact of more than one client: choose one."
    )
    assert not Case.objects.exists()


def test_a_reply_on_a_resolved_case_reaches_it_as_on_the_status_page(org, mailbox, sam):
    """As a message from the status page would: on the timeline, the holder told."""
    case = open_case(org)
    services.case_resolve(case=case, actor=Actor.for_staff(org.joanne), summary="Refunded.")
    to = reply_address(case_id=case.pk, contact_id=sam.pk, mailbox_address=mailbox.address)

    receipt = receive_message(mailbox, email(sender=_from(sam), to=to), now=MONDAY_10)

    assert (receipt.message.case, receipt.message.outcome) == (case, Outcome.THREADED)
    assert receipt.message.event.kind == EventKind.MESSAGE


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_pollers_receiving_the_same_message_at_once_handle_it_once(org, mailbox, sam):
    raw = email(sender=_from(sam), message_id="<race@mail.example>")
    start = threading.Barrier(2)
    outcomes = []

    def poller():
        start.wait()
        try:
            outcomes.append(receive_message(mailbox, raw, now=MONDAY_10).new)
        finally:
            connection.close()

    threads = [threading.Thread(target=poller) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == [False, True]
    assert InboundMessage.objects.count() == 1
    assert Case.objects.count() == 1
