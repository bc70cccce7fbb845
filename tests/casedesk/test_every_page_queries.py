"""Every page costs a fixed number of queries, whoever looks and however much there is.

The pages are the URL walk's (tests/casedesk/test_url_walk.py: every URL pattern, objects of
both departments and three clients, hand-offs both ways): every URL of the walk that answers
a GET with 200 to someone is asked by everyone it answers, once on the demo (about ten
cases) and again after the database has grown to 5,000 cases shaped like the bench's (a
tenth open; hand-offs, call-backs and exception requests among them; six timeline entries
each), with the walked cases' own timelines, hand-offs, call-backs and decided exception
requests (precedents) grown too. Each page must ask the same number both times, within its
budget. A URL pattern no walked GET shows must be excused below, with the reason.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, resolve
from django.utils import timezone

from accounts.models import Department, StaffProfile, User
from casedesk import services
from casedesk.actors import Actor
from casedesk.models import Attachment, CallBack, Case, CaseEvent, HandOff, HandOffState
from escalation import bench_data
from escalation.models import ExceptionKind, ExceptionRequest, ExceptionState
from inbound.models import InboundMessage, Mailbox, Outcome
from tests.casedesk.test_url_walk import LATER, PEOPLE, _patterns, demo, walk

__all__ = ["demo"]  # the URL walk's fixture, used here by name

# Queries a page may ask (the budgets for the queue, the case page and the
# dashboard; the others at what they asked when this test was written).
BUDGETS = {
    "cases/": 8,  # the queue, every view
    "cases/<str:reference>/": 8,  # the case page
    "dashboard/": 10,
    "dashboard/cases/<str:figure>/": 10,
    "cases/new": 6,
    "cases/<str:reference>/exceptions/new": 8,
    "exceptions/<int:request_id>/": 8,
    "handoffs/<int:handoff_id>/convene": 10,
    "status/": 5,  # the client's case list
    "status/<str:token>/": 6,  # the status page, by link or signed in
    "cases/<str:reference>/attachments/<int:attachment_id>/": 6,  # a download
    "status/<str:token>/attachments/<int:attachment_id>/": 4,  # the client's download
    "status/sign-in/": 4,
    "status/new/": 4,  # a client's new request
    "accounts/login/": 4,
    "accounts/security/": 6,
    "accounts/password/": 4,
    "accounts/two-factor/": 7,
    "accounts/two-factor/qr.svg": 6,
    "healthz": 6,  # 5, and one since it counts the mailboxes whose last poll failed
    "admin/": 5,
    "mail/<str:which>/": 6,  # the unassigned and the held mail
    "mail/message/<int:message_id>/": 6,
}

# URL patterns with no page to count, and why.
EXCUSED = {
    "": "redirects to the queue or the client's list",
    "accounts/logout/": "POST only: signs out",
    "status/sign-out/": "POST only: signs out",
    "accounts/security/sign-out-others": "POST only",
    "accounts/two-factor/verify/": "redirects on: nobody in the walk has a second factor",
    "status/sign-in/<str:token>/": "a sign-in link: signs in and redirects (the walk's is bad)",
    "cases/<str:reference>/act/<str:action>": "POST only",
    "cases/<str:reference>/handoffs/<int:handoff_id>/answer": "POST only",
    "cases/<str:reference>/handoffs/<int:handoff_id>/assign": "POST only",
    "cases/<str:reference>/callbacks/<int:callback_id>/done": "POST only",
    "cases/<str:reference>/attachments/<int:attachment_id>/remove": "POST only",
    "exceptions/<int:request_id>/decide": "POST only",
    "mail/message/<int:message_id>/<str:action>": "POST only",
}

GROWN_TO = 5_000
FIRST_BULK = 1_000_000  # bulk cases' numbers: far beyond the demo's references
WALKED = ("support", "handed", "risky", "institutional", "bayside")  # the walk's cases


def _route(url: str) -> str:
    route = resolve(url.split("?")[0]).route
    return "admin/" if route.startswith("admin/") else route


def _pages(refs) -> list[str]:
    """The walk's URLs but those of the excused patterns (no page to count) and the
    sign-outs (the walk ends with them)."""
    return [url for url, data in walk(refs) if data != LATER and _route(url) not in EXCUSED]


def _fill_every_list(refs) -> None:
    """Something in every list a page shows, so that no page saves a query by having
    nothing to list when small: a case of each department overdue at the top of its
    chain (the "Overdue" and "Flagged" views), one with priya (her "My cases")."""
    devon = Actor.for_staff(StaffProfile.objects.get(user__username="devon"))
    institutional = Case.objects.get(reference=refs["institutional"])
    services.case_escalate(case=institutional, actor=devon, reason="Above my authority.")
    Case.objects.filter(reference__in=[refs["institutional"], refs["bayside"]]).update(
        late_since=timezone.now() - timedelta(hours=2), at_top_of_chain=True
    )


def _costs(client, urls, *, only=None) -> dict[tuple[str, str], int]:
    """(person, url): the queries of each GET answered with 200 (all of `only`, if given,
    must be)."""
    counted = {}
    for person in PEOPLE:
        cache.clear()  # the bad links walked by one person do not throttle the next
        client.logout()
        if person != "anonymous":
            client.force_login(User.objects.get(username=person))
        # Uncounted: the session's clocks start (a write, then one a minute at most), and
        # the second factor's page makes its pending device on the first visit.
        client.get("/accounts/two-factor/")
        for url in urls:
            if only is not None and (person, url) not in only:
                continue
            with CaptureQueriesContext(connection) as context:
                response = client.get(url)
            if response.status_code == 200:
                counted[person, url] = len(context.captured_queries)
            else:
                assert only is None, f"{person}: GET {url} answered {response.status_code}"
    return counted


def _grow(refs) -> None:
    """5,000 cases shaped like the bench's, and more on every case the walk visits: 40
    timeline entries (half the client's to read), two closed call-backs, three answered
    hand-offs, and 20 decided refunds (precedents on every exception request's page)."""
    now = timezone.now()
    org = bench_data.organisation()
    count = GROWN_TO - Case.objects.count()
    bench_data.add_cases(org, range(FIRST_BULK, FIRST_BULK + count), now=now)
    walked = list(
        Case.objects.filter(reference__in=[refs[name] for name in WALKED]).select_related(
            "owner__user", "owner__manager"
        )
    )
    refund = ExceptionKind.objects.get(name="Refund")
    departments = list(Department.objects.all())
    for case in walked:
        CaseEvent.objects.bulk_create(
            CaseEvent(
                case=case,
                kind="message" if n % 2 else "note",
                actor_kind="staff",
                actor_user=case.owner.user,
                from_state=case.state,
                to_state=case.state,
                reason=f"Grown entry {n}",
                client_visible=bool(n % 2),
            )
            for n in range(40)
        )
        later = now + timedelta(days=5)
        CallBack.objects.bulk_create(
            CallBack(
                case=case,
                phone="+44 20 7946 0999",
                requested_for=later,
                time_zone="Europe/London",
                accountable=case.owner,
                due_at=later,
                state=state,
            )
            for state in ("completed", "cancelled")
        )
        other = next(d for d in departments if d.pk != case.department_id)
        HandOff.objects.bulk_create(
            HandOff(
                case=case,
                from_department_id=case.department_id,
                to_department=other,
                requested_by=case.owner,
                accountable=other.staff.order_by("pk").first(),
                request=f"Grown request {n}",
                shared_summary="Grown summary",
                state=HandOffState.COMPLETED,
                answer="Grown answer",
                closed_at=now,
            )
            for n in range(3)
        )
        _grow_files(case, handoffs=case.handoffs.filter(request__startswith="Grown"))
        ExceptionRequest.objects.bulk_create(
            ExceptionRequest(
                case=case,
                kind=refund,
                amount=Decimal(20 + n),
                justification="Grown request",
                requested_by=case.owner,
                approver=case.owner.manager or case.owner,
                decided_by=case.owner.manager or case.owner,
                state=ExceptionState.APPROVED if n % 2 else ExceptionState.DENIED,
                rationale="Grown decision",
                decided_at=now - timedelta(days=n),
            )
            for n in range(20)
        )
    assert Case.objects.count() == GROWN_TO
    _grow_mail(refs, walked)


def _grow_mail(refs, walked) -> None:
    """30 of each kind of waiting mail in every mailbox (more than a list's page), held on
    each walked case."""
    mailboxes = list(Mailbox.objects.all())
    template = InboundMessage.objects.get(pk=refs["mail_held"])
    rows = []
    for mailbox in mailboxes:
        for n in range(30):
            rows.append(
                InboundMessage(
                    mailbox=mailbox,
                    message_id=f"<grown.{mailbox.pk}.{n}@mail.example>",
                    sender_email=f"grown{n}@mail.example",
                    subject="Grown",
                    received_at=template.received_at,
                    text="Grown mail",
                    outcome=Outcome.UNASSIGNED,
                )
            )
            case = walked[n % len(walked)]
            rows.append(
                InboundMessage(
                    mailbox=mailbox,
                    message_id=f"<grown-held.{mailbox.pk}.{n}@mail.example>",
                    sender_email=f"grown{n}@mail.example",
                    subject="Grown",
                    received_at=template.received_at,
                    text="Grown mail",
                    outcome=Outcome.HELD,
                    case=case,
                )
            )
    InboundMessage.objects.bulk_create(rows)


def _grow_files(case, *, handoffs) -> None:
    """Twenty files on the grown timeline (half on what the client sees), one removed from
    view, and each grown hand-off sharing two: the pages list them without a query more."""
    events = list(case.events.filter(reason__startswith="Grown entry")[:20])
    files = Attachment.objects.bulk_create(
        Attachment(
            case=case,
            event=event,
            stored_name=f"grown/{case.pk}/{n}",
            original_name=f"grown-{n}.pdf",
            content_type="application/pdf",
            size=1000 + n,
            sha256="0" * 64,
            uploaded_by_kind="staff",
            uploaded_by_user=case.owner.user,
            removed_at=timezone.now() if n == 0 else None,
            removal_reason="Grown removal" if n == 0 else "",
        )
        for n, event in enumerate(events)
    )
    for handoff in handoffs:
        handoff.shared_attachments.set(files[1:3])


@pytest.mark.postgres  # the queue unions its branches in one query on PostgreSQL only
def test_every_page_asks_the_same_queries_within_its_budget_with_10_and_5000_cases(client, demo):
    _fill_every_list(demo)
    urls = _pages(demo)
    small = _costs(client, urls)

    shown = {_route(url) for _, url in small}
    patterns = set(_patterns(get_resolver()))
    assert patterns - shown - set(EXCUSED) == set(), "neither a counted page nor excused"
    assert set(EXCUSED) <= patterns, "excused patterns that no longer exist"
    assert shown <= set(BUDGETS), "pages without a budget"

    _grow(demo)
    grown = _costs(client, urls, only=small)

    changed = [
        f"{person} GET {url}: {small[person, url]} queries, then {grown[person, url]}"
        for person, url in small
        if grown[person, url] != small[person, url]
    ]
    over = [
        f"{person} GET {url}: {queries} queries, budget {BUDGETS[_route(url)]}"
        for (person, url), queries in grown.items()
        if queries > BUDGETS[_route(url)]
    ]
    assert not changed, "\n".join(changed)
    assert not over, "\n".join(over)
