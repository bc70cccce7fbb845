"""`make loadtest`: Locust against gunicorn (4 workers, DEBUG off) on loopback, on the
bench data set, for the two load shapes of issue 13, printed as a table per shape.

Shapes: 10 agents back to back (no think time: the machine's throughput and its latency at
saturation) and 200 agents at a realistic pace (a page every 10 to 30 s each). Each agent
holds a session of its own (made here, in the database, as a sign-in would), and requests
its "My cases" and "My department" queues and its open cases' pages (2:1:2). Each shape
runs for `--seconds` (60). Numbers to read, not a test: nothing here passes or fails.
"""

import csv
import json
import os
import socket
import subprocess  # nosec B404: runs our own gunicorn and locust, fixed arguments
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client as DjangoClient

from accounts.models import AuthorityLevel, StaffProfile
from casedesk.models import ACTIVE_STATES, Case
from escalation import bench_data
from escalation.management.commands.bench_pages import HOST, queue

LOCUSTFILE = Path(__file__).resolve().parents[2] / "locustfile.py"
SHAPES = (  # name, agents, think time ("low-high" seconds)
    ("10 agents back to back", 10, "0"),
    ("200 agents, a page every 10-30 s", 200, "10-30"),
)
CASES_PER_AGENT = 20


class Command(BaseCommand):
    help = "Load-test gunicorn with Locust on the bench data set (see `make loadtest`)."

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=int, default=60, help="per shape")
        parser.add_argument(
            "--cases", type=int, help="create and load a bench database of N cases if needed"
        )
        parser.add_argument("--workers", type=int, default=4)

    def handle(self, *args, seconds, cases, workers, **options):
        if settings.DEBUG:
            raise CommandError("Load-test as production runs: DJANGO_DEBUG=0.")
        # It signs people in (and the load test writes their session cookies to disk).
        bench_data.require_bench_database()
        if cases is not None:
            bench_data.ensure(cases, say=self.stdout.write)
        total = Case.objects.count()
        if not total:
            raise CommandError("No cases: load the bench data set first (`make bench`).")
        out = Path(settings.VAR_DIR) / "loadtest"
        out.mkdir(parents=True, exist_ok=True)
        plan = out / "plan.json"
        plan.write_text(json.dumps(self._plan(max(agents for _, agents, _ in SHAPES))))
        connection.close()  # gunicorn's workers are the ones to talk to the database now
        port = _free_port()
        server = self._gunicorn(port, workers, out)
        try:
            for name, agents, think in SHAPES:
                rows = self._locust(port, agents, think, seconds, plan, out / _slug(name))
                self._print(name, agents, seconds, total, workers, rows)
        finally:
            server.terminate()
            server.wait(timeout=30)

    @staticmethod
    def _plan(sessions: int) -> list[dict]:
        """A signed-in session per simulated agent, over the agents in turn, each with
        its queue views and up to 20 of its open cases."""
        agents = list(
            StaffProfile.objects.filter(authority_level=AuthorityLevel.AGENT)
            .select_related("user")
            .order_by("pk")
        )
        cases_of = {
            agent.pk: [
                f"/cases/{reference}/"
                for reference in Case.objects.filter(owner=agent, state__in=ACTIVE_STATES)
                .order_by("due_at")
                .values_list("reference", flat=True)[:CASES_PER_AGENT]
            ]
            for agent in agents
        }
        plan = []
        for number in range(sessions):
            agent = agents[number % len(agents)]
            client = DjangoClient()
            client.force_login(agent.user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            plan.append(
                {
                    "cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}",
                    "queues": {"mine": queue("mine"), "department": queue("department")},
                    "cases": cases_of[agent.pk] or [queue("mine")],
                }
            )
        return plan

    def _gunicorn(self, port: int, workers: int, out: Path) -> subprocess.Popen:
        command = [sys.executable, "-m", "gunicorn", "casedesk.wsgi"]
        command += ["--bind", f"{HOST}:{port}", "--workers", str(workers)]
        command += ["--error-logfile", str(out / "gunicorn.log")]
        server = subprocess.Popen(command, env={**os.environ, "DJANGO_DEBUG": "0"})  # nosec B603
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError(f"gunicorn stopped: see {out / 'gunicorn.log'}")
            try:
                urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=5)  # nosec B310
                return server
            except urllib.error.HTTPError:
                return server  # it answered: up (an unhealthy answer is still an answer)
            except OSError:
                time.sleep(0.5)
        server.terminate()
        raise CommandError("gunicorn did not answer within 60 s")

    @staticmethod
    def _locust(port, agents, think, seconds, plan, prefix) -> list[dict]:
        command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
        command += ["--host", f"http://{HOST}:{port}", "--users", str(agents)]
        command += ["--spawn-rate", str(min(agents, 20)), "--run-time", f"{seconds}s"]
        command += ["--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"]
        env = {**os.environ, "LOADTEST_PLAN": str(plan), "LOADTEST_THINK": think}
        subprocess.run(command, env=env, check=False, capture_output=True)  # nosec B603
        with open(f"{prefix}_stats.csv", newline="") as stats:
            return list(csv.DictReader(stats))

    def _print(self, name, agents, seconds, total, workers, rows) -> None:
        load = ", ".join(f"{figure:.2f}" for figure in os.getloadavg())
        self.stdout.write(
            f"\n{name}: {agents} agents for {seconds} s, gunicorn {workers} workers, "
            f"{total:,} cases (load average at the end: {load})"
        )
        self.stdout.write(
            f"{'page':<24} {'requests':>9} {'failed':>7} {'p50 ms':>7} {'p95 ms':>7} "
            f"{'p99 ms':>7} {'req/s':>7}"
        )
        for row in rows:
            self.stdout.write(
                f"{row['Name']:<24} {row['Request Count']:>9} {row['Failure Count']:>7} "
                f"{row['50%']:>7} {row['95%']:>7} {row['99%']:>7} "
                f"{float(row['Requests/s']):>7.1f}"
            )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
