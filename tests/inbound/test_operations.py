"""What an administrator and an operator see of the mailboxes: secrets written and never
shown again, each mailbox's last poll and error, and /healthz's count of failing ones."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Department, User
from inbound.models import Mailbox
from inbound.receive import receive_message
from tests.inbound.helpers import email, support_mailbox


@pytest.fixture
def admin_client(client, db):
    call_command("seed_demo")
    client.force_login(User.objects.get(username="admin"))
    return client


def _form(department, **changes) -> dict:
    return {
        "department": department.pk,
        "address": "desk@casedesk.example",
        "host": "imap.casedesk.example",
        "port": "993",
        "security": "tls",
        "username": "desk",
        "password": "",
        "oauth2_token": "",
        "folder": "INBOX",
        "processed_folder": "Processed",
        "active": "on",
        **changes,
    }


def test_a_mailboxs_password_is_written_and_never_shown_again(admin_client):
    department = Department.objects.get(name="Client Support")
    admin_client.post("/admin/inbound/mailbox/add/", _form(department, password="zq-imap-secret"))
    mailbox = Mailbox.objects.get(address="desk@casedesk.example")  # (the demo has two)
    assert mailbox.password == "zq-imap-secret"

    page = admin_client.get(f"/admin/inbound/mailbox/{mailbox.pk}/change/")
    assert page.status_code == 200
    assert b"zq-imap-secret" not in page.content

    admin_client.post(f"/admin/inbound/mailbox/{mailbox.pk}/change/", _form(department, port="994"))
    mailbox.refresh_from_db()
    assert (mailbox.port, mailbox.password) == (994, "zq-imap-secret")


def test_plaintext_imap_is_refused_to_anything_but_this_machine(admin_client):
    department = Department.objects.get(name="Client Support")
    response = admin_client.post(
        "/admin/inbound/mailbox/add/", _form(department, security="none", port="143")
    )

    assert response.status_code == 200  # the form again, with the reason
    assert b"Plaintext IMAP only to a server on this machine." in response.content
    assert not Mailbox.objects.filter(address="desk@casedesk.example").exists()


def test_received_mail_opens_in_the_admin_read_only(admin_client):
    mailbox = Mailbox.objects.create(
        department=Department.objects.get(name="Client Support"),
        address="desk@casedesk.example",
        host="imap.casedesk.example",
        username="desk",
    )
    message = receive_message(mailbox, email(sender="pat@nowhere.example"), now=timezone.now())

    page = admin_client.get(f"/admin/inbound/inboundmessage/{message.message.pk}/change/")

    assert page.status_code == 200
    assert b"pat@nowhere.example" in page.content


def test_healthz_counts_the_active_mailboxes_whose_last_poll_failed(client, org):
    support_mailbox(org, last_error="ConnectionRefusedError: [Errno 111]")
    assert client.get("/healthz").json()["mailboxes_failing"] == 1
    Mailbox.objects.update(active=False)
    assert client.get("/healthz").json()["mailboxes_failing"] == 0
