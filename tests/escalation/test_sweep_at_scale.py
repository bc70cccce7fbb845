import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from casedesk.models import Case, CaseEvent
from escalation.models import Escalation
from escalation.sweep import sweep
from tests.casedesk.workspace import bulk_cases


def _make_due(count: int, org, *, start: int) -> list[Case]:
    cases = bulk_cases(org, count, start=start)
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(
        due_at=timezone.now() - timedelta(minutes=5), due_kind="next_update"
    )
    return cases


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_sweeps_at_once_escalate_each_of_500_due_cases_exactly_once(org):
    cases = _make_due(500, org, start=500_000)
    now = timezone.now()
    barrier = threading.Barrier(4)
    errors = []

    def run():
        try:
            barrier.wait(timeout=30)
            sweep(now=now)
        except Exception as error:  # the test must see any failure in a thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert errors == []
    ids = [c.pk for c in cases]
    assert Escalation.objects.filter(case_id__in=ids).count() == 500
    assert CaseEvent.objects.filter(case_id__in=ids, kind="escalated").count() == 500
    assert set(Case.objects.filter(pk__in=ids).values_list("owner", flat=True)) == {org.maria.pk}
    assert set(Case.objects.filter(pk__in=ids).values_list("version", flat=True)) == {1}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("due", ["warning", "deadline"])
def test_a_case_someone_holds_locked_does_not_hold_up_the_sweep(org, due):
    """An agent's transaction holding one case: the sweep handles every other one at once
    and takes the held one at the next sweep, never waiting on the lock."""
    from django.db import connections, transaction

    cases = bulk_cases(org, 3, start=700_000)
    now = timezone.now()
    moment = {"due_at": now + timedelta(hours=1), "warn_at": now - timedelta(minutes=1)}
    if due == "deadline":
        moment = {"due_at": now - timedelta(minutes=1), "warn_at": None}
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(due_kind="next_update", **moment)
    held, holding, release = cases[0], threading.Event(), threading.Event()

    def agent_holds_the_case():
        with transaction.atomic(using="default"):
            Case.objects.select_for_update().get(pk=held.pk)
            holding.set()
            release.wait(timeout=30)
        connections["default"].close()

    agent = threading.Thread(target=agent_holds_the_case)
    agent.start()
    assert holding.wait(timeout=10)
    try:
        first = sweep(now=now)
    finally:
        release.set()
        agent.join(timeout=10)
    second = sweep(now=now)

    handled = first.warned + first.escalated
    assert len(handled) == 2
    assert not any(held.reference in line for line in handled)
    assert any(held.reference in line for line in second.warned + second.escalated)
