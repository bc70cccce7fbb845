"""Who holds a request a client sends in on their own (an email to a department's mailbox,
a request from their page): always a person, so the first-response deadline has someone
to answer to from the start.

A department names its intake owner (admin: Departments), or, when it names nobody, its
agents take new requests in turn: the next active agent after the one who took the last,
by the order they were added, the department's row locked so that two requests at once
never go to the same turn. A department with no active agent falls back to its most
senior active person; one with no active staff at all is a setup error, said plainly.
"""

from django.db import transaction

from accounts.models import AuthorityLevel, Department, StaffProfile


class NoOneToHold(Exception):
    """The department has no active staff member to hold a new request."""


def intake_owner(department: Department) -> StaffProfile:
    """The person who holds the department's next new request (in turn: this takes the
    turn, so call it once per request, inside the action's transaction)."""
    with transaction.atomic():
        locked = Department.objects.select_for_update().get(pk=department.pk)
        active = StaffProfile.objects.filter(department=locked, user__is_active=True)
        if locked.intake_owner_id and active.filter(pk=locked.intake_owner_id).exists():
            return active.select_related("user").get(pk=locked.intake_owner_id)
        agents = list(
            active.filter(authority_level=AuthorityLevel.AGENT)
            .select_related("user")
            .order_by("pk")
        )
        if not agents:
            senior = active.select_related("user").order_by("-authority_level", "pk").first()
            if senior is None:
                raise NoOneToHold(f"{locked.name} has no active staff to hold new requests.")
            return senior
        after = [agent for agent in agents if agent.pk > (locked.intake_last_id or 0)]
        chosen = after[0] if after else agents[0]
        Department.objects.filter(pk=locked.pk).update(intake_last=chosen)
        return chosen
