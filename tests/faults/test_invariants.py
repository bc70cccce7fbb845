"""The drills' checker, checked: it passes a sweep that did everything once and names what
was left undone or done twice. (In process, no drill: it runs in the fast suite.)"""

import shutil

import pytest
from django.utils import timezone

from casedesk.models import Notification
from casedesk.notifications import notifications_deliver_pending
from escalation.sweep import sweep
from tests.faults.due_items import cases_at_the_top, held_items
from tests.faults.invariants import assert_invariants, emails_in, settled


@pytest.fixture
def mail_dir(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    return tmp_path / "mail"


def sweep_and_deliver():
    now = timezone.now()
    sweep(now=now)
    notifications_deliver_pending(now=now)


def test_a_sweep_that_escalated_and_emailed_everything_once_passes(org, mail_dir):
    due = held_items(org, each=1) + cases_at_the_top(org, 3)

    sweep_and_deliver()

    assert settled(due, emails_in([mail_dir]))
    assert_invariants(due, emails_in([mail_dir]))


def test_a_deadline_never_escalated_is_named(org, mail_dir):
    due = held_items(org, each=1)
    notifications_deliver_pending(now=timezone.now())  # emails, but no sweep

    assert not settled(due, emails_in([mail_dir]))
    with pytest.raises(AssertionError, match=r"HandOff \d+ due .*: escalated 0 times"):
        assert_invariants(due, emails_in([mail_dir]))


def test_an_email_sent_twice_and_a_row_never_sent_are_named(org, mail_dir):
    due = held_items(org, each=1)
    sweep_and_deliver()
    first = sorted(mail_dir.glob("*.log"))[0]
    shutil.copy(first, mail_dir / "again.log")  # the same message written a second time
    unsent = Notification.objects.latest("pk")
    unsent.status = "pending"
    unsent.save()

    with pytest.raises(AssertionError) as failure:
        assert_invariants(due, emails_in([mail_dir]))

    assert "1 email(s) more than rows" in str(failure.value)
    assert f"outbox row {unsent.pk} to {unsent.recipient_email}" in str(failure.value)
