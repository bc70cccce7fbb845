"""Random sequences of actions by random actors, against an independent model of design.md.

After every step: the service did exactly what the model predicts (allowed or refused, and
the resulting state and owner), and the invariants of "no dead ends" hold.
"""

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from casedesk.errors import CaseError
from casedesk.models import ACTIVE_STATES, Case, CaseState, HandOffState
from tests.casedesk.helpers import DESIGN_TABLE, actor_named, take
from tests.factories import open_case

MANAGER = {"joanne": "maria", "maria": "lee", "lee": None, "devon": "priya", "priya": "lee"}
SUPPORT = {"joanne", "maria", "lee"}
INSTITUTIONAL = {"devon", "priya"}
ACTORS = [*MANAGER, "sam", "alex", "system"]
TEXTS = ["", "   ", "Policy 4.2 applies to every plan."]
NEEDS_TEXT = {"deny", "escalate", "return_with_guidance", "complete_handoff"}


def above(person: str) -> list[str]:
    chain, current = [], MANAGER[person]
    while current:
        chain.append(current)
        current = MANAGER[current]
    return chain


def owner_or_above(who: str, owner: str) -> bool:
    return who == owner or who in above(owner)


class CaseModel:
    """What design.md says should happen, written without looking at the code."""

    def __init__(self):
        self.state, self.owner, self.returns_to, self.open_handoffs = "open", "joanne", None, 0

    def allows(self, name: str, who: str, text: str) -> bool:
        if name in NEEDS_TEXT and not text.strip():
            return False
        if name == "complete_handoff":  # answering a hand-off, which may or may not transition
            return self.open_handoffs > 0 and (who in INSTITUTIONAL or who == "lee")
        sources = DESIGN_TABLE[name][0] | (
            {"cross_department"} if name == "request_handoff" else set()
        )
        if self.state not in sources:
            return False
        if name == "escalate":
            return who in {"sam", "system"} or (who in MANAGER and owner_or_above(who, self.owner))
        if name == "reopen":
            return who == "sam" or who in SUPPORT or (who in MANAGER and who in above(self.owner))
        return who in MANAGER and owner_or_above(who, self.owner)

    def apply(self, name: str) -> int:
        """Take the step; how many extra timeline events it writes (withdrawn hand-offs)."""
        withdrawn = 0
        if name in {"resolve", "deny"}:
            self.returns_to = None
            # A closed case settles what hangs on it: its open hand-offs are withdrawn.
            withdrawn, self.open_handoffs = self.open_handoffs, 0
        if name == "escalate":
            self.returns_to = self.returns_to or self.owner
            self.owner = MANAGER[self.owner] or self.owner
        if name == "return_with_guidance":
            self.owner, self.returns_to = self.returns_to or self.owner, None
        if name == "request_handoff":
            self.open_handoffs += 1
        if name == "complete_handoff":
            self.open_handoffs -= 1
            if self.state != "cross_department" or self.open_handoffs:
                return withdrawn
        self.state = DESIGN_TABLE[name][1]
        return withdrawn


class CaseLifecycle(RuleBasedStateMachine):
    org = None  # set by the test, shared by every run

    def __init__(self):
        super().__init__()
        self.case = open_case(self.org)
        self.model = CaseModel()
        self.successes = 1  # the "opened" event
        self.settled = 0  # events of items settled when the case closed

    @rule(
        name=st.sampled_from(sorted(DESIGN_TABLE)),
        who=st.sampled_from(ACTORS),
        text=st.sampled_from(TEXTS),
    )
    def anyone_tries_anything(self, name, who, text):
        self.act(name, who, text)

    @rule(name=st.sampled_from(sorted(DESIGN_TABLE)), data=st.data())
    def someone_entitled_acts(self, name, data):
        """Drives runs deep into the lifecycle: an actor the model says may act, with text."""
        entitled = [who for who in ACTORS if self.model.allows(name, who, TEXTS[-1])]
        if entitled:
            self.act(name, data.draw(st.sampled_from(entitled)), TEXTS[-1])

    def act(self, name, who, text):
        case = Case.objects.get(pk=self.case.pk)
        expected = self.model.allows(name, who, text)
        try:
            take_with_text(self.org, name, case, actor_named(self.org, who), text)
        except CaseError:
            assert not expected, f"{who} was refused {name} from {self.model.state}"
            return
        assert expected, f"{who} was allowed {name} from {self.model.state}"
        self.settled += self.model.apply(name)
        self.successes += 1

    @invariant()
    def matches_the_model(self):
        case = Case.objects.select_related("owner__user").get(pk=self.case.pk)
        assert case.state == self.model.state
        assert case.owner.user.username == self.model.owner
        assert case.handoffs.filter(state=HandOffState.OPEN).count() == self.model.open_handoffs

    @invariant()
    def no_dead_ends(self):
        case = Case.objects.get(pk=self.case.pk)
        if case.state in ACTIVE_STATES:
            assert case.owner_id is not None
            assert case.due_at is not None
        if case.state == CaseState.DENIED:
            assert case.denial_rationale.strip()
        if case.state == CaseState.CROSS_DEPARTMENT:
            assert case.handoffs.filter(state=HandOffState.OPEN).exists()
        for handoff in case.handoffs.filter(state=HandOffState.OPEN):
            assert handoff.accountable_id is not None
            assert handoff.due_at is not None
            # Nothing on a dashboard that nobody can act on: an open hand-off's case is
            # being worked, so answering it is still possible.
            assert case.state in ACTIVE_STATES

    @invariant()
    def every_change_is_in_the_timeline(self):
        case = Case.objects.get(pk=self.case.pk)
        events = list(case.events.order_by("created_at", "id"))
        assert len(events) == self.successes + self.settled
        assert case.version == self.successes - 1
        assert events[-1].to_state == case.state
        for event in events:
            assert event.actor_kind == "system" or event.actor_user_id or event.actor_contact_id
            if event.kind == "escalated":
                assert event.target_id is not None
                assert event.reason


def take_with_text(org, name, case, actor, text):
    """Like helpers.take, but with the free text hypothesis chose (possibly blank)."""
    from casedesk import handoffs, services

    if name == "deny":
        return services.case_deny(case=case, actor=actor, rationale=text)
    if name == "escalate":
        return services.case_escalate(case=case, actor=actor, reason=text)
    if name == "return_with_guidance":
        return services.case_return_with_guidance(case=case, actor=actor, guidance=text)
    if name == "complete_handoff":
        handoff = case.handoffs.filter(state=HandOffState.OPEN).first()
        if handoff is None:
            raise CaseError("no open hand-off")
        return handoffs.handoff_complete(handoff=handoff, actor=actor, answer=text)
    return take(org, name, case, actor)


@pytest.mark.django_db
def test_random_action_sequences_keep_the_invariants(org):
    CaseLifecycle.org = org
    run_state_machine_as_test(
        CaseLifecycle,
        settings=settings(
            max_examples=100,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
