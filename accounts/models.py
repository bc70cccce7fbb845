from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models


def validate_time_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{name!r} is not a time zone name like Europe/London.") from None


class User(AbstractUser):
    """Everyone who signs in: staff (with a StaffProfile) and client contacts."""

    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="Times are shown in this zone (e.g. America/New_York); blank: the site's.",
    )

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class Department(models.Model):
    name = models.CharField(max_length=120, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AuthorityLevel(models.IntegerChoices):
    AGENT = 10, "Agent"
    SUPERVISOR = 20, "Supervisor"
    MANAGER = 30, "Manager"
    DIRECTOR = 40, "Director"


class StaffProfile(models.Model):
    """A staff member: one department, a title, an authority level and the next person up."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="staff")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="staff")
    title = models.CharField(max_length=120)
    authority_level = models.PositiveSmallIntegerField(
        choices=AuthorityLevel.choices, default=AuthorityLevel.AGENT
    )
    manager = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
        help_text="The next person up the reporting chain; empty at the top.",
    )

    class Meta:
        ordering = ["user__username"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(manager=models.F("id")), name="staff_not_own_manager"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.title})"

    @property
    def name(self) -> str:
        return self.user.display_name

    @property
    def is_supervisor(self) -> bool:
        return self.authority_level >= AuthorityLevel.SUPERVISOR

    def clean(self) -> None:
        from accounts.chain import would_create_cycle

        if self.manager_id and self.pk and would_create_cycle(self, self.manager):
            raise ValidationError(
                {"manager": "This manager would make the reporting chain a loop."}
            )
