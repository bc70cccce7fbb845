"""Data for workspace tests: many cases or events fast (bulk inserts of fixtures, not the
code under test), and a query counter."""

import html
import re
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casedesk.models import Case, CaseEvent, CaseState, HandOff


def bulk_cases(org, count: int, *, owner=None, start: int = 100_000) -> list[Case]:
    now = timezone.now()
    owner = owner or org.joanne
    cases = Case.objects.bulk_create(
        [
            Case(
                reference=Case.format_reference(start + n),
                client=org.harbor,
                department=org.support,
                subject=f"Bulk case {n}",
                owner=owner,
                due_at=now + timedelta(hours=n - count // 2, minutes=30),  # half overdue
            )
            for n in range(count)
        ]
    )
    return cases


def bulk_events(case: Case, count: int, *, actor_user, client_visible: bool = False) -> None:
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case=case,
                kind="message" if client_visible else "note",
                actor_kind="staff",
                actor_user=actor_user,
                from_state=CaseState.OPEN,
                to_state=CaseState.OPEN,
                reason=f"Note {n}",
                client_visible=client_visible,
            )
            for n in range(count)
        ]
    )


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context.captured_queries)


def link(response, rel: str) -> str | None:
    """The page's Next (rel="next") or Previous (rel="prev") link, if it has one."""
    found = re.search(rf'href="([^"]+)" rel="{rel}"', response.content.decode())
    return response.request["PATH_INFO"] + html.unescape(found.group(1)) if found else None


def bulk_handoffs(org, case_ids, **fields) -> list[HandOff]:
    """Client Support asking Institutional Services (devon holds each) on these cases, in
    one insert; `fields`: the deadline and anything else to set (another holder too)."""
    fields = {"accountable": org.devon, **fields}
    return HandOff.objects.bulk_create(
        HandOff(
            case_id=pk,
            from_department=org.support,
            to_department=org.institutional,
            requested_by=org.joanne,
            request="The account history",
            shared_summary="A disputed charge",
            **fields,
        )
        for pk in case_ids
    )
