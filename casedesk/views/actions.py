"""The actions a person can take on a case page: each one a form and a service call.

Which actions are offered comes from the state machine (source state and permission, as
django-fsm-2's available-user-transitions, without the data conditions the form supplies)
and, for notes and reassignment, from casedesk.permissions.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django_fsm import can_proceed

from casedesk import forms, handoffs, permissions, services
from casedesk.actors import Actor
from casedesk.models import Case


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

    def run(self, case: Case, actor: Actor, data: dict, *, now: datetime) -> object:
        typed = {name: value for name, value in data.items() if name != "version"}
        return self.service(case=case, actor=actor, now=now, **typed, **self.fixed)

    def available(self, case: Case, actor: Actor) -> bool:
        return (self.allowed or _state_machine_allows(self.name))(case, actor)


def _state_machine_allows(name: str) -> Callable[[Case, Actor], bool]:
    """django-fsm-2's available-user-transitions test, minus the data the form supplies."""

    def allows(case: Case, actor: Actor) -> bool:
        method = getattr(case, name)
        transition = method._django_fsm.get_transition(case.state)
        return can_proceed(method, check_conditions=False) and transition.has_perm(case, actor)

    return allows


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
            allowed=permissions.may_pause,
        ),
        Action(
            "resume",
            "Client answered: resume",
            forms.ResumeForm,
            services.case_resume_clock,
            allowed=permissions.may_resume,
        ),
        Action("resolve", "Resolve", forms.ResolveForm, services.case_resolve, "success"),
        Action("escalate", "Escalate", forms.EscalateForm, services.case_escalate, "warning"),
        Action(
            "request_handoff",
            "Ask another department",
            forms.HandoffRequestForm,
            handoffs.handoff_request,
            "info",
            allowed=permissions.may_request_handoff,
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
            allowed=permissions.may_reassign,
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
            allowed=permissions.may_flag_risk,
        ),
    ]
}


def available_actions(case: Case, actor: Actor) -> list[Action]:
    return [action for action in ACTIONS.values() if action.available(case, actor)]
