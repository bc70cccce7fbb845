import re

import pytest

from casedesk import services
from tests.casedesk.helpers import case_in_state
from tests.casedesk.workspace import bulk_cases, link, queries_for
from tests.factories import open_case


@pytest.fixture
def as_joanne(client, org):
    client.force_login(org.joanne.user)
    return client


def references(response) -> list[str]:
    return re.findall(r">(CD-\d{6})</a>", response.content.decode())


def test_my_cases_lists_what_i_hold_soonest_deadline_first(as_joanne, org, as_actor):
    later = open_case(org, subject="Later", priority="low")
    sooner = open_case(org, subject="Sooner", priority="urgent")
    services.case_open(actor=as_actor(org.maria), client=org.harbor, subject="Maria's")

    response = as_joanne.get("/cases/")

    assert references(response) == [sooner.reference, later.reference]


def test_overdue_cases_come_first_and_stand_out(as_joanne, org):
    bulk_cases(org, 4)  # two overdue, two not

    response = as_joanne.get("/cases/?view=overdue")

    assert len(references(response)) == 2
    assert response.content.decode().count("cd-overdue-row") == 2
    assert "overdue by" in response.content.decode()


def test_the_department_view_and_filters_narrow_the_list(as_joanne, org, as_actor):
    mine = open_case(org, subject="Mine", priority="high")
    marias = services.case_open(
        actor=as_actor(org.maria), client=org.harbor, subject="Maria's", priority="low"
    )

    department = references(as_joanne.get("/cases/?view=department"))
    high = references(as_joanne.get("/cases/?view=department&priority=high"))
    owned = references(as_joanne.get(f"/cases/?view=department&owner={org.maria.pk}"))

    assert set(department) == {mine.reference, marias.reference}
    assert high == [mine.reference]
    assert owned == [marias.reference]


@pytest.mark.parametrize("term", ["reference", "refund", "HARBOR"])
def test_search_finds_cases_by_reference_subject_or_client(as_joanne, org, term):
    case = open_case(org, subject="Refund for a duplicated invoice")
    open_case(org, subject="Something else entirely")
    term = case.reference.lower() if term == "reference" else term

    found = references(as_joanne.get("/cases/", {"view": "all", "q": term}))

    assert case.reference in found
    if term == "refund":
        assert len(found) == 1


def test_hand_offs_to_my_department_show_the_summary_not_the_client(client, org):
    case = case_in_state(org, "cross_department")
    client.force_login(org.devon.user)

    response = client.get("/cases/?view=handoffs")

    assert references(response) == [case.reference]
    assert b"Client Support: Billing move." in response.content
    assert b"Harbor Dental Group" not in response.content


def test_the_queue_pages_by_25_with_next_and_previous_and_no_count(as_joanne, org):
    bulk_cases(org, 60)

    first = as_joanne.get("/cases/")
    second = as_joanne.get(link(first, "next"))
    third = as_joanne.get(link(second, "next"))
    back = as_joanne.get(link(third, "prev"))

    assert len(references(first)) == 25
    assert len(references(third)) == 10
    assert link(first, "prev") is None
    assert link(third, "next") is None
    assert references(back) == references(second)
    assert b" of 60" not in third.content  # nothing counts the whole set


def test_a_nonsense_filter_is_a_400_that_says_why(as_joanne, org):
    response = as_joanne.get("/cases/?state=bogus&priority=high")

    assert response.status_code == 400
    assert b"Select a valid choice" in response.content


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("", "Nothing is waiting on you."),
        ("?view=handoffs", "No other department is waiting on yours."),
        ("?view=overdue", "Nothing is overdue."),
        ("?view=all&q=zzz", "No case matches these filters."),
    ],
)
def test_empty_queues_say_what_to_do_next(as_joanne, query, says):
    assert says.encode() in as_joanne.get(f"/cases/{query}").content


# PostgreSQL unions the branches in one query; SQLite (the demo's) asks one per branch.
@pytest.mark.postgres
def test_the_queue_runs_the_same_queries_for_5_and_200_cases(as_joanne, org):
    bulk_cases(org, 5)
    with_five = queries_for(as_joanne, "/cases/?view=all")
    bulk_cases(org, 195, start=200_000)
    with_two_hundred = queries_for(as_joanne, "/cases/?view=all")

    assert with_five == with_two_hundred
    assert with_two_hundred <= 8, f"queue budget: {with_two_hundred} queries"


def test_the_queue_can_be_sorted_by_latest_deadline_or_newest(as_joanne, org):
    urgent = open_case(org, subject="Urgent", priority="urgent")
    low = open_case(org, subject="Low", priority="low")

    assert references(as_joanne.get("/cases/?sort=-due")) == [low.reference, urgent.reference]
    assert references(as_joanne.get("/cases/?sort=newest")) == [low.reference, urgent.reference]
    assert references(as_joanne.get("/cases/")) == [urgent.reference, low.reference]
