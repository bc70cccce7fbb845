from django.core.management.base import BaseCommand
from django.db import transaction

from casedesk.demo import PASSWORD, seed_demo
from escalation.demo import install_exception_policies


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
        self.stdout.write(
            self.style.SUCCESS(
                "Demo ready. Sign in at http://127.0.0.1:8000/accounts/login/ as joanne, maria, "
                f"lee, devon, priya or admin; every password is '{PASSWORD}'."
            )
        )
