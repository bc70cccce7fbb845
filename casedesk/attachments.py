"""Attachments: the one way a file joins a case, the check it passes first, and its removal
from view.

Every upload path (a staff note or message, a hand-off answer, the client's message on the
status page; later the new-request form and inbound email) hands its files to `attach`
inside its own action, with the event they came with. Forms check the files first
(`check_uploads`, from their clean) so that a refused upload stores nothing and the page
keeps what the person typed; `attach` checks again whatever reaches it unchecked.

What is accepted is decided by the bytes, never by the name: PDF, PNG, JPEG, GIF, WebP,
UTF-8 plain text or CSV, and Word, Excel and OpenDocument files (a ZIP holding the
matching inner parts, without macros). Executables, scripts, HTML, SVG and other XML, and
any other ZIP are refused with a sentence saying why.

Nothing half-stored: the bytes are written under a random name before the row, inside
the action's transaction. An action that writes them is wrapped in `cleaned_up_on_failure`
(outside its atomic block): when the action fails (its transaction rolled back, no row),
the bytes written for it are deleted at once. So every stored file has its row, and a row
always has its bytes until it is removed from view (then the row stays, the bytes go).
Only a process killed between the two can leave bytes without a row: `python manage.py
attachment_orphans` lists them (and with --delete removes them).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone

from casedesk import permissions
from casedesk.actors import Actor
from casedesk.changes import lock_case, record, touch
from casedesk.errors import InvalidTransition, NotPermitted
from casedesk.models import Attachment, Case, CaseEvent, EventKind
from casedesk.notifications import notify

log = logging.getLogger(__name__)

NAME_LIMIT = 150
HEAD = 8192  # how much of a file its kind is read from


def storage():
    """The attachments' own storage (settings.STORAGES["attachments"]), read on each use so
    that a test's override of the setting is the storage used."""
    return storages["attachments"]


# --- What a file is, by its bytes ---------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    label: str  # as a sentence says it: "a PDF"
    content_type: str
    extensions: tuple[str, ...]


PDF = Kind("a PDF", "application/pdf", ("pdf",))
PNG = Kind("a PNG image", "image/png", ("png",))
JPEG = Kind("a JPEG image", "image/jpeg", ("jpg", "jpeg"))
GIF = Kind("a GIF image", "image/gif", ("gif",))
WEBP = Kind("a WebP image", "image/webp", ("webp",))
TEXT = Kind("a text file", "text/plain; charset=utf-8", ("txt", "text", "log"))
CSV = Kind("a CSV file", "text/csv; charset=utf-8", ("csv",))
DOCX = Kind(
    "a Word document",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ("docx",),
)
XLSX = Kind(
    "an Excel workbook",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ("xlsx",),
)
ODT = Kind("an OpenDocument text", "application/vnd.oasis.opendocument.text", ("odt",))
ODS = Kind(
    "an OpenDocument spreadsheet", "application/vnd.oasis.opendocument.spreadsheet", ("ods",)
)
ACCEPTED = (PDF, PNG, JPEG, GIF, WEBP, TEXT, CSV, DOCX, XLSX, ODT, ODS)
ACCEPTED_WORDS = (
    "PDF, PNG, JPEG, GIF or WebP images, plain text or CSV, "
    "Word (.docx), Excel (.xlsx) or OpenDocument (.odt, .ods) files"
)
# What a file that says it is one of these by its name is called in a refusal.
CLAIMED = {ext: kind for kind in ACCEPTED for ext in kind.extensions}

EXECUTABLE_MAGIC = (
    b"MZ",  # Windows
    b"\x7fELF",  # Linux
    b"\xfe\xed\xfa\xce",  # Mach-O, both byte orders and widths, and fat binaries
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
)
MARKUP = re.compile(rb"<\s*(!doctype\s+html|html|head|body|script|iframe|object|embed|svg)\b", re.I)
TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class Refused(Exception):
    """What a file is, when it is nothing we accept: its words for a refusal."""

    def __init__(self, found: str):
        super().__init__(found)
        self.found = found


def _sniff(file) -> Kind:
    """The kind of the file's content, or Refused saying what it contains instead."""
    file.seek(0)
    head = file.read(HEAD)
    if head.startswith(EXECUTABLE_MAGIC):
        raise Refused("a program (an executable)")
    if head.startswith(b"#!"):
        raise Refused("a script")
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"PK\x03\x04"):
        return _office_document(file)
    return _text(file)


def _office_document(file) -> Kind:
    """A ZIP is accepted only as an office document: the inner part that makes it one,
    and no macros (a .docm renamed .docx is still refused)."""
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
            if any(_is_macro(name) for name in names):
                raise Refused("macros")
            if "[Content_Types].xml" in names:
                if "word/document.xml" in names:
                    return DOCX
                if "xl/workbook.xml" in names:
                    return XLSX
            if "mimetype" in names:
                mimetype = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                for kind in (ODT, ODS):
                    if mimetype == kind.content_type:
                        return kind
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise Refused("a damaged ZIP archive") from None
    raise Refused("a ZIP archive that is not an office document")


def _is_macro(name: str) -> bool:
    """Word and Excel keep macros in vbaProject.bin; OpenDocument in Basic/ (and scripts in
    Scripts/)."""
    lowered = name.lower()
    return lowered.endswith("vbaproject.bin") or lowered.startswith(("basic/", "scripts/"))


def _text(file) -> Kind:
    """Plain text: UTF-8 all through, no NUL or other control characters, and nothing that
    reads as a web page, an image in SVG or other XML."""
    file.seek(0)
    data = file.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused("something that is not a kind of file we accept") from None
    if "\x00" in text or TEXT_CONTROLS.search(text):
        raise Refused("something that is not a kind of file we accept")
    if re.search(rb"<\s*svg\b", data, re.I):
        raise Refused("an SVG image")
    if MARKUP.search(data):
        raise Refused("HTML")
    if text.lstrip().startswith("<"):
        raise Refused("XML")
    return TEXT


# --- Checking uploads ------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file that passed the check: its cleaned name, the kind its content is, its size
    and digest, and the file to read it from."""

    name: str
    content_type: str
    size: int
    sha256: str
    file: object


def clean_name(name: str) -> str:
    """The uploader's file name without a path, control characters or quotes, NFC, at most
    NAME_LIMIT characters with its extension kept."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C" and c not in '"<>|*?:')
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip()
    if not name:
        return "attachment"
    if len(name) > NAME_LIMIT:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:10] if dot and stem else ""
        keep = NAME_LIMIT - (len(ext) + 1 if ext else 0)
        name = (stem if ext else name)[:keep].rstrip() + (f".{ext}" if ext else "")
    return name


def megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    text = f"{value:.1f}".removesuffix(".0")
    return f"{text} MB"


def check_uploads(files: Sequence) -> list[Upload]:
    """Each file checked (number, size, kind by content), or ValidationError with one
    sentence per refused file. Stores nothing."""
    files = [f for f in files if f is not None]
    limit, most = settings.CASEDESK_ATTACHMENT_MAX_BYTES, settings.CASEDESK_ATTACHMENT_MAX_FILES
    if len(files) > most:
        raise ValidationError(
            f"You attached {len(files)} files; at most {most} can go with one message."
        )
    checked, errors = [], []
    for file in files:
        if isinstance(file, Upload):
            checked.append(file)
            continue
        name = clean_name(getattr(file, "name", ""))
        size = file.size
        if size > limit:
            errors.append(f"{name} is {megabytes(size)}; the limit is {megabytes(limit)}.")
            continue
        if size == 0:
            errors.append(f"{name} is empty.")
            continue
        try:
            kind = _sniff(file)
        except Refused as refused:
            errors.append(_refusal(name, refused.found))
            continue
        ext = name.rpartition(".")[2].lower() if "." in name else ""
        if kind is TEXT and ext == "csv":
            kind = CSV
        checked.append(
            Upload(
                name=_named_as(name, ext, kind),
                content_type=kind.content_type,
                size=size,
                sha256=_digest(file),
                file=file,
            )
        )
    if errors:
        raise ValidationError(errors)
    return checked


def _named_as(name: str, ext: str, kind: Kind) -> str:
    """The name with the extension of what its bytes are, added when it has another (a
    text file named pay.vbs, a PDF named report.html): a download opens as what it is,
    never as a script or a web page from the downloads folder."""
    if ext in kind.extensions:
        return name
    suffix = f".{kind.extensions[0]}"
    return name[: NAME_LIMIT - len(suffix)].rstrip() + suffix


def _refusal(name: str, found: str) -> str:
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    claimed = CLAIMED.get(ext)
    if claimed is not None:
        return f"{name} is not {claimed.label}: it contains {found}."
    if found.startswith("something"):
        return f"{name} is not a kind of file we accept ({ACCEPTED_WORDS})."
    return f"{name} contains {found}, which cannot be attached ({ACCEPTED_WORDS} can)."


def _digest(file) -> str:
    file.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: file.read(64 * 1024), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


# --- Storing: bytes first, deleted again if the action fails ---------------------------

_written: ContextVar[list[str] | None] = ContextVar("casedesk_attachments_written", default=None)


def cleaned_up_on_failure(action):
    """Wrap an action (outside its @transaction.atomic) that may store files: if it raises,
    its transaction rolled back and no row names the bytes written for it, so they are
    deleted now. An action inside another's wrapper leaves the cleaning to the outer one."""

    @functools.wraps(action)
    def wrapper(*args, **kwargs):
        if _written.get() is not None:
            return action(*args, **kwargs)
        written: list[str] = []
        token = _written.set(written)
        try:
            return action(*args, **kwargs)
        except BaseException:
            _delete_quietly(written)
            raise
        finally:
            _written.reset(token)

    return wrapper


def _delete_quietly(names: Iterable[str]) -> None:
    for name in names:
        try:
            storage().delete(name)
        except Exception:  # a storage hiccup must not hide the action's own error
            log.exception("could not delete the attachment bytes %s", name)


def attach(
    *, case: Case, event: CaseEvent, files: Sequence, actor: Actor, now: datetime
) -> list[Attachment]:
    """Store `files` with `event` of `case`: every upload path's one way in. Called inside
    the action that wrote the event (in its transaction, wrapped in cleaned_up_on_failure);
    refuses (InvalidTransition, nothing stored) anything that does not pass the check."""
    if not files:
        return []
    if _written.get() is None:
        raise RuntimeError("attach() runs inside an action wrapped in cleaned_up_on_failure")
    try:
        uploads = check_uploads(files)
    except ValidationError as error:
        raise InvalidTransition(" ".join(error.messages)) from None
    attachments = []
    for upload in uploads:
        upload.file.seek(0)
        name = f"{now:%Y/%m}/{secrets.token_hex(16)}"
        stored = storage().save(name, upload.file)
        _written.get().append(stored)
        attachment = Attachment(
            case=case,
            event=event,
            stored_name=stored,
            original_name=upload.name,
            content_type=upload.content_type,
            size=upload.size,
            sha256=upload.sha256,
            uploaded_by_kind=actor.kind,
            uploaded_by_user=actor.user,
            uploaded_by_contact=actor.contact,
            created_at=now,
        )
        attachment.save(force_insert=True)
        attachments.append(attachment)
    return attachments


def orphaned_bytes(*, older_than: datetime) -> list[str]:
    """Stored files no row names (nor a removal pending its commit): what a process killed
    between writing the bytes and its rollback's clean-up can leave. Only those written
    before `older_than`, so an upload in flight is never one."""
    names, folders = [], [""]
    while folders:
        folder = folders.pop()
        subfolders, files = storage().listdir(folder)
        folders += [f"{folder}{sub}/" for sub in subfolders]
        names += [f"{folder}{name}" for name in files]
    known = set(
        Attachment.objects.filter(stored_name__in=names).values_list("stored_name", flat=True)
    )
    return sorted(
        name
        for name in names
        if name not in known and storage().get_modified_time(name) < older_than
    )


# --- Removing from view ----------------------------------------------------------------


@cleaned_up_on_failure
@transaction.atomic
def attachment_remove(
    *, attachment: Attachment, actor: Actor, reason: str, now: datetime | None = None
) -> Attachment:
    """Take a file out of view: its row and the timeline's record that it existed stay,
    with who removed it, when and why; its bytes are deleted once this commits. The
    client's contacts hear of it when they could see the file; its uploader, when someone
    else removed it."""
    case = lock_case(pk=attachment.case_id)
    attachment = (
        Attachment.objects.select_for_update(of=("self",))
        .select_related("event__handoff", "uploaded_by_user__staff")
        .get(pk=attachment.pk)
    )
    now = now or timezone.now()
    if not permissions.may_remove_attachment(case, attachment, actor):
        raise NotPermitted(f"You may not remove files from {case.reference}.")
    if attachment.is_removed:
        raise InvalidTransition(f"{attachment.original_name} was already removed from view.")
    if not reason.strip():
        raise InvalidTransition("Say why the file is removed.")
    attachment.removed_at, attachment.removed_by = now, actor.user
    attachment.removal_reason = reason.strip()
    attachment.save(update_fields=["removed_at", "removed_by", "removal_reason"])
    touch(case, now)
    record(
        case,
        actor,
        EventKind.ATTACHMENT_REMOVED,
        at=now,
        reason=f"{attachment.original_name} was removed from view: {reason.strip()}",
        handoff=attachment.event.handoff,
        client_visible=attachment.event.client_visible,
    )
    uploader = getattr(attachment.uploaded_by_user, "staff", None)
    if uploader is not None:
        notify(
            people=[uploader],
            case=case,
            subject=f"{case.reference}: your file {attachment.original_name} was removed",
            body=f"{actor} removed {attachment.original_name} from {case.reference}: "
            f"{reason.strip()}",
            now=now,
            actor=actor,
        )
    stored = attachment.stored_name
    transaction.on_commit(lambda: _delete_quietly([stored]))
    return attachment
