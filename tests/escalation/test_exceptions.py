from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from accounts.models import AuthorityLevel
from casedesk.errors import InvalidTransition, NotPermitted
from escalation.authority import route_exception
from escalation.exceptions import exception_decide, exception_request
from escalation.models import AuthorityRule, Escalation, ExceptionKind
from escalation.sweep import sweep
from tests.casedesk.helpers import deliver_outbox
from tests.factories import open_case


@pytest.fixture
def refund(db):
    """Refunds: supervisors up to 100, managers up to 500, directors any amount."""
    kind = ExceptionKind.objects.create(name="Refund", policy="Refunds follow the price list.")
    AuthorityRule.objects.create(
        kind=kind, min_authority_level=AuthorityLevel.SUPERVISOR, max_amount=Decimal("100")
    )
    AuthorityRule.objects.create(
        kind=kind, min_authority_level=AuthorityLevel.MANAGER, max_amount=Decimal("500")
    )
    AuthorityRule.objects.create(kind=kind, min_authority_level=AuthorityLevel.DIRECTOR)
    return kind


@pytest.mark.parametrize(
    ("amount", "approver", "skipped"),
    [
        ("99.99", "maria", []),
        ("100.00", "maria", []),  # at the supervisor's limit
        ("100.01", "lee", ["maria"]),  # above it: straight to lee, nobody has to say no first
        ("500.00", "lee", ["maria"]),
        ("1000000", "lee", ["maria"]),
    ],
)
def test_a_request_goes_straight_to_the_lowest_person_whose_authority_covers_it(
    org, refund, amount, approver, skipped
):
    route = route_exception(requester=org.joanne, kind=refund, amount=Decimal(amount))

    assert route.approver == getattr(org, approver)
    assert route.skipped == [getattr(org, name) for name in skipped]
    assert not route.beyond_authority


@pytest.mark.parametrize("amount", ["100", "100.01", "499.99", "500", "500.01"])
def test_a_manager_level_in_the_chain_is_used_at_and_below_its_limit(org, refund, amount):
    org.maria.authority_level = AuthorityLevel.MANAGER  # now maria covers up to 500
    org.maria.save()

    route = route_exception(requester=org.joanne, kind=refund, amount=Decimal(amount))

    expected = org.maria if Decimal(amount) <= 500 else org.lee
    assert route.approver == expected


def test_routing_never_leaves_the_requesters_chain(org, refund):
    for requester in (org.joanne, org.maria, org.devon, org.priya):
        for amount in ("1", "100", "101", "500", "501", "99999"):
            route = route_exception(requester=requester, kind=refund, amount=Decimal(amount))
            chain = [requester.manager]
            while chain[-1].manager:
                chain.append(chain[-1].manager)
            assert route.approver in chain
            assert set(route.skipped) <= set(chain)


def test_when_nobodys_authority_covers_it_the_top_decides(org):
    kind = ExceptionKind.objects.create(name="Free upgrade", has_amount=False)

    route = route_exception(requester=org.joanne, kind=kind, amount=None)

    assert (route.approver, route.beyond_authority) == (org.lee, True)


def test_asking_records_the_route_and_the_skipped_levels_in_the_timeline(org, refund, as_actor):
    case = open_case(org)

    request = exception_request(
        case=case,
        actor=as_actor(org.joanne),
        kind=refund,
        amount=Decimal("250"),
        justification="Charged twice.",
    )

    assert request.approver == org.lee
    assert list(request.skipped.all()) == [org.maria]
    event = case.events.last()
    assert event.kind == "exception_requested"
    assert "Routed to Lee" in event.reason
    assert (
        "skipped Maria Santos (Supervisor)" in event.reason.replace("Maria (", "Maria Santos (")
        or "skipped Maria" in event.reason
    )


def test_only_the_approver_or_someone_above_with_authority_decides(org, refund, as_actor):
    case = open_case(org)
    request = exception_request(
        case=case,
        actor=as_actor(org.joanne),
        kind=refund,
        amount=Decimal("50"),
        justification="Late delivery.",
    )
    assert request.approver == org.maria

    for outsider in (org.joanne, org.devon, org.priya):
        with pytest.raises(NotPermitted):
            exception_decide(
                request=request, actor=as_actor(outsider), approve=True, rationale="Fine."
            )
    decided = exception_decide(
        request=request,
        actor=as_actor(org.lee),
        approve=True,
        rationale="Goodwill after the late delivery.",
    )

    assert (decided.state, decided.decided_by) == ("approved", org.lee)


def test_a_denial_reaches_the_client_with_its_rationale_and_the_way_to_appeal(
    org, refund, as_actor
):
    case = open_case(org)
    request = exception_request(
        case=case,
        actor=as_actor(org.joanne),
        kind=refund,
        amount=Decimal("50"),
        justification="Asked nicely.",
    )

    with pytest.raises(InvalidTransition):
        exception_decide(request=request, actor=as_actor(org.maria), approve=False, rationale="")
    exception_decide(
        request=request,
        actor=as_actor(org.maria),
        approve=False,
        rationale="Refunds after 90 days are not possible.",
    )

    event = case.events.last()
    assert event.kind == "exception_denied"
    assert event.client_visible
    assert "Refunds after 90 days are not possible." in event.reason
    assert "ask for a review" in event.reason


def test_a_stale_request_climbs_the_chain_exactly_once_per_level(org, refund, as_actor):
    with time_machine.travel("2026-11-23 09:00Z", tick=False):
        case = open_case(org, priority="urgent")
        request = exception_request(
            case=case,
            actor=as_actor(org.joanne),
            kind=refund,
            amount=Decimal("50"),
            justification="Charged twice.",
        )
    assert request.due_at == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # urgent: 2h per level

    first = datetime(2026, 11, 23, 11, 5, tzinfo=UTC)
    sweep(now=first)
    sweep(now=first)  # again at the same instant: nothing more
    request.refresh_from_db()
    assert (request.approver, request.escalation_level) == (org.lee, 1)
    assert Escalation.objects.filter(exception_request=request).count() == 1

    later = datetime(2026, 11, 23, 13, 5, tzinfo=UTC)
    sweep(now=later)
    request.refresh_from_db()
    assert (request.approver, request.at_top_of_chain) == (org.lee, True)
    assert Escalation.objects.filter(exception_request=request).count() == 2
    assert org.lee.user.email in {m.to[0] for m in deliver_outbox()}
