"""Writes gathered over a batch of changes and made at its end, one query per table.

The sweep escalates a hundred due items at once through the very actions a person's change
goes through (casedesk.services.cases_escalate, the held items' climbs). Inside
`gathered()`, the writes those actions make through this module (timeline events, outbox
rows, escalation rows, saves of cases and held items, call-backs handed over) are not made
at once: they are kept, and the end of the block makes them with one bulk insert per
table, one bulk update per model and one call per grouped statement, in the caller's
transaction. Outside such a block, which is every change a person makes, each write is
made at once, exactly as before.

A row kept for later has no primary key until the block ends: code inside a block must not
need one (nothing in the actions does; notify's `then` gets the saved rows).
"""

from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, models
from django.db.models import Case as SqlCase
from django.db.models import Value, When
from django.db.models.functions import Cast

_current: ContextVar["_Gathered | None"] = ContextVar("casedesk_gathered_writes", default=None)


class _Gathered:
    def __init__(self):
        # Insertion order is kept across tables and within each (ids grow as they would).
        self.inserts: dict[type[models.Model], list[models.Model]] = {}
        self.after_insert: list[tuple[Sequence[models.Model], Callable]] = []
        # Per model, each row saved (by primary key) with the fields it was saved with
        # (None: whatever changed, worked out when it is written).
        self.saves: dict[type[models.Model], dict[int, tuple[models.Model, set | None]]] = {}
        self.calls: dict[tuple, list] = {}

    def flush(self) -> None:
        for model, rows in self.inserts.items():
            model.objects.bulk_create(rows)
        for rows, then in self.after_insert:
            then(rows)
        for model, saved in self.saves.items():
            fields = set()
            for obj, named in saved.values():
                fields.update(_changed(obj) if named is None else named)
            _update(model, [obj for obj, _ in saved.values()], fields)
        for (function, kwargs), items in self.calls.items():
            function(items, **dict(kwargs))


@contextmanager
def gathered():
    """Gather the writes made inside the block and make them at its end (see the module's
    docstring). A block inside another joins it: the outermost one writes."""
    if _current.get() is not None:
        yield
        return
    writes = _Gathered()
    token = _current.set(writes)
    try:
        yield
    finally:
        _current.reset(token)
    writes.flush()  # not reached when the block raised: nothing half-written


def create(obj: models.Model) -> models.Model:
    """Insert one row (now, or at the end of the gathering block)."""
    writes = _current.get()
    if writes is None:
        obj.save(force_insert=True)
    else:
        writes.inserts.setdefault(type(obj), []).append(obj)
    return obj


def create_all(
    rows: Sequence[models.Model], *, then: Callable[[Sequence[models.Model]], None] | None = None
) -> None:
    """Insert rows of one model; `then(rows)` runs once they have their primary keys."""
    if not rows:
        return
    writes = _current.get()
    if writes is None:
        type(rows[0]).objects.bulk_create(rows)
        if then is not None:
            then(rows)
        return
    writes.inserts.setdefault(type(rows[0]), []).extend(rows)
    if then is not None:
        writes.after_insert.append((rows, then))


def save(obj: models.Model, *, fields: Iterable[str] | None = None) -> None:
    """Save an existing row (every field, or those named), now or at the block's end. There,
    a row saved without naming fields writes those changed since `remember` (all of them if
    it was not remembered); the rows of a model are written in one statement, each with its
    values of every field any of them wrote (so they must be whole rows, under lock). Saved
    twice in one block (two hand-offs of one case touching it), a row is written once, as it
    is last."""
    writes = _current.get()
    if writes is None:
        obj.save(update_fields=fields)
        return
    saved = writes.saves.setdefault(type(obj), {})
    _, named = saved.get(obj.pk, (obj, set()))
    saved[obj.pk] = (obj, None if fields is None or named is None else named | set(fields))


def remember(objs: Iterable[models.Model]) -> None:
    """Note the values these rows were read with: a batch then writes only the fields that
    changed since (a hundred rows' every column would be a statement of thousands of
    values). Rows not noted have every field written."""
    for obj in objs:
        obj._loaded_values = _values(obj)


def call(function: Callable[..., None], item, **kwargs) -> None:
    """Run `function([item], **kwargs)` now, or once at the block's end for every item
    given with the same function and arguments: one statement for the whole batch."""
    writes = _current.get()
    if writes is None:
        function([item], **kwargs)
        return
    writes.calls.setdefault((function, tuple(sorted(kwargs.items()))), []).append(item)


def _values(obj: models.Model) -> dict:
    return {
        f.attname: obj.__dict__[f.attname]
        for f in obj._meta.concrete_fields
        if f.attname in obj.__dict__ and not f.primary_key
    }


def _changed(obj: models.Model) -> list[str]:
    fields = [f for f in obj._meta.concrete_fields if not f.primary_key]
    loaded = getattr(obj, "_loaded_values", None)
    if loaded is None:
        return [f.name for f in fields]
    now = _values(obj)
    return [f.name for f in fields if f.attname in now and now[f.attname] != loaded.get(f.attname)]


def _update(model: type[models.Model], objs: list[models.Model], names: set[str]) -> None:
    """bulk_update, with each field's CASE grouped by value: the rows of a batch mostly
    share their new values (a state, a holder, a deadline), so the statement stays small
    where bulk_update's has a WHEN per row and field."""
    if not names:
        return
    changes = {}
    for name in sorted(names):
        field = model._meta.get_field(name)
        rows_by_value: dict = {}
        for obj in objs:
            rows_by_value.setdefault(getattr(obj, field.attname), []).append(obj.pk)
        if len(rows_by_value) == 1:
            changes[field.attname] = Value(next(iter(rows_by_value)), output_field=field)
            continue
        new = SqlCase(
            *(
                When(pk__in=pks, then=Value(value, output_field=field))
                for value, pks in rows_by_value.items()
            ),
            output_field=field,
        )
        if connection.features.requires_casted_case_in_updates:
            new = Cast(new, output_field=field)
        changes[field.attname] = new
    model.objects.filter(pk__in=[obj.pk for obj in objs]).update(**changes)
    for obj in objs:
        # As save() does: the next transition checks against the state now stored.
        if hasattr(obj, "_update_initial_state"):
            obj._update_initial_state()
        if hasattr(obj, "_loaded_values"):
            obj._loaded_values = _values(obj)
