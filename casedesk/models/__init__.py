from casedesk.models.attachments import Attachment
from casedesk.models.callbacks import CallBack, CallBackState, Feedback
from casedesk.models.cases import ACTIVE_STATES, Case, CaseState, DeadlineKind, Priority, Risk
from casedesk.models.client_access import ClientSignInLink
from casedesk.models.clients import Client, ClientContact
from casedesk.models.events import ActorKind, CaseEvent, EventKind
from casedesk.models.handoffs import HandOff, HandOffState
from casedesk.models.heartbeat import WorkerHeartbeat
from casedesk.models.outbox import Notification, NotificationStatus
from casedesk.models.reach import CaseReach
from casedesk.models.sla import BusinessCalendar, SlaPolicy

__all__ = [
    "ACTIVE_STATES",
    "ActorKind",
    "Attachment",
    "BusinessCalendar",
    "CallBack",
    "CallBackState",
    "Case",
    "CaseEvent",
    "CaseReach",
    "CaseState",
    "Client",
    "ClientContact",
    "ClientSignInLink",
    "DeadlineKind",
    "EventKind",
    "Feedback",
    "HandOff",
    "HandOffState",
    "Notification",
    "NotificationStatus",
    "Priority",
    "Risk",
    "SlaPolicy",
    "WorkerHeartbeat",
]
