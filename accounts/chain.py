"""The reporting chain: who is above whom, and who has authority over two departments.

Chains are short (a handful of levels), so walking them one manager at a time is cheap;
each walk is bounded by a visited set so bad data can never loop forever. A batch of work
(the sweep) reads every chain it needs at once with people_with_chains, after which the
walks cost no query.
"""

from collections.abc import Collection, Iterable

from django.db.models.expressions import RawSQL

from accounts.models import Department, StaffProfile

# Everyone at or above the given people: one recursive query. UNION (not UNION ALL) drops
# rows already found, so a loop in bad data ends it.
_AT_OR_ABOVE = """
    WITH RECURSIVE up(id) AS (
        SELECT id FROM {table} WHERE id IN ({given})
        UNION
        SELECT person.manager_id FROM {table} person JOIN up ON person.id = up.id
        WHERE person.manager_id IS NOT NULL
    )
    SELECT id FROM up
"""


def people_with_chains(ids: Iterable[int | None]) -> dict[int, StaffProfile]:
    """These people and everyone above them, by id, with their users, read in one query;
    each one's `manager` is the instance in the same dict, so chain_of, is_above and the
    names of everyone up the chain cost no further query."""
    given = sorted({pk for pk in ids if pk is not None})
    if not given:
        return {}
    sql = _AT_OR_ABOVE.format(
        table=StaffProfile._meta.db_table, given=", ".join(["%s"] * len(given))
    )
    at_or_above = RawSQL(sql, given)  # nosec B611: our constant SQL; the ids are parameters
    people = StaffProfile.objects.select_related("user").filter(pk__in=at_or_above)
    found = {person.pk: person for person in people}
    for person in found.values():
        if person.manager_id in found:
            person.manager = found[person.manager_id]
    return found


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
    group = frozenset(department.pk for department in departments)
    return lowest_common_managers([group])[group]


def lowest_common_managers(
    groups: Iterable[Collection[int]],
) -> dict[frozenset[int], StaffProfile | None]:
    """lowest_common_manager for each group of department ids, in two queries for all."""
    groups = {frozenset(group) for group in groups}
    if not groups:
        return {}
    staff = StaffProfile.objects.order_by("user__username")
    rows = list(staff.values_list("id", "manager_id", "department_id"))
    managers = {person: manager for person, manager, _ in rows}
    found = {group: _lowest_over(group, rows, managers) for group in groups}
    people = StaffProfile.objects.select_related("user", "department").in_bulk(
        {pk for pk in found.values() if pk is not None}
    )
    return {group: people.get(pk) for group, pk in found.items()}


def _lowest_over(departments: frozenset[int], rows, managers: dict[int, int | None]):
    member_ids = [person for person, _, department in rows if department in departments]
    if not member_ids:
        return None
    chains = {member: {member, *_ids_above(member, managers)} for member in member_ids}
    for candidate in [member_ids[0], *_ids_above(member_ids[0], managers)]:
        if all(candidate in chain for chain in chains.values()):
            return candidate
    return None


def _ids_above(person_id: int, managers: dict[int, int | None]) -> list[int]:
    """The ids above `person_id`, from an id -> manager id map read in one query."""
    above: list[int] = []
    current = managers.get(person_id)
    while current is not None and current not in above and current != person_id:
        above.append(current)
        current = managers.get(current)
    return above
