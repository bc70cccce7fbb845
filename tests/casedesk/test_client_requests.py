"""A client contact sends a new request from their own page: it lands with their client's
department (its intake: casedesk.routing), they see it on their list at once, and a
refusal keeps what they typed."""

import re

from casedesk.models import Case
from casedesk.status_links import status_token
from casedesk.views.client_access import SESSION_KEY
from tests.factories import open_case


def signed_in_as(client, contact):
    """The state an emailed sign-in link leaves (tests/casedesk/test_client_sign_in.py)."""
    session = client.session
    session[SESSION_KEY] = contact.pk
    session.save()
    return client


def test_a_contact_sends_a_request_and_sees_it_on_their_list_at_once(client, org):
    signed_in_as(client, org.sam)
    form = client.get("/status/")
    assert 'href="/status/new/"' in form.content.decode()

    sent = client.post(
        "/status/new/", {"subject": "Card declined", "description": "At the pharmacy counter."}
    )

    case = Case.objects.get(subject="Card declined")
    assert (case.client, case.owner, case.state) == (org.harbor, org.joanne, "open")
    assert case.description == "At the pharmacy counter."
    assert sent.status_code == 302
    assert sent.url == f"/status/{status_token(case)}/"
    page = client.get(sent.url).content.decode()
    assert f"Sent: {case.reference} is with Joanne" in page
    assert "We received your request" in page  # not "We opened your case": they did
    listed = client.get("/status/?show=open").content.decode()
    assert re.search(rf"{case.reference} · [^<]*</div>\s*<a[^>]*>Card declined</a>", listed)


def test_a_request_without_a_subject_is_refused_and_keeps_what_was_typed(client, org):
    signed_in_as(client, org.sam)

    refused = client.post("/status/new/", {"subject": " ", "description": "Kept, every word."})

    assert refused.status_code == 400
    page = refused.content.decode()
    assert "This field is required." in page
    assert "Kept, every word." in page
    assert not Case.objects.exists()


def test_only_a_signed_in_contact_may_send_one(client, org):
    anonymous = client.post("/status/new/", {"subject": "S", "description": "D"})
    client.force_login(org.joanne.user)
    staff = client.get("/status/new/")

    assert anonymous.status_code == 302
    assert anonymous.url == "/status/sign-in/"
    assert staff.status_code == 302
    assert not Case.objects.exists()


def test_a_closed_case_past_reopening_points_to_a_new_request(client, org):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from casedesk import services
    from casedesk.actors import Actor

    with time_machine.travel(timezone.now() - timedelta(days=400), tick=False):
        case = open_case(org)
        services.case_resolve(case=case, actor=Actor.for_staff(org.joanne), summary="Refunded.")

    page = client.get(f"/status/{status_token(Case.objects.get(pk=case.pk))}/").content.decode()

    assert "Send us a new request" in page
    assert 'href="/status/new/"' in page
    assert "You can reopen it" not in page
