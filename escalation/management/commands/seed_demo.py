from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from casedesk.demo import PASSWORD, seed_demo
from casedesk.models import Case
from casedesk.status_links import status_token
from escalation.demo import install_exception_policies
from escalation.figures import figures_refresh

DEMO_STATUS_CASE = "Waive the late-payment fee for October"


class Command(BaseCommand):
    help = "Create the demo organisation, people and cases (safe to run again)."

    def handle(self, *args, **options):
        # Lives in the escalation app, the top layer, so it can seed every app's part.
        with transaction.atomic():
            report = seed_demo()
            install_exception_policies()
        # The dashboard's figures at once, not at beat's first refresh.
        figures_refresh(now=timezone.now())
        for line in report.created:
            self.stdout.write(f"  created {line}")
        if not report.created:
            self.stdout.write("Demo data already present; nothing to add.")
        demo_case = Case.objects.filter(subject=DEMO_STATUS_CASE).first()
        if demo_case:
            link = reverse("status_page", args=[status_token(demo_case)])
            self.stdout.write(
                f"The demo client's status page ({demo_case.reference}): "
                f"{settings.CASEDESK_SITE_URL.rstrip('/')}{link}"
            )
        site = settings.CASEDESK_SITE_URL.rstrip("/")
        self.stdout.write(
            f"Clients follow all their cases at {site}{reverse('client_sign_in_request')}: "
            "enter sam.rivera@harbordental.example and the sign-in link is emailed. sam and "
            "alex can also sign in with the password."
        )
        self.stdout.write(_where_emails_go())
        if apps.is_installed("inbound"):  # the layer beside this one seeds its own part
            call_command("seed_demo_mail", stdout=self.stdout)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready. Sign in at {site}{reverse('login')} as joanne, maria, "
                f"lee, devon, priya or admin; every password is '{PASSWORD}'."
            )
        )


def _where_emails_go() -> str:
    if settings.EMAIL_BACKEND == "casedesk.mail_backends.FileEmailBackend":
        return (
            f"The demo's emails are files in {settings.EMAIL_FILE_PATH} (one .eml each); the "
            "worker logs one line per message: who it went to and its subject."
        )
    return f"Emails are sent by {settings.EMAIL_BACKEND}."
