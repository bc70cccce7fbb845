"""Items left open on cases that closed before closing settled them: withdrawn, once.

Hand-offs still open and exception requests still pending on a resolved or denied case
sat overdue on dashboards with nobody able to act. The actions now withdraw them when a
case closes; this withdraws those already stranded, each with a timeline entry.
"""

from django.db import migrations
from django.utils import timezone

CLOSED = ("resolved", "denied")
WHY = "the case was already closed"


def settle(apps, schema_editor):
    HandOff = apps.get_model("casedesk", "HandOff")
    CaseEvent = apps.get_model("casedesk", "CaseEvent")
    ExceptionRequest = apps.get_model("escalation", "ExceptionRequest")
    now = timezone.now()
    events = []
    for handoff in HandOff.objects.filter(state="open", case__state__in=CLOSED):
        events.append(_event(CaseEvent, handoff.case, "handoff_withdrawn", now, handoff=handoff))
        handoff_closed = handoff.case.closed_at or now
        HandOff.objects.filter(pk=handoff.pk).update(
            state="withdrawn",
            answer=f"Withdrawn: {WHY}.",
            closed_at=handoff_closed,
            due_at=None,
            warn_at=None,
        )
    for request in ExceptionRequest.objects.filter(state="pending", case__state__in=CLOSED):
        events.append(_event(CaseEvent, request.case, "exception_withdrawn", now))
        ExceptionRequest.objects.filter(pk=request.pk).update(
            state="withdrawn",
            rationale=f"Withdrawn: {WHY}.",
            decided_at=request.case.closed_at or now,
            due_at=None,
            warn_at=None,
        )
    CaseEvent.objects.bulk_create(events)


def _event(CaseEvent, case, kind, now, handoff=None):
    return CaseEvent(
        case=case,
        kind=kind,
        actor_kind="system",
        from_state=case.state,
        to_state=case.state,
        handoff=handoff,
        reason=f"Withdrawn: {WHY}.",
        created_at=now,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("escalation", "0008_held_items_are_state_machines"),
        ("casedesk", "0015_held_items_are_state_machines"),
    ]

    operations = [migrations.RunPython(settle, migrations.RunPython.noop)]
