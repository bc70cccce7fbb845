from playwright.sync_api import expect

from casedesk.models import Case

REFUND = "Refund for a duplicated March invoice"


def test_an_exception_above_joannes_authority_lands_with_lee_who_approves_it(sign_in):
    reference = Case.objects.get(subject=REFUND).reference
    joanne = sign_in("joanne")
    joanne.get_by_role("link", name=reference).click()
    joanne.get_by_role("link", name="Ask for an exception").click()
    joanne.get_by_label("Kind").select_option(label="Refund")
    joanne.get_by_label("Amount").fill("250")
    joanne.get_by_label("Justification").fill("Invoice 2291 was charged twice.")
    joanne.get_by_role("button", name="Send for a decision").click()
    expect(joanne.get_by_role("status").first).to_contain_text("Sent to Lee Okafor")
    expect(joanne.get_by_text("their authority does not cover it")).to_be_visible()

    lee = sign_in("lee")
    lee.get_by_role("link", name="Dashboard").click()
    lee.get_by_role("link", name="Refund of 250.00").click()
    lee.get_by_label("Approve").check()
    lee.get_by_label("Rationale").fill("A duplicate charge is our error: refund it.")
    lee.get_by_role("button", name="Record decision").click()
    expect(lee.locator("h1 .badge")).to_have_text("Approved")

    lee.get_by_role("link", name=reference).first.click()
    timeline = lee.locator(".cd-timeline")
    expect(timeline).to_contain_text("Exception requested")
    expect(timeline).to_contain_text("Routed to Lee Okafor")
    expect(timeline).to_contain_text("Refund of 250.00 approved: A duplicate charge is our error")
