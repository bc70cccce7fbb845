from datetime import date

from django.core.management.base import BaseCommand
from django.db.models import Min
from django.utils import timezone

from casedesk.models import Case
from escalation.figures import figures_refresh, site_day


class Command(BaseCommand):
    help = (
        "Recompute the dashboard's stored figures from the cases, escalations and exception "
        "requests: every day since the first case (after loading data or a migration), or "
        "since --since."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", type=date.fromisoformat, help="first day (YYYY-MM-DD)")

    def handle(self, *args, since=None, **options):
        now = timezone.now()
        first = Case.objects.aggregate(first=Min("created_at"))["first"]
        since = since or (site_day(first) if first else site_day(now))
        figures_refresh(now=now, first_day=since, wait=True)  # after beat's, if one runs
        self.stdout.write(f"Figures recomputed from {since} to {site_day(now)}.")
