"""The actions a person can take on a case page: each one a form and a service call.

Which actions are offered comes from the state machine (source state and permission, as
django-fsm-2's available-user-transitions, without the data conditions the form supplies)
and, for notes and reassignment, from casedesk.permissions.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django_fsm import can_proceed

from casedesk import forms, permissions, services
from casedesk.actors import Actor
from casedesk.models import Case, CaseState


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    form: type[forms.CaseActionForm]
    run: Callable[[Case, Actor, dict], object]
    style: str = "primary"

    def available(self, case: Case, actor: Actor) -> bool:
        if self.name == "note" or self.name == "message":
            return permissions.may_write_on(case, actor)
        if self.name == "reassign":
            return case.is_active and permissions.may_reassign(case, actor)
        if self.name == "request_handoff" and case.state == CaseState.CROSS_DEPARTMENT:
            return permissions.is_owner_or_above(case, actor)
        method = getattr(case, self.name)
        transition = method._django_fsm.get_transition(case.state)
        return can_proceed(method, check_conditions=False) and transition.has_perm(case, actor)


ACTIONS = {
    action.name: action
    for action in [
        Action(
            "note",
            "Add internal note",
            forms.NoteForm,
            lambda case, actor, data: services.case_add_note(
                case=case, actor=actor, text=data["text"]
            ),
            "secondary",
        ),
        Action(
            "message",
            "Send to client",
            forms.MessageForm,
            lambda case, actor, data: services.case_add_note(
                case=case, actor=actor, text=data["text"], client_visible=True
            ),
        ),
        Action(
            "resolve",
            "Resolve",
            forms.ResolveForm,
            lambda case, actor, data: services.case_resolve(
                case=case, actor=actor, summary=data["summary"]
            ),
            "success",
        ),
        Action(
            "escalate",
            "Escalate",
            forms.EscalateForm,
            lambda case, actor, data: services.case_escalate(
                case=case, actor=actor, reason=data["reason"]
            ),
            "warning",
        ),
        Action(
            "request_handoff",
            "Ask another department",
            forms.HandoffRequestForm,
            lambda case, actor, data: services.case_request_handoff(
                case=case,
                actor=actor,
                to_department=data["to_department"],
                accountable=data["accountable"],
                request=data["request"],
                shared_summary=data["shared_summary"],
            ),
            "info",
        ),
        Action(
            "return_with_guidance",
            "Return with guidance",
            forms.ReturnForm,
            lambda case, actor, data: services.case_return_with_guidance(
                case=case, actor=actor, guidance=data["guidance"]
            ),
        ),
        Action(
            "reopen",
            "Reopen",
            forms.ReopenForm,
            lambda case, actor, data: services.case_reopen(
                case=case, actor=actor, reason=data["reason"]
            ),
        ),
        Action(
            "reassign",
            "Reassign",
            forms.ReassignForm,
            lambda case, actor, data: services.case_reassign(
                case=case, actor=actor, to=data["to"], reason=data["reason"]
            ),
            "secondary",
        ),
        Action(
            "deny",
            "Deny",
            forms.DenyForm,
            lambda case, actor, data: services.case_deny(
                case=case, actor=actor, rationale=data["rationale"]
            ),
            "danger",
        ),
    ]
}


def available_actions(case: Case, actor: Actor) -> list[Action]:
    return [action for action in ACTIONS.values() if action.available(case, actor)]
