"""The sweep works in batches: its queries are fixed per batch, not per item.

Counted on PostgreSQL, where a bulk insert is one statement at any size (SQLite splits one
at 999 parameters, so there 50 items can cost a statement more than 5).
"""

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casedesk.models import CallBack, Case, CaseEvent, CaseState, Notification
from escalation.models import Escalation, ExceptionKind, ExceptionRequest
from escalation.sweep import BATCH, sweep_due
from tests.casedesk.workspace import bulk_cases, bulk_handoffs

WORK = ["cases", "hand-offs", "call-backs", "exception requests"]


def _held(org, what: str, count: int, *, start: int, deadline: dict) -> None:
    """`count` items of a kind on fresh cases, none of them due themselves."""
    cases = bulk_cases(org, count, start=start)
    ids = [case.pk for case in cases]
    later = timezone.now() + timedelta(days=30)
    if what == "cases":
        Case.objects.filter(pk__in=ids).update(due_kind="next_update", **deadline)
        return
    Case.objects.filter(pk__in=ids).update(due_at=later)
    if what == "hand-offs":
        Case.objects.filter(pk__in=ids).update(state=CaseState.CROSS_DEPARTMENT)
        bulk_handoffs(org, ids, **deadline)
    elif what == "call-backs":
        CallBack.objects.bulk_create(
            CallBack(
                case_id=pk,
                phone="+44 20 7946 0101",
                requested_for=deadline["due_at"],
                time_zone="Europe/London",
                accountable=org.joanne,
                **deadline,
            )
            for pk in ids
        )
    else:
        kind, _ = ExceptionKind.objects.get_or_create(name="Refund")
        ExceptionRequest.objects.bulk_create(
            ExceptionRequest(
                case_id=pk,
                kind=kind,
                amount=40,
                justification="Charged twice",
                requested_by=org.joanne,
                approver=org.maria,
                **deadline,
            )
            for pk in ids
        )


def _sweep_counting(now):
    with CaptureQueriesContext(connection) as context:
        report = sweep_due(now=now)
    return report, len(context.captured_queries)


@pytest.mark.parametrize("open_cases", [10, 2000])
def test_with_nothing_due_the_sweep_asks_one_query(org, open_cases):
    bulk_cases(org, open_cases)
    Case.objects.update(due_at=timezone.now() + timedelta(days=3), warn_at=None)

    report, queries = _sweep_counting(timezone.now())

    assert report.escalated == report.warned == []
    assert queries == 1  # one EXISTS per kind of work, in one SELECT


@pytest.mark.postgres
@pytest.mark.parametrize("what", WORK)
@pytest.mark.parametrize("due", ["deadline", "warning"])
def test_sweeping_fifty_due_items_costs_the_queries_of_five(org, what, due):
    now = timezone.now()
    deadline = {"due_at": now - timedelta(minutes=5), "warn_at": None}
    if due == "warning":
        deadline = {"due_at": now + timedelta(hours=2), "warn_at": now - timedelta(minutes=5)}
    costs = {}
    for count, start in ((5, 800_000), (50, 810_000)):
        _held(org, what, count, start=start, deadline=deadline)
        report, costs[count] = _sweep_counting(now)
        assert len(report.escalated if due == "deadline" else report.warned) == count

    assert costs[50] == costs[5]


def test_more_due_than_a_batch_are_all_escalated_in_one_sweep(org):
    now = timezone.now()
    count = BATCH * 2 + 7
    _held(org, "cases", count, start=840_000, deadline={"due_at": now - timedelta(minutes=5)})

    report = sweep_due(now=now)

    assert len(report.escalated) == count
    assert Escalation.objects.count() == count
    assert CaseEvent.objects.filter(kind="escalated").count() == count


def test_each_item_of_a_batch_gets_its_own_event_escalation_and_emails(org):
    now = timezone.now()
    _held(org, "cases", 3, start=850_000, deadline={"due_at": now - timedelta(minutes=5)})

    sweep_due(now=now)

    for case in Case.objects.filter(reference__startswith="CD-85"):
        assert case.owner == org.maria
        assert case.version == 1
        assert case.escalations.get().to_person == org.maria
        assert case.events.get(kind="escalated").target == org.maria
        told = Notification.objects.filter(case=case).values_list("recipient_email", flat=True)
        assert sorted(told) == sorted([org.maria.user.email, org.joanne.user.email, org.sam.email])


def test_a_deadline_escalated_already_is_left_and_holds_up_nothing(org, caplog):
    """An Escalation row for the very deadline a case still shows (as the unique constraint
    would refuse again): that case is logged and left; the others escalate."""
    now = timezone.now()
    missed = {"due_at": now - timedelta(minutes=5)}
    _held(org, "cases", BATCH + 3, start=860_000, deadline=missed)
    stuck = Case.objects.filter(reference__startswith="CD-86").order_by("pk").first()
    Escalation.objects.create(
        case=stuck,
        deadline_due_at=stuck.due_at,
        deadline_kind="next_update",
        level=1,
        from_person=org.joanne,
        to_person=org.maria,
        escalated_at=now,
    )

    with caplog.at_level(logging.WARNING, logger="escalation.services"):
        report = sweep_due(now=now)

    assert len(report.escalated) == BATCH + 2
    assert not any(stuck.reference in line for line in report.escalated)
    assert "already escalated" in caplog.text
    stuck.refresh_from_db()
    assert stuck.owner == org.joanne


@pytest.mark.postgres
def test_a_batch_that_fails_is_taken_again_item_by_item_so_one_bad_item_holds_up_none(org, caplog):
    """A fault on one case (here the database refusing its update) fails its batch; the
    sweep takes that batch again one item at a time: the others escalate, the bad one is
    logged and stays due for the next sweep."""
    now = timezone.now()
    _held(org, "cases", 5, start=870_000, deadline={"due_at": now - timedelta(minutes=5)})
    bad = Case.objects.filter(reference__startswith="CD-87").order_by("pk")[2]
    with connection.cursor() as cursor:  # rolled back with the test's transaction
        cursor.execute(
            "CREATE FUNCTION refuse_case() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER refuse_case BEFORE UPDATE ON casedesk_case FOR EACH ROW "
            f"WHEN (OLD.id = {bad.pk}) EXECUTE FUNCTION refuse_case()"
        )

    with caplog.at_level(logging.ERROR, logger="escalation.sweep"):
        report = sweep_due(now=now)

    assert len(report.escalated) == 4
    assert not any(bad.reference in line for line in report.escalated)
    assert "taking its items one at a time" in caplog.text
    assert f"sweep item failed: overdue cases {bad.pk}" in caplog.text
    assert Escalation.objects.filter(case=bad).count() == 0
    assert Escalation.objects.filter(case__reference__startswith="CD-87").count() == 4
