"""`python manage.py attachment_orphans [--minutes N] [--delete]`: the attachments storage's
files that no row names (casedesk.attachments.orphaned_bytes), written more than N minutes
ago (default 60, so an upload in flight is never one); with --delete, removed."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from casedesk import attachments


class Command(BaseCommand):
    help = "List (or --delete) stored attachment bytes that no attachment row names."

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=int, default=60)
        parser.add_argument("--delete", action="store_true")

    def handle(self, *args, minutes: int, delete: bool, **options):
        older_than = timezone.now() - timedelta(minutes=max(minutes, 0))
        orphans = attachments.orphaned_bytes(older_than=older_than)
        for name in orphans:
            if delete:
                attachments.storage().delete(name)
            self.stdout.write(f"{'deleted' if delete else 'orphan'}: {name}")
        self.stdout.write(f"{len(orphans)} stored file(s) without an attachment row.")
