"""The case page, the status page and the client's case list ask a fixed, small number of
queries, whoever looks: the same for a quiet case (just opened) in a database of ten cases
as for a busy one (hand-offs, a call-back, an exception request, 200 timeline entries)
among 5,000."""

import pytest
from django.forms import ModelChoiceField

from accounts.models import AuthorityLevel, StaffProfile
from casedesk import forms, handoffs
from casedesk.actors import Actor
from casedesk.models import Case, CaseState
from casedesk.selectors import Viewer, case_for_viewer, staff_of_department
from casedesk.status_links import status_token
from tests import factories
from tests.casedesk.helpers import ask_for_a_refund, book_call
from tests.casedesk.workspace import bulk_cases, bulk_events, queries_for
from tests.factories import open_case

CASE_PAGE_BUDGET = 8
STATUS_PAGE_BUDGET = 6
CLIENT_LIST_BUDGET = 5
# Bulk cases' references start here, far beyond the ids (CD-<id>) the suite's cases reach.
FAR = 50_000_000

# Who looks at the case page, and how: the owner's side sees the client, the receiving
# department of a hand-off only what it shares.
STAFF_VIEWERS = ["joanne", "jordan", "maria", "lee", "devon", "priya"]


@pytest.fixture
def jordan(org):
    """joanne's colleague: same department, same supervisor, not the owner."""
    return factories.staff("jordan", org.support, "Agent", AuthorityLevel.AGENT, org.maria)


def hand_to_devon(org, case, **text):
    return handoffs.handoff_request(
        case=case,
        actor=Actor.for_staff(org.joanne),
        to_department=org.institutional,
        accountable=org.devon,
        request=text.get("request", "Please check the mapping."),
        shared_summary=text.get("summary", "Billing move."),
    )


def quiet_case(org) -> Case:
    """Just handed to Institutional Services (so both sides may look): two entries."""
    case = open_case(org)
    hand_to_devon(org, case)
    return case


def make_busy(org, case: Case) -> None:
    """An answered hand-off and an open one, a booked call-back, an exception request, and
    200 timeline entries in all; and 5,000 cases in the database."""
    handoff = case.handoffs.get()
    handoffs.handoff_complete(handoff=handoff, actor=Actor.for_staff(org.devon), answer="Done.")
    case.refresh_from_db()
    ask_for_a_refund(org, case)
    book_call(case)
    case.refresh_from_db()
    hand_to_devon(org, case, request="And the second account?")
    bulk_events(case, 100, actor_user=org.joanne.user)
    bulk_events(case, 200 - case.events.count(), actor_user=org.maria.user, client_visible=True)
    bulk_cases(org, 5_000 - Case.objects.count(), start=FAR + 10)
    assert case.events.count() == 200
    assert Case.objects.count() == 5_000


@pytest.mark.parametrize("viewer", STAFF_VIEWERS)
def test_the_case_page_asks_the_same_few_queries_for_a_quiet_and_a_busy_case(
    client, org, jordan, viewer
):
    case = quiet_case(org)
    bulk_cases(org, 10 - Case.objects.count(), start=FAR)
    people = {"jordan": jordan} | {
        name: getattr(org, name) for name in STAFF_VIEWERS[:1] + STAFF_VIEWERS[2:]
    }
    client.force_login(people[viewer].user)
    url = f"/cases/{case.reference}/"
    quiet = queries_for(client, url)

    make_busy(org, case)
    busy = queries_for(client, url)

    assert quiet == busy, f"{viewer}: {quiet} queries on a quiet case, {busy} on a busy one"
    assert busy <= CASE_PAGE_BUDGET, f"{viewer}: {busy} queries"


def test_a_busy_case_page_shows_everything_hanging_on_it_to_its_owner(client, org):
    case = quiet_case(org)
    make_busy(org, case)
    client.force_login(org.joanne.user)

    response = client.get(f"/cases/{case.reference}/")
    page = response.content.decode()

    case.refresh_from_db()
    assert case.state == CaseState.CROSS_DEPARTMENT
    assert page.count("Client Support → Institutional Services") == 2
    assert "Call-back booked: call +44 20 7946 0101" in page
    assert "Accountable: Devon" in page
    assert "supervisor: Maria" in page
    assert page.count('<li class="') >= 200  # every timeline entry
    assert {action.name for action, _ in response.context["actions"]} >= {"note", "escalate"}


@pytest.mark.parametrize("signed_in", [False, True], ids=["by link", "signed in"])
def test_the_status_page_asks_the_same_few_queries_for_a_quiet_and_a_busy_case(
    client, org, signed_in
):
    case = quiet_case(org)
    bulk_cases(org, 10 - Case.objects.count(), start=FAR)
    if signed_in:
        client.force_login(org.sam.user)
    url = f"/status/{status_token(case)}/"
    quiet = queries_for(client, url)

    make_busy(org, case)
    busy = queries_for(client, url)

    assert quiet == busy
    assert busy <= STATUS_PAGE_BUDGET, f"status page: {busy} queries"


def test_the_clients_case_list_asks_the_same_few_queries_for_10_and_5000_cases(client, org):
    case = quiet_case(org)
    bulk_cases(org, 10 - Case.objects.count(), start=FAR)
    client.force_login(org.sam.user)
    ten = queries_for(client, "/status/")

    make_busy(org, case)
    many = queries_for(client, "/status/")

    assert ten == many
    assert many <= CLIENT_LIST_BUDGET, f"client's case list: {many} queries"


def test_the_frame_still_knows_who_is_signed_in_on_the_status_page(client, org):
    """The contact is read with what the frame asks of them; staff keep their own frame."""
    case = quiet_case(org)
    url = f"/status/{status_token(case)}/"
    client.force_login(org.sam.user)

    page = client.get(url).content.decode()

    assert f"{org.sam.name}, {org.harbor.name}" in page
    assert 'href="/accounts/security/">Security</a>' in page
    assert "Dashboard" not in page

    client.force_login(org.maria.user)
    page = client.get(url).content.decode()

    assert "Dashboard" in page
    assert "Your cases" not in page


# --- The choices offered come from the directory, and are the querysets' -----------------


def choices(field) -> list[tuple[str, str]]:
    return [(str(value), label) for value, label in field.choices]


def test_every_list_of_people_and_departments_offered_is_exactly_the_querysets(org, jordan):
    factories.DepartmentFactory(name="Archive")  # nobody in it yet: offered all the same
    factories.staff("amara", org.institutional, "Agent", AuthorityLevel.AGENT, org.priya)
    case = quiet_case(org)
    handoff = case.handoffs.get()
    viewer = Viewer.of(org.maria)
    case = case_for_viewer(viewer, case.reference)

    for form_class in (forms.ReassignForm, forms.HandoffRequestForm):
        from_directory = form_class(case=case, directory=viewer.directory)
        from_queryset = form_class(case=case)
        for name, field in from_queryset.fields.items():
            if isinstance(field, ModelChoiceField):
                assert choices(from_directory.fields[name]) == choices(field), name
    from_directory = forms.HandoffAssignForm(handoff=handoff, directory=viewer.directory)
    from_queryset = forms.HandoffAssignForm(handoff=handoff)

    assert [p.pk for p in from_directory.people] == [p.pk for p in from_queryset.people]
    assert (
        "Archive"
        in dict(choices(forms.HandoffRequestForm(case=case).fields["to_department"])).values()
    )


def test_the_directory_lists_each_department_as_staff_of_department_does(org, jordan):
    directory = Viewer.of(org.lee).directory
    for department in (org.support, org.institutional):
        expected = list(staff_of_department(department.pk))
        assert list(directory.staff_of(department.pk)) == expected
    assert directory.by_id[org.joanne.pk].manager is directory.by_id[org.maria.pk]
    assert {person.pk for person in directory.people} == set(
        StaffProfile.objects.values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_the_receiving_department_sees_neither_the_clients_details_nor_its_call_backs(client, org):
    """case_for_viewer reads no call-back or contact for a viewer who does not see the
    client, and the page names neither."""
    case = quiet_case(org)
    book_call(case)
    client.force_login(org.devon.user)

    page = client.get(f"/cases/{case.reference}/").content.decode()

    assert org.harbor.name not in page
    assert org.sam.name not in page
    assert "+44 20 7946 0101" not in page
    assert "Billing move." in page
