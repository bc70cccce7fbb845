"""The copies of the cases' sort keys the queue reads for hand-offs (CaseReach) never drift
from the cases and their hand-offs, whatever writes them: every kind of action, the sweep's
batch updates, a bulk update(), a hand-off deleted. And the queue, which reads them, lists
exactly the cases the visibility rule lets each person see."""

from datetime import timedelta

import pytest
import time_machine
from django.db.models import Q
from django.utils import timezone

from casedesk import handoffs, services
from casedesk.models import ACTIVE_STATES, Case, CaseReach, HandOff, HandOffState
from casedesk.selectors import QUEUE_SORTS, QueueFilters, Viewer, cases_visible_to, queue_page
from escalation.sweep import sweep
from tests.casedesk.helpers import ask_devon, case_in_state, take
from tests.casedesk.workspace import bulk_cases, bulk_handoffs
from tests.factories import open_case


def expected_reach() -> set[tuple]:
    """What the rows must be, worked out here from the hand-offs and the cases: one per
    receiving department and per accountable person of each case, with its keys now."""
    cases = {case.pk: case for case in Case.objects.all()}
    rows = set()
    for handoff in HandOff.objects.all():
        case = cases[handoff.case_id]
        keys = (case.due_at, case.created_at, case.updated_at, case.late_since)
        keys += (case.at_top_of_chain,)
        rows.add((case.pk, handoff.to_department_id, None, *keys))
        rows.add((case.pk, None, handoff.accountable_id, *keys))
    return rows


def stored_reach() -> list[tuple]:
    return list(
        CaseReach.objects.values_list(
            "case_id",
            "department_id",
            "person_id",
            "due_at",
            "created_at",
            "updated_at",
            "late_since",
            "at_top_of_chain",
        )
    )


def assert_copies_exact() -> None:
    stored = stored_reach()
    assert len(stored) == len(set(stored)), "a case reaches an audience twice"
    assert set(stored) == expected_reach()


def test_every_kind_of_action_leaves_the_copies_equal_to_the_case(org, as_actor):
    joanne, priya = as_actor(org.joanne), as_actor(org.priya)
    case = open_case(org)
    untouched = case_in_state(org, "cross_department")  # another case's rows stay its own
    assert_copies_exact()

    handoff = ask_devon(org, case)
    assert CaseReach.objects.filter(case=case).count() == 2
    assert_copies_exact()
    handoffs.handoff_assign(handoff=handoff, actor=priya, to=org.priya)  # the holder changes
    assert_copies_exact()
    assert not CaseReach.objects.filter(case=case, person=org.devon).exists()
    handoffs.handoff_request(  # a second hand-off to the same department, another holder
        case=Case.objects.get(pk=case.pk),
        actor=joanne,
        to_department=org.institutional,
        accountable=org.devon,
        request="And the fees.",
        shared_summary="Fees too.",
    )
    assert CaseReach.objects.filter(case=case, department=org.institutional).count() == 1
    assert_copies_exact()
    for open_handoff in HandOff.objects.filter(case=case, state=HandOffState.OPEN):
        handoffs.handoff_complete(handoff=open_handoff, actor=priya, answer="Done.")
        assert_copies_exact()
    steps = [
        lambda c: services.case_add_note(case=c, actor=joanne, text="Called the bank."),
        lambda c: take(org, "escalate", c, joanne),
        lambda c: take(org, "return_with_guidance", c, as_actor(org.maria)),
        lambda c: services.case_reassign(case=c, actor=as_actor(org.maria), to=org.maria),
        lambda c: take(org, "deny", c, as_actor(org.maria)),
        lambda c: take(org, "reopen", c, as_actor(org.maria)),
        lambda c: take(org, "resolve", c, as_actor(org.maria)),
    ]
    for number, step in enumerate(steps):
        later = timezone.now() + timedelta(minutes=number + 1)  # every step moves the keys
        with time_machine.travel(later, tick=False):
            step(Case.objects.get(pk=case.pk))
        assert_copies_exact()
        assert CaseReach.objects.filter(case=case, updated_at=later).count() == 3
    assert CaseReach.objects.get(case=case, department=org.institutional).due_at is None
    assert CaseReach.objects.filter(case=untouched).count() == 2


def test_the_sweeps_batches_and_a_bulk_update_keep_the_copies_exact(org):
    cases = bulk_cases(org, 6)
    bulk_handoffs(
        org,
        [case.pk for case in cases[:4]],
        due_at=timezone.now() + timedelta(hours=1),
        created_at=timezone.now(),
    )
    assert_copies_exact()

    # Two days on, every case and hand-off is overdue: the sweep climbs them in batches
    # (one update() per table), the hand-offs' holders and the cases' deadlines move.
    report = sweep(now=timezone.now() + timedelta(days=2))
    assert len(report.escalated) >= 2  # the cases' batch and the hand-offs'
    assert_copies_exact()

    Case.objects.filter(pk__in=[case.pk for case in cases]).update(
        due_at=timezone.now() + timedelta(days=30), updated_at=timezone.now()
    )
    HandOff.objects.filter(case=cases[0]).update(accountable=org.priya)
    assert_copies_exact()
    # the marks "Overdue" and "Top of the chain" ask of the copies, set and cleared
    marked = [case.pk for case in cases[:2]]
    Case.objects.filter(pk__in=marked).update(late_since=timezone.now(), at_top_of_chain=True)
    assert CaseReach.objects.filter(late_since__isnull=False, at_top_of_chain=True).count() == 4
    assert_copies_exact()
    Case.objects.filter(pk=marked[0]).update(late_since=None)
    assert_copies_exact()


def test_a_deleted_hand_off_takes_its_audience_away(org):
    case = bulk_cases(org, 1)[0]
    bulk_handoffs(org, [case.pk], state=HandOffState.COMPLETED)  # nothing in the timeline
    assert case in cases_visible_to(Viewer.of(org.devon))
    HandOff.objects.filter(case=case).delete()

    assert not CaseReach.objects.filter(case=case).exists()
    assert case not in cases_visible_to(Viewer.of(org.devon))


def every_case_on_the_queue(viewer: Viewer, sort: str, now) -> list[int]:
    listed, cursor = [], None
    while True:
        page = queue_page(viewer, QueueFilters(view="all", sort=sort), now=now, cursor=cursor)
        listed += [case.pk for case in page.rows]
        if page.next_cursor is None:
            return listed
        cursor = page.next_cursor


@pytest.mark.parametrize("sort", QUEUE_SORTS)
def test_everything_on_the_queue_is_exactly_what_each_person_may_see(org, as_actor, sort):
    bulk_cases(org, 30)  # Client Support's own
    handed = bulk_cases(org, 30, start=200_000)
    bulk_handoffs(org, [case.pk for case in handed[:20]], state=HandOffState.COMPLETED)
    bulk_handoffs(
        org,
        [case.pk for case in handed[20:]],
        accountable=org.priya,
        due_at=timezone.now() + timedelta(days=1),
    )
    services.case_open(
        actor=as_actor(org.devon), client=org.northwind, subject="Institutional only"
    )
    # a hand-off that climbed past the department's supervisor: its holder sees the case
    HandOff.objects.filter(case=handed[-1]).update(accountable=org.lee)
    now = timezone.now()

    for person in (org.joanne, org.maria, org.lee, org.devon, org.priya):
        viewer = Viewer.of(person)
        listed = every_case_on_the_queue(viewer, sort, now)
        assert len(listed) == len(set(listed)), f"{person}: a case listed twice"
        assert set(listed) == set(cases_visible_to(viewer).values_list("pk", flat=True)), person
    assert {case.pk for case in handed} <= set(
        every_case_on_the_queue(Viewer.of(org.devon), sort, now)
    )


def listed_on(viewer: Viewer, view: str, now) -> set[int]:
    listed, cursor = [], None
    while True:
        page = queue_page(viewer, QueueFilters(view=view), now=now, cursor=cursor, size=7)
        listed += [case.pk for case in page.rows]
        if page.next_cursor is None:
            assert len(listed) == len(set(listed)), f"{viewer.staff}: a case listed twice"
            return set(listed)
        cursor = page.next_cursor


@pytest.mark.parametrize("view", ["overdue", "flagged"])
def test_the_rare_views_list_every_marked_case_each_person_may_see_and_no_other(org, view):
    """ "Overdue" and "Top of the chain" read the hand-off branches from the copies' marks
    and deadlines: the same cases as asking each visible case itself."""
    now = timezone.now()
    own = bulk_cases(org, 12)
    handed = bulk_cases(org, 12, start=300_000)
    bulk_handoffs(org, [case.pk for case in handed], state=HandOffState.COMPLETED)
    for group in (own, handed):
        Case.objects.filter(pk__in=[case.pk for case in group[:3]]).update(
            due_at=now - timedelta(hours=2)
        )
        Case.objects.filter(pk__in=[case.pk for case in group[3:6]]).update(
            late_since=now - timedelta(days=1), due_at=now + timedelta(hours=4)
        )
        Case.objects.filter(pk__in=[case.pk for case in group[5:8]]).update(at_top_of_chain=True)
    if view == "overdue":
        marked = Q(state__in=ACTIVE_STATES, due_at__lt=now) | Q(late_since__isnull=False)
    else:
        marked = Q(at_top_of_chain=True)

    for person in (org.joanne, org.maria, org.lee, org.devon, org.priya):
        viewer = Viewer.of(person)
        expected = set(cases_visible_to(viewer).filter(marked).values_list("pk", flat=True))
        assert listed_on(viewer, view, now) == expected, person
    assert listed_on(Viewer.of(org.devon), view, now) >= {case.pk for case in handed[5:6]}


# Every trigger that keeps the copies, by vendor (migration 0020). On SQLite a later
# migration that rebuilds casedesk_case or casedesk_handoff (to change a column) drops their
# triggers without a word: such a migration must install them again, and this says so.
REACH_TRIGGERS = {
    "postgresql": {
        "casedesk_handoff_reach_added",
        "casedesk_handoff_reach_moved",
        "casedesk_case_reach_keys",
    },
    "sqlite": {
        "casedesk_handoff_reach_added",
        "casedesk_handoff_reach_removed",
        "casedesk_handoff_reach_moved",
        "casedesk_case_reach_keys",
    },
}


def test_every_trigger_that_keeps_the_copies_exists_after_all_migrations(db):
    from django.db import connection

    query = {
        "postgresql": "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal",
        "sqlite": "SELECT name FROM sqlite_master WHERE type = 'trigger'",
    }[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(query)
        present = {name for (name,) in cursor.fetchall()}
    assert REACH_TRIGGERS[connection.vendor] <= present
