"""Who is acting: a staff member, a client contact, or the system (a passed deadline).

Permissions, services and the timeline all take an Actor, so the same rules hold whether a
person clicks a button, a client writes on the status page, or the sweep runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from accounts.models import StaffProfile, User
    from casedesk.models import ClientContact


class ActorKind(models.TextChoices):
    STAFF = "staff", "Staff"
    CLIENT = "client", "Client"
    SYSTEM = "system", "System"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    staff: StaffProfile | None = None
    contact: ClientContact | None = None
    client_id: int | None = None  # a client acting through their case's status link

    @classmethod
    def for_staff(cls, staff: StaffProfile) -> Actor:
        return cls(kind=ActorKind.STAFF, staff=staff)

    @classmethod
    def for_contact(cls, contact: ClientContact) -> Actor:
        return cls(kind=ActorKind.CLIENT, contact=contact, client_id=contact.client_id)

    @classmethod
    def for_status_link(cls, client_id: int) -> Actor:
        """Whoever holds a case's status link: the client, though not a named contact."""
        return cls(kind=ActorKind.CLIENT, client_id=client_id)

    @classmethod
    def for_user(cls, user: User) -> Actor | None:
        """The actor a signed-in user acts as, or None for someone who may act on nothing."""
        if not user.is_authenticated:
            return None
        if hasattr(user, "staff"):
            return cls.for_staff(user.staff)
        if hasattr(user, "client_contact"):
            return cls.for_contact(user.client_contact)
        return None

    @property
    def is_staff(self) -> bool:
        return self.kind == ActorKind.STAFF

    @property
    def is_client(self) -> bool:
        return self.kind == ActorKind.CLIENT

    @property
    def is_system(self) -> bool:
        return self.kind == ActorKind.SYSTEM

    @property
    def user(self) -> User | None:
        return self.staff.user if self.staff else None

    def __str__(self) -> str:
        if self.staff:
            return self.staff.name
        if self.contact:
            return self.contact.name
        if self.is_client:
            return "the client"
        return "casedesk"


SYSTEM = Actor(kind=ActorKind.SYSTEM)
