from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse

from casedesk.demo import PASSWORD, seed_demo
from casedesk.models import Case
from casedesk.status_links import status_token
from escalation.demo import install_exception_policies

DEMO_STATUS_CASE = "Waive the late-payment fee for October"


class Command(BaseCommand):
    help = "Create the demo organisation, people and cases (safe to run again)."

    def handle(self, *args, **options):
        # Lives in the escalation app, the top layer, so it can seed every app's part.
        with transaction.atomic():
            report = seed_demo()
            install_exception_policies()
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
        self.stdout.write(
            "Clients follow all their cases at "
            f"{settings.CASEDESK_SITE_URL.rstrip('/')}{reverse('client_sign_in_request')}: "
            "enter sam.rivera@harbordental.example and the sign-in link is emailed (with "
            "`make run`, printed in the terminal by the worker). sam and alex can also sign in "
            "with the password."
        )
        self.stdout.write(
            self.style.SUCCESS(
                "Demo ready. Sign in at http://127.0.0.1:8000/accounts/login/ as joanne, maria, "
                f"lee, devon, priya or admin; every password is '{PASSWORD}'."
            )
        )
