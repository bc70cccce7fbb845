import functools
from datetime import timedelta
from zoneinfo import ZoneInfo

import holidays
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from accounts.models import Department, validate_time_zone
from casedesk.business_time import BusinessHours
from casedesk.models.cases import Priority


class BusinessCalendar(models.Model):
    """When a department works: deadlines count only this time."""

    department = models.OneToOneField(Department, on_delete=models.CASCADE, related_name="calendar")
    time_zone = models.CharField(
        max_length=64, default="Europe/London", validators=[validate_time_zone]
    )
    work_days = models.CharField(
        max_length=13,
        default="0,1,2,3,4",
        validators=[
            RegexValidator(r"^[0-6](,[0-6])*$", "Days as 0 (Monday) to 6, comma-separated.")
        ],
        help_text="0 is Monday, 6 is Sunday.",
    )
    opens_at = models.TimeField(default="09:00")
    closes_at = models.TimeField(default="17:00")
    holiday_country = models.CharField(
        max_length=2, blank=True, default="GB", help_text="ISO country code for public holidays."
    )
    holiday_subdivision = models.CharField(max_length=10, blank=True, help_text="e.g. ENG, SCT")

    def __str__(self) -> str:
        return f"{self.department} hours"

    def clean(self) -> None:
        if self.opens_at >= self.closes_at:
            raise ValidationError("Opening time must be before closing time.")
        if self.holiday_country:
            try:
                holidays.country_holidays(self.holiday_country)
            except NotImplementedError:
                raise ValidationError({"holiday_country": "Unknown country code."}) from None

    def hours(self) -> BusinessHours:
        public_holidays = (
            _public_holidays(self.holiday_country, self.holiday_subdivision or None)
            if self.holiday_country
            else frozenset()
        )
        return BusinessHours(
            zone=ZoneInfo(self.time_zone),
            work_days=frozenset(int(day) for day in self.work_days.split(",")),
            opens=self.opens_at,
            closes=self.closes_at,
            holidays=public_holidays,
        )


@functools.lru_cache(maxsize=64)
def _public_holidays(country: str, subdivision: str | None):
    """A country's (or subdivision's) public holidays, built once a process: building them
    takes a millisecond or two, and every status page and deadline asks for its hours."""
    return holidays.country_holidays(country, subdiv=subdivision)


class SlaPolicy(models.Model):
    """Per department and priority: how much working time each deadline allows."""

    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="sla_policies"
    )
    priority = models.CharField(max_length=10, choices=Priority.choices)
    first_response = models.DurationField(default=timedelta(hours=4))
    next_update = models.DurationField(default=timedelta(hours=16))
    resolution = models.DurationField(default=timedelta(hours=40))
    handoff_response = models.DurationField(default=timedelta(hours=16))
    escalation_step = models.DurationField(
        default=timedelta(hours=8), help_text="How long each escalation level has before the next."
    )

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        ordering = ["department__name", "priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "priority"], name="one_policy_per_priority"
            )
        ]

    def __str__(self) -> str:
        return f"{self.department} · {self.get_priority_display()}"
