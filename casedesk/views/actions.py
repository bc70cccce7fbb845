"""The actions a person can take on a case page: each one a form and a service call.

Which actions are offered comes from the state machine (source state and permission, as
django-fsm-2's available-user-transitions, without the data conditions the form supplies)
and, for notes and reassignment, from casedesk.permissions.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django_fsm import can_proceed

from casedesk import forms, permissions, services
from casedesk.actors import Actor
from casedesk.models import Case, CaseState


@dataclass(frozen=True)
class Action:
    """A form whose field names are its service's keyword arguments."""

    name: str
    label: str
    form: type[forms.CaseActionForm]
    service: Callable[..., object]
    style: str = "primary"
    fixed: dict = field(default_factory=dict)  # keyword arguments the form does not carry
    allowed: Callable[[Case, Actor], bool] | None = None  # default: the state machine

    def run(self, case: Case, actor: Actor, data: dict) -> object:
        typed = {name: value for name, value in data.items() if name != "version"}
        return self.service(case=case, actor=actor, **typed, **self.fixed)

    def available(self, case: Case, actor: Actor) -> bool:
        return (self.allowed or _state_machine_allows(self.name))(case, actor)


def _state_machine_allows(name: str) -> Callable[[Case, Actor], bool]:
    """django-fsm-2's available-user-transitions test, minus the data the form supplies."""

    def allows(case: Case, actor: Actor) -> bool:
        method = getattr(case, name)
        transition = method._django_fsm.get_transition(case.state)
        return can_proceed(method, check_conditions=False) and transition.has_perm(case, actor)

    return allows


def _may_request_handoff(case: Case, actor: Actor) -> bool:
    if case.state == CaseState.CROSS_DEPARTMENT:  # another department too, no transition
        return permissions.is_owner_or_above(case, actor)
    return _state_machine_allows("request_handoff")(case, actor)


def _may_pause(case: Case, actor: Actor) -> bool:
    return (
        case.state == CaseState.OPEN
        and not case.waiting_on_client_since
        and permissions.is_owner_or_above(case, actor)
    )


def _may_resume(case: Case, actor: Actor) -> bool:
    return bool(case.waiting_on_client_since) and permissions.may_write_on(case, actor)


def _may_flag_risk(case: Case, actor: Actor) -> bool:
    return case.state != CaseState.RESOLVED and permissions.may_flag_risk(case, actor)


def _may_reassign(case: Case, actor: Actor) -> bool:
    return case.is_active and permissions.may_reassign(case, actor)


ACTIONS = {
    action.name: action
    for action in [
        Action(
            "note",
            "Add internal note",
            forms.NoteForm,
            services.case_add_note,
            "secondary",
            allowed=permissions.may_write_on,
        ),
        Action(
            "message",
            "Send to client",
            forms.MessageForm,
            services.case_add_note,
            fixed={"client_visible": True},
            allowed=permissions.may_write_on,
        ),
        Action(
            "wait_for_client",
            "Wait for the client",
            forms.WaitForClientForm,
            services.case_wait_for_client,
            "secondary",
            allowed=_may_pause,
        ),
        Action(
            "resume",
            "Client answered: resume",
            forms.ResumeForm,
            services.case_resume_clock,
            allowed=_may_resume,
        ),
        Action("resolve", "Resolve", forms.ResolveForm, services.case_resolve, "success"),
        Action("escalate", "Escalate", forms.EscalateForm, services.case_escalate, "warning"),
        Action(
            "request_handoff",
            "Ask another department",
            forms.HandoffRequestForm,
            services.case_request_handoff,
            "info",
            allowed=_may_request_handoff,
        ),
        Action(
            "return_with_guidance",
            "Return with guidance",
            forms.ReturnForm,
            services.case_return_with_guidance,
        ),
        Action("reopen", "Reopen", forms.ReopenForm, services.case_reopen),
        Action(
            "reassign",
            "Reassign",
            forms.ReassignForm,
            services.case_reassign,
            "secondary",
            allowed=_may_reassign,
        ),
        Action("deny", "Deny", forms.DenyForm, services.case_deny, "danger"),
        Action(
            "reissue_status_link",
            "Reissue the client's link",
            forms.StatusLinkForm,
            services.case_reissue_status_link,
            "secondary",
            allowed=permissions.may_write_on,
        ),
        Action(
            "flag_risk",
            "Flag a risk",
            forms.RiskForm,
            services.case_flag_risk,
            "danger",
            allowed=_may_flag_risk,
        ),
    ]
}


def available_actions(case: Case, actor: Actor) -> list[Action]:
    return [action for action in ACTIONS.values() if action.available(case, actor)]
