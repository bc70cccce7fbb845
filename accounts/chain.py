"""The reporting chain: who is above whom, and who has authority over two departments.

Chains are short (a handful of levels), so walking them one manager at a time is cheap;
each walk is bounded by a visited set so bad data can never loop forever.
"""

from accounts.models import Department, StaffProfile


def chain_of(person: StaffProfile) -> list[StaffProfile]:
    """Everyone above `person`, nearest first, ending at the top of the chain."""
    chain: list[StaffProfile] = []
    seen = {person.pk}
    current = person
    while current.manager_id is not None and current.manager_id not in seen:
        current = current.manager
        chain.append(current)
        seen.add(current.pk)
    return chain


def is_above(senior: StaffProfile, junior: StaffProfile) -> bool:
    return any(boss.pk == senior.pk for boss in chain_of(junior))


def is_at_or_above(senior: StaffProfile, junior: StaffProfile) -> bool:
    return senior.pk == junior.pk or is_above(senior, junior)


def would_create_cycle(person: StaffProfile, manager: StaffProfile) -> bool:
    """True when making `manager` the manager of `person` would close a loop."""
    return manager.pk == person.pk or is_above(person, manager)


def lowest_common_manager(*departments: Department) -> StaffProfile | None:
    """The lowest person at or above every member of every given department.

    This is who can convene the parties of a cross-department deadlock. None when the
    departments' chains never meet.
    """
    managers = dict(StaffProfile.objects.values_list("id", "manager_id"))
    member_ids = list(
        StaffProfile.objects.filter(department__in=departments).values_list("id", flat=True)
    )
    if not member_ids:
        return None
    chains = {member: {member, *_ids_above(member, managers)} for member in member_ids}
    for candidate in [member_ids[0], *_ids_above(member_ids[0], managers)]:
        if all(candidate in chain for chain in chains.values()):
            return StaffProfile.objects.select_related("user", "department").get(pk=candidate)
    return None


def _ids_above(person_id: int, managers: dict[int, int | None]) -> list[int]:
    """The ids above `person_id`, from an id -> manager id map read in one query."""
    above: list[int] = []
    current = managers.get(person_id)
    while current is not None and current not in above and current != person_id:
        above.append(current)
        current = managers.get(current)
    return above
