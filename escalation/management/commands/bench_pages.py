"""`make bench`, after the sweep's table: each page's server time and queries, per role.

In-process (Django's test Client, the whole middleware stack, no network), with DEBUG off:
for each page, 3 requests to warm up, then 20 timed; prints the median and 90th percentile
of the server time, the queries per request (the most any timed request made) and the size
of the HTML. On the bench data set already loaded (escalation.bench_data; `--cases N` loads
one of N cases unless the database holds one of that size). Numbers to read, not a test.
"""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from casedesk.management.commands.bench_queue import BENCH_SEARCHES, bench_search
from casedesk.models import ACTIVE_STATES, Case, HandOff, HandOffState
from casedesk.status_links import status_token
from escalation import bench_data
from escalation.figures import figures_refresh

HOST = "127.0.0.1"


def queue(view: str, search: str = "") -> str:
    query = {"view": view, **({"q": search} if search else {})}
    return f"{reverse('case_queue')}?{urlencode(query)}"


class Command(BaseCommand):
    help = "Time each role's pages on the bench data set (see `make bench`)."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=20)
        parser.add_argument("--warmups", type=int, default=3)
        parser.add_argument(
            "--cases", type=int, help="create and load a bench database of N cases if needed"
        )

    def handle(self, *args, requests, warmups, cases, **options):
        if settings.DEBUG:
            raise CommandError("Time pages as production runs them: DJANGO_DEBUG=0.")
        # It signs people in (and the load test writes their session cookies to disk).
        bench_data.require_bench_database()
        if cases is not None:
            bench_data.ensure(cases, say=self.stdout.write)
        if not Case.objects.exists():
            raise CommandError("No cases: load the bench data set first (`make bench`).")
        # The dashboard reads the figures beat keeps; bulk-loaded cases have none yet.
        started = time.perf_counter()
        figures_refresh(now=timezone.now())
        self.stdout.write(f"Dashboard figures recomputed in {time.perf_counter() - started:.1f} s")
        rows = [
            (label, who, *self._time(who, path, requests, warmups))
            for label, who, path in self._pages()
        ]
        total = Case.objects.count()
        active = Case.objects.filter(state__in=ACTIVE_STATES).count()
        self.stdout.write(
            f"\nPages over {total:,} cases ({active:,} open), {connection.vendor}, DEBUG off: "
            f"server time of {requests} requests after {warmups} warm-ups"
        )
        self.stdout.write(
            f"{'page':<44} {'as':<7} {'median ms':>10} {'p90 ms':>8} {'queries':>8} {'KB':>7}"
        )
        for label, who, median, p90, queries, size in rows:
            self.stdout.write(
                f"{label:<44} {who or 'anyone':<7} {median:>10.1f} {p90:>8.1f} "
                f"{queries:>8} {size / 1024:>7.1f}"
            )

    @staticmethod
    def _pages() -> list[tuple[str, str | None, str]]:
        """(label, username or None for no sign-in, path): each role's everyday pages."""
        joanne = User.objects.get(username="joanne").staff
        held = HandOff.objects.filter(state=HandOffState.OPEN).values("case_id")
        mine = Case.objects.filter(owner=joanne, state__in=ACTIVE_STATES).order_by("-pk")
        case = mine.filter(pk__in=held).first() or mine.first()
        if case is None:
            raise CommandError("joanne holds no open case: is this the bench data set?")
        return [
            ('agent\'s queue, "My cases"', "joanne", queue("mine")),
            ('agent\'s queue, "My department"', "joanne", queue("department")),
            ('agent\'s queue, "Hand-offs to my department"', "devon", queue("handoffs")),
            ('supervisor\'s queue, "Overdue"', "maria", queue("overdue")),
            ('director\'s queue, "Everything I may see"', "lee", queue("all")),
            ('search "refund" (director, everything)', "lee", queue("all", "refund")),
            ('search "duplicate invoice" (director)', "lee", queue("all", "duplicate invoice")),
            *[
                (
                    f'search "{bench_search(who)}" ({role}, everything)',
                    who,
                    queue("all", bench_search(who)),
                )
                for role, who in (("director", "lee"), ("supervisor", "maria"), ("agent", "joanne"))
            ],
            (
                # another department's client: found only by what hand-offs share
                f'search "{BENCH_SEARCHES["Client Support"]}" (other department)',
                "devon",
                queue("all", BENCH_SEARCHES["Client Support"]),
            ),
            ("dashboard (director, every case)", "lee", reverse("dashboard")),
            ("case page (its owner)", "joanne", reverse("case_detail", args=[case.reference])),
            ("client status page", None, reverse("status_page", args=[status_token(case)])),
            ("client's case list", "sam", reverse("client_cases")),
        ]

    @staticmethod
    def _time(username: str | None, path: str, requests: int, warmups: int):
        """(median ms, p90 ms, most queries, bytes) of `requests` GETs after `warmups`."""
        client = DjangoClient()
        if username:
            client.force_login(User.objects.get(username=username))
        return bench_data.time_page(
            client, path, requests=requests, warmups=warmups, HTTP_HOST=HOST, secure=True
        )
