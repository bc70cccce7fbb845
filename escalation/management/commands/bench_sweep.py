"""`make bench`: the sweep's cost at scale, on PostgreSQL, printed as a table.

Bulk-inserts N cases (10% open, the rest resolved) into a separate database, with a pool of
hand-offs, call-backs and exception requests on open cases, then times the sweep's
escalation part with nothing due, with 100 and 1,000 cases due, 1,000 cases due a warning
and 100 or 1,000 of each held kind due, and prints the plan of the due-items query.

Email delivery is not timed: it is the outbox's work, on its own queue (the sweep's
escalation part writes the outbox rows, and those are counted, as is queueing their
delivery once each batch commits). Numbers to read, not a test: nothing here passes or
fails.
"""

import statistics
import time
from datetime import timedelta

import psycopg
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client as DjangoClient
from django.test import override_settings
from django.utils import timezone

from accounts.models import StaffProfile, User
from casedesk.demo import seed_demo
from casedesk.models import CallBack, Case, CaseState, Client, HandOff
from escalation import due
from escalation.demo import install_exception_policies
from escalation.figures import figures_refresh
from escalation.models import ExceptionKind, ExceptionRequest
from escalation.sweep import BATCH, WORK, sweep_due

TRUNCATE = (
    "TRUNCATE escalation_figureday, escalation_figureduration, "
    "escalation_escalation, casedesk_notification, casedesk_caseevent, "
    "casedesk_handoff, casedesk_callback, escalation_exceptionrequest, casedesk_case "
    "RESTART IDENTITY CASCADE"
)
# What each row of the table makes due: (label, model, how many, due or warned).
ROUNDS = (
    ("nothing", None, 0, "due"),
    ("cases", Case, 100, "due"),
    ("cases", Case, 1000, "due"),
    ("case warnings", Case, 1000, "warn"),
    ("hand-offs", HandOff, 100, "due"),
    ("hand-offs", HandOff, 1000, "due"),
    ("call-backs", CallBack, 100, "due"),
    ("exception requests", ExceptionRequest, 100, "due"),
)
HELD_POOL = 1100  # of each held kind: enough for the rounds above


class QueryCounter:
    """Counts every query (Django's own query log stops at 9,000)."""

    def __init__(self):
        self.total = 0

    def __call__(self, execute, sql, params, many, context):
        self.total += 1
        return execute(sql, params, many, context)


class Command(BaseCommand):
    help = "Benchmark the escalation sweep on PostgreSQL (see `make bench`)."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=100_000)
        parser.add_argument("--create-database", action="store_true")

    def handle(self, *args, cases, create_database, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark needs PostgreSQL: set DATABASE_URL.")
        if "bench" not in connection.settings_dict["NAME"]:
            # It empties the tables it fills: never on a database that holds real cases.
            raise CommandError(
                f"The benchmark empties its database; {connection.settings_dict['NAME']!r} "
                "is not named as a benchmark's (put 'bench' in its name)."
            )
        if create_database:
            self._create_database()
        call_command("migrate", verbosity=0)
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
        pools = self._load(total)
        self.stdout.write(f"loaded in {time.perf_counter() - started:.1f}s\n")
        self._time_sweep([], "due")  # warms the connection and the caches up

        rows = []
        for label, model, count, moment in ROUNDS:
            batch = pools[model][:count] if model else []
            if model:
                pools[model] = pools[model][count:]
            rows.append((label, count, *self._time_sweep(batch, moment, model)))

        self.stdout.write(
            f"\nSweep (escalation part) over {total:,} cases ({total // 10:,} open), PostgreSQL"
        )
        self.stdout.write(
            f"{'due':>24} {'handled':>8} {'time (ms)':>10} {'queries':>8} "
            f"{'ms/item':>8} {'queries/item':>13}"
        )
        empty_time, empty_queries = rows[0][3], rows[0][4]
        for label, count, handled, elapsed, queries in rows:
            line = f"{f'{count} {label}':>24} {handled:>8} {elapsed * 1000:>10.2f} {queries:>8}"
            if count:
                ms, extra = (elapsed - empty_time) * 1000 / count, (queries - empty_queries) / count
                line += f" {ms:>8.2f} {extra:>13.2f}"
            self.stdout.write(line)
        self.stdout.write("\nPlans of the due-items queries (EXPLAIN ANALYZE)")
        self.stdout.write(self._due_plans())
        self._bench_dashboard(total)

    def _time_sweep(self, batch: list[int], moment: str, model=Case):
        """(items handled, seconds, queries); with nothing due, the median of 50 sweeps."""
        now = timezone.now()
        if batch:
            change = {"due_at": now - timedelta(minutes=1)}
            if moment == "warn":
                change = {"warn_at": now - timedelta(minutes=1)}
            model.objects.filter(pk__in=batch).update(**change)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        timings = []
        for _ in range(1 if batch else 50):
            counter = QueryCounter()
            with connection.execute_wrapper(counter):
                started = time.perf_counter()
                report = sweep_due(now=now)
                timings.append(time.perf_counter() - started)
        handled = len(report.escalated) + len(report.warned)
        return handled, statistics.median(timings), counter.total

    @staticmethod
    def _due_plans() -> str:
        now = timezone.now()
        anything = due.explain_anything_due([(work.kind, work.overdue) for work in WORK], now)
        with transaction.atomic():
            claim = due.due(None, now, overdue=True).order_by("due_at", "pk")[:BATCH]
            cases = claim.select_for_update(skip_locked=True).explain(analyze=True)
        return (
            f"Is anything due? (one query for every kind of work):\n{anything}\n\n"
            f"Claiming a batch of overdue cases:\n{cases}"
        )

    def _bench_dashboard(self, total: int):
        """Server time of /dashboard/ for lee, whose subtree holds every case, once the
        figures are recomputed (the cases were bulk-inserted, as a restore would): the
        median and p90 of 20 requests after 3 warm-ups, in-process, with DEBUG off."""
        started = time.perf_counter()
        figures_refresh(now=timezone.now())
        refresh = time.perf_counter() - started
        client = DjangoClient()
        client.force_login(User.objects.get(username="lee"))
        timings = []
        for n in range(23):
            counter = QueryCounter()
            # DEBUG off, as in production: no query log kept per request.
            with override_settings(DEBUG=False), connection.execute_wrapper(counter):
                started = time.perf_counter()
                response = client.get("/dashboard/", HTTP_HOST="localhost")
                elapsed = time.perf_counter() - started
            if response.status_code != 200:  # an error page's timing would mean nothing
                raise CommandError(f"/dashboard/ answered {response.status_code}")
            if n >= 3:
                timings.append(elapsed)
        timings.sort()
        middle, p90 = statistics.median(timings) * 1000, timings[int(len(timings) * 0.9) - 1] * 1000
        self.stdout.write(
            f"\nDashboard figures recomputed (30 days, {total:,} cases) in {refresh:.1f} s"
            f"\nDashboard for lee over {total:,} cases: median {middle:.1f} ms, p90 {p90:.1f} ms, "
            f"{counter.total} queries, {len(response.content):,} bytes"
        )

    def _load(self, total: int) -> dict:
        """The cases, then the held items on open cases. Returns, per model, the ids of
        rows not due yet, for the rounds to make due (None: nothing)."""
        with connection.cursor() as cursor:
            cursor.execute(TRUNCATE)
        seed_demo()
        install_exception_policies()
        with connection.cursor() as cursor:  # the demo's own cases are not part of it
            cursor.execute(TRUNCATE)
        client = Client.objects.select_related("department").get(name="Harbor Dental Group")
        staff = {p.user.username: p for p in StaffProfile.objects.select_related("user")}
        later = timezone.now() + timedelta(days=30)
        for start in range(0, total, 10_000):
            chunk = range(start, min(start + 10_000, total))
            Case.objects.bulk_create([self._case(n, client, staff["joanne"], later) for n in chunk])
        open_ids = list(
            Case.objects.filter(state=CaseState.OPEN).order_by("pk").values_list("pk", flat=True)
        )
        held = open_ids[-3 * HELD_POOL :]
        pools = {None: [], Case: open_ids[: -3 * HELD_POOL]}
        pools[HandOff] = self._handoffs(held[:HELD_POOL], client, staff, later)
        pools[CallBack] = self._callbacks(held[HELD_POOL : 2 * HELD_POOL], staff, later)
        pools[ExceptionRequest] = self._exceptions(held[2 * HELD_POOL :], staff, later)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return pools

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

    @staticmethod
    def _handoffs(case_ids: list[int], client, staff, later) -> list[int]:
        """Hand-offs to Institutional Services, held by devon, on cases waiting on them."""
        Case.objects.filter(pk__in=case_ids).update(state=CaseState.CROSS_DEPARTMENT)
        devon = staff["devon"]
        rows = HandOff.objects.bulk_create(
            HandOff(
                case_id=pk,
                from_department_id=client.department_id,
                to_department_id=devon.department_id,
                requested_by=staff["joanne"],
                accountable=devon,
                request="Benchmark hand-off",
                shared_summary="Benchmark",
                due_at=later,
            )
            for pk in case_ids
        )
        return [row.pk for row in rows]

    @staticmethod
    def _callbacks(case_ids: list[int], staff, later) -> list[int]:
        rows = CallBack.objects.bulk_create(
            CallBack(
                case_id=pk,
                phone="+44 20 7946 0101",
                requested_for=later,
                time_zone="Europe/London",
                accountable=staff["joanne"],
                due_at=later,
            )
            for pk in case_ids
        )
        return [row.pk for row in rows]

    @staticmethod
    def _exceptions(case_ids: list[int], staff, later) -> list[int]:
        kind = ExceptionKind.objects.get(name="Refund")
        rows = ExceptionRequest.objects.bulk_create(
            ExceptionRequest(
                case_id=pk,
                kind=kind,
                amount=50,
                justification="Benchmark request",
                requested_by=staff["joanne"],
                approver=staff["maria"],
                due_at=later,
            )
            for pk in case_ids
        )
        return [row.pk for row in rows]
