from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from casedesk.notifications import notifications_deliver_pending
from escalation.sweep import sweep


def parse_instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--at {text!r} is not an ISO-8601 date and time") from None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class Command(BaseCommand):
    help = (
        "Escalate what is overdue and warn what soon will be (the sweep task's work), then "
        "send the email that is due (the delivery task's), so it works without a worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--at", type=parse_instant, help="act as of this ISO-8601 instant")
        parser.add_argument("--dry-run", action="store_true", help="list, change nothing")

    def handle(self, *args, at=None, dry_run=False, **options):
        now = at or timezone.now()
        report = sweep(now=now, dry_run=dry_run)
        verb = "would be" if dry_run else "were"
        for line in report.lines:
            self.stdout.write(("(dry run) " if dry_run else "") + line)
        summary = (
            f"{len(report.escalated)} escalations and {len(report.warned)} warnings {verb} made"
        )
        if not dry_run:
            summary += f"; {notifications_deliver_pending(now=now)} notifications delivered"
        self.stdout.write(summary + ".")
