import pytest

from casedesk.selectors import Viewer, cases_visible_to, seen_in_full
from tests.casedesk.helpers import case_in_state
from tests.factories import open_case


@pytest.fixture
def cases(org, as_actor):
    """A plain Client Support case, one handed to Institutional Services, and an IS case."""
    from casedesk import services

    support_only = open_case(org, subject="Support only")
    handed_over = case_in_state(org, "cross_department")
    institutional = services.case_open(
        actor=as_actor(org.devon), client=org.northwind, subject="Institutional only"
    )
    return support_only, handed_over, institutional


def visible(person):
    return set(cases_visible_to(Viewer.of(person)).values_list("subject", flat=True))


def test_an_agent_sees_their_department_and_what_was_handed_to_it(org, cases):
    assert visible(org.joanne) == {"Support only", "Refund for a duplicated invoice"}
    assert visible(org.devon) == {"Institutional only", "Refund for a duplicated invoice"}


def test_a_supervisor_sees_their_department_and_hand_offs(org, cases):
    assert visible(org.priya) == {"Institutional only", "Refund for a duplicated invoice"}
    assert visible(org.maria) == {"Support only", "Refund for a duplicated invoice"}


def test_the_director_over_both_sees_everything_in_their_subtree(org, cases):
    assert visible(org.lee) == {
        "Support only",
        "Refund for a duplicated invoice",
        "Institutional only",
    }


def test_the_other_department_sees_the_summary_not_the_client(org, cases):
    _, handed_over, _ = cases
    assert Viewer.of(org.joanne).sees_client_details(handed_over)
    assert Viewer.of(org.lee).sees_client_details(handed_over)
    assert not Viewer.of(org.devon).sees_client_details(handed_over)
    assert not Viewer.of(org.priya).sees_client_details(handed_over)


def test_a_visible_case_is_listed_once_however_many_hand_offs_it_has(org, cases, as_actor):
    from casedesk import handoffs

    _, handed_over, _ = cases
    handoffs.handoff_request(
        case=handed_over,
        actor=as_actor(org.joanne),
        to_department=org.institutional,
        accountable=org.priya,
        request="And the fees.",
        shared_summary="Fees too.",
    )
    assert cases_visible_to(Viewer.of(org.devon)).filter(pk=handed_over.pk).count() == 1


def test_the_query_and_the_page_ask_the_same_full_view_rule(org, cases):
    summaries = 0
    for person in (org.joanne, org.maria, org.lee, org.devon, org.priya):
        viewer = Viewer.of(person)
        visible = cases_visible_to(viewer)

        in_full_by_query = set(visible.filter(seen_in_full(viewer)))
        in_full_on_the_page = {case for case in visible if viewer.sees_client_details(case)}

        assert in_full_by_query == in_full_on_the_page, person
        summaries += len(set(visible) - in_full_by_query)
    assert summaries == 2  # devon and priya see the handed-over case's summary only
