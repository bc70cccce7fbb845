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


def _decided_in_institutional_services(org, refund, as_actor):
    from casedesk import services

    case = services.case_open(
        actor=as_actor(org.devon), client=org.northwind, subject="Double debit"
    )
    earlier = exception_request(
        case=case,
        actor=as_actor(org.devon),
        kind=refund,
        amount=Decimal("90"),
        justification="Debited twice.",
    )
    exception_decide(
        request=earlier,
        actor=as_actor(org.priya),
        approve=False,
        rationale="Alex Kim of Northwind was refunded last month already.",
    )
    return case


def test_precedents_from_another_department_keep_their_rationale_and_case_to_themselves(
    client, org, refund, as_actor
):
    theirs = _decided_in_institutional_services(org, refund, as_actor)
    pending = exception_request(
        case=open_case(org),
        actor=as_actor(org.joanne),
        kind=refund,
        amount=Decimal("85"),
        justification="Charged twice.",
    )
    client.force_login(org.maria.user)

    page = client.get(f"/exceptions/{pending.pk}/").content.decode()

    assert "Alex Kim" not in page
    assert theirs.reference not in page
    row = page.split("<tbody>")[1].split("</tr>")[0]  # theirs, the only earlier decision
    assert "90.00" in row
    assert "Denied" in row
    assert "Priya" in row
    assert "stays with that department" in row
    assert "were usually <strong>denied</strong> (1 of 1)" in page  # consistency still counts


def test_the_director_over_both_departments_reads_every_precedents_rationale(
    client, org, refund, as_actor
):
    theirs = _decided_in_institutional_services(org, refund, as_actor)
    pending = exception_request(
        case=open_case(org),
        actor=as_actor(org.joanne),
        kind=refund,
        amount=Decimal("250"),
        justification="Charged twice.",
    )
    client.force_login(org.lee.user)

    page = client.get(f"/exceptions/{pending.pk}/").content.decode()

    assert "Alex Kim of Northwind was refunded" in page
    assert theirs.reference in page


def test_the_department_a_case_was_handed_to_cannot_open_its_exception_requests(
    client, org, refund, as_actor
):
    from tests.casedesk.helpers import case_in_state

    case = case_in_state(org, "cross_department")
    request = exception_request(
        case=case,
        actor=as_actor(org.joanne),
        kind=refund,
        amount=Decimal("40"),
        justification=f"{org.sam.name} was charged twice.",
    )
    client.force_login(org.priya.user)

    assert client.get(f"/cases/{case.reference}/").status_code == 200  # the summary, yes
    assert client.get(f"/exceptions/{request.pk}/").status_code == 404
    assert client.get(f"/cases/{case.reference}/exceptions/new").status_code == 404
    refused = client.post(f"/exceptions/{request.pk}/decide", {"outcome": "deny"})
    assert refused.status_code == 404
    assert org.sam.name not in refused.content.decode()
