"""Keyset pagination: a page is the rows after (or before) the last row seen, in an order
that ends with the primary key. A page costs the same at row 25 as at row 1,000,000 (an
index range, never an OFFSET), ties never repeat or skip a row, and nothing counts the
whole set.

An order is a few sort keys (columns or expressions that are never NULL, so that the
comparisons below are index ranges) in one direction, then the pk in that direction. A key
is a moment or an integer (a search's rank, scaled): a cursor writes either as an integer.
"""

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import Expression, F, Q, QuerySet

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# What a missing time sorts as, so that a sort key is never NULL (NULL compares to nothing).
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
FAR_PAST = datetime(1, 1, 1, tzinfo=UTC)

CURSOR_PATTERN = r"^(-?\d{1,18}\.){1,3}\d{1,18}$"


@dataclass(frozen=True)
class Order:
    keys: tuple[Expression, ...]
    descending: bool
    # each key's kind, as a cursor carries it: datetime (microseconds since 1970) or int
    kinds: tuple[type, ...] | None = None  # None: every key is a datetime

    def reversed(self) -> "Order":
        return Order(self.keys, not self.descending, self.kinds)

    def key_kinds(self) -> tuple[type, ...]:
        return self.kinds or (datetime,) * len(self.keys)

    def names(self) -> list[str]:
        return [f"sort_key_{n}" for n in range(len(self.keys))]

    def apply(
        self, queryset: QuerySet, leading: str | tuple[str, ...] | None = None, key: str = "pk"
    ) -> QuerySet:
        """The queryset with its sort keys annotated and ordered by them, then the pk (or
        `key`, the column that holds the paged model's pk: see Branch).

        `leading`: a column the queryset holds to one value, ordered by first: the same
        order, which only the index that leads with that column gives without a sort (the
        planner could otherwise filter a walk of an index without it, thinking the value
        spread evenly along the order)."""
        names = self.names()
        queryset = queryset.annotate(**dict(zip(names, self.keys, strict=True)))
        leads = [leading] if isinstance(leading, str) else list(leading or ())
        by = [F(name) for name in [*leads, *names, key]]
        return queryset.order_by(*[f.desc() if self.descending else f.asc() for f in by])

    def values(self, row) -> tuple:
        return (*(getattr(row, name) for name in self.names()), row.pk)


@dataclass(frozen=True)
class Cursor:
    """The sort keys and pk of the row a page starts after, or (backwards) ends before."""

    values: tuple  # the sort keys (datetimes or integers), then the pk
    backwards: bool = False

    def encode(self) -> str:
        *keys, pk = self.values
        return ".".join([*(str(_as_integer(key)) for key in keys), str(pk)])

    @classmethod
    def decode(cls, text: str, *, backwards: bool, kinds: tuple[type, ...]) -> "Cursor | None":
        if not re.fullmatch(CURSOR_PATTERN, text or ""):
            return None
        *keys, pk = text.split(".")
        if len(keys) != len(kinds):
            return None
        try:
            values = tuple(
                EPOCH + timedelta(microseconds=int(key)) if kind is datetime else int(key)
                for key, kind in zip(keys, kinds, strict=True)
            )
        except OverflowError:
            return None
        return cls((*values, int(pk)), backwards=backwards)

    def condition(self, order: Order, key: str = "pk") -> Q:
        """Rows strictly past the cursor in `order`: (k1, …, pk) > (v1, …) as nested ranges,
        `k1 >= v1 AND (k1 > v1 OR (…))`, so that the first key bounds the index scan."""
        names = [*order.names(), key]
        after = "lt" if order.descending else "gt"
        at_or_after = "lte" if order.descending else "gte"
        condition = Q(**{f"{key}__{after}": self.values[-1]})
        for name, value in reversed(list(zip(names[:-1], self.values[:-1], strict=True))):
            condition = Q(**{f"{name}__{at_or_after}": value}) & (
                Q(**{f"{name}__{after}": value}) | condition
            )
        return condition


@dataclass(frozen=True)
class Page:
    rows: list
    next_cursor: Cursor | None
    previous_cursor: Cursor | None

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.previous_cursor)


@dataclass(frozen=True)
class Branch:
    """Part of a set to page through, and the column it holds to one value, if any.

    `key`: the column that holds the paged model's pk. A branch may read another table
    that carries copies of the sort keys under the same names (casedesk.CaseReach: the
    cases an audience sees through hand-offs), and names the row it copies there."""

    queryset: QuerySet
    leading: str | tuple[str, ...] | None = None  # (several: all held to one value)
    key: str = "pk"


def keyset_page(
    branches: Sequence[Branch],
    order: Order,
    cursor: Cursor | None,
    size: int,
    *,
    rows_of: Callable[[list[int]], Iterable] | None = None,
) -> Page:
    """One page of the union of `branches` (querysets of one model, or of copies of its
    keys), in `order`.

    Each branch takes its own first `size + 1` rows past the cursor (one index range each,
    when an index leads with the branch's filter and then the order's keys), all in one
    query; the merge, which also drops a row two branches both found, is of at most
    (size + 1) times the branches rows.
    `rows_of(pks)` loads the page's rows in full in one more query; without it the page
    holds the pks.
    """
    backwards = cursor is not None and cursor.backwards
    scan = order.reversed() if backwards else order
    if connection.features.supports_slicing_ordering_in_compound:
        limited = [_limited(branch, scan, cursor, size) for branch in branches]
        found = list(limited[0].union(*limited[1:], all=True) if len(limited) > 1 else limited[0])
    else:
        # SQLite (the demo's database) cannot union limited queries: a query per branch.
        # Each branch's first size + 1 rows past the cursor still hold the page.
        found = [row for branch in branches for row in _limited(branch, scan, cursor, size)]
    merged = sorted(set(found), reverse=scan.descending)[: size + 1]
    more = len(merged) > size
    merged = merged[:size]
    if backwards:
        merged.reverse()
    first, last = (merged[0], merged[-1]) if merged else (None, None)
    if backwards:
        next_cursor = Cursor(last) if last else None
        previous_cursor = Cursor(first, backwards=True) if more else None
    else:
        next_cursor = Cursor(last) if more else None
        previous_cursor = Cursor(first, backwards=True) if cursor is not None and first else None
    pks = [values[-1] for values in merged]
    if rows_of is None:
        return Page(pks, next_cursor, previous_cursor)
    by_pk = {row.pk: row for row in rows_of(pks)} if pks else {}
    return Page([by_pk[pk] for pk in pks if pk in by_pk], next_cursor, previous_cursor)


def _limited(part: Branch, scan: Order, cursor: Cursor | None, size: int) -> QuerySet:
    branch = scan.apply(part.queryset, part.leading, part.key)
    if cursor is not None:
        branch = branch.filter(cursor.condition(scan, part.key))
    return branch.values_list(*scan.names(), part.key)[: size + 1]


def _as_integer(key) -> int:
    return (key - EPOCH) // timedelta(microseconds=1) if isinstance(key, datetime) else int(key)


def cursor_in(query, order: Order) -> Cursor | None:
    """The cursor a page's link carries (`after=` for Next, `before=` for Previous), or
    None for the first page or one that does not fit `order`."""
    if query.get("before"):
        return Cursor.decode(query["before"], backwards=True, kinds=order.key_kinds())
    if query.get("after"):
        return Cursor.decode(query["after"], backwards=False, kinds=order.key_kinds())
    return None
