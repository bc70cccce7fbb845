"""The client's whole journey in a real browser, then the same case seen by staff."""

import re
from pathlib import Path

from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from casedesk.models import Case
from casedesk.notifications import notifications_deliver_pending
from casedesk.status_links import status_token
from tests.browser.conftest import DESKTOP, PHONE
from tests.casedesk.helpers import next_working_hour

REFUND = "Refund for a duplicated March invoice"


def client_page(chromium, *, viewport=DESKTOP, javascript=True):
    context = chromium.new_context(viewport=viewport, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def panel(page, label):
    """Open one of the status page's action panels and return it."""
    details = page.locator("details", has=page.locator("summary", has_text=label))
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return details


def test_the_client_follows_their_case_and_staff_see_every_step(chromium, demo_site, sign_in):
    case = Case.objects.get(subject=REFUND)
    page = client_page(chromium)
    page.goto(f"{demo_site}/status/{status_token(case)}/")

    state = page.locator("section.cd-state")
    expect(state.get_by_role("heading")).to_have_text("We're working on it")
    expect(state).to_contain_text("Joanne Baker, Client Support Agent, has your case.")
    expect(state).to_contain_text("Their supervisor is Maria Santos.")

    message = panel(page, "Add information")
    message.get_by_label("Your message").fill("The duplicate is on statement 2291-B.")
    message.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status").first).to_contain_text("your message is on your case")
    expect(page.locator(".cd-timeline")).to_contain_text("The duplicate is on statement 2291-B.")

    appeal = panel(page, "Ask for a supervisor")
    appeal.get_by_label("Why you would like a supervisor").fill("It has been two weeks.")
    appeal.get_by_role("button", name="Ask for a supervisor").click()
    expect(page.get_by_role("status").first).to_contain_text("A supervisor now has your case.")
    expect(state.get_by_role("heading")).to_have_text("With a supervisor")
    expect(state).to_contain_text("Maria Santos, Client Support Supervisor, has your case.")
    expect(state).to_contain_text(
        re.compile(r"Maria Santos will decide by \w+day \d+ \w+, \d\d:\d\d")
    )

    when = next_working_hour()
    call = panel(page, "Ask for a call-back")
    call.get_by_label("Number to call").fill("+44 20 7946 0101")
    call.get_by_label("Date").fill(when.strftime("%Y-%m-%d"))
    call.get_by_label("Time of day").fill("11:00")
    call.get_by_label("Your time zone").select_option("Europe/London")
    call.get_by_role("button", name="Book the call").click()
    expect(page.get_by_role("status").first).to_contain_text("Your call-back is booked.")
    booked = page.get_by_role("status").filter(has_text="Call-back booked.")
    expect(booked).to_contain_text("Maria Santos will call you on the number ending 0101")
    expect(booked).to_contain_text(when.strftime("%-d %B at 11:00 (Europe/London)"))

    staff = sign_in("maria")
    staff.goto(f"{demo_site}/cases/{case.reference}/")
    timeline = staff.locator(".cd-timeline")
    expect(timeline).to_contain_text("The duplicate is on statement 2291-B.")
    expect(timeline).to_contain_text("The client asked for a supervisor: It has been two weeks.")
    expect(timeline).to_contain_text("Call-back requested")
    expect(staff.locator("#callbacks-heading")).to_be_visible()
    expect(staff.get_by_text("Call-back booked: call +44 20 7946 0101")).to_be_visible()

    done = staff.locator("form[action$='/done']")
    done.get_by_label("Made").check()
    done.get_by_label("How the call went").fill("Refund agreed; it arrives Friday.")
    done.get_by_role("button", name="Close the call-back").click()
    expect(staff.locator(".cd-timeline")).to_contain_text("Refund agreed; it arrives Friday.")

    page.reload()
    expect(page.locator(".cd-timeline")).to_contain_text("We called you back")
    expect(page.locator(".cd-timeline")).to_contain_text("Refund agreed; it arrives Friday.")


def test_a_contact_signs_in_by_emailed_link_and_sees_all_their_cases(chromium, demo_site):
    page = client_page(chromium, viewport=PHONE)
    page.goto(f"{demo_site}/status/sign-in/")
    page.get_by_label("Your email address").fill("sam.rivera@harbordental.example")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    notifications_deliver_pending(now=timezone.now())
    [letter] = [m for m in mail.outbox if "sign-in link" in m.subject]
    link = re.search(r"http://\S+/status/sign-in/\S+/", letter.body).group(0)
    page.goto(link.replace("http://127.0.0.1:8000", demo_site))
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Harbor Dental Group: your cases")
    expect(page.get_by_role("link", name=REFUND)).to_be_visible()
    expect(page.get_by_text("Northwind")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_role("link", name=REFUND).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(REFUND)


def test_the_status_page_works_without_javascript_at_phone_width(chromium, demo_site):
    case = Case.objects.get(subject=REFUND)
    page = client_page(chromium, viewport=PHONE, javascript=False)
    page.goto(f"{demo_site}/status/{status_token(case)}/")

    appeal = panel(page, "Ask for a supervisor")
    appeal.get_by_role("button", name="Ask for a supervisor").click()  # empty: refused
    expect(page.get_by_text("This field is required.")).to_be_visible()
    panel(page, "Ask for a supervisor").get_by_label("Why you would like").fill("Please.")
    panel(page, "Ask for a supervisor").get_by_role("button", name="Ask for a supervisor").click()

    expect(page.locator("section.cd-state h2")).to_have_text("With a supervisor")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
    .filter(el => el.type !== 'hidden' && el.labels.length === 0 && !el.getAttribute('aria-label'))
    .map(el => el.name)"""


def test_every_control_on_the_clients_pages_has_a_label(chromium, demo_site):
    case = Case.objects.get(subject=REFUND)
    page = client_page(chromium)
    for path in (f"/status/{status_token(case)}/", "/status/sign-in/"):
        page.goto(demo_site + path)  # closed panels' controls are in the page too
        assert page.locator("textarea").count() + page.locator("input").count() > 1
        assert page.evaluate(UNLABELLED) == [], path


def test_the_client_asks_for_a_supervisor_with_the_keyboard_alone(chromium, demo_site):
    case = Case.objects.get(subject=REFUND)
    page = client_page(chromium)
    page.goto(f"{demo_site}/status/{status_token(case)}/")

    for _ in range(40):  # Tab through the page to the panel's summary
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Ask for a supervisor":
            break
    page.keyboard.press("Enter")  # opens the panel
    page.keyboard.press("Tab")
    page.keyboard.type("Two weeks without an answer.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the panel's button

    expect(page.locator("section.cd-state h2")).to_have_text("With a supervisor")


def test_a_client_sends_a_new_request_from_a_phone_and_its_holder_finds_it(
    chromium, demo_site, sign_in
):
    page = client_page(chromium, viewport=PHONE)
    page.goto(f"{demo_site}/accounts/login/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill("casedesk")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/status/")

    page.get_by_role("link", name="New request").click()
    page.get_by_label("Subject").fill("Card reader declines every card")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()  # nothing lost:
    expect(page.get_by_label("Subject")).to_have_value("Card reader declines every card")
    page.get_by_label("What happened").fill("Since this morning, at the front desk.")
    page.get_by_label("Attach files").set_input_files(
        {"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": RECEIPT}
    )
    page.get_by_role("button", name="Send the request").click()

    case = Case.objects.get(subject="Card reader declines every card")
    expect(page.get_by_role("status").first).to_contain_text(f"Sent: {case.reference} is with")
    expect(page.locator("section.cd-state")).to_contain_text(f"{case.owner.name}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.goto(f"{demo_site}/status/")
    expect(page.get_by_text("Card reader declines every card")).to_be_visible()

    holder = sign_in(case.owner.user.username)
    expect(holder.get_by_text("Card reader declines every card")).to_be_visible()
    holder.get_by_role("link", name=case.reference).click()
    with holder.expect_download() as download:
        holder.get_by_role("link", name="receipt.pdf").click()
    assert download.value.suggested_filename == "receipt.pdf"
    assert Path(download.value.path()).read_bytes() == RECEIPT


RECEIPT = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
