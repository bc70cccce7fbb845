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

import operator
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce

from django.db.models import (
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce

from accounts.directory import Directory, staff_directory
from accounts.models import StaffProfile
from casedesk.keyset import FAR_FUTURE, FAR_PAST, Branch, Cursor, Order, Page, keyset_page
from casedesk.models import (
    ACTIVE_STATES,
    Attachment,
    CallBack,
    CallBackState,
    Case,
    CaseEvent,
    CaseReach,
    Feedback,
    HandOff,
    HandOffState,
)
from casedesk.search import RANKED_MATCHES, SHARED_ONLY, search_condition, search_rank


@dataclass(frozen=True)
class Viewer:
    """A staff member with their reporting subtree and the staff directory (the people of
    their pages, with their chains), computed once per request."""

    staff: StaffProfile
    subtree_ids: frozenset[int] = field(default_factory=frozenset)  # includes the viewer
    directory: Directory | None = field(default=None, compare=False)
    # the top of the organisation: everyone reports to them (so every case's owner does)
    sees_everyone: bool = False

    @classmethod
    def of(cls, staff: StaffProfile, *, directory: Directory | None = None) -> "Viewer":
        directory = directory or staff_directory()
        reports: dict[int, list[int]] = {}
        everyone = set()
        for person in directory.people:
            reports.setdefault(person.manager_id, []).append(person.pk)
            everyone.add(person.pk)
        subtree, frontier = {staff.pk}, [staff.pk]
        while frontier:
            for report in reports.get(frontier.pop(), []):
                if report not in subtree:
                    subtree.add(report)
                    frontier.append(report)
        return cls(
            staff=staff,
            subtree_ids=frozenset(subtree),
            directory=directory,
            sees_everyone=subtree >= everyone,
        )

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


def visibility_branches(viewer: Viewer) -> dict[str, Q]:
    """The visibility rule as branches whose union is every case the viewer may see: each
    answered by an index of its own (department, each person of the subtree, hand-offs'
    receiving side), where one OR across a join to hand-offs could use none."""
    owners = {f"owner:{person}": Q(owner_id=person) for person in sorted(viewer.subtree_ids)}
    handed_to = HandOff.objects.filter(to_department_id=viewer.department_id)
    held_by_subtree = HandOff.objects.filter(accountable_id__in=viewer.subtree_ids)
    return {
        "department": Q(department_id=viewer.department_id),
        # one branch per person, so that each reads its own (owner, order) index range
        **owners,
        "handed_to_department": Q(pk__in=handed_to.values("case_id")),
        "held_by_subtree": Q(pk__in=held_by_subtree.values("case_id")),
    }


# The column a branch holds to one value, which leads its indexes.
BRANCH_COLUMNS = {"department": "department_id", "owner": "owner_id"}


def reach_branches(viewer: Viewer) -> dict[str, QuerySet[CaseReach]]:
    """The hand-off branches of `visibility_branches`, as the queue reads them: from the
    copies of the cases' sort keys kept per audience (CaseReach), one index range each (the
    department, each person of the subtree), where no index of Case leads with a hand-off's
    receiving side. The same cases: the triggers of migration 0020 keep the rows exact."""
    return {
        "handed_to_department": CaseReach.objects.filter(department_id=viewer.department_id),
        **{
            f"held_by:{person}": CaseReach.objects.filter(person_id=person)
            for person in sorted(viewer.subtree_ids)
        },
    }


def cases_visible_to(viewer: Viewer) -> QuerySet[Case]:
    """Every case the viewer may see: any of `visibility_branches`, tested row by row, so a
    case looked up by reference reads that case (a UNION of the branches would build every
    branch whole first). The queue reads the branches one by one instead (queue_page)."""
    return Case.objects.filter(reduce(operator.or_, visibility_branches(viewer).values()))


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
# Offered, and the default, only with a search term.
SEARCH_SORTS = {"rank": "Best match", **QUEUE_SORTS}


# Each sort: its keys (never NULL: a closed case, which has no deadline, sorts as due
# never, last either way) and direction; the pk breaks ties. The indexes of models/cases.py
# lead with a branch's column and then these keys.
DUE_KEY = Coalesce("due_at", Value(FAR_FUTURE))
QUEUE_ORDERS = {
    "due": Order((DUE_KEY,), descending=False),
    "-due": Order((Coalesce("due_at", Value(FAR_PAST)),), descending=True),
    "newest": Order((F("created_at"),), descending=True),
    "updated": Order((F("updated_at"),), descending=True),
    # casedesk.search's rank, which queue_page aliases as `search_rank` for the viewer
    "rank": Order((F("search_rank"),), descending=True, kinds=(int,)),
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


def pinned_filter(filters: QueueFilters) -> str | None:
    """The filter that the due order's indexes of the department and owner branches hold
    after the branch's column (models/cases.py: state, then priority), if one is set.

    The branch is ordered by it and it is asked as a range of one value: an equality would
    make it a constant, which leaves the planner free to walk the branch's plain due index
    and filter it, thinking the value spread evenly along the order (it is not: the active
    cases come first; maria's resolved ones sat behind 100,000 open, 1.1 s at a million)."""
    if filters.sort != "due":
        return None
    return "state" if filters.state else "priority" if filters.priority else None


@dataclass(frozen=True)
class Alternative:
    """Part of a view's condition: on the case, and what of it the copies of CaseReach can
    ask themselves (their sort keys and marks), so that a hand-off branch reads only the
    copies that may qualify, from their own index, before the case is asked the rest."""

    case: Q
    copies: Q = field(default_factory=Q)


def queue_filter(viewer: Viewer, filters: QueueFilters, now: datetime) -> list[Alternative]:
    """The view's and filters' condition on a case (visibility apart), as alternatives whose
    union it is: a view that is an OR of rare conditions (overdue, top of the chain) reads
    each from its own small index rather than filtering a scan of every case."""
    alternatives = [Alternative(Q())]
    if filters.view == "mine":
        alternatives = [Alternative(Q(owner=viewer.staff))]
    elif filters.view == "department":
        alternatives = [Alternative(Q(department_id=viewer.department_id))]
    elif filters.view == "handoffs":
        open_to_department = HandOff.objects.filter(
            to_department_id=viewer.department_id, state=HandOffState.OPEN
        )
        alternatives = [Alternative(Q(pk__in=open_to_department.values("case_id")))]
    elif filters.view == "flagged":
        # Escalated with nobody above: listed so the top of a chain sees what waits on it.
        held_at_top = HandOff.objects.filter(at_top_of_chain=True, state=HandOffState.OPEN)
        alternatives = [
            # only while active: the case's constraint
            Alternative(Q(at_top_of_chain=True), copies=Q(at_top_of_chain=True)),
            Alternative(Q(pk__in=held_at_top.values("case_id"))),
        ]
    elif filters.view == "overdue":
        # A breach at the top of a chain stays overdue however often its deadline re-arms.
        # An active case's due key is its deadline (closed ones sort as due never), so the
        # first is a range of the queue's due indexes.
        alternatives = [
            Alternative(
                # (due_at too: the same condition, which the deadline's own index answers)
                Q(state__in=ACTIVE_STATES, due_key__lt=now, due_at__lt=now),
                copies=Q(due_key__lt=now),
            ),
            # only while active: the case's constraint
            Alternative(Q(late_since__isnull=False), copies=Q(late_since__isnull=False)),
        ]
    narrowing = Q()
    pinned = pinned_filter(filters)
    for column in ("state", "priority"):
        if not (value := getattr(filters, column)):
            continue
        if column == pinned:  # a range of one value, not an equality: see pinned_filter
            narrowing &= Q(**{f"{column}__gte": value, f"{column}__lte": value})
        else:
            narrowing &= Q(**{column: value})
    if filters.client:
        narrowing &= Q(client_id=filters.client)
    if filters.owner:
        narrowing &= Q(owner_id=filters.owner)
    if filters.search:
        # another department's client stays theirs, even to a search (casedesk.search)
        narrowing &= search_condition(filters.search, in_full=_searched_in_full(viewer))
    return [Alternative(part.case & narrowing, part.copies) for part in alternatives]


def queue_page(
    viewer: Viewer,
    filters: QueueFilters,
    *,
    now: datetime,
    cursor: Cursor | None = None,
    size: int = 25,
) -> Page:
    """One page of the queue: soonest deadline first (closed cases, which have none, last).

    Each visibility branch, narrowed by each of the view's alternatives and the filters,
    reads its first rows past the cursor from its own index; nothing counts the whole set."""
    alternatives = queue_filter(viewer, filters, now)
    if filters.search:
        return _search_page(viewer, filters, alternatives, cursor=cursor, size=size)
    branches: dict[str, Q | QuerySet[CaseReach]] = {
        name: branch
        for name, branch in visibility_branches(viewer).items()
        if name not in ("handed_to_department", "held_by_subtree")
    }
    branches |= reach_branches(viewer)
    owners = [name for name in branches if name.startswith("owner:")]
    # A view that lies within one branch reads only that one: the others would add nothing
    # to the union, and their redundant conditions mislead the planner's estimates.
    within = {
        "mine": f"owner:{viewer.staff.pk}",
        "department": "department",
        "handoffs": "handed_to_department",
    }.get(filters.view)
    if within:
        branches = {within: branches[within]}
    elif viewer.sees_everyone:
        # Every case has an owner and everyone reports to the viewer: the owners' branches
        # hold every case, and the others, which cost the most (hand-offs have no index
        # of Case), would add nothing.
        branches = {name: branch for name, branch in branches.items() if name in owners}
    if filters.view in RARE_VIEWS:
        branches = _people_at_once(branches, viewer)
    cases = Case.objects.alias(due_key=DUE_KEY)
    pinned = pinned_filter(filters)
    parts = []
    for name, branch in branches.items():
        for alternative in alternatives:
            if isinstance(branch, Q):
                leading = BRANCH_COLUMNS.get(name.split(":")[0])
                if leading and pinned:
                    leading = (leading, pinned)
                parts.append(Branch(cases.filter(branch).filter(alternative.case), leading))
                continue
            # The copies hold the sort keys and marks only: they narrow the index range,
            # and the rest of the condition is asked of each case it reaches, by its pk,
            # until the page is full.
            reached = branch.alias(due_key=DUE_KEY).filter(alternative.copies)
            if alternative.case:
                reached = reached.filter(case__in=cases.filter(alternative.case).values("pk"))
            audience = {"handed_to_department": "department_id", "held_by": None}.get(
                name, "person_id"
            )
            parts.append(Branch(reached, audience, key="case_id"))
    return keyset_page(
        parts,
        QUEUE_ORDERS[filters.sort],
        cursor,
        size,
        rows_of=lambda pks: with_row_relations(Case.objects.filter(pk__in=pks), viewer),
    )


# Views of marked cases, which are few: their partial indexes hold only those.
RARE_VIEWS = ("overdue", "flagged")


def _people_at_once(branches: dict, viewer: Viewer) -> dict:
    """The branches of the subtree's people as one per kind (owners, holders of hand-offs):
    each reads every person's marked cases at once and sorts them, where a branch per
    person multiplied the parts of the query, which cost more to build and plan (at a
    million: 24 parts for a supervisor, 20-25 ms of Python) than reading the rows. The
    cost grows with the marked cases, not with all cases: 6 ms for 2,500 at the top of a
    chain at once (the bench's crisis)."""
    merged: dict[str, Q | QuerySet[CaseReach]] = {}
    for name, branch in branches.items():
        if name.startswith("owner:"):
            merged["owners"] = Q(owner_id__in=viewer.subtree_ids)
        elif name.startswith("held_by:"):
            # one copy per holder: a case two of the people hold hand-offs of is one row,
            # or it would fill two of the branch's size + 1 and end the page early
            holders = CaseReach.objects.filter(person_id__in=viewer.subtree_ids)
            merged["held_by"] = holders.distinct()
        else:
            merged[name] = branch
    return merged


def _searched_in_full(viewer: Viewer) -> Q | None:
    return None if viewer.sees_everyone else seen_in_full(viewer)


def _search_page(
    viewer: Viewer, filters: QueueFilters, alternatives: list[Alternative], *, cursor, size: int
) -> Page:
    """A page of a search: the GIN index finds the matching cases, and the whole visibility
    rule is then tested on each (each branch read on its own would repeat that scan).

    "Best match" ranks the newest RANKED_MATCHES matches the viewer may see: ranking reads
    every candidate's vector, which for a common word is a tenth of every case (at a
    million, 350 ms), where the newest are a walk down the creation index that stops once
    it has them (a few ms); the other sorts see every match."""
    cases = Case.objects.alias(due_key=DUE_KEY)
    if not viewer.sees_everyone:
        cases = cases.filter(reduce(operator.or_, visibility_branches(viewer).values()))
    # the view's alternatives too, as one condition on each match, like the visibility rule
    matches = cases.filter(reduce(operator.or_, (part.case for part in alternatives)))
    if filters.sort == "rank":
        rank = search_rank(filters.search, in_full=_searched_in_full(viewer))
        newest = matches.order_by("-created_at", "-pk").values("pk")[:RANKED_MATCHES]
        matches = Case.objects.alias(search_rank=rank).filter(pk__in=newest)
    return keyset_page(
        [Branch(matches)],
        QUEUE_ORDERS[filters.sort],
        cursor,
        size,
        rows_of=lambda pks: with_row_relations(Case.objects.filter(pk__in=pks), viewer),
    )


def with_row_relations(cases: QuerySet[Case], viewer: Viewer) -> QuerySet[Case]:
    """What a row of a case list shows, in the list's one query: for a case of another
    department, the summary its latest hand-off to the viewer's department shares."""
    shared_with_viewer = (
        HandOff.objects.filter(case=OuterRef("pk"), to_department_id=viewer.department_id)
        .order_by("-created_at", "-id")
        .values("shared_summary")[:1]
    )
    return cases.select_related("client", "owner__user", "department").annotate(
        shared_summary_to_viewer=Subquery(shared_with_viewer)
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


# --- Attachments: the same rule, file by file ---------------------------------------------

HANDOFF_ANSWERS = ("handoff_completed", "handoff_declined")


def _attachments_shared_with(viewer: Viewer) -> Q:
    """What another department may download of a case: the files its hand-offs to the
    viewer's department share, and the answers that department gave with files."""
    shared = HandOff.shared_attachments.through.objects.filter(
        handoff__to_department_id=viewer.department_id
    )
    return Q(pk__in=shared.values("attachment_id")) | Q(
        event__handoff__to_department_id=viewer.department_id, event__kind__in=HANDOFF_ANSWERS
    )


def attachments_visible_to(viewer: Viewer) -> QuerySet[Attachment]:
    """The files a staff member may download (removed ones included: their page says so):
    every file of a case they see in full; of any other case they may see, only what is
    shared with their department (`_attachments_shared_with`)."""
    return Attachment.objects.filter(case__in=cases_visible_to(viewer)).filter(
        seen_in_full(viewer, "case__") | _attachments_shared_with(viewer)
    )


def attachment_for_viewer(viewer: Viewer, reference: str, pk: int) -> Attachment | None:
    return attachments_visible_to(viewer).filter(case__reference=reference, pk=pk).first()


def client_attachments(case: Case) -> QuerySet[Attachment]:
    """The files a client may download of their own case: those on what they can see."""
    return Attachment.objects.filter(case=case, event__client_visible=True).order_by(
        "created_at", "id"
    )


@dataclass
class Timeline:
    """A page's timeline with its files, read in the timeline's one query: each shown
    event with its files (`event.files`), the files each hand-off shares (`by_handoff`),
    and those not removed (`live`: what a hand-off request may share). Only files the
    viewer may download are there."""

    events: list[CaseEvent]
    by_handoff: dict[int, list[Attachment]]
    live: list[Attachment]


FILE_COLUMNS = {
    "file_id": "attachments__id",
    "file_name": "attachments__original_name",
    "file_size": "attachments__size",
    "file_removed_at": "attachments__removed_at",
    "file_shared_on": "attachments__shared_on__id",
}


def timeline_with_files(
    events: QuerySet[CaseEvent],
    *,
    shown=lambda event: True,
    visible=lambda event, shared_on: True,
) -> Timeline:
    """`events` joined with their files and the hand-offs that share them, in one query
    (a row per event, file and sharing hand-off; put together here). `shown`: which
    events the page lists (others may carry files a hand-off shares); `visible`: whether
    a file of an event, shared on those hand-offs, is one the viewer may download."""
    rows = events.annotate(**{name: F(path) for name, path in FILE_COLUMNS.items()}).order_by(
        "created_at", "id", "file_id"
    )
    by_event: dict[int, CaseEvent] = {}
    files: dict[int, Attachment] = {}
    sharing: dict[int, set[int]] = {}
    for row in rows:
        event = by_event.setdefault(row.pk, row)
        if row.file_id is None:
            continue
        if row.file_id not in files:
            files[row.file_id] = Attachment(
                pk=row.file_id,
                case_id=event.case_id,
                event=event,
                original_name=row.file_name,
                size=row.file_size,
                removed_at=row.file_removed_at,
            )
            sharing[row.file_id] = set()
        if row.file_shared_on is not None:
            sharing[row.file_id].add(row.file_shared_on)
    for event in by_event.values():
        event.files = []
    by_handoff: dict[int, list[Attachment]] = {}
    live = []
    for pk, attachment in files.items():
        if not visible(attachment.event, sharing[pk]):
            continue
        attachment.event.files.append(attachment)
        for handoff in sharing[pk]:
            by_handoff.setdefault(handoff, []).append(attachment)
        if not attachment.is_removed:
            live.append(attachment)
    shown_events = [event for event in by_event.values() if shown(event)]
    return Timeline(events=shown_events, by_handoff=by_handoff, live=live)


def case_page_timeline(viewer: Viewer, case: Case) -> Timeline:
    """The case page's timeline: all of it for whoever sees the case in full; for another
    department, the events of its hand-offs, with the files shared with it (their events
    are read for them, not listed) and those of its own answers."""
    events = case_timeline(case)
    if viewer.sees_client_details(case):
        return timeline_with_files(events)
    ours = {h.pk for h in case.handoffs.all() if h.to_department_id == viewer.department_id}
    shared = HandOff.shared_attachments.through.objects.filter(handoff_id__in=ours)
    events = events.filter(
        Q(handoff_id__in=ours)
        | Q(
            pk__in=Attachment.objects.filter(pk__in=shared.values("attachment_id")).values(
                "event_id"
            )
        )
    )

    def visible(event: CaseEvent, shared_on: set[int]) -> bool:
        return bool(shared_on & ours) or (
            event.handoff_id in ours and event.kind in HANDOFF_ANSWERS
        )

    return timeline_with_files(
        events, shown=lambda event: event.handoff_id in ours, visible=visible
    )


def client_timeline(case: Case) -> list[CaseEvent]:
    """What the client sees of their case, each event with its files (all of a visible
    event's files are the client's to download)."""
    return timeline_with_files(case_timeline(case, client_visible_only=True)).events


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


# A client's cases: open ones first (no closing time), then the most recently closed.
CLIENT_CASES_ORDER = Order(
    (Coalesce("closed_at", Value(FAR_FUTURE)), F("updated_at")), descending=True
)


def client_cases_page(
    client_id: int,
    *,
    search: str = "",
    show: str = "",
    cursor: Cursor | None = None,
    size: int = 25,
) -> Page:
    """A client's own cases, for their contacts: open ones first, then most recent; one
    index range per page (client, closing time, last change), no count."""
    cases = Case.objects.filter(client_id=client_id)
    if show == "open":
        cases = cases.filter(state__in=ACTIVE_STATES)
    elif show == "closed":
        cases = cases.exclude(state__in=ACTIVE_STATES)
    if search.strip():
        # what every viewer of the case sees: its reference and subject
        cases = cases.filter(search_condition(search, in_full=SHARED_ONLY))
    return keyset_page(
        [Branch(cases, leading="client_id")],
        CLIENT_CASES_ORDER,
        cursor,
        size,
        rows_of=lambda pks: Case.objects.filter(pk__in=pks).select_related(
            "owner__user", "owner__manager__user"
        ),
    )
