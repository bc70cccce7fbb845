"""The queue and the client's list at any size: a page by keyset (Next and Previous, no
count), the same few queries with 10 cases as with 5,000, every row once across pages
even when their sort keys tie."""

import re

import pytest
from django.utils import timezone

from casedesk.keyset import Cursor
from casedesk.models import Case, HandOffState
from casedesk.selectors import QUEUE_SORTS, QUEUE_VIEWS, QueueFilters, Viewer, queue_page
from tests.casedesk.helpers import case_in_state
from tests.casedesk.test_queue import references
from tests.casedesk.workspace import bulk_cases, bulk_handoffs, link, queries_for
from tests.factories import open_case

QUERY_BUDGET = 8


def every_page(browser, url: str, rel: str = "next") -> list[list[str]]:
    pages, seen = [], set()
    while url:
        assert url not in seen, f"a page links back to itself: {url}"
        seen.add(url)
        response = browser.get(url)
        assert response.status_code == 200, url
        pages.append(references(response))
        url = link(response, rel)
    return pages


def every_link(browser, url: str) -> list[str]:
    urls = [url]
    while next_url := link(browser.get(urls[-1]), "next"):
        assert next_url not in urls
        urls.append(next_url)
    return urls


def listed_references(response) -> list[str]:
    """The references on a client's list, where each is text above its subject's link."""
    return re.findall(r"(CD-\d{6}) ·", response.content.decode())


def tie_every_key(cases: list[Case]) -> None:
    moment = timezone.now().replace(microsecond=0)
    Case.objects.filter(pk__in=[case.pk for case in cases]).update(
        due_at=moment, created_at=moment, updated_at=moment
    )


@pytest.mark.parametrize("sort", QUEUE_SORTS)
def test_every_case_is_on_exactly_one_page_even_when_their_keys_tie(client, org, sort):
    cases = bulk_cases(org, 60)
    tie_every_key(cases[10:50])  # forty alike, between others before and after
    client.force_login(org.joanne.user)

    forwards = every_page(client, f"/cases/?view=department&sort={sort}")
    last = client.get(f"/cases/?view=department&sort={sort}")
    while link(last, "next"):
        last = client.get(link(last, "next"))
    backwards = every_page(client, link(last, "prev"), rel="prev")

    listed = [reference for page in forwards for reference in page]
    assert [len(page) for page in forwards] == [25, 25, 10]
    assert sorted(listed) == sorted(case.reference for case in cases)
    assert [*reversed(backwards), forwards[-1]] == forwards


def test_the_due_order_holds_across_pages_and_closed_cases_come_last(client, org):
    cases = bulk_cases(org, 30)
    closed = case_in_state(org, "resolved")
    client.force_login(org.joanne.user)

    first = client.get("/cases/?view=department")
    second = client.get(link(first, "next"))

    expected = [case.reference for case in sorted(cases, key=lambda case: (case.due_at, case.pk))]
    assert references(first) + references(second) == [*expected, closed.reference]


def test_a_mangled_page_link_is_a_400_that_says_why(client, org):
    client.force_login(org.joanne.user)

    response = client.get("/cases/?after=12;DROP")

    assert response.status_code == 400
    assert b"This page link is not one the queue made." in response.content


def test_a_cursor_that_does_not_fit_the_sort_shows_the_first_page(client, org):
    bulk_cases(org, 30)
    client.force_login(org.joanne.user)

    response = client.get("/cases/?sort=due&after=1.2.3")

    assert references(response) == references(client.get("/cases/?sort=due"))


def test_a_client_pages_through_their_cases_without_a_count(client, org):
    cases = bulk_cases(org, 40)
    tie_every_key(cases)
    client.force_login(org.sam.user)

    pages = [listed_references(client.get(url)) for url in every_link(client, "/status/")]

    assert [len(page) for page in pages] == [25, 15]
    listed = [reference for page in pages for reference in page]
    assert sorted(listed) == sorted(case.reference for case in cases)
    assert b"Page 1 of" not in client.get("/status/").content


def queue_urls(org, now) -> list[tuple[str, str]]:
    """(who, URL): every view of every role, the filters, search, each sort, page 2 and
    back: `who` names the person first, and labels a page whose link varies by data."""
    urls = [
        (name, f"/cases/?view={view}")
        for name in ("joanne", "maria", "lee", "devon", "priya")
        for view in QUEUE_VIEWS
    ]
    urls += [("lee", f"/cases/?view=all&sort={sort}") for sort in QUEUE_SORTS]
    urls += [
        ("maria", f"/cases/?view=department&{query}")
        for query in (
            "state=open",
            "priority=normal",
            f"client={org.harbor.pk}",
            f"owner={org.joanne.pk}",
            "q=refund",
            "q=CD-1",
        )
    ]
    # what a department receiving hand-offs reads through their copies, with filters
    urls += [
        ("priya", f"/cases/?view=all&{query}")
        for query in (
            "priority=high",
            "state=resolved",
            "sort=updated",
            f"client={org.northwind.pk}",
        )
    ]
    urls += [("devon", "/cases/?view=handoffs&sort=newest&priority=normal")]
    for name, sort in (("joanne", "due"), ("lee", "newest"), ("maria", "-due")):
        viewer = Viewer.of(getattr(org, name))
        filters = QueueFilters(view="all", sort=sort)
        cursor = queue_page(viewer, filters, now=now, size=1).next_cursor
        back = Cursor(cursor.values, backwards=True).encode()
        urls.append((f"{name}, page 2", f"/cases/?view=all&sort={sort}&after={cursor.encode()}"))
        urls.append((f"{name}, page 1 again", f"/cases/?view=all&sort={sort}&before={back}"))
    return urls


# PostgreSQL unions the branches in one query; SQLite (the demo's) asks one per branch.
@pytest.mark.postgres
def test_every_queue_view_costs_the_same_few_queries_with_10_and_5000_cases(client, org):
    open_case(org)
    case_in_state(org, "cross_department")
    bulk_cases(org, 6)
    bulk_cases(org, 2, owner=org.devon, start=300_000)
    now = timezone.now()

    def costs() -> dict[tuple[str, str], int]:
        counted = {}
        for who, url in queue_urls(org, now):
            client.force_login(getattr(org, who.split(",")[0]).user)
            counted[who if "," in who else (who, url)] = queries_for(client, url)
        return counted

    with_ten = costs()
    grown = bulk_cases(org, 4990, start=200_000)
    bulk_handoffs(org, [case.pk for case in grown[:2000]], state=HandOffState.COMPLETED)
    with_five_thousand = costs()

    assert with_five_thousand == with_ten
    assert max(with_ten.values()) <= QUERY_BUDGET, with_ten


def test_the_client_list_costs_the_same_queries_with_10_and_5000_cases(client, org):
    bulk_cases(org, 10)
    client.force_login(org.sam.user)
    with_ten = queries_for(client, "/status/")
    bulk_cases(org, 4990, start=200_000)
    with_five_thousand = queries_for(client, "/status/")

    assert with_five_thousand == with_ten <= QUERY_BUDGET
