from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import Department
from inbound.models import Mailbox, Security

# The demo's department mailboxes: not polled (no mail server), but the addresses its drop
# folder and reply addresses are read against (inbound/drop.py).
DEMO_MAILBOXES = {
    "Client Support": "support@casedesk.example",
    "Institutional Services": "institutional@casedesk.example",
}


class Command(BaseCommand):
    help = "Give the demo's departments a mailbox each, and say how to email the demo."

    def handle(self, *args, **options):
        for name, address in DEMO_MAILBOXES.items():
            department = Department.objects.filter(name=name).first()
            if department is None:
                continue
            Mailbox.objects.get_or_create(
                address=address,
                defaults={
                    "department": department,
                    "host": "localhost",
                    "port": 143,
                    "security": Security.NONE,
                    "username": "demo",
                    "active": False,  # no IMAP server in the demo: its drop folder instead
                },
            )
        folder = settings.CASEDESK_MAIL_DROP_DIR
        if folder:
            self.stdout.write(
                f"Email in: the demo receives the .eml files dropped in {folder} every "
                f"{settings.CASEDESK_MAIL_POLL_SECONDS} s. Try `cp docs/demo-email.eml "
                f"{folder}/`: Sam of Harbor Dental writes to support@casedesk.example, and "
                "the email becomes a case held by Client Support's intake (an unknown sender's "
                "waits under Mail, Unassigned)."
            )
