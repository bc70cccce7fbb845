from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from escalation.sweep import sweep


def parse_instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--at {text!r} is not an ISO-8601 date and time") from None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class Command(BaseCommand):
    help = "Escalate what is overdue and warn what soon will be (the beat task's work)."

    def add_arguments(self, parser):
        parser.add_argument("--at", type=parse_instant, help="act as of this ISO-8601 instant")
        parser.add_argument("--dry-run", action="store_true", help="list, change nothing")

    def handle(self, *args, at=None, dry_run=False, **options):
        report = sweep(now=at, dry_run=dry_run)
        verb = "would be" if dry_run else "were"
        for line in report.lines:
            self.stdout.write(("(dry run) " if dry_run else "") + line)
        self.stdout.write(
            f"{len(report.escalated)} escalations and {len(report.warned)} warnings {verb} made"
            + ("" if dry_run else f"; {report.delivered} notifications delivered")
            + "."
        )
