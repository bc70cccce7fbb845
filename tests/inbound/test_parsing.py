"""Whatever bytes arrive, reading them never fails: a broken email is still recorded."""

from hypothesis import given, settings
from hypothesis import strategies as st

from inbound.parsing import fold_quotes, html_to_text, parse_email

BROKEN = [
    b"",
    b"\x00\xff\xfe",
    b"From: \r\nSubject: =?utf-8?q?broken\r\n\r\nbody",
    b"From: a@b\r\nDate: not a date\r\nMessage-ID: no brackets\r\n\r\nx",
    b"From: a@b\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\n\xe9t\xe9",
    b"From: a@b\r\nContent-Type: multipart/mixed; boundary=\r\n\r\n--\r\n",
    b"From: a@b\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!",
    b"From: a@b\r\nMessage-ID: <" + b"x" * 2000 + b"@y>\r\n\r\nlong id",
]


def test_broken_emails_are_read_as_best_they_can_be():
    for raw in BROKEN:
        parsed = parse_email(raw)
        assert parsed.message_id.startswith("<")
        assert len(parsed.message_id) <= 255


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_at_all_are_read_without_an_error(raw):
    parsed = parse_email(raw)
    assert len(parsed.subject) <= 300


def test_quoted_history_is_folded_out_but_kept():
    text = (
        "Thanks, that works.\n> old line\nMore new text.\n\n"
        "On Mon, 23 Nov 2026 at 10:00,\nSupport <s@x> wrote:\n> earlier"
    )

    new, quoted = fold_quotes(text)

    assert new == "Thanks, that works.\nMore new text."
    assert quoted == "> old line\nOn Mon, 23 Nov 2026 at 10:00,\nSupport <s@x> wrote:\n> earlier"


def test_html_becomes_text_with_no_tag_left():
    text = html_to_text('<style>p{}</style><p>A &lt;b&gt;</p><iframe src="x">y</iframe>')

    assert text == "A <b>\ny"
