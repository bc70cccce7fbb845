import pytest
from django_fsm import TransitionNotAllowed, can_proceed

from casedesk import services
from casedesk.errors import InvalidTransition, NotPermitted
from casedesk.models import Case, CaseEvent, CaseState
from tests.casedesk.helpers import DESIGN_TABLE, actor_named, case_in_state, take

EVERYONE = {"joanne", "maria", "lee", "devon", "priya", "sam", "alex", "system"}

# (transition, state it starts from, who may take it). Everyone else must be refused:
# the other department, the other client's contact, the system where it has no say, and
# anyone below the owner (joanne, once the case is escalated to maria).
WHO_MAY = [
    ("resolve", "open", {"joanne", "maria", "lee"}),
    ("resolve", "escalated", {"maria", "lee"}),
    ("deny", "open", {"joanne", "maria", "lee"}),
    ("deny", "escalated", {"maria", "lee"}),
    ("escalate", "open", {"joanne", "maria", "lee", "sam", "system"}),
    ("escalate", "denied", {"joanne", "maria", "lee", "sam", "system"}),
    ("escalate", "cross_department", {"joanne", "maria", "lee", "sam", "system"}),
    ("escalate", "escalated", {"maria", "lee", "sam", "system"}),
    ("request_handoff", "open", {"joanne", "maria", "lee"}),
    ("request_handoff", "escalated", {"maria", "lee"}),
    ("complete_handoff", "cross_department", {"devon", "priya", "lee"}),
    ("return_with_guidance", "escalated", {"maria", "lee"}),
    ("reopen", "resolved", {"joanne", "maria", "lee", "sam"}),
    ("reopen", "denied", {"joanne", "maria", "lee", "sam"}),
]


def test_the_code_declares_exactly_the_transitions_of_the_design():
    declared = {}
    for transition in Case._meta.get_field("state").get_all_transitions(Case):
        sources, target = declared.setdefault(transition.name, (set(), transition.target))
        assert target == transition.target
        sources.add(transition.source)
    assert declared == DESIGN_TABLE


def test_who_may_covers_every_transition_and_source_of_the_design():
    covered = {(name, source) for name, source, _ in WHO_MAY}
    expected = {(name, source) for name, (sources, _) in DESIGN_TABLE.items() for source in sources}
    assert covered == expected


@pytest.mark.parametrize(
    ("name", "source", "actor_name", "allowed"),
    [
        pytest.param(name, source, who, who in allowed, id=f"{name}-from-{source}-by-{who}")
        for name, source, allowed in WHO_MAY
        for who in sorted(EVERYONE)
    ],
)
def test_each_transition_is_taken_only_by_those_who_may(org, name, source, actor_name, allowed):
    case = case_in_state(org, source)
    events_before = case.events.count()
    actor = actor_named(org, actor_name)

    if allowed:
        take(org, name, case, actor)
        case.refresh_from_db()
        assert case.state == DESIGN_TABLE[name][1]
        event = case.events.last()
        assert case.events.count() == events_before + 1
        assert (event.from_state, event.to_state) == (source, case.state)
        assert event.actor_kind == actor.kind
    else:
        with pytest.raises(NotPermitted):
            take(org, name, case, actor)
        case.refresh_from_db()
        assert case.state == source
        assert case.events.count() == events_before


@pytest.mark.parametrize(
    ("name", "state"),
    [
        pytest.param(name, state, id=f"{name}-from-{state}")
        for name, (sources, _) in DESIGN_TABLE.items()
        if name != "complete_handoff"
        for state in CaseState.values
        if state not in sources
        # Asking a second department while waiting on one is allowed, without a transition
        # (test_services covers it).
        and (name, state) != ("request_handoff", "cross_department")
    ],
)
def test_a_transition_from_a_state_outside_its_sources_is_refused(org, name, state):
    case = case_in_state(org, state)
    events_before = case.events.count()

    with pytest.raises(InvalidTransition, match="cannot be"):
        take(org, name, case, actor_named(org, "lee"))  # lee is above everyone

    case.refresh_from_db()
    assert case.state == state
    assert case.events.count() == events_before


@pytest.mark.parametrize("state", ["open", "escalated", "denied", "resolved"])
def test_complete_handoff_is_only_possible_while_cross_department(org, state):
    case = case_in_state(org, state)

    assert not can_proceed(case.complete_handoff, check_conditions=False)
    with pytest.raises(TransitionNotAllowed):
        case.complete_handoff(due_at=case.created_at)


def test_a_denial_without_rationale_is_refused_and_changes_nothing(org):
    case = case_in_state(org, "open")

    with pytest.raises(InvalidTransition, match="rationale the client will read"):
        services.case_deny(case=case, actor=actor_named(org, "joanne"), rationale="   ")

    case.refresh_from_db()
    assert case.state == CaseState.OPEN
    assert case.denial_rationale == ""
    assert list(case.events.values_list("kind", flat=True)) == ["opened"]


def test_an_escalation_without_reason_is_refused(org):
    case = case_in_state(org, "open")

    with pytest.raises(InvalidTransition, match="needs a reason"):
        services.case_escalate(case=case, actor=actor_named(org, "sam"), reason="")

    assert Case.objects.get(pk=case.pk).state == CaseState.OPEN
    assert CaseEvent.objects.filter(case=case).count() == 1
