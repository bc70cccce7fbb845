from django.core.management.base import BaseCommand

from casedesk.demo import PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create the demo organisation, people and cases (safe to run again)."

    def handle(self, *args, **options):
        report = seed_demo()
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
