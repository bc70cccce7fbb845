"""The bench data set, shaped like production's: the one loader of `make bench` (the sweep's
table and the pages') and `make loadtest`.

The demo's organisation (casedesk.demo) with three more agents in each department, 20
clients with two contacts each, and N cases over two years: a tenth open (some overdue at
the top of their chain, some at risk, some escalated, some waiting on a hand-off to the
other department, some with a call-back or an exception request), the rest resolved or
denied, some after a hand-off; six timeline entries per case. Cases go in by bulk_create
in chunks, their timeline by COPY, so a million cases load in minutes.

Nothing in it is due when it is loaded (overdue cases have already climbed to the top of
their chain and wait there on a re-armed deadline, at-risk ones have had their warning):
the sweep's bench makes due exactly what it times. PostgreSQL only (COPY).
"""

import statistics
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import psycopg
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import AuthorityLevel, Department, StaffProfile, User
from casedesk.actors import ActorKind
from casedesk.demo import seed_demo
from casedesk.models import (
    CallBack,
    Case,
    CaseState,
    Client,
    ClientContact,
    EventKind,
    HandOff,
    HandOffState,
)
from casedesk.search import refresh_every_case
from escalation.demo import install_exception_policies
from escalation.models import ExceptionKind, ExceptionRequest

CHUNK = 10_000
HISTORY = timedelta(days=730)
TRUNCATE = (
    "TRUNCATE escalation_figureday, escalation_figureduration, "
    "escalation_escalation, casedesk_notification, casedesk_caseevent, "
    "casedesk_handoff, casedesk_callback, escalation_exceptionrequest, casedesk_case "
    "RESTART IDENTITY CASCADE"
)
EXTRA_AGENTS = {  # username: (first, last, department, manager)
    "amir": ("Amir", "Haddad", "Client Support", "maria"),
    "bea": ("Bea", "Lindqvist", "Client Support", "maria"),
    "chen": ("Chen", "Wei", "Client Support", "maria"),
    "dana": ("Dana", "Okoro", "Institutional Services", "priya"),
    "eli": ("Eli", "Brandt", "Institutional Services", "priya"),
    "fay": ("Fay", "Moreau", "Institutional Services", "priya"),
}
MORE_CLIENTS = [  # besides the demo's two; alternately each department's
    "Greenfield Veterinary",
    "Atlas Freight Partners",
    "Bluebell Nurseries",
    "Crescent Housing Association",
    "Dovetail Joinery",
    "Eastgate Pension Trust",
    "Foxglove Pharmacy",
    "Granite Building Society",
    "Hollybrook Schools",
    "Ironbridge Insurance",
    "Juniper Opticians",
    "Kestrel Logistics",
    "Lantern Legal",
    "Meridian Health Fund",
    "Nightingale Care Homes",
    "Orchard Credit Cooperative",
    "Pebble Bay Hotels",
    "Quayside Mutual",
]
# Subjects: one in eight mentions a refund, one in eight a duplicate invoice (the benches'
# one- and two-word searches find a realistic share).
SUBJECTS = [
    "Refund for an overcharge on the {month} statement",
    "Duplicate invoice for {month}",
    "Change the billing address",
    "Add a new authorised contact",
    "Question about the {month} fees",
    "Card payment declined twice",
    "Close an unused sub-account",
    "Statement missing for {month}",
]
MONTHS = "January February March April May June July August September October November December"
MONTHS = MONTHS.split()
PRIORITIES = ["normal", "normal", "high", "low", "normal", "urgent", "normal", "high"]


@dataclass(frozen=True)
class Org:
    departments: list  # [Client Support, Institutional Services]
    agents: dict  # department id: [StaffProfile]
    supervisors: dict  # department id: StaffProfile
    clients: list
    contacts: dict  # client id: [ClientContact]
    exception_kind: ExceptionKind


class QueryCounter:
    """Counts every query of the benches (Django's own query log stops at 9,000)."""

    def __init__(self):
        self.total = 0

    def __call__(self, execute, sql, params, many, context):
        self.total += 1
        return execute(sql, params, many, context)


def require_bench_database() -> None:
    """Loading empties the case tables: never on a database that holds real cases."""
    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql":
        raise CommandError("The benchmarks need PostgreSQL: set DATABASE_URL.")
    if "bench" not in name and not name.startswith("test_"):  # Django's test databases
        raise CommandError(
            f"The benchmark empties its database; {name!r} is not named as a benchmark's "
            "(put 'bench' in its name)."
        )


def create_database() -> None:
    """The bench database, if the server has none of that name yet."""
    params = connection.settings_dict
    server = f"postgres://{params['USER']}@{params['HOST']}:{params['PORT'] or 5432}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [params["NAME"]]
        ).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{params["NAME"]}"')


def load(total: int, *, now: datetime) -> dict:
    """Empties the case tables, builds the organisation and `total` cases. Returns, per
    model, the ids of items the sweep's bench may make due (none is due when loaded; None:
    nothing)."""
    with connection.cursor() as cursor:
        cursor.execute(TRUNCATE)
    seed_demo()
    install_exception_policies()
    with connection.cursor() as cursor:  # the demo's own cases are not part of it
        # Checked now, not at commit: TRUNCATE refuses rows with checks pending (in a test's
        # transaction, the demo's rows would still have theirs).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(TRUNCATE)
    org = _organisation()
    pools: dict = {None: [], Case: [], HandOff: [], CallBack: [], ExceptionRequest: []}
    for start in range(0, total, CHUNK):
        with transaction.atomic():
            _load_chunk(org, range(start, min(start + CHUNK, total)), total, now, pools)
    # The search vectors the actions keep current, for every case loaded in bulk at once.
    refresh_every_case()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return pools


def ensure(total: int, *, say) -> None:
    """The bench database with a data set of `total` cases: created, migrated and loaded
    unless it already holds one of that size (reused: a million cases take minutes)."""
    require_bench_database()
    create_database()
    call_command("migrate", verbosity=0)
    if not is_loaded(total):
        say(f"Loading {total:,} cases…")
        load(total, now=timezone.now())


def is_loaded(total: int) -> bool:
    """Whether the database holds a bench data set of this size (to reuse, not reload)."""
    return (
        Case.objects.count() == total
        and Client.objects.filter(name__in=MORE_CLIENTS).count() == len(MORE_CLIENTS)
        and User.objects.filter(username__in=EXTRA_AGENTS).count() == len(EXTRA_AGENTS)
    )


def organisation() -> Org:
    """The bench's people and clients on the demo's (added where missing)."""
    return _organisation()


def add_cases(org: Org, numbers: range, *, now: datetime) -> None:
    """Cases numbered `numbers` (their references CD-<n + 1>), shaped as the bench's: what
    hangs on each and its timeline too, as if `numbers.stop` were the data set's size."""
    pools: dict = {None: [], Case: [], HandOff: [], CallBack: [], ExceptionRequest: []}
    for start in range(numbers.start, numbers.stop, CHUNK):
        _load_chunk(org, range(start, min(start + CHUNK, numbers.stop)), numbers.stop, now, pools)


def _organisation() -> Org:
    departments = list(
        Department.objects.filter(name__in=["Client Support", "Institutional Services"])
    )
    departments.sort(key=lambda d: d.name)
    by_name = {d.name: d for d in departments}
    staff = {p.user.username: p for p in StaffProfile.objects.select_related("user")}
    for username, (first, last, department, manager) in EXTRA_AGENTS.items():
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@casedesk.example",
            },
        )
        staff[username], _ = StaffProfile.objects.update_or_create(
            user=user,
            defaults={
                "department": by_name[department],
                "title": "Agent",
                "authority_level": AuthorityLevel.AGENT,
                "manager": staff[manager],
            },
        )
    for number, name in enumerate(MORE_CLIENTS):
        department = departments[number % 2]
        slug = name.lower().replace(" ", "")
        client, _ = Client.objects.get_or_create(
            name=name,
            department=department,
            defaults={"email": f"office@{slug}.example", "phone": f"+44 20 7946 {number:04d}"},
        )
        for contact in ("Robin Hale", "Morgan Tate"):
            first = contact.split()[0].lower()
            ClientContact.objects.get_or_create(
                client=client, email=f"{first}@{slug}.example", defaults={"name": contact}
            )
    clients = list(Client.objects.order_by("pk"))
    contacts: dict = {}
    for contact in ClientContact.objects.order_by("pk"):
        contacts.setdefault(contact.client_id, []).append(contact)
    agents: dict = {}
    supervisors = {}
    for profile in staff.values():
        if profile.authority_level == AuthorityLevel.AGENT:
            agents.setdefault(profile.department_id, []).append(profile)
        elif profile.authority_level == AuthorityLevel.SUPERVISOR:
            supervisors[profile.department_id] = profile
    for people in agents.values():
        people.sort(key=lambda p: p.pk)
    return Org(
        departments=departments,
        agents=agents,
        supervisors=supervisors,
        clients=clients,
        contacts=contacts,
        exception_kind=ExceptionKind.objects.get(name="Refund"),
    )


def _other(org: Org, department_id: int) -> Department:
    return next(d for d in org.departments if d.pk != department_id)


def _load_chunk(org: Org, numbers: range, total: int, now: datetime, pools: dict) -> None:
    cases = Case.objects.bulk_create([_case(org, n, total, now) for n in numbers])
    handoffs, callbacks, exceptions, events = [], [], [], []
    for case in cases:
        n = int(case.reference[3:]) - 1
        kind = _kind(n)
        if kind == "handoff":
            handoffs.append(_handoff(org, case, now, open_=True))
        elif kind == "callback":
            callbacks.append(_callback(org, case, now))
        elif kind == "exception":
            exceptions.append(_exception(org, case, now))
        elif kind == "closed_after_handoff":
            handoffs.append(_handoff(org, case, now, open_=False))
        elif kind == "plain":
            pools[Case].append(case.pk)
    handoffs = HandOff.objects.bulk_create(handoffs)
    pools[HandOff] += [h.pk for h in handoffs if h.state == HandOffState.OPEN]
    pools[CallBack] += [c.pk for c in CallBack.objects.bulk_create(callbacks)]
    pools[ExceptionRequest] += [e.pk for e in ExceptionRequest.objects.bulk_create(exceptions)]
    handoff_of = {h.case_id: h for h in handoffs}
    for case in cases:
        events.extend(_timeline(org, case, handoff_of.get(case.pk)))
    _copy_events(events)


# What an open case is, by its own number i among the open ones: the first (every, at)
# with i % every == at names it; none, a plain open case (the sweep's pool).
OPEN_KINDS = (
    (8, 1, "handoff"),
    (10, 2, "escalated"),
    (20, 3, "callback"),
    (20, 13, "exception"),
    (20, 5, "overdue"),
    (20, 6, "at_risk"),
)


def _kind(n: int) -> str:
    """What case number n is: every tenth is open (OPEN_KINDS), the rest closed."""
    if n % 10:
        return "closed_after_handoff" if n % 100 == 3 else "closed"
    i = n // 10
    return next((kind for every, at, kind in OPEN_KINDS if i % every == at), "plain")


def _case(org: Org, n: int, total: int, now: datetime) -> Case:
    """Case number n, built in one go (the state is protected: set only on creation)."""
    client = org.clients[n % len(org.clients)]
    people = org.agents[client.department_id]
    created = now - HISTORY * (total - n) / total - timedelta(hours=1)
    kind = _kind(n)
    fields = {
        "reference": Case.format_reference(n + 1),
        "client": client,
        "department_id": client.department_id,
        "subject": SUBJECTS[n % len(SUBJECTS)].format(month=MONTHS[n % 12]),
        "description": f"Raised by phone about account {100000 + n}; a reply by email, please.",
        "priority": PRIORITIES[n % len(PRIORITIES)],
        "owner": people[(n // len(org.clients)) % len(people)],
        "state": CaseState.OPEN,
        "created_at": created,
        "updated_at": created + timedelta(hours=2),
        "first_response_at": created + timedelta(hours=1),
    }
    if kind.startswith("closed"):
        closed_at = min(created + timedelta(days=1 + n % 9), now - timedelta(minutes=1))
        fields.update(state=CaseState.RESOLVED, closed_at=closed_at, updated_at=closed_at)
        if n % 50 == 7:
            fields.update(
                state=CaseState.DENIED, denial_rationale="Outside the terms of the client's plan."
            )
        return Case(**fields)
    due_at = now + timedelta(days=1 + n % 9, hours=n % 7)
    fields.update(due_at=due_at, warn_at=due_at - timedelta(hours=12), due_kind="next_update")
    if kind == "handoff":
        fields.update(state=CaseState.CROSS_DEPARTMENT)
    elif kind == "escalated":
        fields.update(
            state=CaseState.ESCALATED,
            escalation_reason="Above the agent's authority.",
            escalation_level=1,
            returns_to=fields["owner"],
            owner=org.supervisors[client.department_id],
            due_kind="escalation",
        )
    elif kind == "overdue":  # missed, climbed to the top, re-armed: overdue, nothing due
        fields.update(
            late_since=now - timedelta(hours=1 + n % 40), at_top_of_chain=True, escalation_level=2
        )
    elif kind == "at_risk":  # warned already, due within hours
        fields.update(due_at=now + timedelta(hours=1 + n % 4), warn_at=None)
    return Case(**fields)


def _handoff(org: Org, case: Case, now: datetime, *, open_: bool) -> HandOff:
    to = _other(org, case.department_id)
    fields = {"due_at": None, "warn_at": None}
    if open_:
        fields["due_at"] = now + timedelta(days=2, hours=case.pk % 24)
        fields["warn_at"] = fields["due_at"] - timedelta(hours=8)
    else:
        fields.update(state=HandOffState.COMPLETED, answer="Confirmed.", closed_at=case.closed_at)
    return HandOff(
        case=case,
        from_department_id=case.department_id,
        to_department=to,
        requested_by=case.owner,
        accountable=org.agents[to.pk][case.pk % len(org.agents[to.pk])],
        request="Please confirm the member accounts on your side.",
        shared_summary="The client's billing moves between our departments.",
        created_at=case.created_at + timedelta(hours=3),
        **fields,
    )


def _callback(org: Org, case: Case, now: datetime) -> CallBack:
    when = now + timedelta(days=3, hours=case.pk % 24)
    return CallBack(
        case=case,
        phone="+44 20 7946 0101",
        requested_for=when,
        time_zone="Europe/London",
        accountable=case.owner,
        due_at=when,
        warn_at=when - timedelta(hours=1),
    )


def _exception(org: Org, case: Case, now: datetime) -> ExceptionRequest:
    due_at = now + timedelta(days=2, hours=case.pk % 24)
    return ExceptionRequest(
        case=case,
        kind=org.exception_kind,
        amount=Decimal(50),
        justification="Charged twice by our error.",
        requested_by=case.owner,
        approver=org.supervisors[case.department_id],
        due_at=due_at,
        warn_at=due_at - timedelta(hours=8),
    )


EVENT_COLUMNS = (
    "case_id, kind, actor_kind, actor_user_id, actor_contact_id, from_state, to_state, "
    "target_id, handoff_id, reason, client_visible, created_at"
)


def _timeline(org: Org, case: Case, handoff: HandOff | None) -> list[tuple]:
    """Six entries: opened, a message, a client's reply, a note, and two by what became of
    the case (its hand-off, its closing, its escalation, or more conversation)."""
    contact = org.contacts[case.client_id][case.pk % len(org.contacts[case.client_id])]
    staff, at = case.owner.user_id, case.created_at

    def entry(hours, kind, actor_kind=ActorKind.STAFF, *, visible=False, to_state="", **more):
        when = more.get("when") or at + timedelta(minutes=hours * 60)
        user = staff if actor_kind == ActorKind.STAFF else None
        who = contact.pk if actor_kind == ActorKind.CLIENT else None
        return (
            case.pk,
            kind,
            actor_kind,
            more.get("user", user),
            who,
            more.get("from_state", ""),
            to_state,
            more.get("target"),
            more.get("handoff"),
            more.get("reason", ""),
            visible,
            when,
        )

    rows = [
        entry(0, EventKind.OPENED, visible=True, to_state=CaseState.OPEN),
        entry(1, EventKind.MESSAGE, visible=True, reason="We are looking into it."),
        entry(1.5, EventKind.MESSAGE, ActorKind.CLIENT, visible=True, reason="Thank you."),
        entry(2, EventKind.NOTE, reason="Checked the account history."),
    ]
    if handoff is not None:
        rows.append(
            entry(3, EventKind.HANDOFF_REQUESTED, handoff=handoff.pk, reason=handoff.request)
        )
        if handoff.state == HandOffState.OPEN:
            rows.append(entry(3.1, EventKind.NOTE, reason="Waiting on the other department."))
        else:
            rows.append(
                entry(4, EventKind.HANDOFF_COMPLETED, handoff=handoff.pk, reason="Confirmed.")
            )
    else:
        rows.append(entry(3, EventKind.NOTE, reason="Asked finance for the ledger."))
        if case.state == CaseState.ESCALATED:
            rows.append(entry(4, EventKind.ESCALATED, reason=case.escalation_reason))
        elif case.state not in (CaseState.RESOLVED, CaseState.DENIED):
            rows.append(entry(4, EventKind.MESSAGE, visible=True, reason="An update soon."))
    if case.state in (CaseState.RESOLVED, CaseState.DENIED):
        kind = EventKind.RESOLVED if case.state == CaseState.RESOLVED else EventKind.DENIED
        rows.append(
            entry(
                0,
                kind,
                visible=True,
                to_state=case.state,
                from_state=CaseState.OPEN,
                when=case.closed_at,
            )
        )
    return rows


def _copy_events(rows: list[tuple]) -> None:
    copy_sql = f"COPY casedesk_caseevent ({EVENT_COLUMNS}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row(row)


def time_page(
    client, path: str, *, requests: int, warmups: int, cpu: list | None = None, **request
) -> tuple:
    """(median ms, p90 ms, most queries, bytes) of `requests` GETs of `path` after `warmups`,
    in process; `request`: the test client's extra arguments (host, secure). `cpu`, if
    given, receives each request's CPU time of this process in ms (the server's own work,
    without waiting for the database or for other processes on a shared machine)."""
    timings, queries, cpu_times = [], [], []
    for number in range(warmups + requests):
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(path, **request)
            elapsed = time.perf_counter() - started
            cpu_times.append((time.process_time() - started_cpu) * 1000)
        if response.status_code != 200:  # an error page's timing would mean nothing
            raise CommandError(f"{path} answered {response.status_code}")
        if number >= warmups:
            timings.append(elapsed * 1000)
            queries.append(counter.total)
    if cpu is not None:
        cpu.extend(cpu_times[warmups:])
    p90 = statistics.quantiles(timings, n=10)[-1] if len(timings) > 1 else timings[0]
    return statistics.median(timings), p90, max(queries), len(response.content)
