"""Two people act on one case at the same instant: one wins, the other gets CaseConflict.

Real threads on real PostgreSQL row locks (select_for_update does nothing inside a plain
TestCase transaction, so these tests commit).
"""

import threading

import pytest
from django.db import connection

from casedesk import services
from casedesk.actors import Actor
from casedesk.callbacks import callback_request
from casedesk.errors import CaseConflict
from casedesk.models import Case
from escalation.sweep import sweep_due
from tests.casedesk.helpers import locked_by_another_transaction, next_working_hour
from tests.factories import open_case

ROUNDS = 50


def _race(*attempts):
    """Run each attempt in its own thread, released together; return what each did."""
    barrier = threading.Barrier(len(attempts))
    outcomes = [None] * len(attempts)

    def run(index, attempt):
        try:
            barrier.wait(timeout=10)
            attempt()
            outcomes[index] = "ok"
        except CaseConflict:
            outcomes[index] = "conflict"
        except Exception as error:  # anything else is a failure the test must show
            outcomes[index] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_acting_on_one_case_at_once_one_wins_and_the_other_is_told(org):
    joanne, maria = Actor.for_staff(org.joanne), Actor.for_staff(org.maria)
    for round_number in range(ROUNDS):
        case = open_case(org, subject=f"Race {round_number}")
        seen_by_joanne = Case.objects.get(pk=case.pk)
        seen_by_maria = Case.objects.get(pk=case.pk)
        if round_number % 2:
            joanne_acts = lambda: services.case_resolve(case=seen_by_joanne, actor=joanne)  # noqa: B023, E731
        else:
            joanne_acts = lambda: services.case_escalate(  # noqa: E731
                case=seen_by_joanne,  # noqa: B023
                actor=joanne,
                reason="Client asked for a supervisor",
            )

        outcomes = _race(
            joanne_acts,
            lambda: services.case_deny(case=seen_by_maria, actor=maria, rationale="Out of policy"),  # noqa: B023
        )

        assert sorted(outcomes) == ["conflict", "ok"], f"round {round_number}: {outcomes}"
        assert case.events.count() == 2  # "opened" and the winner's
        assert Case.objects.get(pk=case.pk).version == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_action_twice_at_once_happens_once(org):
    joanne = Actor.for_staff(org.joanne)
    for round_number in range(ROUNDS):
        case = open_case(org, subject=f"Double click {round_number}")
        copies = [Case.objects.get(pk=case.pk) for _ in range(2)]

        outcomes = _race(
            *[
                lambda seen=seen: services.case_escalate(case=seen, actor=joanne, reason="Help")
                for seen in copies
            ]
        )

        assert sorted(outcomes) == ["conflict", "ok"]
        case.refresh_from_db()
        assert (case.owner, case.escalation_level) == (org.maria, 1)
        assert case.events.filter(kind="escalated").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_reminder_waits_its_turn_behind_whoever_holds_the_case(org):
    """Reminders lock the case before the call-back, like every writer: while someone is
    acting on the case the reminder skips it (no deadlock), and the next sweep sends it."""
    case = open_case(org)
    callback = callback_request(
        case=case,
        actor=Actor.for_status_link(case.client_id),
        phone="+44 20 7946 0101",
        at=next_working_hour(),
        time_zone="Europe/London",
    )
    with locked_by_another_transaction(Case.objects.filter(pk=case.pk)):
        skipped = sweep_due(now=callback.warn_at)
    sent = sweep_due(now=callback.warn_at)

    # (The case's own deadline may have passed by then, and the call-back gone with it.)
    reminder = f"{case.reference} call-back: reminded "
    assert not any(line.startswith(reminder) for line in skipped.warned)
    assert any(line.startswith(reminder) for line in sent.warned)
