import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.chain import chain_of, is_above, lowest_common_manager
from accounts.models import AuthorityLevel
from accounts.services import staff_set_manager
from tests.factories import DepartmentFactory, staff


def test_the_chain_of_an_agent_runs_up_to_the_top(joanne, maria, lee):
    assert chain_of(joanne) == [maria, lee]
    assert chain_of(lee) == []


def test_above_means_anywhere_up_the_chain_never_sideways_or_below(joanne, maria, lee, devon):
    assert is_above(lee, joanne)
    assert is_above(maria, joanne)
    assert not is_above(joanne, maria)
    assert not is_above(maria, devon)
    assert not is_above(joanne, joanne)


def test_the_lowest_common_manager_of_both_departments_is_lee(org):
    assert lowest_common_manager(org.support, org.institutional) == org.lee


def test_the_lowest_common_manager_of_one_department_is_its_head(org):
    assert lowest_common_manager(org.institutional) == org.priya
    solo = DepartmentFactory(name="Solo")
    head = staff("head", solo, "Head", AuthorityLevel.MANAGER)
    staff("worker", solo, "Agent", AuthorityLevel.AGENT, head)
    assert lowest_common_manager(solo) == head


def test_departments_whose_chains_never_meet_have_no_common_manager(org):
    island = DepartmentFactory(name="Island")
    staff("hermit", island, "Agent", AuthorityLevel.AGENT)
    assert lowest_common_manager(org.support, island) is None


def test_a_manager_change_that_would_loop_the_chain_is_refused(joanne, maria, lee):
    with pytest.raises(ValidationError, match="would loop"):
        staff_set_manager(person=lee, manager=joanne)
    lee.refresh_from_db()
    assert lee.manager is None

    lee.manager = joanne
    with pytest.raises(ValidationError, match="loop"):
        lee.full_clean()


def test_nobody_is_their_own_manager_even_bypassing_the_service(maria):
    with pytest.raises(ValidationError):
        staff_set_manager(person=maria, manager=maria)
    maria.manager = maria
    with pytest.raises(IntegrityError), transaction.atomic():
        maria.save()


def test_a_valid_manager_change_is_kept(org):
    staff_set_manager(person=org.devon, manager=org.lee)
    org.devon.refresh_from_db()
    assert chain_of(org.devon) == [org.lee]
