"""The queue in constant time (visibility branches, keyset pages) and the dashboard kept
from stored figures, where a review found them wrong: a case looked up through every branch,
the queue failing on SQLite, a rebuild skipped, a damaged page link passed over. The tests
named "correct" pin what the review checked and found right (the same cases as the old
rule for every viewer and page; crafted cursors)."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from accounts.directory import staff_directory
from casedesk.models import Case
from casedesk.selectors import QUEUE_SORTS, QueueFilters, Viewer, cases_visible_to, queue_page
from escalation.figures import site_day
from escalation.models import FigureDay, FigureRefresh
from tests.casedesk.helpers import case_in_state, locked_by_another_transaction
from tests.casedesk.test_queue import references
from tests.casedesk.workspace import bulk_cases, bulk_handoffs
from tests.factories import open_case, staff


def viewer_of(person) -> Viewer:
    return Viewer.of(person, directory=staff_directory())


def visible_by_the_rule_before_the_rewrite(viewer: Viewer) -> set[int]:
    """cases_visible_to as it was at 6c5b7a7: one OR across the join to hand-offs."""
    visible = (
        Q(department_id=viewer.department_id)
        | Q(handoffs__to_department_id=viewer.department_id)
        | Q(owner_id__in=viewer.subtree_ids)
        | Q(handoffs__accountable_id__in=viewer.subtree_ids)
    )
    return set(Case.objects.filter(visible).values_list("pk", flat=True))


def hand_over(org, cases) -> None:
    bulk_handoffs(org, [case.pk for case in cases], due_at=timezone.now() + timedelta(days=1))


def pages_both_ways(viewer, filters, now, size) -> tuple[list[list[int]], list[list[int]]]:
    forwards, cursor = [], None
    while True:
        page = queue_page(viewer, filters, now=now, cursor=cursor, size=size)
        forwards.append([case.pk for case in page.rows])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    backwards, cursor = [], page.previous_cursor
    while cursor is not None:
        page = queue_page(viewer, filters, now=now, cursor=cursor, size=size)
        backwards.append([case.pk for case in page.rows])
        cursor = page.previous_cursor
    return forwards, backwards


def an_org_with_hand_offs_closed_cases_and_a_second_top(org):
    support = bulk_cases(org, 40)
    theirs = bulk_cases(org, 20, owner=org.devon, start=200_000)
    Case.objects.filter(pk__in=[case.pk for case in theirs]).update(department=org.institutional)
    hand_over(org, support[::3])
    Case.objects.filter(pk__in=[case.pk for case in support[5:25]]).update(
        due_at=None, state="resolved", closed_at=timezone.now()
    )
    olga = staff("olga", org.institutional, "Auditor", 1)  # no manager: a second top
    outside = open_case(org)
    Case.objects.filter(pk=outside.pk).update(owner=olga, department=org.institutional)
    case_in_state(org, "cross_department")
    return olga


# --- 1. The queue on the embedded default database (SQLite) --------------------------


@pytest.mark.parametrize("who", ["lee", "maria", "joanne"])
@pytest.mark.parametrize("view", ["all", "overdue", "flagged"])
def test_every_queue_view_opens_on_either_database(client, org, who, view):
    """SQLite (the demo's embedded database) refused the union of limited branches: 500."""
    bulk_cases(org, 3)
    client.force_login(getattr(org, who).user)

    response = client.get(f"/cases/?view={view}")

    assert response.status_code == 200


# --- 2. Stored figures: a rebuild is not "the same rows" as the beat's refresh --------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rebuilding_the_history_is_not_skipped_while_the_beat_refresh_holds_the_lock(org):
    now = timezone.now()
    old = open_case(org)
    Case.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=90))
    FigureRefresh.objects.get_or_create(pk=1)

    # the beat's refresh (the last 30 days) is running while an operator rebuilds history
    # (the rebuild waits for the lock, which the other transaction lets go after 3 s)
    with locked_by_another_transaction(FigureRefresh.objects.filter(pk=1), at_most=3):
        call_command("rebuild_figures")

    # "Another refresh is running: it writes the same figures" -- it does not: it writes
    # the last 30 days only, so the 90-day-old case's day is never counted
    assert FigureDay.objects.filter(day=site_day(now - timedelta(days=90))).exists()


# --- 3. A mangled page link "says so" (1f01559) ---------------------------------------


@pytest.mark.parametrize("cursor", ["junk1.2junk", "1.2.3", "1.2.3.4"])
def test_a_mangled_page_link_says_so_rather_than_silently_showing_the_first_page(
    client, org, cursor
):
    bulk_cases(org, 30)
    client.force_login(org.joanne.user)

    response = client.get(f"/cases/?view=department&after={cursor}")

    assert "This page link is not one the queue made" in response.content.decode()


# --- Checked and found correct ----------------------------------------------------------


@pytest.mark.postgres
def test_correct_the_union_of_branches_is_the_old_rule_for_every_viewer_and_every_page(org):
    olga = an_org_with_hand_offs_closed_cases_and_a_second_top(org)
    now = timezone.now()
    for person in [org.lee, org.maria, org.joanne, org.priya, org.devon, olga]:
        viewer = viewer_of(person)
        expected = visible_by_the_rule_before_the_rewrite(viewer)
        assert set(cases_visible_to(viewer).values_list("pk", flat=True)) == expected
        for sort in QUEUE_SORTS:
            for size in (3, 7):
                forwards, backwards = pages_both_ways(
                    viewer, QueueFilters(view="all", sort=sort), now, size
                )
                listed = [pk for page in forwards for pk in page]
                assert len(listed) == len(set(listed)), (person, sort, size)
                assert set(listed) == expected, (person, sort, size, viewer.sees_everyone)
                assert [*reversed(backwards), forwards[-1]] == forwards, (person, sort, size)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "cursor",
    [
        "-62135596800000000.1",  # year 1: FAR_PAST
        "253402300799999999.1",  # the last microsecond of 9999
        "253402300800000000.1",  # year 10000
        "1.999999999999999999",  # a pk past every id
        "-9999999999999999.1",
    ],
)
@pytest.mark.parametrize("rel", ["after", "before"])
def test_correct_a_crafted_cursor_neither_fails_nor_shows_another_departments_case(
    client, org, cursor, rel
):
    bulk_cases(org, 3)
    theirs = bulk_cases(org, 2, owner=org.devon, start=200_000)
    Case.objects.filter(pk__in=[case.pk for case in theirs]).update(department=org.institutional)
    client.force_login(org.joanne.user)
    for sort in QUEUE_SORTS:
        response = client.get(f"/cases/?view=all&sort={sort}&{rel}={cursor}")
        assert response.status_code in (200, 400)
        assert not {case.reference for case in theirs} & set(references(response))


# --- 4. One case by reference reads every visible case ---------------------------------


def rows_read(queryset) -> int:
    """The rows every node of the plan produced, summed (EXPLAIN ANALYZE)."""
    plan = json.loads(queryset.explain(format="json", analyze=True))[0]["Plan"]
    total, nodes = 0, [plan]
    while nodes:
        node = nodes.pop()
        total += node["Actual Rows"] * node.get("Actual Loops", 1)
        nodes += node.get("Plans", [])
    return total


@pytest.mark.postgres
def test_finding_one_visible_case_by_reference_reads_a_few_rows_whatever_the_case_count(org):
    cases = bulk_cases(org, 3000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE casedesk_case")
    maria = viewer_of(org.maria)

    # what case_for_viewer (case page, exception pages, ...) asks
    one = cases_visible_to(maria).filter(reference=cases[5].reference)

    # on main: a HashAggregate of the UNION of every branch, i.e. every case of the
    # department, twice (department branch and joanne's branch): ~12,000 rows here
    assert rows_read(one) < 100


@pytest.mark.parametrize(
    "mark", [{"late_since": timezone.now()}, {"at_top_of_chain": True}], ids=["late", "top"]
)
def test_a_closed_case_cannot_keep_the_marks_that_overdue_and_top_of_the_chain_list(org, mark):
    """The queue's "Overdue" and "Top of the chain" ask the mark alone (their partial indexes answer
    it): the database holds that only an active case carries one, whatever writes it."""
    from django.db import IntegrityError, transaction

    case = open_case(org)
    Case.objects.filter(pk=case.pk).update(**mark)  # active: allowed
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(state="resolved", due_at=None)
    assert Case.objects.filter(pk=case.pk, state="open", **mark).exists()
