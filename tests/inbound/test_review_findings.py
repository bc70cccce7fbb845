"""Review of issue 14 (email in, attachments): each test here proved a bug found in review."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from casedesk.actors import Actor
from casedesk.attachments import check_uploads
from casedesk.models import Notification
from casedesk.notifications import message_id
from inbound import services as inbound
from inbound.drop import read_drop_folder
from inbound.models import InboundMessage, Outcome
from inbound.receive import receive_message
from tests.clock import MONDAY_10
from tests.factories import open_case
from tests.inbound.helpers import email

pytestmark = pytest.mark.usefixtures("monday_morning")


def _sam(org) -> str:
    return f"Sam Rivera <{org.sam.email}>"


# --- (4) Poison emails: a NUL character, which PostgreSQL cannot store in text --------------

NUL_SUBJECT = "=?utf-8?q?Card=00declined?="


def _nul_emails(org) -> dict[str, bytes]:
    return {
        "subject": email(sender=_sam(org), subject=NUL_SUBJECT),
        "text": email(sender=_sam(org), text="My card\x00 was declined."),
        "sender name": email(sender=f"=?utf-8?q?Sam=00Rivera?= <{org.sam.email}>"),
        "file name": email(
            sender=_sam(org), attachments=[("=?utf-8?q?a=00b.txt?=", b"plain words")]
        ),
    }


@pytest.mark.parametrize("where", ["subject", "text", "sender name", "file name"])
def test_an_email_with_a_nul_character_is_received_not_retried_forever(org, mailbox, where):
    """A NUL (an encoded word's =00, or a raw one in a text part) is stored by SQLite but
    refused by PostgreSQL ('A string literal cannot contain NUL'); receive_message raised,
    so the poller left the email in the INBOX and tried it again at every poll, forever
    (and a batch of them stops the mailbox: the poller only ever reads the oldest)."""
    receipt = receive_message(mailbox, _nul_emails(org)[where], now=MONDAY_10)

    message = InboundMessage.objects.get(pk=receipt.message.pk)
    assert message.outcome == Outcome.OPENED
    assert "\x00" not in message.subject + message.text + message.sender_name
    assert "\x00" not in "".join(message.attachment_names)
    assert "\x00" not in message.case.subject + message.case.description


def test_a_dropped_file_that_cannot_be_read_goes_to_failed_and_the_rest_go_on(
    org, mailbox, tmp_path: Path
):
    """read_drop_folder's docstring: a file that cannot be read is moved to failed/. It
    raised instead (here: a folder named like an email), so the bad entry stayed first in
    line and no later file was ever read."""
    (tmp_path / "1.eml").mkdir()
    (tmp_path / "2.eml").write_bytes(email(sender=_sam(org), subject="Fine"))

    done = read_drop_folder(tmp_path)

    assert [p.name for p in (tmp_path / "failed").iterdir()] == ["1.eml"]
    assert [p.name for p in (tmp_path / "processed").iterdir()] == ["2.eml"]
    assert InboundMessage.objects.get().subject == "Fine"
    assert done[0].startswith("1.eml: could not be received")


# --- (5) Who is told: nobody of their own action ------------------------------------------


def test_the_holder_accepting_held_mail_is_not_emailed_about_it(org, mailbox):
    """design.md: "Nobody is told of their own action". Joanne holds the case and accepts
    a held email as the client's: she was emailed that the client wrote."""
    case = open_case(org)
    ours = Notification.objects.filter(case=case, recipient_email=org.sam.email).latest("pk")
    held = receive_message(
        mailbox,
        email(sender="lou@nowhere.example", headers={"In-Reply-To": message_id(ours)}),
        now=MONDAY_10,
    ).message
    assert held.outcome == Outcome.HELD
    before = Notification.objects.order_by("-pk").values_list("pk", flat=True).first()

    inbound.inbound_accept(
        message=held, actor=Actor.for_staff(org.joanne), add_contact=False, now=MONDAY_10
    )

    told = set(Notification.objects.filter(pk__gt=before).values_list("recipient_email", flat=True))
    assert org.sam.email in told  # the client's contacts hear of what they can see
    assert org.joanne.user.email not in told


# --- (3) The content check ----------------------------------------------------------------


def _zip(parts: dict[str, bytes]) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return SimpleUploadedFile("minutes.odt", buffer.getvalue())


def test_an_opendocument_with_macros_is_refused():
    """attachments.py: office documents are accepted 'without macros'; only Word/Excel's
    vbaProject.bin was looked for, so an .odt carrying Basic macros (Basic/, or scripts
    under Scripts/) was accepted."""
    odt = b"application/vnd.oasis.opendocument.text"
    with_basic = _zip(
        {
            "mimetype": odt,
            "content.xml": b"<office:document-content/>",
            "Basic/Standard/Module1.xml": b"<script:module>Sub AutoOpen</script:module>",
        }
    )
    with_scripts = _zip(
        {"mimetype": odt, "content.xml": b"<x/>", "Scripts/python/run.py": b"import os"}
    )
    plain = _zip({"mimetype": odt, "content.xml": b"<office:document-content/>"})

    assert check_uploads([plain])[0].content_type == odt.decode()
    for file in (with_basic, with_scripts):
        with pytest.raises(ValidationError, match="macros"):
            check_uploads([file])


def test_a_request_for_a_department_with_nobody_to_hold_it_waits_instead_of_failing(org, mailbox):
    """A known contact's email opens a case held by their department's intake; when that
    department has no active staff, routing raises NoOneToHold, which receive_message did
    not catch: the email failed at every poll, forever (the client's page says so and
    keeps what was typed; the email must wait for a person too)."""
    from django.contrib.auth import get_user_model

    from accounts.models import StaffProfile

    staff = StaffProfile.objects.filter(department=org.harbor.department)
    get_user_model().objects.filter(staff__in=staff).update(is_active=False)

    receipt = receive_message(mailbox, email(sender=_sam(org)), now=MONDAY_10)

    message = InboundMessage.objects.get(pk=receipt.message.pk)
    assert message.outcome == Outcome.UNASSIGNED
    assert message.case is None
    assert "no active staff" in message.reason


def test_the_intake_holder_attaching_unassigned_mail_is_not_emailed_about_it(org, mailbox):
    """Attaching a stranger's email opens a case held by the department's intake; when the
    person attaching is that intake holder, they were emailed that the new request is
    with them: nobody is told of their own action."""
    org.support.intake_owner = org.joanne
    org.support.save(update_fields=["intake_owner"])
    stranger = receive_message(
        mailbox, email(sender="Pat <pat@nowhere.example>"), now=MONDAY_10
    ).message
    assert stranger.outcome == Outcome.UNASSIGNED
    before = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    attached = inbound.inbound_attach(
        message=stranger, actor=Actor.for_staff(org.joanne), client=org.harbor, now=MONDAY_10
    )

    assert attached.case.owner == org.joanne
    told = set(Notification.objects.filter(pk__gt=before).values_list("recipient_email", flat=True))
    assert org.sam.email in told  # the client's other contacts hear of the new case
    assert org.joanne.user.email not in told


def test_the_file_names_an_email_is_recorded_with_carry_no_control_or_direction_marks(org, mailbox):
    """The mail page lists the names of an email's files as the sender wrote them: a
    right-to-left override showed "invoice\u202efdp.exe" as "invoiceexe.pdf", and a path
    came through whole. A file's name is cleaned the one way
    (attachments.clean_name) wherever it is shown."""
    raw = email(
        sender="Pat <pat@nowhere.example>",
        attachments=[("invoice\u202efdp.exe", b"MZ"), ("../../etc/passwd.txt", b"x")],
    )

    message = receive_message(mailbox, raw, now=MONDAY_10).message

    assert message.attachment_names == ["invoicefdp.exe", "passwd.txt"]
