"""`make bench-queue`: the queue's server time and queries, every view of every role, on
the bench database (load it first with `make bench`); with --explain, the plan of each
view's page query (EXPLAIN ANALYZE).

Timed in-process like the issue's measurements: the Django test client, DEBUG off, 3
warm-ups then 20 requests, median and p90."""

import statistics
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client as DjangoClient
from django.test.utils import CaptureQueriesContext, override_settings

from accounts.models import User
from casedesk.selectors import QUEUE_SORTS, QUEUE_VIEWS

PEOPLE = ("joanne", "maria", "lee", "devon", "priya")
# Two words of the bench data set (escalation.bench_data) that find a few thousand cases
# together: a client's name (1 case in 20) and a month: 1 in 120 (Kestrel's Junes), 1 in 60
# (Juniper's Januaries; the data set's months and clients are not independent). Each
# person searches for a client of their own department (whose name only its own side may
# search), so that every role's search finds its cases rather than none.
BENCH_SEARCHES = {"Client Support": "juniper january", "Institutional Services": "kestrel june"}
PEOPLES_DEPARTMENTS = {
    "joanne": "Client Support",
    "maria": "Client Support",
    "lee": "Institutional Services",  # lee sees every case in full: either would do
    "devon": "Institutional Services",
    "priya": "Institutional Services",
}


def bench_search(person: str) -> str:
    return BENCH_SEARCHES[PEOPLES_DEPARTMENTS[person]]


WARM_UPS, REQUESTS = 3, 20


def bench_urls() -> list[tuple[str, str]]:
    urls = [(person, f"/cases/?view={view}") for person in PEOPLE for view in QUEUE_VIEWS]
    urls += [("lee", f"/cases/?view=all&sort={sort}") for sort in QUEUE_SORTS if sort != "due"]
    urls += [
        ("maria", "/cases/?view=department&state=resolved"),
        ("maria", "/cases/?view=department&priority=high"),
        ("maria", "/cases/?view=all&q=refund"),
    ]
    # the two-word search, best match first, for every role
    urls += [
        (person, f"/cases/?view=all&q={bench_search(person).replace(' ', '+')}")
        for person in PEOPLE
    ]
    return urls


class Command(BaseCommand):
    help = "Benchmark the queue's views on PostgreSQL (see `make bench-queue`)."

    def add_arguments(self, parser):
        parser.add_argument("--explain", action="store_true", help="print each page's plan")
        parser.add_argument("--only", default="", help="only the pages whose URL has this text")

    def handle(self, *args, explain, only, **options):
        if (
            connection.vendor != "postgresql"
            or "bench" not in settings.DATABASES["default"]["NAME"]
        ):
            raise CommandError("Run it on a PostgreSQL bench database (its name has 'bench').")
        with override_settings(DEBUG=False):
            self._bench(explain, only)

    def _bench(self, explain: bool, only: str = ""):
        self.stdout.write(f"{'who':8} {'page':44} {'median':>8} {'p90':>8} {'queries':>8}")
        browsers = {}
        for person, url in [(person, url) for person, url in bench_urls() if only in url]:
            if person not in browsers:
                browsers[person] = DjangoClient()
                browsers[person].force_login(User.objects.get(username=person))
            browser = browsers[person]
            timings = []
            for n in range(WARM_UPS + REQUESTS):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = browser.get(url, HTTP_HOST="localhost")
                    elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    raise CommandError(f"{url} answered {response.status_code} to {person}")
                if n >= WARM_UPS:
                    timings.append(elapsed * 1000)
            if "after=" not in url and (cursor := self._next_cursor(response)):
                page_two = f"{url}&after={cursor}"
            else:
                page_two = None
            p90 = statistics.quantiles(timings, n=10)[-1]
            self.stdout.write(
                f"{person:8} {url:44} {statistics.median(timings):8.1f} {p90:8.1f} "
                f"{len(queries.captured_queries):8}"
            )
            if explain:
                self._explain(queries.captured_queries)
            if page_two and url.endswith("view=all") and person == "lee":
                self._page_two(browser, person, page_two)

    def _page_two(self, browser, person: str, url: str):
        timings = []
        for n in range(WARM_UPS + REQUESTS):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                browser.get(url, HTTP_HOST="localhost")
                if n >= WARM_UPS:
                    timings.append((time.perf_counter() - started) * 1000)
        self.stdout.write(
            f"{person:8} {'  …its page 2':44} {statistics.median(timings):8.1f} "
            f"{statistics.quantiles(timings, n=10)[-1]:8.1f} {len(queries.captured_queries):8}"
        )

    @staticmethod
    def _next_cursor(response) -> str | None:
        text = response.content.decode()
        marker = "after="
        at = text.find(marker, text.find('rel="prev"') if 'rel="prev"' in text else 0)
        if at < 0:
            return None
        return text[at + len(marker) :].split('"', 1)[0]

    def _explain(self, captured):
        page_query = next((q["sql"] for q in captured if "sort_key_0" in q["sql"]), None)
        if page_query is None:
            return
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN ANALYZE {page_query}")
            plan = "\n".join(f"    {row[0]}" for row in cursor.fetchall())
        self.stdout.write(plan + "\n")
