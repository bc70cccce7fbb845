from datetime import datetime

from django.db import models
from django_fsm import FSMModelMixin

from accounts.models import StaffProfile


class HeldItem(FSMModelMixin, models.Model):
    """Something a person holds against a stored deadline besides the case itself: a
    hand-off, a call-back, an exception request. They share one shape, so the sweep warns
    and escalates all of them through one protocol (escalation.sweep).

    Each is a django-fsm-2 state machine with a protected `state`; `HOLDER` names its
    person field. Its `climb` transition (active → active) calls `_climb`, and its closing
    transitions call `_settle`.
    """

    HOLDER = "accountable"

    due_at = models.DateTimeField(null=True, blank=True, help_text="Missed after this.")
    warn_at = models.DateTimeField(null=True, blank=True, help_text="Warn the holder then.")
    escalation_level = models.PositiveSmallIntegerField(default=0)
    at_top_of_chain = models.BooleanField(
        default=False, help_text="Missed with nobody above its holder: it stays, flagged."
    )

    class Meta:
        abstract = True

    @property
    def holder(self) -> StaffProfile:
        return getattr(self, self.HOLDER)

    def _climb(self, *, to: StaffProfile | None, due_at: datetime, warn_at: datetime) -> None:
        """One missed deadline: to the next person up on a fresh deadline, or (to=None,
        nobody above) it stays, flagged at the top."""
        if to is None:
            self.at_top_of_chain = True
        else:
            setattr(self, self.HOLDER, to)
            self.escalation_level += 1
        self.due_at, self.warn_at = due_at, warn_at

    def _settle(self) -> None:
        self.due_at = self.warn_at = None
