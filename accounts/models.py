from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.crypto import salted_hmac


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
    session_salt = models.CharField(
        max_length=32,
        blank=True,
        editable=False,
        help_text="Changed to end every session of this person but the current one.",
    )

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    def _get_session_auth_hash(self, secret=None) -> str:
        """Each session holds this hash and dies when it no longer matches (Django's own check
        on every request). Django derives it from the password hash, so a password change
        ends the other sessions; mixing in `session_salt` lets a new salt do the same without
        one. With no salt it is Django's hash unchanged, so no session ends on upgrade."""
        digest = super()._get_session_auth_hash(secret=secret)
        if not self.session_salt:
            return digest
        return salted_hmac(
            "accounts.User.session_salt",
            digest + self.session_salt,
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class Department(models.Model):
    name = models.CharField(max_length=120, unique=True)
    # Who holds what clients send in on their own (an email, a request from their page):
    # this person, or, when empty, the department's agents in turn (casedesk.routing).
    intake_owner = models.ForeignKey(
        "StaffProfile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Holds every new request clients send in; empty: the department's agents "
        "in turn.",
    )
    intake_last = models.ForeignKey(
        "StaffProfile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        help_text="The agent who received the last request in turn.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.intake_owner_id and self.intake_owner.department_id != self.pk:
            raise ValidationError(
                {"intake_owner": "The intake owner must be a member of this department."}
            )


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


class AccessKind(models.TextChoices):
    SIGNED_IN = "signed_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    SIGN_IN_REFUSED = "sign_in_refused", "Sign-in refused while locked out"
    LOCKED_OUT = "locked_out", "Locked out"
    PASSWORD_CHANGED = "password_changed", "Password changed"
    OTHER_SESSIONS_ENDED = "other_sessions_ended", "Signed out other sessions"
    SESSION_EXPIRED = "session_expired", "Session expired"
    SECOND_FACTOR_ENROLLED = "second_factor_enrolled", "Second factor enrolled"
    SECOND_FACTOR_RESET = "second_factor_reset", "Second factor reset"
    SECOND_FACTOR_FAILED = "second_factor_failed", "Second factor failed"
    RECOVERY_CODE_USED = "recovery_code_used", "Recovery code used"


class AccessEvent(models.Model):
    """Who signed in (or tried to), when and from where, and every change to how they sign
    in. Written only by `accounts.audit.access_record`; never edited."""

    kind = models.CharField(max_length=32, choices=AccessKind.choices)
    user = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="access_events",
        help_text="The account, when one matched.",
    )
    username = models.CharField(max_length=150, blank=True, help_text="As typed.")
    address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    detail = models.CharField(max_length=255, blank=True)
    cool_off = models.DurationField(
        null=True, blank=True, help_text="Lock-outs: how long this one lasts."
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["kind", "at"]),
            models.Index(fields=["username", "at"]),
            models.Index(fields=["address", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.username or '-'} at {self.at:%Y-%m-%d %H:%M}"
