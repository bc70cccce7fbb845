"""Who holds a request a client sends in on their own: the department's intake owner, or
its active agents in turn, never nobody (casedesk.routing)."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from accounts.models import AuthorityLevel, Department
from casedesk.routing import NoOneToHold, intake_owner
from tests.factories import staff


def test_the_agents_take_new_requests_in_turn_and_the_turn_comes_round(org):
    staff("amir", org.support, "Agent", AuthorityLevel.AGENT, org.maria)

    taken = [intake_owner(org.support).user.username for _ in range(5)]

    assert taken == ["joanne", "amir", "joanne", "amir", "joanne"]


def test_a_named_intake_owner_holds_every_new_request(org):
    org.support.intake_owner = org.maria
    org.support.save()

    assert {intake_owner(org.support) for _ in range(3)} == {org.maria}


def test_an_inactive_person_is_passed_over(org):
    amir = staff("amir", org.support, "Agent", AuthorityLevel.AGENT, org.maria)
    org.support.intake_owner = amir
    org.support.save()
    amir.user.is_active = False
    amir.user.save()

    assert {intake_owner(org.support) for _ in range(3)} == {org.joanne}


def test_without_agents_the_most_senior_active_person_holds_it(org):
    org.devon.user.is_active = False
    org.devon.user.save()

    assert intake_owner(org.institutional) == org.priya


def test_a_department_with_no_active_staff_says_so(org):
    empty = Department.objects.create(name="Archive")

    with pytest.raises(NoOneToHold, match="Archive has no active staff"):
        intake_owner(empty)


def test_the_intake_owner_must_belong_to_the_department(org):
    org.support.intake_owner = org.devon

    with pytest.raises(ValidationError, match="member of this department"):
        org.support.full_clean()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_never_take_the_same_turn():
    from tests.factories import demo_org

    org = demo_org()
    staff("amir", org.support, "Agent", AuthorityLevel.AGENT, org.maria)
    taken, start = [], threading.Barrier(2)

    def take():
        try:
            start.wait()
            taken.append(intake_owner(org.support).user.username)
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(taken) == ["amir", "joanne"]


def test_a_request_the_client_sends_in_is_a_case_held_by_the_intake_against_a_deadline(org):
    from casedesk import services
    from casedesk.errors import InvalidTransition
    from casedesk.models import EventKind

    case = services.case_request_open(
        contact=org.alex, subject="  Wire recall ", description="Sent twice.", via="email"
    )

    assert (case.client, case.department, case.owner) == (
        org.northwind,
        org.institutional,
        org.devon,
    )
    assert case.subject == "Wire recall"
    assert case.state == "open"
    assert case.due_at is not None
    opened = case.events.get()
    assert (opened.kind, opened.actor_contact, opened.client_visible) == (
        EventKind.OPENED,
        org.alex,
        True,
    )
    with pytest.raises(InvalidTransition, match="subject"):
        services.case_request_open(contact=org.alex, subject="   ")
