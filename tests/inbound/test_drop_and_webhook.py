"""Email without IMAP: files dropped in a folder (the demo's way in) and a provider's inbound
webhook (django-anymail) reach the same service, the mailbox chosen by the address it was
sent to; the webhook is served only with its secret."""

import base64
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import Resolver404, resolve

from casedesk.reply_address import reply_address
from inbound.drop import mailbox_for, read_drop_folder
from inbound.models import InboundMessage, Outcome
from tests.factories import open_case
from tests.inbound.helpers import email

SECRET = "provider:a-webhook-secret-for-tests"


def sam(org) -> str:
    return f"Sam Rivera <{org.sam.email}>"


def test_a_mailbox_is_found_by_its_address_or_its_reply_address(org, mailbox):
    case = open_case(org)
    signed = reply_address(case_id=case.pk, contact_id=org.sam.pk, mailbox_address=mailbox.address)

    assert mailbox_for(["SUPPORT@casedesk.example"]) == mailbox
    assert mailbox_for(["someone@else.example", signed]) == mailbox
    assert mailbox_for(["support@elsewhere.example", "nobody"]) is None


def test_a_dropped_file_is_received_once_then_moved(org, mailbox, tmp_path: Path):
    raw = email(sender=sam(org), subject="Dropped in")
    (tmp_path / "1.eml").write_bytes(raw)
    (tmp_path / "2.eml").write_bytes(raw)  # the same email twice
    (tmp_path / "3.eml").write_bytes(email(sender=sam(org), to="sales@elsewhere.example"))
    (tmp_path / "notes.txt").write_text("not an email")

    done = read_drop_folder(tmp_path)

    message = InboundMessage.objects.get()
    assert message.outcome == Outcome.OPENED
    assert message.case.subject == "Dropped in"
    assert done[1].endswith("received before, nothing done")
    assert done[2] == "3.eml: addressed to no mailbox"
    assert sorted(p.name for p in (tmp_path / "processed").iterdir()) == ["1.eml", "2.eml"]
    assert [p.name for p in (tmp_path / "failed").iterdir()] == ["3.eml"]
    assert (tmp_path / "notes.txt").exists()
    assert read_drop_folder(tmp_path) == []


def test_no_folder_set_reads_nothing(db, settings):
    settings.CASEDESK_MAIL_DROP_DIR = ""

    assert read_drop_folder() == []


def test_the_webhook_is_not_served_without_its_secret(db):
    with pytest.raises(Resolver404):
        resolve("/anymail/sendgrid/inbound/")


@override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET}, ROOT_URLCONF="tests.inbound.webhook_urls")
def test_a_providers_webhook_feeds_the_same_service_and_refuses_a_wrong_secret(
    client, org, mailbox
):
    """Postmark's inbound webhook with the raw email (anymail checks the secret, sent as
    basic auth), posted as Postmark posts it."""
    raw = email(sender=sam(org), subject="By the provider").decode()
    payload = {"RawEmail": raw, "Headers": [], "OriginalRecipient": mailbox.address}
    auth = "Basic " + base64.b64encode(SECRET.encode()).decode()
    wrong = "Basic " + base64.b64encode(b"provider:guessed").decode()
    url = "/anymail/postmark/inbound/"

    refused = client.post(url, payload, content_type="application/json", HTTP_AUTHORIZATION=wrong)
    accepted = client.post(url, payload, content_type="application/json", HTTP_AUTHORIZATION=auth)
    again = client.post(url, payload, content_type="application/json", HTTP_AUTHORIZATION=auth)

    assert refused.status_code == 400
    assert accepted.status_code == 200
    assert again.status_code == 200
    message = InboundMessage.objects.get()  # once, whatever the provider retries
    assert message.outcome == Outcome.OPENED
    assert message.case.subject == "By the provider"


def test_the_demo_says_how_to_email_it_and_its_sample_email_becomes_a_case(db, settings, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    settings.CASEDESK_MAIL_DROP_DIR = str(tmp_path)
    out = StringIO()
    call_command("seed_demo", stdout=out)
    sample = Path(__file__).resolve().parents[2] / "docs" / "demo-email.eml"
    (tmp_path / sample.name).write_bytes(sample.read_bytes())

    read_drop_folder()

    assert f"Email in: the demo receives the .eml files dropped in {tmp_path}" in out.getvalue()
    message = InboundMessage.objects.get()
    assert message.outcome == Outcome.OPENED
    assert message.mailbox.address == "support@casedesk.example"
    assert (message.case.client.name, message.case.department.name) == (
        "Harbor Dental Group",
        "Client Support",
    )
