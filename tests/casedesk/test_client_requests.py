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


def test_a_request_carries_files_the_holder_downloads(client, org):
    from casedesk.models import Attachment, EventKind
    from tests.casedesk.test_attachments import body, pdf, stored_files

    signed_in_as(client, org.sam)

    sent = client.post(
        "/status/new/",
        {"subject": "Statement wrong", "description": "See page 2.", "files": [pdf()]},
    )

    assert sent.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.event.kind == EventKind.OPENED
    assert attachment.uploaded_by_contact == org.sam
    assert len(stored_files(django_settings())) == 1
    assert "statement.pdf" in client.get(sent.url).content.decode()
    client.force_login(org.joanne.user)
    download = client.get(f"/cases/{attachment.case.reference}/attachments/{attachment.pk}/")
    assert body(download).startswith(b"%PDF")


def test_a_request_with_a_disguised_program_is_refused_whole_and_keeps_the_text(client, org):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from casedesk.models import Attachment
    from tests.casedesk.test_attachments import stored_files

    signed_in_as(client, org.sam)
    program = SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 60)

    refused = client.post(
        "/status/new/",
        {"subject": "Invoice", "description": "Typed with care.", "files": [program]},
    )

    assert refused.status_code == 400
    page = refused.content.decode()
    assert "invoice.pdf" in page
    assert "Typed with care." in page
    assert not Case.objects.exists()
    assert not Attachment.objects.exists()
    assert stored_files(django_settings()) == []


def django_settings():
    from django.conf import settings

    return settings


def test_a_department_with_nobody_to_hold_a_request_says_so_plainly_and_keeps_the_text(client, org):
    for person in (org.devon, org.priya):
        person.user.is_active = False
        person.user.save()
    signed_in_as(client, org.alex)

    refused = client.post("/status/new/", {"subject": "Wire", "description": "Kept here."})

    assert refused.status_code == 503
    page = refused.content.decode()
    assert "Institutional Services cannot take new requests here right now" in page
    assert "has no active staff" not in page  # the administrator's words stay in the log
    assert "Kept here." in page
    assert not Case.objects.exists()


def test_a_long_folded_subject_is_cut_to_fit_not_refused(org):
    from casedesk import services

    case = services.case_request_open(
        contact=org.sam, subject="Re: " + "very long\n\tsubject " * 40, via="email"
    )

    assert len(case.subject) == 200
    assert case.subject.endswith("…")
    assert "\n" not in case.subject
