from decimal import Decimal

import pytest

from escalation.demo import install_exception_policies
from escalation.exceptions import exception_decide, exception_request
from escalation.models import ExceptionKind, ExceptionRequest
from tests.factories import open_case


@pytest.fixture
def refund(db):
    install_exception_policies()  # refunds: supervisors up to 100, the director above
    return ExceptionKind.objects.get(name="Refund")


def test_joanne_asks_and_it_lands_with_the_lowest_person_who_can_decide(client, org, refund):
    case = open_case(org)
    client.force_login(org.joanne.user)

    response = client.post(
        f"/cases/{case.reference}/exceptions/new",
        {"kind": refund.pk, "amount": "250", "justification": "Charged twice in March."},
    )

    request = ExceptionRequest.objects.get()
    assert response.status_code == 302
    assert request.approver == org.lee
    page = client.get(response.url).content.decode()
    assert "Skipped" in page
    assert "Maria" in page


def test_a_refund_without_an_amount_is_refused_keeping_the_text(client, org, refund):
    case = open_case(org)
    client.force_login(org.joanne.user)

    response = client.post(
        f"/cases/{case.reference}/exceptions/new",
        {"kind": refund.pk, "amount": "", "justification": "Please."},
    )

    assert response.status_code == 400
    assert b"needs an amount" in response.content
    assert b"Please." in response.content
    assert not ExceptionRequest.objects.exists()


def test_the_approver_sees_precedents_and_a_note_when_about_to_differ(
    client, org, refund, as_actor
):
    for amount, approve in (("80", True), ("90", True), ("300", False)):
        earlier = exception_request(
            case=open_case(org),
            actor=as_actor(org.joanne),
            kind=refund,
            amount=Decimal(amount),
            justification="x",
        )
        exception_decide(
            request=earlier,
            actor=as_actor(org.lee),
            approve=approve,
            rationale=f"Precedent {amount}",
        )
    pending = exception_request(
        case=open_case(org),
        actor=as_actor(org.joanne),
        kind=refund,
        amount=Decimal("85"),
        justification="Charged twice.",
    )
    client.force_login(org.maria.user)

    page = client.get(f"/exceptions/{pending.pk}/").content.decode()

    assert "Precedent 80" in page
    assert "Precedent 300" in page
    assert "were usually <strong>approved</strong> (2 of 2)" in page
    assert "Denying this one would differ" in page
    assert "Your decision" in page


def test_the_dashboard_lists_the_decisions_waiting_on_me_oldest_first(
    client, org, refund, as_actor
):
    first = exception_request(
        case=open_case(org),
        actor=as_actor(org.joanne),
        kind=refund,
        amount=Decimal("20"),
        justification="First",
    )
    second = exception_request(
        case=open_case(org),
        actor=as_actor(org.joanne),
        kind=refund,
        amount=Decimal("30"),
        justification="Second",
    )
    client.force_login(org.maria.user)

    page = client.get("/dashboard/").content.decode()

    assert page.index(f"/exceptions/{first.pk}/") < page.index(f"/exceptions/{second.pk}/")
