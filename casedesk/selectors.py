"""Reads: which cases a person may see, and the data of each page, in a fixed number of
queries however many cases or events there are.

Visibility (deny by default) is one rule in two questions, which every page that shows
anything of a case asks here (case page, queue and search, exception and decision pages,
precedents, dashboard figures, the risk badge, convening):

- may the viewer see the case at all (`cases_visible_to`; otherwise the page is a 404)?
  Staff see their department's cases and the cases handed off to their department;
  supervisors and above also see everything held in their reporting subtree.
- may they see its client side in full (`Viewer.sees_client_details`, and `seen_in_full`
  for queries)? Only its own department, or whoever has the case's owner in their subtree.
  Anyone else sees only what a hand-off shares: its summary, never the client's name or
  contact details, the description, notes, exception requests or the risk's reason.

Nobody else sees any case.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import (
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.utils import timezone

from accounts.directory import Directory, staff_directory
from accounts.models import StaffProfile
from casedesk.models import (
    ACTIVE_STATES,
    CallBack,
    CallBackState,
    Case,
    CaseEvent,
    Feedback,
    HandOff,
    HandOffState,
)


@dataclass(frozen=True)
class Viewer:
    """A staff member with their reporting subtree and the staff directory (the people of
    their pages, with their chains), computed once per request."""

    staff: StaffProfile
    subtree_ids: frozenset[int] = field(default_factory=frozenset)  # includes the viewer
    directory: Directory | None = field(default=None, compare=False)

    @classmethod
    def of(cls, staff: StaffProfile, *, directory: Directory | None = None) -> "Viewer":
        directory = directory or staff_directory()
        reports: dict[int, list[int]] = {}
        for person in directory.people:
            reports.setdefault(person.manager_id, []).append(person.pk)
        subtree, frontier = {staff.pk}, [staff.pk]
        while frontier:
            for report in reports.get(frontier.pop(), []):
                if report not in subtree:
                    subtree.add(report)
                    frontier.append(report)
        return cls(staff=staff, subtree_ids=frozenset(subtree), directory=directory)

    @property
    def department_id(self) -> int:
        return self.staff.department_id

    def sees_client_details(self, case: Case) -> bool:
        """The client side of a case in full: `seen_in_full`, asked of one loaded case."""
        return case.department_id == self.department_id or case.owner_id in self.subtree_ids


def seen_in_full(viewer: Viewer, prefix: str = "") -> Q:
    """`Viewer.sees_client_details` as a query, on Case (or through `prefix`, e.g. "case__")."""
    return Q(**{f"{prefix}department_id": viewer.department_id}) | Q(
        **{f"{prefix}owner_id__in": viewer.subtree_ids}
    )


def cases_visible_to(viewer: Viewer) -> QuerySet[Case]:
    visible = (
        Q(department_id=viewer.department_id)
        | Q(handoffs__to_department_id=viewer.department_id)
        | Q(owner_id__in=viewer.subtree_ids)
        | Q(handoffs__accountable_id__in=viewer.subtree_ids)
    )
    ids = Case.objects.filter(visible).values("pk")
    return Case.objects.filter(pk__in=ids)


# --- The queue ------------------------------------------------------------------------

QUEUE_VIEWS = {
    "mine": "My cases",
    "department": "My department",
    "handoffs": "Hand-offs to my department",
    "overdue": "Overdue",
    "flagged": "Top of the chain",
    "all": "Everything I may see",
}


QUEUE_SORTS = {
    "due": "Due soonest",
    "-due": "Due latest",
    "newest": "Newest first",
    "updated": "Recently changed",
}


@dataclass
class QueueFilters:
    view: str = "mine"
    sort: str = "due"
    state: str = ""
    priority: str = ""
    client: int | None = None
    owner: int | None = None
    search: str = ""


def queue_cases(viewer: Viewer, filters: QueueFilters, *, now: datetime | None = None):
    """The queue's rows: soonest deadline first (closed cases, which have none, last)."""
    now = now or timezone.now()
    cases = cases_visible_to(viewer)
    if filters.view == "mine":
        cases = cases.filter(owner=viewer.staff)
    elif filters.view == "department":
        cases = cases.filter(department_id=viewer.department_id)
    elif filters.view == "handoffs":
        cases = cases.filter(
            pk__in=HandOff.objects.filter(
                to_department_id=viewer.department_id, state=HandOffState.OPEN
            ).values("case_id")
        )
    elif filters.view == "flagged":
        # Escalated with nobody above: listed so the top of a chain sees what waits on it.
        cases = cases.filter(
            Q(at_top_of_chain=True, state__in=ACTIVE_STATES)
            | Q(
                pk__in=HandOff.objects.filter(at_top_of_chain=True, state=HandOffState.OPEN).values(
                    "case_id"
                )
            )
        )
    elif filters.view == "overdue":
        # A breach at the top of a chain stays overdue however often its deadline re-arms.
        cases = cases.filter(Q(due_at__lt=now) | Q(late_since__isnull=False)).filter(
            state__in=ACTIVE_STATES
        )
    if filters.state:
        cases = cases.filter(state=filters.state)
    if filters.priority:
        cases = cases.filter(priority=filters.priority)
    if filters.client:
        cases = cases.filter(client_id=filters.client)
    if filters.owner:
        cases = cases.filter(owner_id=filters.owner)
    if filters.search:
        term = filters.search.strip()
        cases = cases.filter(
            Q(reference__icontains=term)
            | Q(subject__icontains=term)
            # another department's client stays theirs, even to a search
            | (Q(client__name__icontains=term) & seen_in_full(viewer))
        )
    order = {
        "due": [F("due_at").asc(nulls_last=True), "-created_at"],
        "-due": [F("due_at").desc(nulls_last=True), "-created_at"],
        "newest": ["-created_at", "-id"],
        "updated": ["-updated_at", "-id"],
    }[filters.sort]
    return with_row_relations(cases, viewer).order_by(*order)


def with_row_relations(cases: QuerySet[Case], viewer: Viewer) -> QuerySet[Case]:
    return cases.select_related("client", "owner__user", "department").prefetch_related(
        Prefetch(
            "handoffs",
            queryset=HandOff.objects.filter(to_department_id=viewer.department_id).order_by(
                "-created_at"
            ),
            to_attr="handoffs_to_viewer",
        )
    )


# --- The case page --------------------------------------------------------------------


def case_for_viewer(viewer: Viewer, reference: str, *, in_full: bool = False) -> Case | None:
    """The case if the viewer may see it (with `in_full`: only if they see its client side
    in full, for pages that are all client side, like asking for an exception), with its
    hand-offs and, for those who see its client side, its contacts and call-backs: four
    queries at most, whoever looks. Everyone on it is the directory's instance, so their
    names and chains (every permission the page asks) cost no further query."""
    cases = cases_visible_to(viewer)
    if in_full:
        cases = cases.filter(seen_in_full(viewer))
    case = cases.select_related("client").filter(reference=reference).first()
    if case is None:
        return None
    lookups: list[str | Prefetch] = [Prefetch("handoffs", HandOff.objects.order_by("created_at"))]
    sees_client = viewer.sees_client_details(case)
    if sees_client:
        lookups += [
            "client__contacts",
            Prefetch("callbacks", CallBack.objects.order_by("-created_at")),
        ]
    prefetch_related_objects([case], *lookups)
    directory = viewer.directory or staff_directory()
    _link_people(directory, case, ["department", "owner", "returns_to"])
    for handoff in case.handoffs.all():
        fields = ["from_department", "to_department", "accountable", "requested_by"]
        _link_people(directory, handoff, fields)
    for callback in case.callbacks.all() if sees_client else []:
        _link_people(directory, callback, ["accountable", "completed_by"])
    return case


def _link_people(directory: Directory, item, fields: list[str]) -> None:
    """Point `item`'s people and departments at the directory's instances (their users and
    chains loaded). Someone added since the directory was read is left to load on use."""
    for name in fields:
        pk = getattr(item, f"{name}_id")
        known = directory.departments_by_id if name.endswith("department") else directory.by_id
        if (found := known.get(pk)) is not None:
            setattr(item, name, found)


def case_timeline(case: Case, *, client_visible_only: bool = False) -> QuerySet[CaseEvent]:
    events = case.events.select_related("actor_user", "actor_contact", "target__user")
    if client_visible_only:
        events = events.filter(client_visible=True)
    return events.order_by("created_at", "id")


def staff_of_department(department_id: int) -> QuerySet[StaffProfile]:
    return (
        StaffProfile.objects.filter(department_id=department_id)
        .select_related("user")
        .order_by("user__first_name", "user__username")
    )


# --- The client's pages -----------------------------------------------------------------


def status_page_cases() -> QuerySet[Case]:
    """Cases with what their status page shows: the client, the owner and their supervisor,
    the department's calendar and the rating given on the latest resolution, in one query."""
    rating = Feedback.objects.filter(case=OuterRef("pk"), resolved_at=OuterRef("closed_at"))
    return Case.objects.select_related(
        "client", "owner__user", "owner__manager__user", "department__calendar"
    ).annotate(resolution_rating=Subquery(rating.values("rating")[:1]))


def pending_callback(case: Case) -> CallBack | None:
    return (
        CallBack.objects.select_related("accountable__user")
        .filter(case=case, state=CallBackState.PENDING)
        .first()
    )


def cases_of_client(client_id: int, *, search: str = "", show: str = "") -> QuerySet[Case]:
    """A client's own cases, for their contacts: open ones first, then most recent."""
    cases = Case.objects.filter(client_id=client_id).select_related(
        "owner__user", "owner__manager__user"
    )
    if show == "open":
        cases = cases.filter(state__in=ACTIVE_STATES)
    elif show == "closed":
        cases = cases.exclude(state__in=ACTIVE_STATES)
    if search.strip():
        term = search.strip()
        cases = cases.filter(Q(reference__icontains=term) | Q(subject__icontains=term))
    return cases.order_by(F("closed_at").desc(nulls_first=True), "-updated_at", "-id")
