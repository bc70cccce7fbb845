"""The demo organisation of design.md, built through the same services as real work.

Idempotent: people and clients are looked up before being created, and each demo case is
built only if its client has no case with that subject yet.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import AuthorityLevel, Department, StaffProfile, User
from casedesk import deadlines, handoffs, services
from casedesk.actors import Actor
from casedesk.callbacks import callback_request
from casedesk.models import BusinessCalendar, Case, Client, ClientContact, SlaPolicy

PASSWORD = "casedesk"  # nosec B105 # the demo's published password (README), demo data only

STAFF = [
    # username, first, last, title, department, authority, manager
    (
        "lee",
        "Lee",
        "Okafor",
        "Director of Customer Operations",
        "Client Support",
        AuthorityLevel.DIRECTOR,
        None,
    ),
    (
        "maria",
        "Maria",
        "Santos",
        "Client Support Supervisor",
        "Client Support",
        AuthorityLevel.SUPERVISOR,
        "lee",
    ),
    (
        "joanne",
        "Joanne",
        "Baker",
        "Client Support Agent",
        "Client Support",
        AuthorityLevel.AGENT,
        "maria",
    ),
    (
        "priya",
        "Priya",
        "Raman",
        "Institutional Services Supervisor",
        "Institutional Services",
        AuthorityLevel.SUPERVISOR,
        "lee",
    ),
    (
        "devon",
        "Devon",
        "Clarke",
        "Institutional Services Agent",
        "Institutional Services",
        AuthorityLevel.AGENT,
        "priya",
    ),
]

CLIENTS = [
    # name, department, email, phone, contact username, contact name, contact email
    (
        "Harbor Dental Group",
        "Client Support",
        "accounts@harbordental.example",
        "+44 20 7946 0101",
        "sam",
        "Sam Rivera",
        "sam.rivera@harbordental.example",
    ),
    (
        "Northwind Credit Union",
        "Institutional Services",
        "ops@northwind.example",
        "+44 20 7946 0202",
        "alex",
        "Alex Kim",
        "alex.kim@northwind.example",
    ),
]


# Business hours per priority: first response, next update, resolution, hand-off response,
# and how long each escalation level has.
SERVICE_LEVELS = {
    "urgent": (1, 4, 8, 4, 2),
    "high": (2, 8, 24, 8, 4),
    "normal": (4, 16, 40, 16, 8),
    "low": (8, 24, 80, 24, 16),
}


def install_service_levels(department: Department) -> None:
    """A London office calendar and the standard SLA policies, unless already set."""
    BusinessCalendar.objects.get_or_create(department=department)
    for priority, hours in SERVICE_LEVELS.items():
        first, update, resolution, handoff, step = (timedelta(hours=h) for h in hours)
        SlaPolicy.objects.get_or_create(
            department=department,
            priority=priority,
            defaults={
                "first_response": first,
                "next_update": update,
                "resolution": resolution,
                "handoff_response": handoff,
                "escalation_step": step,
            },
        )


@dataclass
class SeedReport:
    created: list[str] = field(default_factory=list)

    def note(self, what: str) -> None:
        self.created.append(what)


@transaction.atomic
def seed_demo() -> SeedReport:
    report = SeedReport()
    departments = {
        name: _get_or_create(report, Department, name=name)
        for name in ("Client Support", "Institutional Services")
    }
    for department in departments.values():
        install_service_levels(department)
    staff = {}
    for username, first, last, title, department, level, manager in STAFF:
        user = _user(report, username, first, last, f"{username}@casedesk.example")
        staff[username], _ = StaffProfile.objects.update_or_create(
            user=user,
            defaults={
                "department": departments[department],
                "title": title,
                "authority_level": level,
                "manager": staff[manager] if manager else None,
            },
        )
    clients = {}
    for name, department, email, phone, username, contact_name, contact_email in CLIENTS:
        client = _get_or_create(
            report,
            Client,
            name=name,
            department=departments[department],
            defaults={"email": email, "phone": phone, "address": "1 Demo Street, London"},
        )
        first, last = contact_name.split(" ", 1)
        user = _user(report, username, first, last, contact_email)
        ClientContact.objects.update_or_create(
            client=client, email=contact_email, defaults={"name": contact_name, "user": user}
        )
        clients[name] = client
    admin = _user(report, "admin", "Ada", "Admin", "admin@casedesk.example")
    if not admin.is_superuser:
        admin.is_staff = admin.is_superuser = True
        admin.save(update_fields=["is_staff", "is_superuser"])
    _demo_cases(report, staff, departments, clients)
    return report


def _demo_cases(report, staff, departments, clients) -> None:
    joanne, maria = Actor.for_staff(staff["joanne"]), Actor.for_staff(staff["maria"])
    devon = Actor.for_staff(staff["devon"])
    harbor, northwind = clients["Harbor Dental Group"], clients["Northwind Credit Union"]

    _new_case(  # stays open with joanne: the everyday case
        report,
        joanne,
        harbor,
        "Refund for a duplicated March invoice",
        "Invoice 2291 was charged twice; the client asks for the duplicate back.",
        "high",
    )

    if case := _new_case(
        report,
        joanne,
        harbor,
        "Move dental-plan members to institutional billing",
        "Needs a billing-account change only Institutional Services can make.",
        "normal",
    ):
        handoffs.handoff_request(
            case=case,
            actor=joanne,
            to_department=departments["Institutional Services"],
            accountable=staff["devon"],
            request="Please re-map the 40 member accounts to institutional billing.",
            shared_summary="Client is moving 40 plan members to institutional billing; "
            "needs the account mapping changed on your side.",
        )

    if case := _new_case(
        report,
        joanne,
        harbor,
        "Waive the late-payment fee for October",
        "Payment was late because of our own portal outage.",
        "normal",
    ):
        case = services.case_escalate(
            case=case, actor=joanne, reason="Fee waivers above £50 need a supervisor."
        )
        sam = harbor.contacts.get(email="sam.rivera@harbordental.example")
        callback_request(
            case=case,
            actor=Actor.for_contact(sam),
            phone=harbor.phone,
            at=_next_opening(case.department_id, hour=11),
            time_zone="Europe/London",
            note="About the October fee, please.",
        )

    if case := _new_case(
        report,
        joanne,
        harbor,
        "End the contract early without a penalty",
        "Client wants to leave before the 24-month term ends.",
        "low",
    ):
        services.case_deny(
            case=case,
            actor=joanne,
            rationale="The contract's early-exit terms apply to everyone on this plan; "
            "you can ask for a review by a supervisor from this page.",
        )

    if case := _new_case(
        report,
        joanne,
        harbor,
        "Update the billing address",
        "New head office address from 1 December.",
        "low",
    ):
        services.case_resolve(case=case, actor=joanne, summary="Address updated for December.")

    if case := _new_case(
        report,
        devon,
        northwind,
        "Reissue Q3 statements in bulk",
        "Statements went out with the wrong branch code.",
        "high",
    ):
        case = services.case_escalate(
            case=case, actor=devon, reason="Bulk reissue costs need supervisor sign-off."
        )
        services.case_return_with_guidance(
            case=case,
            actor=Actor.for_staff(staff["priya"]),
            guidance="Approved: reissue them, and tell the client the date.",
        )

    if case := _new_case(
        report,
        devon,
        northwind,
        "Confirm the member mapping with Client Support",
        "Cross-check before the billing move.",
        "normal",
    ):
        handoff = handoffs.handoff_request(
            case=case,
            actor=devon,
            to_department=departments["Client Support"],
            accountable=staff["joanne"],
            request="Confirm which of the 40 members are still active.",
            shared_summary="Institutional billing move for a shared client; need the active list.",
        )
        handoffs.handoff_complete(
            handoff=handoff, actor=maria, answer="All 40 are active as of today."
        )


def _next_opening(department_id: int, *, hour: int) -> datetime:
    """The next working day at `hour` in the department's calendar: a time a client may
    book a call for."""
    hours = deadlines.hours_for(department_id)
    day = timezone.localtime(timezone.now(), hours.zone).date()
    for _ in range(30):
        day += timedelta(days=1)
        moment = datetime.combine(day, time(hour), tzinfo=hours.zone)
        if hours.is_working_time(moment):
            return moment
    raise ValueError("no working day in the next 30 days")


def _new_case(report, actor, client, subject, description, priority) -> Case | None:
    if Case.objects.filter(client=client, subject=subject).exists():
        return None
    case = services.case_open(
        actor=actor, client=client, subject=subject, description=description, priority=priority
    )
    report.note(f"case {case.reference}: {subject}")
    return case


def _get_or_create(report, model, defaults=None, **lookup):
    obj, created = model.objects.get_or_create(defaults=defaults or {}, **lookup)
    if created:
        report.note(f"{model._meta.verbose_name} {obj}")
    return obj


def _user(report, username, first, last, email) -> User:
    user, created = User.objects.get_or_create(
        username=username, defaults={"first_name": first, "last_name": last, "email": email}
    )
    if created:
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        report.note(f"user {username}")
    return user
