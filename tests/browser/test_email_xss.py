"""Stored XSS through email, tried in a real browser: hostile subjects, sender names, HTML
bodies and file names (script tags, event-handler attributes, javascript: URLs, SVG) sent
in as a new request, as unassigned mail and as a forged (held) reply. Every staff and
client page that shows them shows them as text: no dialog opens, and the
Content-Security-Policy watcher (tests/browser/conftest.py) sees no violation."""

from email.utils import formataddr

from django.utils import timezone
from playwright.sync_api import expect

from casedesk.models import Case, ClientContact, Notification
from casedesk.notifications import message_id
from inbound.models import InboundMessage, Mailbox, Outcome
from inbound.receive import receive_message
from tests.browser.conftest import PHONE
from tests.inbound.helpers import email

SUBJECT = "<script>alert('subject')</script>Refund"
NAME = "<img src=x onerror=alert('name')>"
HTML = (
    "<p>Hello</p><script>alert('body')</script><img src=x onerror=alert('img')>"
    "<a href=\"javascript:alert('link')\">click me</a><svg onload=alert('svg')></svg>"
    "<iframe src=\"javascript:alert('frame')\"></iframe>"
)
PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
FILES = [
    ("<svg onload=alert('file')>.pdf", PDF),  # kept: a PDF with a hostile name
    ("picture.svg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),  # refused
]


def hostile(sender: str, **more) -> bytes:
    return email(sender=sender, subject=SUBJECT, text=None, html=HTML, attachments=FILES, **more)


def watch(page, dialogs: list):
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return page


def test_nothing_an_email_carries_runs_on_any_page(chromium, demo_site, sign_in):
    support = Mailbox.objects.get(address="support@casedesk.example")
    sam = ClientContact.objects.get(email="sam.rivera@harbordental.example")
    now = timezone.now()
    opened = receive_message(support, hostile(formataddr((NAME, sam.email))), now=now).message
    stranger = receive_message(
        support, hostile(formataddr((NAME, "x@evil.example"))), now=now
    ).message
    ours = Notification.objects.filter(recipient_email=sam.email).latest("pk")
    forged = receive_message(
        support,
        hostile(
            formataddr((NAME, "mallory@evil.example")), headers={"In-Reply-To": message_id(ours)}
        ),
        now=now,
    ).message
    assert [opened.outcome, stranger.outcome, forged.outcome] == [
        Outcome.OPENED,
        Outcome.UNASSIGNED,
        Outcome.HELD,
    ]
    case = Case.objects.get(pk=opened.case_id)
    dialogs: list[str] = []

    holder = watch(sign_in(case.owner.user.username), dialogs)
    supervisor = watch(sign_in("maria"), dialogs)
    for page, url in [
        (holder, f"/cases/{case.reference}/"),
        (holder, "/cases/?view=all&q=refund"),
        (holder, "/cases/"),
        (supervisor, "/mail/unassigned/"),
        (supervisor, "/mail/held/"),
        (supervisor, f"/mail/message/{stranger.pk}/"),
        (supervisor, f"/mail/message/{forged.pk}/"),
        (supervisor, f"/mail/message/{opened.pk}/"),
        (supervisor, f"/cases/{forged.case.reference}/"),
    ]:
        page.goto(f"{demo_site}{url}")
        page.wait_for_load_state("networkidle")
    holder.goto(f"{demo_site}/cases/{case.reference}/")
    expect(holder.locator("main")).to_contain_text("<script>alert('subject')</script>Refund")
    expect(holder.locator("main")).to_contain_text("svg onload=alert('file').pdf")  # <> dropped
    expect(holder.locator("main")).to_contain_text("Files not kept: picture.svg")
    assert holder.locator("main svg[onload], main img[onerror], main iframe").count() == 0

    client = chromium.new_context(viewport=PHONE).new_page()
    watch(client, dialogs)
    client.goto(f"{demo_site}/accounts/login/")
    client.get_by_label("Username").fill("sam")
    client.get_by_label("Password").fill("casedesk")
    client.get_by_role("button", name="Sign in").click()
    client.wait_for_url("**/status/")
    client.get_by_role("link", name=SUBJECT).click()
    client.wait_for_load_state("networkidle")
    expect(client.locator("main")).to_contain_text("svg onload=alert('file').pdf")  # <> dropped

    assert dialogs == []
    assert InboundMessage.objects.count() == 3
