"""Attachments: every upload path round-trips, what is refused stores nothing and keeps
what was typed, each person downloads only what the one visibility rule lets them, and a
file removed from view keeps its record."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from casedesk import attachments, handoffs, services
from casedesk.actors import Actor
from casedesk.errors import InvalidTransition, NotPermitted
from casedesk.models import Attachment, Case, EventKind
from casedesk.status_links import status_token
from tests.casedesk.helpers import ask_devon
from tests.factories import open_case

PDF_BYTES = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def pdf(name="statement.pdf", body=PDF_BYTES):
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def office(name: str, parts: dict[str, bytes]) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part, data in parts.items():
            archive.writestr(part, data)
    return SimpleUploadedFile(name, buffer.getvalue())


def docx(name="letter.docx"):
    return office(name, {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})


def stored_files(settings) -> list[Path]:
    root = Path(settings.STORAGES["attachments"]["OPTIONS"]["location"])
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def signed_in(client, person):
    client.force_login(person.user)
    return client


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def note_url(case, action="note"):
    return f"/cases/{case.reference}/act/{action}"


def download_url(attachment):
    return f"/cases/{attachment.case.reference}/attachments/{attachment.pk}/"


# --- Upload and download, on every path -------------------------------------------------


def test_a_note_with_files_is_stored_shown_and_downloaded_as_an_attachment(client, org):
    case = open_case(org)
    signed_in(client, org.joanne)

    response = client.post(
        note_url(case),
        {"version": case.version, "text": "The statements.", "files": [pdf(), docx()]},
    )

    assert response.status_code == 302
    statement, letter = Attachment.objects.filter(case=case).order_by("pk")
    assert statement.event.kind == EventKind.NOTE
    assert (statement.original_name, statement.content_type) == ("statement.pdf", "application/pdf")
    assert statement.size == len(PDF_BYTES)
    assert statement.uploaded_by_user == org.joanne.user
    assert "statement" not in statement.stored_name  # the stored name is random
    assert letter.content_type.endswith("wordprocessingml.document")
    page = client.get(f"/cases/{case.reference}/").content.decode()
    assert download_url(statement) in page
    assert "letter.docx" in page
    download = client.get(download_url(statement))
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="statement.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Type"] == "application/pdf"
    assert body(download) == PDF_BYTES


def test_a_message_to_the_client_is_downloaded_from_their_status_page(client, org):
    case = open_case(org)
    signed_in(client, org.joanne)
    client.post(
        note_url(case, "message"),
        {"version": case.version, "text": "Your invoice.", "files": [pdf("invoice.pdf")]},
    )
    case.refresh_from_db()
    client.post(
        note_url(case),
        {"version": case.version, "text": "Internal.", "files": [pdf("internal.pdf")]},
    )
    client.logout()
    message, internal = Attachment.objects.filter(case=case).order_by("pk")
    token = status_token(case)

    page = client.get(f"/status/{token}/").content.decode()
    shown = client.get(f"/status/{token}/attachments/{message.pk}/")
    hidden = client.get(f"/status/{token}/attachments/{internal.pk}/")

    assert "invoice.pdf" in page
    assert "internal.pdf" not in page
    assert shown.status_code == 200
    assert body(shown) == PDF_BYTES
    assert shown["Content-Disposition"].startswith("attachment;")
    assert hidden.status_code == 404


def test_the_client_attaches_files_to_a_message_and_the_holder_downloads_them(client, org):
    case = open_case(org)
    token = status_token(case)
    csv = SimpleUploadedFile("members.csv", "name,plan\nZoë,gold\n".encode())

    response = client.post(
        f"/status/{token}/", {"action": "message", "text": "The list.", "files": [csv]}
    )

    assert response.status_code == 302
    attachment = Attachment.objects.get(case=case)
    assert attachment.event.kind == EventKind.MESSAGE
    assert attachment.event.client_visible
    assert attachment.uploaded_by_kind == "client"
    assert attachment.content_type == "text/csv; charset=utf-8"
    mine = client.get(f"/status/{token}/attachments/{attachment.pk}/")
    assert body(mine) == "name,plan\nZoë,gold\n".encode()
    signed_in(client, org.joanne)
    theirs = client.get(download_url(attachment))
    assert theirs.status_code == 200
    assert theirs["Content-Type"] == "text/csv; charset=utf-8"


def test_a_hand_off_answer_carries_files_to_the_requesting_side(client, org):
    case = open_case(org)
    handoff = ask_devon(org, case)
    signed_in(client, org.devon)

    response = client.post(
        f"/cases/{case.reference}/handoffs/{handoff.pk}/answer",
        {"outcome": "complete", "answer": "Re-mapped: see the file.", "files": [pdf("map.pdf")]},
    )

    assert response.status_code == 302
    attachment = Attachment.objects.get(case=case)
    assert attachment.event.kind == EventKind.HANDOFF_COMPLETED
    assert client.get(download_url(attachment)).status_code == 200  # devon, who gave it
    signed_in(client, org.joanne)
    assert client.get(download_url(attachment)).status_code == 200
    assert "map.pdf" in client.get(f"/cases/{case.reference}/").content.decode()


# --- Refusals: why, nothing stored, what was typed kept ---------------------------------

REFUSED = [
    (
        [pdf("big.pdf", b"%PDF-1.7\n" + b"0" * (1536 * 1024))],
        "big.pdf is 1.5 MB; the limit is 1 MB.",
    ),
    ([pdf(f"page{n}.pdf") for n in range(6)], "You attached 6 files; at most 5 can go with one"),
    ([pdf("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 60)], "invoice.pdf is not a PDF: it contains a"),
    ([pdf("x.pdf", b"<!DOCTYPE html><html><body>Pay here</body></html>")], "x.pdf is not a PDF: "),
    (
        [SimpleUploadedFile("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>')],
        "logo.svg contains an SVG image, which cannot be attached",
    ),
    ([SimpleUploadedFile("run.txt", b"#!/bin/sh\nrm -rf /\n")], "run.txt is not a text file"),
    ([office("data.zip", {"evil.exe": b"MZ"})], "data.zip contains a ZIP archive that is not"),
]


@pytest.mark.parametrize(("files", "why"), REFUSED)
def test_a_refused_upload_from_staff_says_why_stores_nothing_and_keeps_the_text(
    client, org, settings, files, why
):
    settings.CASEDESK_ATTACHMENT_MAX_BYTES = 1024 * 1024
    case = open_case(org)
    signed_in(client, org.joanne)
    for file in files:
        file.seek(0)

    response = client.post(
        note_url(case), {"version": case.version, "text": "zq-typed-words", "files": files}
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert why.replace("'", "&#x27;") in page
    assert "zq-typed-words" in page  # what was typed is kept
    assert not Attachment.objects.exists()
    assert stored_files(settings) == []
    assert not case.events.filter(kind=EventKind.NOTE).exists()


@pytest.mark.parametrize(("files", "why"), REFUSED[2:5])
def test_a_refused_upload_on_the_status_page_says_why_and_keeps_the_message(
    client, org, settings, files, why
):
    case = open_case(org)
    for file in files:
        file.seek(0)

    response = client.post(
        f"/status/{status_token(case)}/",
        {"action": "message", "text": "zq-typed-words", "files": files},
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert why in page
    assert "zq-typed-words" in page
    assert not Attachment.objects.exists()
    assert stored_files(settings) == []


def test_html_is_refused_whatever_its_name_says():
    html = SimpleUploadedFile("x.pdf", b"<html><script>alert(1)</script></html>")

    with pytest.raises(ValidationError) as refused:
        attachments.check_uploads([html])

    assert refused.value.messages == ["x.pdf is not a PDF: it contains HTML."]


def test_office_documents_are_accepted_by_their_inner_parts_but_not_with_macros():
    sheet = office("plan.xlsx", {"[Content_Types].xml": b"<T/>", "xl/workbook.xml": b"<w/>"})
    odt = office("note.odt", {"mimetype": b"application/vnd.oasis.opendocument.text"})
    macros = office(
        "letter.docx",
        {"[Content_Types].xml": b"<T/>", "word/document.xml": b"<w/>", "word/vbaProject.bin": b""},
    )

    kinds = [upload.content_type for upload in attachments.check_uploads([sheet, odt])]
    with pytest.raises(ValidationError) as refused:
        attachments.check_uploads([macros])

    assert kinds[0].endswith("spreadsheetml.sheet")
    assert kinds[1] == "application/vnd.oasis.opendocument.text"
    assert refused.value.messages == ["letter.docx is not a Word document: it contains macros."]


def test_images_are_known_by_their_bytes_not_their_names():
    png_named_jpg = SimpleUploadedFile("photo.jpg", PNG_BYTES)
    gif = SimpleUploadedFile("a.gif", b"GIF89a" + b"\x00" * 10)
    webp = SimpleUploadedFile("a.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 ")

    kinds = [u.content_type for u in attachments.check_uploads([png_named_jpg, gif, webp])]

    assert kinds == ["image/png", "image/gif", "image/webp"]


def test_file_names_lose_their_paths_and_controls_and_keep_their_extension():
    assert attachments.clean_name("C:\\Users\\x\\..\\report.pdf") == "report.pdf"
    assert attachments.clean_name('../../etc/"pass\x00wd".txt') == "passwd.txt"
    assert attachments.clean_name("...") == "attachment"
    long = attachments.clean_name("a" * 400 + ".pdf")
    assert len(long) == attachments.NAME_LIMIT
    assert long.endswith(".pdf")


def test_a_name_outside_ascii_is_sent_as_filename_star(client, org):
    case = open_case(org)
    signed_in(client, org.joanne)
    client.post(
        note_url(case), {"version": case.version, "text": "x", "files": [pdf("Übersicht.pdf")]}
    )

    download = client.get(download_url(Attachment.objects.get()))

    assert "filename*=utf-8''%C3%9Cbersicht.pdf" in download["Content-Disposition"]
    assert download["Content-Disposition"].startswith("attachment;")


# --- Nothing half-stored -----------------------------------------------------------------


def test_an_action_that_fails_after_storing_leaves_neither_row_nor_bytes(org, settings):
    case = open_case(org)
    event_kinds = set(case.events.values_list("kind", flat=True))

    @attachments.cleaned_up_on_failure
    @transaction.atomic
    def note_then_fail(**kwargs):
        services.case_add_note(**kwargs)
        assert stored_files(settings), "the bytes were written inside the action"
        raise InvalidTransition("something later refused the change")

    with pytest.raises(InvalidTransition):
        note_then_fail(case=case, actor=Actor.for_staff(org.joanne), text="x", files=[pdf()])

    assert not Attachment.objects.exists()
    assert stored_files(settings) == []
    assert set(case.events.values_list("kind", flat=True)) == event_kinds


def test_attach_refuses_to_store_outside_an_action_that_cleans_up(org):
    case = open_case(org)

    with pytest.raises(RuntimeError):
        attachments.attach(
            case=case,
            event=case.events.get(),
            files=[pdf()],
            actor=Actor.for_staff(org.joanne),
            now=timezone.now(),
        )


def test_the_service_checks_what_reaches_it_unchecked(org, settings):
    case = open_case(org)

    with pytest.raises(InvalidTransition, match="it contains a program"):
        services.case_add_note(
            case=case,
            actor=Actor.for_staff(org.joanne),
            text="From email",
            files=[pdf("scan.pdf", b"\x7fELF\x02\x01")],
        )

    assert not Attachment.objects.exists()
    assert stored_files(settings) == []


# --- Who downloads what ------------------------------------------------------------------


def test_another_department_downloads_only_the_files_a_hand_off_shares_with_it(client, org):
    case = open_case(org)
    joanne = Actor.for_staff(org.joanne)
    services.case_add_note(case=case, actor=joanne, text="a", files=[pdf("shared.pdf")])
    services.case_add_note(
        case=Case.objects.get(pk=case.pk), actor=joanne, text="b", files=[pdf("private.pdf")]
    )
    shared, private = Attachment.objects.order_by("pk")
    handoffs.handoff_request(
        case=Case.objects.get(pk=case.pk),
        actor=joanne,
        to_department=org.institutional,
        accountable=org.devon,
        request="Re-map",
        shared_summary="Two accounts",
        shared_attachments=[shared],
    )
    signed_in(client, org.devon)

    page = client.get(f"/cases/{case.reference}/").content.decode()

    assert "shared.pdf" in page
    assert "private.pdf" not in page
    assert client.get(download_url(shared)).status_code == 200
    assert client.get(download_url(private)).status_code == 404


def test_the_hand_off_form_offers_the_case_files_to_share(client, org):
    case = open_case(org)
    services.case_add_note(
        case=case, actor=Actor.for_staff(org.joanne), text="a", files=[pdf("shared.pdf")]
    )
    case.refresh_from_db()
    shared = Attachment.objects.get()
    signed_in(client, org.joanne)

    response = client.post(
        note_url(case, "request_handoff"),
        {
            "version": case.version,
            "to_department": org.institutional.pk,
            "accountable": org.devon.pk,
            "request": "Re-map",
            "shared_summary": "Two accounts",
            "shared_attachments": [shared.pk],
        },
    )

    assert response.status_code == 302
    assert list(case.handoffs.get().shared_attachments.all()) == [shared]


def test_a_file_of_another_case_cannot_be_shared(org):
    first, second = open_case(org), open_case(org, subject="Another")
    services.case_add_note(
        case=first, actor=Actor.for_staff(org.joanne), text="a", files=[pdf("first.pdf")]
    )

    with pytest.raises(InvalidTransition):
        handoffs.handoff_request(
            case=second,
            actor=Actor.for_staff(org.joanne),
            to_department=org.institutional,
            accountable=org.devon,
            request="Re-map",
            shared_summary="Two accounts",
            shared_attachments=[Attachment.objects.get()],
        )


def test_a_status_link_opens_only_its_own_case_files(client, org):
    first, second = open_case(org), open_case(org, subject="Another")
    services.case_add_note(
        case=first,
        actor=Actor.for_staff(org.joanne),
        text="a",
        client_visible=True,
        files=[pdf()],
    )
    attachment = Attachment.objects.get()

    other = client.get(f"/status/{status_token(second)}/attachments/{attachment.pk}/")
    own = client.get(f"/status/{status_token(first)}/attachments/{attachment.pk}/")

    assert other.status_code == 404
    assert own.status_code == 200


# --- Removal from view -------------------------------------------------------------------


def test_removing_a_file_keeps_its_record_deletes_its_bytes_and_404s_its_download(
    client, org, settings, django_capture_on_commit_callbacks
):
    case = open_case(org)
    services.case_add_note(
        case=case,
        actor=Actor.for_staff(org.joanne),
        text="Invoice",
        client_visible=True,
        files=[pdf("invoice.pdf")],
    )
    attachment = Attachment.objects.get()
    signed_in(client, org.maria)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/cases/{case.reference}/attachments/{attachment.pk}/remove",
            {"reason": "Sent to the wrong client."},
        )

    assert response.status_code == 302
    attachment.refresh_from_db()
    assert attachment.removed_at is not None
    assert attachment.removed_by == org.maria.user
    assert attachment.removal_reason == "Sent to the wrong client."
    removal = case.events.get(kind=EventKind.ATTACHMENT_REMOVED)
    assert "invoice.pdf" in removal.reason
    assert removal.client_visible
    assert stored_files(settings) == []
    gone = client.get(download_url(attachment))
    assert gone.status_code == 404
    assert "removed from view" in gone.content.decode()
    page = client.get(f"/cases/{case.reference}/").content.decode()
    assert "invoice.pdf" in page
    assert "removed from view on" in page
    client.logout()
    status = client.get(f"/status/{status_token(case)}/attachments/{attachment.pk}/")
    assert status.status_code == 404


def test_removing_needs_a_reason_and_someone_who_works_the_case(client, org):
    case = open_case(org)
    services.case_add_note(case=case, actor=Actor.for_staff(org.joanne), text="a", files=[pdf()])
    attachment = Attachment.objects.get()
    signed_in(client, org.joanne)

    blank = client.post(f"/cases/{case.reference}/attachments/{attachment.pk}/remove", {})

    assert blank.status_code == 400
    with pytest.raises(NotPermitted):
        attachments.attachment_remove(
            attachment=attachment, actor=Actor.for_staff(org.devon), reason="Not mine"
        )
    attachment.refresh_from_db()
    assert attachment.removed_at is None


def test_bytes_no_row_names_are_listed_and_deleted_by_the_orphans_command(org, settings):
    case = open_case(org)
    services.case_add_note(case=case, actor=Actor.for_staff(org.joanne), text="a", files=[pdf()])
    kept = Attachment.objects.get().stored_name
    lost = attachments.storage().save("2026/11/left-by-a-killed-process", io.BytesIO(b"x"))
    out = io.StringIO()

    call_command("attachment_orphans", "--minutes", "0", stdout=out)
    assert f"orphan: {lost}" in out.getvalue()
    assert kept not in out.getvalue()
    call_command("attachment_orphans", "--minutes", "0", "--delete", stdout=io.StringIO())

    assert not attachments.storage().exists(lost)
    assert attachments.storage().exists(kept)


def test_the_orphans_command_leaves_uploads_in_flight_alone(org, settings):
    lost = attachments.storage().save("2026/11/being-uploaded", io.BytesIO(b"x"))

    call_command("attachment_orphans", "--delete", stdout=io.StringIO())  # older than an hour

    assert attachments.storage().exists(lost)
