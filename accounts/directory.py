"""The staff directory: every department and everyone in it, read in one query per request.

An organisation has tens of people, not millions of cases: reading them all once costs
less than asking for a profile, a subtree, a chain, a name or a list of choices one query at
a time, which is what a page did before. Each person's `manager` is the instance in the same
directory, so chain walks (accounts.chain) and names cost no further query.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS

from accounts.models import Department, StaffProfile, User

_DEPARTMENT = [field.attname for field in Department._meta.concrete_fields]
_STAFF = [field.attname for field in StaffProfile._meta.concrete_fields]
_USER = [field.attname for field in User._meta.concrete_fields]


@dataclass(frozen=True)
class Directory:
    departments: tuple[Department, ...]  # by name
    people: tuple[StaffProfile, ...]  # by department name, then first name and username
    by_id: dict[int, StaffProfile]
    departments_by_id: dict[int, Department]

    def with_user(self, user_id: int) -> StaffProfile | None:
        return next((person for person in self.people if person.user_id == user_id), None)

    def staff_of(self, department_id: int) -> Iterator[StaffProfile]:
        """selectors.staff_of_department, in its order, from memory."""
        return (person for person in self.people if person.department_id == department_id)

    def staff_outside(self, department_id: int) -> Iterator[StaffProfile]:
        return (person for person in self.people if person.department_id != department_id)

    def departments_except(self, department_id: int) -> Iterator[Department]:
        return (department for department in self.departments if department.pk != department_id)


# Built once: resolving thirty columns across two joins costs more than the query itself.
_ROWS = Department.objects.order_by(
    "name", "pk", "staff__user__first_name", "staff__user__username"
).values_list(
    *_DEPARTMENT,
    *[f"staff__{name}" for name in _STAFF],
    *[f"staff__user__{name}" for name in _USER],
)


def staff_directory() -> Directory:
    """Departments left-joined to their people and users, ordered as the pages list them."""
    rows = _ROWS.all()
    departments: dict[int, Department] = {}
    people: list[StaffProfile] = []
    staff_end = len(_DEPARTMENT) + len(_STAFF)
    for row in rows:
        department_values = row[: len(_DEPARTMENT)]
        department = departments.get(department_values[0])
        if department is None:
            department = Department.from_db(DEFAULT_DB_ALIAS, _DEPARTMENT, department_values)
            departments[department.pk] = department
        if row[len(_DEPARTMENT)] is None:  # a department with nobody in it yet
            continue
        person = StaffProfile.from_db(DEFAULT_DB_ALIAS, _STAFF, row[len(_DEPARTMENT) : staff_end])
        person.user = User.from_db(DEFAULT_DB_ALIAS, _USER, row[staff_end:])
        person.department = department
        people.append(person)
    by_id = {person.pk: person for person in people}
    for person in people:
        if person.manager_id is not None:
            person.manager = by_id[person.manager_id]
    return Directory(
        departments=tuple(departments.values()),
        people=tuple(people),
        by_id=by_id,
        departments_by_id=departments,
    )
