"""Where features meet: promises of "no dead ends" that a review found broken across them.

Each test states one promise (of the README's "who is told" matrix, of the top of a chain,
of settling a closed case, or of locking on PostgreSQL) and failed before its fix; each
docstring says where the code used to break it.
"""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction

from accounts.models import AuthorityLevel
from casedesk import handoffs, services
from casedesk.actors import SYSTEM, Actor
from casedesk.callbacks import callback_request
from casedesk.errors import CaseError
from casedesk.models import Notification
from casedesk.selectors import Viewer
from escalation.dashboard import dashboard_for
from escalation.digest import stalled_at_the_top
from escalation.exceptions import exception_request
from escalation.figures import figures_refresh
from escalation.models import AuthorityRule, Escalation, ExceptionKind
from escalation.selectors import precedents_for
from escalation.sweep import sweep
from tests.casedesk.helpers import ask_devon
from tests.clock import MONDAY_10
from tests.factories import open_case

pytestmark = pytest.mark.usefixtures("monday_morning")
MINUTE = timedelta(minutes=1)


@pytest.fixture
def told(org):
    """told(action) runs it and answers the usernames (or contact emails) it emailed."""
    names = {p.user.email: p.user.username for p in [org.joanne, org.maria, org.lee]}
    names |= {p.user.email: p.user.username for p in [org.devon, org.priya]}

    def run(action) -> set[str]:
        before = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        action()
        rows = Notification.objects.filter(pk__gt=before)
        return {names.get(email, email) for email in rows.values_list("recipient_email", flat=True)}

    return run


def staff(person) -> Actor:
    return Actor.for_staff(person)


def _hand_off_stalled_at_the_top(org):
    """A hand-off from joanne to devon nobody answers: devon → priya → lee → stays with lee."""
    case = open_case(org)
    handoff = ask_devon(org, case, now=MONDAY_10)
    now = MONDAY_10
    for _ in range(3):
        handoff.refresh_from_db()
        now = handoff.due_at + MINUTE
        sweep(now=now)
    handoff.refresh_from_db()
    assert handoff.accountable == org.lee
    assert handoff.at_top_of_chain
    return handoff, now


# --- Who is told -------------------------------------------------------------------------


@pytest.mark.django_db
def test_flagging_a_risk_on_your_own_case_does_not_email_you_about_it(org, told):
    """README: "Nobody is told of their own action". casedesk/services.py:313 moves the case
    as SYSTEM, so tell_holders cannot leave out the person who flagged it."""
    case = open_case(org)  # joanne holds it
    flag = lambda: services.case_flag_risk(  # noqa: E731
        case=case, actor=staff(org.joanne), risk="legal", reason="Solicitor's letter"
    )

    assert told(flag) == {"lee"}


# --- The top of a chain ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_hand_off_given_down_from_the_top_is_no_longer_stalled_at_the_top(org):
    """HeldItem.at_top_of_chain is set by a climb to nobody and never cleared when the item
    changes holder (casedesk/models/handoffs.py:71 assign): devon, who has priya and lee
    above him, is told in a daily digest it is stalled with him at the top of the chain."""
    handoff, now = _hand_off_stalled_at_the_top(org)

    handoffs.handoff_assign(handoff=handoff, actor=staff(org.lee), to=org.devon, now=now)

    handoff.refresh_from_db()
    assert not handoff.at_top_of_chain
    assert stalled_at_the_top(org.devon) == []


@pytest.mark.django_db
def test_a_hand_off_given_down_from_the_top_that_is_missed_again_counts_as_a_new_miss(org):
    """escalation.services._escalation_row writes repeat=item.at_top_of_chain: devon's own
    new miss, climbing to priya, is filed as a re-arm at the top and left out of the dashboard."""
    handoff, now = _hand_off_stalled_at_the_top(org)
    handoffs.handoff_assign(handoff=handoff, actor=staff(org.lee), to=org.devon, now=now)
    handoff.refresh_from_db()

    sweep(now=handoff.due_at + MINUTE)

    miss = Escalation.objects.filter(handoff=handoff).latest("escalated_at")
    assert miss.to_person == org.priya
    assert miss.repeat is False


@pytest.mark.django_db
def test_a_case_reassigned_down_from_the_top_is_no_longer_at_the_top(org):
    """casedesk/services.py:240 case_reassign leaves Case.at_top_of_chain set: the case page
    tells joanne nobody is above her, the Top-of-the-chain view lists it and joanne gets
    the top holders' daily digest for it."""
    case = open_case(org, owner=org.lee)
    missed = case.due_at + MINUTE
    sweep(now=missed)
    case.refresh_from_db()
    assert case.at_top_of_chain

    services.case_reassign(case=case, actor=staff(org.lee), to=org.joanne, now=missed + MINUTE)

    case.refresh_from_db()
    assert not case.at_top_of_chain
    assert stalled_at_the_top(org.joanne) == []


@pytest.mark.django_db
def test_the_first_missed_deadline_at_the_top_after_an_appeal_counts_as_a_missed_deadline(org):
    """Issue 10 point 4: "the dashboard counts missed deadlines, not re-arms". A client's
    appeal at the top sets at_top_of_chain without any deadline passing; the first real miss
    after it is written as repeat=True (escalation.services._escalation_row) and not
    counted."""
    case = open_case(org, owner=org.lee)
    services.case_escalate(
        case=case, actor=Actor.for_contact(org.sam), reason="I want a supervisor", now=MONDAY_10
    )
    case.refresh_from_db()
    missed = case.due_at + MINUTE

    sweep(now=missed)

    assert Escalation.objects.get(case=case).repeat is False
    figures_refresh(now=missed)
    health = dashboard_for(Viewer.of(org.lee), now=missed).health
    assert health.breaches_this_week == 1


@pytest.mark.django_db
def test_escalating_into_nothing_at_the_top_does_not_hide_the_breach(org):
    """Issue 10 point 4: a missed deadline stays visible "until the item is answered". At the
    top, the holder pressing Escalate (nobody above: it stays with them) answers nobody, but
    casedesk/changes.py:79 clears late_since for any staff transition and the escalation
    re-arms the deadline: the breach is gone and the client's page shows a new date."""
    case = open_case(org, owner=org.lee)
    missed = case.due_at + MINUTE
    sweep(now=missed)
    case.refresh_from_db()
    assert case.late_since is not None

    services.case_escalate(
        case=case, actor=staff(org.lee), reason="Still looking", now=missed + MINUTE
    )

    case.refresh_from_db()
    assert case.late_since is not None


@pytest.mark.django_db
def test_the_case_page_and_the_overdue_view_show_a_breach_at_the_top_as_overdue(org, client):
    """Issue 10 point 4: "A missed deadline stays visible (case page, Overdue view, ...)".
    After the re-arm at the top, both pages show the re-armed deadline as "in 5 hours":
    templates/casedesk/case_detail.html:18 and partials/case_table.html:6,14 read due_at
    only, never late_since."""
    case = open_case(org, owner=org.lee)
    missed = case.due_at + MINUTE
    sweep(now=missed)
    case.refresh_from_db()
    assert case.late_since is not None
    assert case.due_at > missed + timedelta(minutes=5)
    with time_machine.travel(missed + timedelta(minutes=5), tick=False):
        client.force_login(org.lee.user)  # signed in then: sessions end when idle
        page = client.get(f"/cases/{case.reference}/").content.decode()
        overdue = client.get("/cases/?view=overdue").content.decode()

    assert case.reference in overdue
    assert "cd-overdue-row" in overdue
    assert "overdue by" in page


# --- Nothing orphaned --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_request_withdrawn_because_its_case_closed_is_no_precedent(org):
    """escalation/selectors.py:74 takes every non-pending request as a precedent, now
    including the new WITHDRAWN state: the approver reads "Similar requests were usually
    withdrawn (1 of 1). Approving this one would differ"."""
    kind = ExceptionKind.objects.create(name="Refund", policy="Refunds follow the price list.")
    AuthorityRule.objects.create(kind=kind, min_authority_level=AuthorityLevel.SUPERVISOR)
    earlier = open_case(org)
    exception_request(
        case=earlier, actor=staff(org.joanne), kind=kind, amount=Decimal("50"), justification="x"
    )
    earlier.refresh_from_db()
    services.case_resolve(case=earlier, actor=staff(org.joanne), summary="Settled by phone")
    request = exception_request(
        case=open_case(org),
        actor=staff(org.joanne),
        kind=kind,
        amount=Decimal("50"),
        justification="Charged twice",
    )

    precedents = precedents_for(request, Viewer.of(org.maria))

    assert [d.outcome for d in precedents.decisions] == []
    assert precedents.usual is None


# --- Locks on PostgreSQL -----------------------------------------------------------------


def _refund_kind() -> ExceptionKind:
    kind = ExceptionKind.objects.create(name="Refund", policy="Refunds follow the price list.")
    AuthorityRule.objects.create(kind=kind, min_authority_level=AuthorityLevel.SUPERVISOR)
    return kind


def _while_the_sweep_moves_the_case(case, attempt) -> str:
    """Start `attempt` while another transaction holds the case, escalating it to maria;
    let that commit once the attempt waits on the lock; answer what the attempt did."""
    holding, release, outcome = threading.Event(), threading.Event(), []

    def sweep_moves_the_case():
        try:
            with transaction.atomic():
                services.case_escalate(
                    case=case, actor=SYSTEM, reason="Automatic: deadline", now=MONDAY_10
                )
                holding.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    def run_attempt():
        try:
            attempt()
            outcome.append("ok")
        except CaseError:
            outcome.append("refused with a message")
        except Exception as error:  # a 500
            outcome.append(repr(error))
        finally:
            connection.close()

    mover = threading.Thread(target=sweep_moves_the_case)
    mover.start()
    assert holding.wait(timeout=10)
    waiter = threading.Thread(target=run_attempt)
    waiter.start()
    try:
        for _ in range(200):  # until the attempt is queued behind the lock
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    break
            time.sleep(0.05)
    finally:
        release.set()
        mover.join(timeout=10)
        waiter.join(timeout=10)
    return outcome[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_asking_for_an_exception_while_the_case_changes_holder_does_not_crash(org):
    """escalation/exceptions.py:37 locks the case with a join to its owner; when the owner
    changed while it waited, PostgreSQL re-checks the join against the old owner's row and
    returns nothing: Case.DoesNotExist, a 500 (casedesk/changes.py:26 explains why `lock`
    has no join; these actions still do)."""
    kind = _refund_kind()
    case = open_case(org)
    ask = lambda: exception_request(  # noqa: E731
        case=case,
        actor=staff(org.joanne),
        kind=kind,
        amount=Decimal("50"),
        justification="Charged twice",
        now=MONDAY_10,
    )

    assert _while_the_sweep_moves_the_case(case, ask) in {"ok", "refused with a message"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_client_booking_a_call_while_the_case_changes_holder_does_not_crash(org):
    """casedesk/callbacks.py:40, the same locking query with a join to the owner."""
    case = open_case(org)
    book = lambda: callback_request(  # noqa: E731
        case=case,
        actor=Actor.for_contact(org.sam),
        phone="+44 20 7946 0101",
        at=MONDAY_10 + timedelta(hours=2),
        time_zone="Europe/London",
        now=MONDAY_10,
    )

    assert _while_the_sweep_moves_the_case(case, book) in {"ok", "refused with a message"}


@pytest.mark.postgres
def test_a_manager_with_a_very_long_name_does_not_stall_the_sweep(org):
    """Email subjects name people; the outbox's subject holds 200 characters and a person's
    name may be 300. The sweep's batch failed on the insert, and the one-at-a-time retry
    failed again at every sweep: the case never reached the manager (a dead end)."""
    org.maria.user.first_name, org.maria.user.last_name = "M" * 150, "Long" * 37
    org.maria.user.save()
    case = open_case(org, subject="Stuck behind a long name", priority="urgent")

    sweep(now=case.due_at + MINUTE)

    assert Escalation.objects.filter(case=case).count() == 1
    rows = Notification.objects.filter(case=case, recipient_email=org.maria.user.email)
    assert rows.exists()
    assert all(len(row.subject) <= 200 and len(row.recipient_name) <= 200 for row in rows)
