from casedesk.models.cases import ACTIVE_STATES, Case, CaseState, Priority
from casedesk.models.clients import Client, ClientContact
from casedesk.models.events import ActorKind, CaseEvent, EventKind
from casedesk.models.handoffs import HandOff, HandOffState
from casedesk.models.heartbeat import WorkerHeartbeat

__all__ = [
    "ACTIVE_STATES",
    "ActorKind",
    "Case",
    "CaseEvent",
    "CaseState",
    "Client",
    "ClientContact",
    "EventKind",
    "HandOff",
    "HandOffState",
    "Priority",
    "WorkerHeartbeat",
]
