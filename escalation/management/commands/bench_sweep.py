"""`make bench`: the sweep's cost at scale, on PostgreSQL, printed as a table.

Loads the bench data set of N cases (escalation.bench_data, shared with the page bench and
the load test) into a separate database, then times the sweep's
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

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from casedesk.models import CallBack, Case, HandOff
from escalation import bench_data, due
from escalation.bench_data import QueryCounter
from escalation.models import ExceptionRequest
from escalation.sweep import BATCH, WORK, sweep_due

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


class Command(BaseCommand):
    help = "Benchmark the escalation sweep on PostgreSQL (see `make bench`)."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=100_000)
        parser.add_argument("--create-database", action="store_true")

    def handle(self, *args, cases, create_database, **options):
        bench_data.require_bench_database()
        if create_database:
            bench_data.create_database()
        call_command("migrate", verbosity=0)
        self._run(cases)

    def _run(self, total: int):
        self.stdout.write(f"Loading {total:,} cases ({total // 10:,} open)…")
        started = time.perf_counter()
        pools = bench_data.load(total, now=timezone.now())
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
