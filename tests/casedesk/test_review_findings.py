"""What a review of 2d6b653..745cbd7 found wrong (the queue's rare views read as merged
branches, intake routing, the client's new-request page), each pinned by a test that
failed before its fix."""

import itertools
from datetime import timedelta

import pytest
import time_machine
from django.db.models import Q
from django.utils import timezone

from accounts.directory import staff_directory
from accounts.models import AuthorityLevel
from casedesk.models import ACTIVE_STATES, Case, HandOff, HandOffState
from casedesk.selectors import (
    QUEUE_ORDERS,
    QUEUE_SORTS,
    QueueFilters,
    Viewer,
    cases_visible_to,
    queue_page,
)
from tests.casedesk.workspace import bulk_cases, bulk_handoffs
from tests.factories import ClientFactory, DepartmentFactory, staff


def listed_on(viewer: Viewer, view: str, now, *, size: int, sort: str = "due") -> list[int]:
    listed, cursor = [], None
    while True:
        filters = QueueFilters(view=view, sort=sort)
        page = queue_page(viewer, filters, now=now, cursor=cursor, size=size)
        listed += [case.pk for case in page.rows]
        if page.next_cursor is None:
            return listed
        cursor = page.next_cursor


@pytest.fixture
def legal_cases_held_by_two_of_lees_people(org):
    """A department outside lee's chain (zed at its top), whose overdue and top-of-chain
    cases each ask Institutional Services twice: devon holds one hand-off, priya the other.
    Lee sees them only as the holders' director (neither his department nor his people's
    cases), so each reaches his queue through two copies, one per holder."""
    legal = DepartmentFactory(name="Legal")
    zed = staff("zed", legal, "Director", AuthorityLevel.DIRECTOR)
    client = ClientFactory(name="Quayside Law", department=legal)
    now = timezone.now()
    cases = Case.objects.bulk_create(
        Case(
            reference=Case.format_reference(700_000 + n),
            client=client,
            department=legal,
            subject=f"Legal case {n}",
            owner=zed,
            due_at=now - timedelta(hours=10 - n),
            at_top_of_chain=True,
        )
        for n in range(5)
    )
    HandOff.objects.bulk_create(
        HandOff(
            case=case,
            from_department=legal,
            to_department=org.institutional,
            requested_by=zed,
            accountable=holder,
            request="The account history",
            shared_summary="A disputed charge",
            due_at=now + timedelta(days=1),
        )
        for case in cases
        for holder in (org.devon, org.priya)
    )
    return cases


@pytest.mark.parametrize("sort", ["due", "newest", "updated", "-due"])
@pytest.mark.parametrize("view", ["overdue", "flagged"])
def test_a_case_two_of_the_viewers_people_hold_hand_offs_of_is_not_dropped_from_the_rare_views(
    org, legal_cases_held_by_two_of_lees_people, view, sort
):
    """The merged "held_by" branch reads one copy per holder: a case held by two of the
    subtree's people came twice into the branch's size + 1 rows, so the page ended early
    (no Next) and the cases after it were never listed."""
    now = timezone.now()
    viewer = Viewer.of(org.lee, directory=staff_directory())
    assert not viewer.sees_everyone  # zed is outside lee's chain
    marked = (
        Q(state__in=ACTIVE_STATES, due_at__lt=now) | Q(late_since__isnull=False)
        if view == "overdue"
        else Q(at_top_of_chain=True)
    )
    expected = set(cases_visible_to(viewer).filter(marked).values_list("pk", flat=True))
    assert {case.pk for case in legal_cases_held_by_two_of_lees_people} <= expected

    listed = listed_on(viewer, view, now, size=2, sort=sort)

    assert len(listed) == len(set(listed)), "a case listed twice"
    assert set(listed) == expected


def test_a_contact_cannot_flood_their_department_with_new_requests(client, org):
    """Every request from /status/new/ is a case held against a deadline, its holder told
    at once: without a limit one signed-in contact (or a script holding their link's
    session) could open cases without end, each paging an agent. A few an hour are plenty;
    past that the page says so, and nothing is opened."""
    from casedesk.services import REQUESTS_PER_CONTACT_PER_HOUR as LIMIT
    from tests.casedesk.test_client_requests import signed_in_as

    signed_in_as(client, org.sam)
    for n in range(LIMIT):
        sent = client.post("/status/new/", {"subject": f"Request {n}", "description": "D"})
        assert sent.status_code == 302

    refused = client.post("/status/new/", {"subject": "One more", "description": "Kept."})

    assert refused.status_code == 429
    page = refused.content.decode()
    assert "requests in the last hour" in page
    assert "Kept." in page
    assert Case.objects.count() == LIMIT
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        again = client.post("/status/new/", {"subject": "Next hour", "description": "D"})
    assert again.status_code == 302


def walked(viewer: Viewer, filters: QueueFilters, now, *, size: int) -> tuple[list, list]:
    """Every page forwards from the first, then every page back from the last."""
    forwards, cursor = [], None
    while True:
        page = queue_page(viewer, filters, now=now, cursor=cursor, size=size)
        forwards.append([case.pk for case in page.rows])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    backwards = []
    while page.previous_cursor is not None:
        page = queue_page(viewer, filters, now=now, cursor=page.previous_cursor, size=size)
        backwards.insert(0, [case.pk for case in page.rows])
    return forwards, backwards


def test_correct_the_rare_views_list_what_the_visibility_rule_and_the_view_say_in_order(
    org, legal_cases_held_by_two_of_lees_people
):
    """Checked and found right (after the held_by fix): for each person, view, sort and a
    filter, "Overdue" and "Top of the chain" page forwards and back through exactly
    cases_visible_to and the view's condition, in the sort's order; hand-offs held at the
    top, completed hand-offs, closed cases and cases handed to two holders included."""
    now = timezone.now()
    own = bulk_cases(org, 14)
    handed = bulk_cases(org, 14, start=300_000)
    bulk_handoffs(org, [case.pk for case in handed[:7]], state=HandOffState.COMPLETED)
    held_at_top = {"accountable": org.priya, "at_top_of_chain": True, "due_at": now}
    bulk_handoffs(org, [case.pk for case in handed[4:]], **held_at_top)
    for group in (own, handed):
        pks = [case.pk for case in group]
        late = {"late_since": now - timedelta(days=1), "due_at": now + timedelta(hours=4)}
        Case.objects.filter(pk__in=pks[:4]).update(due_at=now - timedelta(hours=2), priority="high")
        Case.objects.filter(pk__in=pks[4:8]).update(**late)
        Case.objects.filter(pk__in=pks[6:10]).update(at_top_of_chain=True)
        Case.objects.filter(pk__in=pks[12:]).update(
            state="resolved", due_at=None, late_since=None, at_top_of_chain=False
        )
    views = {
        "overdue": Q(state__in=ACTIVE_STATES, due_at__lt=now) | Q(late_since__isnull=False),
        "flagged": Q(at_top_of_chain=True)
        | Q(pk__in=HandOff.objects.filter(at_top_of_chain=True, state="open").values("case_id")),
    }
    people = (org.joanne, org.maria, org.lee, org.devon, org.priya)
    wrong = []
    for person, view, sort, priority in itertools.product(people, views, QUEUE_SORTS, ("", "high")):
        viewer = Viewer.of(person, directory=staff_directory())
        expected = cases_visible_to(viewer).filter(views[view])
        if priority:
            expected = expected.filter(priority=priority)
        in_order = QUEUE_ORDERS[sort].apply(expected).values_list("pk", flat=True)
        filters = QueueFilters(view=view, sort=sort, priority=priority)
        forwards, backwards = walked(viewer, filters, now, size=3)
        listed = [pk for page in forwards for pk in page]
        if listed != list(in_order) or backwards != forwards[:-1]:
            wrong.append((person.user.username, view, sort, priority))
    assert wrong == []


def test_an_empty_post_of_a_new_request_says_what_is_missing(client, org):
    """`RequestForm(request.POST or None)`: a POST with no fields at all left the form
    unbound, so the page answered 400 with no message saying why."""
    from tests.casedesk.test_client_requests import signed_in_as

    signed_in_as(client, org.sam)

    refused = client.post("/status/new/", {})

    assert refused.status_code == 400
    assert "This field is required." in refused.content.decode()
    assert not Case.objects.exists()
