"""The demo's email backend: one file per message, one log line per message."""

import email
import logging

from django.core import mail
from django.core.management import call_command

BACKEND = "casedesk.mail_backends.FileEmailBackend"


def test_each_message_is_its_own_file_and_one_log_line(tmp_path, caplog):
    connection = mail.get_connection(BACKEND, file_path=str(tmp_path / "mail"))
    messages = [
        mail.EmailMultiAlternatives(
            "CD-000001 escalated to you", "Plain.", to=["maria@casedesk.example"]
        ),
        mail.EmailMessage("Your sign-in link", "Link.", to=["sam.rivera@harbordental.example"]),
    ]
    messages[0].attach_alternative("<p>Rich.</p>", "text/html")

    with caplog.at_level(logging.INFO, logger="casedesk.mail"):
        sent = connection.send_messages(messages)

    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert sent == len(files) == 2
    parsed = {email.message_from_bytes(f.read_bytes())["To"]: f for f in files}
    assert set(parsed) == {"maria@casedesk.example", "sam.rivera@harbordental.example"}
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [
        f"mail to maria@casedesk.example: CD-000001 escalated to you "
        f"({parsed['maria@casedesk.example']})",
        f"mail to sam.rivera@harbordental.example: Your sign-in link "
        f"({parsed['sam.rivera@harbordental.example']})",
    ]


def test_seed_demo_says_where_the_demo_s_emails_are(db, settings, tmp_path, capsys):
    settings.EMAIL_BACKEND = BACKEND
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")

    call_command("seed_demo")

    assert f"The demo's emails are files in {tmp_path / 'mail'}" in capsys.readouterr().out
