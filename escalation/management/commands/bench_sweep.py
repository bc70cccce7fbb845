"""`make bench`: the sweep's cost at scale, on PostgreSQL, printed as a table.

Bulk-inserts N cases (10% open, the rest resolved) into a separate database, then times
the sweep with 0, 100 and 1,000 cases due and prints the plan of the due-items query.
Numbers to read, not a test: nothing here passes or fails.
"""

import time
from datetime import timedelta

import psycopg
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client as DjangoClient
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import User
from casedesk.demo import seed_demo
from casedesk.models import Case, CaseState, Client
from escalation.sweep import due_cases, sweep

TRUNCATE = (
    "TRUNCATE escalation_escalation, casedesk_notification, casedesk_caseevent, "
    "casedesk_handoff, casedesk_case RESTART IDENTITY CASCADE"
)


class QueryCounter:
    """Counts every query (Django's own query log stops at 9,000)."""

    def __init__(self):
        self.total = self.on_cases = 0

    def __call__(self, execute, sql, params, many, context):
        self.total += 1
        self.on_cases += 'FROM "casedesk_case"' in sql
        return execute(sql, params, many, context)


class Command(BaseCommand):
    help = "Benchmark the escalation sweep on PostgreSQL (see `make bench`)."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=100_000)
        parser.add_argument("--create-database", action="store_true")

    def handle(self, *args, cases, create_database, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark needs PostgreSQL: set DATABASE_URL.")
        if create_database:
            self._create_database()
        call_command("migrate", verbosity=0)
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            self._run(cases)

    def _create_database(self):
        params = connection.settings_dict
        server = f"postgres://{params['USER']}@{params['HOST']}:{params['PORT'] or 5432}"
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            exists = admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [params["NAME"]]
            ).fetchone()
            if not exists:
                admin.execute(f'CREATE DATABASE "{params["NAME"]}"')

    def _run(self, total: int):
        self.stdout.write(f"Loading {total:,} cases ({total // 10:,} open)…")
        started = time.perf_counter()
        open_ids = self._load(total)
        self.stdout.write(f"loaded in {time.perf_counter() - started:.1f}s\n")

        rows = []
        for due in (0, 100, 1000):
            now = timezone.now()
            batch = open_ids[:due]
            open_ids = open_ids[due:]
            Case.objects.filter(pk__in=batch).update(due_at=now - timedelta(minutes=1))
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE casedesk_case")
            counter = QueryCounter()
            with connection.execute_wrapper(counter):
                started = time.perf_counter()
                report = sweep(now=now)
                elapsed = time.perf_counter() - started
            rows.append(
                (
                    due,
                    len(report.escalated),
                    elapsed,
                    counter.total,
                    counter.on_cases,
                )
            )

        self.stdout.write(f"\nSweep over {total:,} cases ({total // 10:,} open), PostgreSQL\n")
        self.stdout.write(
            f"{'due':>6} {'escalated':>10} {'time (ms)':>10} {'queries':>8} {'on cases':>9}"
        )
        for due, escalated, elapsed, queries, case_queries in rows:
            self.stdout.write(
                f"{due:>6} {escalated:>10} {elapsed * 1000:>10.1f} {queries:>8} {case_queries:>9}"
            )
        base = rows[0]
        for due, _, elapsed, queries, _ in rows[1:]:
            self.stdout.write(
                f"per escalated item ({due} due, its outbox rows written, not sent: delivery "
                f"is the mail queue's): {(elapsed - base[2]) * 1000 / due:.2f} ms, "
                f"{(queries - base[3]) / due:.1f} queries"
            )
        self.stdout.write("\nPlan of the due-items query (EXPLAIN ANALYZE):")
        self.stdout.write(due_cases(timezone.now()).explain(analyze=True))
        self._bench_dashboard(total)

    def _bench_dashboard(self, total: int):
        """Server time of /dashboard/ for lee, whose subtree holds every case."""
        client = DjangoClient()
        client.force_login(User.objects.get(username="lee"))
        timings = []
        for _ in range(3):
            counter = QueryCounter()
            with connection.execute_wrapper(counter):
                started = time.perf_counter()
                response = client.get("/dashboard/", HTTP_HOST="localhost")
                timings.append(time.perf_counter() - started)
            if response.status_code != 200:  # an error page's timing would mean nothing
                raise CommandError(f"/dashboard/ answered {response.status_code}")
        self.stdout.write(
            f"\nDashboard for lee over {total:,} cases: best of 3 {min(timings) * 1000:.0f} ms, "
            f"{counter.total} queries"
        )

    def _load(self, total: int) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(TRUNCATE)
        seed_demo()
        with connection.cursor() as cursor:  # the demo's own cases are not part of it
            cursor.execute(TRUNCATE)
        client = Client.objects.select_related("department").get(name="Harbor Dental Group")
        owner = client.department.staff.get(user__username="joanne")
        later = timezone.now() + timedelta(days=30)
        for start in range(0, total, 10_000):
            chunk = range(start, min(start + 10_000, total))
            Case.objects.bulk_create([self._case(n, client, owner, later) for n in chunk])
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE casedesk_case")
        return list(
            Case.objects.filter(state=CaseState.OPEN).order_by("pk").values_list("pk", flat=True)
        )

    @staticmethod
    def _case(n: int, client, owner, later) -> Case:
        is_open = n % 10 == 0
        return Case(
            reference=Case.format_reference(n + 1),
            client=client,
            department_id=client.department_id,
            subject=f"Benchmark case {n}",
            owner=owner,
            state=CaseState.OPEN if is_open else CaseState.RESOLVED,
            due_at=later if is_open else None,
            due_kind="next_update" if is_open else "",
        )
