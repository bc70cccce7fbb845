from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from casedesk.models import Case, CaseEvent, Notification, NotificationStatus
from escalation.models import Escalation


def run(*args) -> str:
    out = StringIO()
    call_command("run_escalations", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def two_weeks_ahead(db):
    call_command("seed_demo", stdout=StringIO())
    return (timezone.now() + timedelta(days=14)).isoformat()


def test_a_dry_run_two_weeks_ahead_lists_what_would_escalate_and_changes_nothing(
    two_weeks_ahead,
):
    before = (
        list(Case.objects.values_list("pk", "state", "owner", "version")),
        CaseEvent.objects.count(),
    )

    output = run("--at", two_weeks_ahead, "--dry-run")

    assert "(dry run)" in output
    assert "escalations and" in output
    assert "would be made" in output
    active = Case.objects.filter(state__in=["open", "escalated", "cross_department"])
    for case in active:
        assert case.reference in output
    after = (
        list(Case.objects.values_list("pk", "state", "owner", "version")),
        CaseEvent.objects.count(),
    )
    assert after == before
    assert not Escalation.objects.exists()


def test_a_run_by_hand_sends_the_email_that_is_due_so_it_works_without_a_worker(
    two_weeks_ahead,
):
    output = run("--at", two_weeks_ahead)

    sent = Notification.objects.filter(status=NotificationStatus.SENT).count()
    assert sent > Escalation.objects.count() > 0  # the escalations' emails among them
    assert len(mail.outbox) == sent
    assert output.rstrip().endswith(f"; {sent} notifications delivered.")
    assert not Notification.objects.exclude(status=NotificationStatus.SENT).exists()


def test_a_real_run_escalates_and_a_second_run_at_the_same_instant_does_nothing(two_weeks_ahead):
    first = run("--at", two_weeks_ahead)
    escalations = Escalation.objects.count()
    events = CaseEvent.objects.count()

    second = run("--at", two_weeks_ahead)

    assert escalations > 0
    assert first.count("escalated CD-") == escalations
    assert second.startswith("0 escalations and 0 warnings were made")
    assert (Escalation.objects.count(), CaseEvent.objects.count()) == (escalations, events)


def test_a_malformed_instant_is_refused_with_a_clear_message(db):
    with pytest.raises(CommandError, match="is not an ISO-8601"):
        call_command("run_escalations", "--at", "next tuesday")
