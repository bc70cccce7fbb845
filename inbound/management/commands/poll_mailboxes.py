import time

from django.conf import settings
from django.core.management.base import BaseCommand

from inbound.imap import poll_mailboxes


class Command(BaseCommand):
    help = (
        "Read the active mailboxes: each message recorded (and acted on), then moved to its "
        "mailbox's processed folder. Every CASEDESK_MAIL_POLL_SECONDS until stopped, or once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="Poll each mailbox once, then exit."
        )

    def handle(self, *args, once: bool = False, **options):
        while True:
            for poll in poll_mailboxes():
                self.stdout.write(str(poll))
                self.stdout.flush()
            if once:
                return
            time.sleep(settings.CASEDESK_MAIL_POLL_SECONDS)
