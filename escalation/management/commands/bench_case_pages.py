"""Server time and queries of the case page (for each kind of viewer), the client's status
page and the client's case list, on a benchmark database loaded by `bench_sweep`.

In process, as issue 13's measurements: Django's test client, DEBUG off, 3 warm-ups then 20
requests, median and 90th percentile, and the median CPU time of this process (what the page
costs the web process, whatever else the machine is doing). The case measured is one of the
bench's hand-offs to Institutional Services (devon's), given a call-back, an exception request
and `--events` timeline entries, so every part of the page has something to show. Numbers
to read, not a test.
"""

import statistics
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.test import Client as DjangoClient
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import AuthorityLevel, StaffProfile, User
from casedesk.models import CallBack, Case, CaseEvent, HandOff, HandOffState
from casedesk.status_links import status_token
from escalation import bench_data
from escalation.models import ExceptionKind, ExceptionRequest

WARM_UPS, REQUESTS = 3, 20
# Who opens the case page: the owner, a colleague, their supervisor, the director, and the
# receiving department's agent (who holds the hand-off) and supervisor.
VIEWERS = ["joanne", "colleague", "maria", "lee", "devon", "priya"]


class Command(BaseCommand):
    help = "Time the case and status pages on a benchmark database (after bench_sweep)."

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=6, help="timeline entries of the case")

    def handle(self, *args, events, **options):
        bench_data.require_bench_database()  # it adds to its database
        case = self._busy_case(events)
        total = Case.objects.count()
        self.stdout.write(
            f"{case.reference} among {total:,} cases: {case.events.count()} timeline entries, "
            f"{case.handoffs.count()} hand-off(s), {case.callbacks.count()} call-back(s), "
            f"{ExceptionRequest.objects.filter(case=case).count()} exception request(s)"
        )
        self.stdout.write(
            f"{'page':<40} {'median ms':>10} {'p90 ms':>8} {'cpu ms':>8} {'queries':>8}"
        )
        for name in VIEWERS:
            self._report(f"case page, {name}", self._client(name), f"/cases/{case.reference}/")
        status = f"/status/{status_token(case)}/"
        self._report("status page, by link", DjangoClient(), status)
        self._report("status page, sam signed in", self._client("sam"), status)
        self._report("client's case list, sam", self._client("sam"), "/status/")

    def _report(self, label: str, client: DjangoClient, url: str) -> None:
        cpu: list[float] = []
        with override_settings(DEBUG=False):
            median, p90, queries, _ = bench_data.time_page(
                client, url, requests=REQUESTS, warmups=WARM_UPS, cpu=cpu, HTTP_HOST="localhost"
            )
        cpu_median = statistics.median(cpu)
        self.stdout.write(
            f"{label:<40} {median:>10.1f} {p90:>8.1f} {cpu_median:>8.1f} {queries:>8}"
        )

    @staticmethod
    def _client(username: str) -> DjangoClient:
        client = DjangoClient()
        client.force_login(User.objects.get(username=username))
        return client

    @staticmethod
    def _busy_case(events: int) -> Case:
        handoff = (
            HandOff.objects.filter(
                state=HandOffState.OPEN, to_department__staff__user__username="devon"
            )
            .select_related("case")
            .order_by("pk")
            .first()
        )
        if handoff is None:
            raise CommandError(
                "No open hand-off to devon's department: load the bench with bench_sweep."
            )
        case = handoff.case
        joanne = StaffProfile.objects.get(user__username="joanne")
        if not User.objects.filter(username="colleague").exists():
            StaffProfile.objects.create(
                user=User.objects.create_user("colleague", first_name="Casey"),
                department=joanne.department,
                title="Agent",
                authority_level=AuthorityLevel.AGENT,
                manager=joanne.manager,
            )
        later = timezone.now() + timedelta(days=30)
        if not case.callbacks.exists():
            CallBack.objects.create(
                case=case,
                phone="+44 20 7946 0101",
                requested_for=later,
                time_zone="Europe/London",
                accountable=joanne,
                due_at=later,
            )
        if not ExceptionRequest.objects.filter(case=case).exists():
            ExceptionRequest.objects.create(
                case=case,
                kind=ExceptionKind.objects.get(name="Refund"),
                amount=50,
                justification="Benchmark request",
                requested_by=joanne,
                approver=joanne.manager,
                due_at=later,
            )
        missing = events - case.events.count()
        CaseEvent.objects.bulk_create(
            CaseEvent(
                case=case,
                kind="message" if n % 2 else "note",
                actor_kind="staff",
                actor_user=joanne.user,
                from_state=case.state,
                to_state=case.state,
                reason=f"Benchmark entry {n}",
                client_visible=bool(n % 2),
            )
            for n in range(max(missing, 0))
        )
        return case
