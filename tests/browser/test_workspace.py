from playwright.sync_api import expect

from casedesk.models import Case, CaseState
from tests.browser.conftest import PHONE

REFUND = "Refund for a duplicated March invoice"
HANDED = "Move dental-plan members to institutional billing"


def action(page, label):
    """Open an action's panel on the case page and return it."""
    panel = page.locator("details", has=page.locator("summary", has_text=label))
    panel.locator("summary").click()
    return panel


def test_joanne_adds_a_note_then_denies_with_a_rationale(sign_in):
    page = sign_in("joanne")
    expect(page.get_by_role("heading", name="Cases")).to_be_visible()

    page.get_by_role("link", name=Case.objects.get(subject=REFUND).reference).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(REFUND)

    note = action(page, "Add internal note")
    note.get_by_label("Internal note").fill("Bank confirms the duplicate charge.")
    note.get_by_role("button", name="Add internal note").click()
    expect(page.get_by_role("status").first).to_contain_text("done")
    expect(page.locator(".cd-timeline")).to_contain_text("Bank confirms the duplicate charge.")

    deny = action(page, "Deny")
    deny.get_by_label("Why, for the client").fill("Duplicates older than 90 days are final.")
    deny.get_by_role("button", name="Deny").click()

    expect(page.locator("header .badge").first).to_have_text("Denied")
    expect(page.locator(".cd-timeline li").last).to_contain_text("Open → Denied")
    expect(page.locator(".cd-timeline li").last).to_contain_text("90 days are final")
    assert Case.objects.get(subject=REFUND).state == CaseState.DENIED


def test_an_empty_denial_is_refused_in_place_keeping_the_page(sign_in):
    page = sign_in("joanne")
    page.goto(page.url.replace("/cases/", f"/cases/{Case.objects.get(subject=REFUND).reference}/"))

    deny = action(page, "Deny")
    deny.get_by_role("button", name="Deny").click()

    expect(page.get_by_text("This field is required.")).to_be_visible()
    assert Case.objects.get(subject=REFUND).state == CaseState.OPEN


def test_devon_sees_the_hand_off_without_the_clients_contact_details(sign_in):
    page = sign_in("devon")

    page.get_by_role("link", name="Hand-offs to my department").click()
    page.get_by_role("link", name=Case.objects.get(subject=HANDED).reference).click()

    expect(page.get_by_role("heading", name="Shared by Client Support")).to_be_visible()
    expect(page.get_by_text("needs the account mapping changed on your side")).to_be_visible()
    body = page.locator("body").inner_text()
    assert "harbordental.example" not in body
    assert "Harbor Dental Group" not in body
    assert "+44 20 7946 0101" not in body


def test_the_queue_works_at_phone_width(sign_in):
    page = sign_in("joanne", viewport=PHONE)

    page.get_by_role("button", name="Menu").click()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="New case")
    ).to_be_visible()
    page.get_by_role("link", name="Everything I may see").click()
    page.wait_for_url("**/cases/?view=all")
    rows = page.locator("table.cd-queue tbody tr")
    expect(rows.first).to_be_visible()

    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, "the queue scrolls sideways on a phone"
    assert rows.first.bounding_box()["width"] <= PHONE["width"]

    page.get_by_label("Search").fill("refund")
    page.get_by_label("Search").press("Enter")
    page.wait_for_url("**q=refund**")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(REFUND)
