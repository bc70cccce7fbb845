"""Searching cases: PostgreSQL full-text search over two stored vectors, and a simple
per-word fallback on SQLite (the demo's database).

A case carries two vectors, in columns only PostgreSQL has (migration 0019; the model
does not declare them, so that a save of a case, which writes every field it declares,
never writes back a vector read before the change that refreshed it):

- `search_shared`: what everyone who sees the case sees, its reference and subject;
- `search_full`: those (weight A), the client's and its contacts' names (B), the
  description (C) and the messages to and from the client (D), never internal notes.

A viewer matches, and is ranked, on the full vector only for the cases they see in full
(`selectors.seen_in_full`), on the shared one elsewhere: a department that only receives
a hand-off never finds a case, nor sees it rise in the order, through what it may not see.

Queries use websearch syntax: every word must match (`refund march`), "quoted phrases",
`-word` to exclude, `or` between alternatives; 'english' stems words ("refunds" finds
"refund") and drops words like "the". A reference as people type it (`CD-000123`,
`cd-123`, `cd123` or the number alone) also finds its case through the reference's unique
index.

The vectors are refreshed by `refresh_search` in the transaction of every action that
changes what they hold (a case opened, a client message or a message to the client, a
client's or a contact's name changed), in one UPDATE however many cases.
"""

import re
from collections.abc import Iterable

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Exists,
    Expression,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models import Case as SqlCase
from django.db.models.expressions import Col
from django.db.models.functions import Cast

from casedesk.models import Case, CaseEvent, ClientContact, EventKind

CONFIG = "english"
# The timeline entries that are messages to or from the client (when client-visible):
# staff's messages, the client's own (status page or email), a question put to the
# client, and the client's feedback comment. Notes and hand-off texts are never searched.
MESSAGE_KINDS = (EventKind.MESSAGE, EventKind.WAITING_ON_CLIENT, EventKind.FEEDBACK)
# "Best match" orders the newest this many matches a viewer may see (selectors._search_page).
RANKED_MATCHES = 1000
# The rank (ts_rank, a float) as an integer sort key, exact for the page cursors.
RANK_SCALE = 1_000_000
# `in_full` of a viewer who sees no case in full: a client's contact searching their own
# list matches on what everyone sees.
SHARED_ONLY = Q(pk__in=[])
# A reference as people type it: CD-000123, cd-123, cd123 or 123 (the number alone).
REFERENCE = re.compile(r"\s*(?:cd-?)?0*(\d{1,12})\s*", re.IGNORECASE)

# Both vectors of the cases WHERE `{cases}` (a condition on c2, the case), in one UPDATE:
# the shared one computed once and prefixed to the full one. PostgreSQL refuses a vector
# over 1 MB (a pasted log, a long-running case's messages), so each text is cut first: the
# description's first 60,000 characters, the newest 120,000 of the messages, 20,000 of
# names (at most about 450 KB of vector, however unusual the words).
_VECTORS_SQL = """
UPDATE casedesk_case AS c SET search_shared = v.shared, search_full = v.shared || v.rest
FROM (
    SELECT c2.id,
        setweight(to_tsvector('{config}', coalesce(c2.reference, '') || ' ' || c2.subject), 'A')
            AS shared,
        setweight(to_tsvector('{config}', left(client.name || ' ' || coalesce((
            SELECT string_agg(contact.name, ' ') FROM casedesk_clientcontact AS contact
            WHERE contact.client_id = c2.client_id), ''), 20000)), 'B')
        || setweight(to_tsvector('{config}', left(c2.description, 60000)), 'C')
        || setweight(to_tsvector('{config}', coalesce((
            SELECT left(string_agg(event.reason, ' ' ORDER BY event.id DESC), 120000)
            FROM casedesk_caseevent AS event
            WHERE event.case_id = c2.id AND event.client_visible
                AND event.kind IN ({kinds})
        ), '')), 'D') AS rest
    FROM casedesk_case AS c2 JOIN casedesk_client AS client ON client.id = c2.client_id
    WHERE {cases}
) AS v
WHERE c.id = v.id
"""


def refresh_search(case_ids: Iterable[int]) -> None:
    """Recompute both vectors of these cases, in one statement (batching.call gathers a
    batch's cases into one call). Nothing to do on SQLite, which searches the columns."""
    ids = sorted(set(case_ids))
    if ids and connection.vendor == "postgresql":
        _refresh("c2.id = ANY(%s)", [ids])


def refresh_client_search(client_ids: Iterable[int]) -> None:
    """After a client's or a contact's name changed: every case of those clients, in one
    statement (the client's list index finds them)."""
    ids = sorted(set(client_ids))
    if ids and connection.vendor == "postgresql":
        _refresh("c2.client_id = ANY(%s)", [ids])


def refresh_every_case() -> None:
    """Every case at once: for data loaded in bulk (the bench's), never per request."""
    if connection.vendor == "postgresql":
        _refresh("TRUE", [])


def _refresh(cases: str, params: list) -> None:
    kinds = ", ".join(f"'{kind.value}'" for kind in MESSAGE_KINDS)
    # Reviewed (bandit B608): our constants and fixed conditions; values are parameters.
    sql = _VECTORS_SQL.format(config=CONFIG, kinds=kinds, cases=cases)  # nosec B608
    with connection.cursor() as db:
        db.execute(sql, params)


# --- Queries ------------------------------------------------------------------------


class _Vector(Expression):
    """One of the vector columns of the queried case (which the model does not declare)."""

    output_field = SearchVectorField()

    def __init__(self, column: str):
        super().__init__()
        self.column = column

    def resolve_expression(
        self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False
    ):
        field = SearchVectorField()
        field.set_attributes_from_name(self.column)
        field.model = Case
        return Col(query.get_initial_alias(), field)


def _matches(vector: Expression, query: SearchQuery) -> Q:
    return Q(
        Func(
            vector,
            query,
            arg_joiner=" @@ ",
            template="%(expressions)s",
            output_field=BooleanField(),
        )
    )


def search_condition(text: str, *, in_full: Q | None) -> Q:
    """The cases `text` finds. `in_full`: the cases the viewer sees in full (None: all of
    them), matched on what they see; the rest on their reference and subject only."""
    by_reference = _by_reference(text)
    if connection.vendor != "postgresql":
        return _fallback_condition(text, in_full=in_full) | by_reference
    query = SearchQuery(text, config=CONFIG, search_type="websearch")
    full = _matches(_Vector("search_full"), query)
    shared = _matches(_Vector("search_shared"), query)
    if in_full is None:
        return full | by_reference
    if in_full is SHARED_ONLY:
        return shared | by_reference
    return (in_full & full) | (~in_full & shared) | by_reference


def search_rank(text: str, *, in_full: Q | None) -> Expression:
    """An integer that orders the cases `text` finds, best first, on the same text each
    viewer matched on (ranking on hidden text would leak it)."""
    if connection.vendor != "postgresql":
        return _fallback_rank(text, in_full=in_full)
    query = SearchQuery(text, config=CONFIG, search_type="websearch")
    full = SearchRank(_Vector("search_full"), query)
    shared = SearchRank(_Vector("search_shared"), query)
    if in_full is SHARED_ONLY:
        full = shared
    elif in_full is not None:
        full = SqlCase(When(in_full, then=full), default=shared)
    return Cast(full * Value(RANK_SCALE), BigIntegerField())


def _by_reference(text: str) -> Q:
    found = REFERENCE.fullmatch(text)
    return Q(reference=Case.format_reference(int(found.group(1)))) if found else Q(pk__in=[])


# --- SQLite: every word must match somewhere the viewer may see ---------------------

TERMS = re.compile(r'(-?)"([^"]*)"?|(-?)(\S+)')


def words(text: str) -> list[tuple[bool, str]]:
    """(excluded, word or phrase) of a websearch query, as the fallback reads it; words
    with no letter or digit are left out, as PostgreSQL leaves them out."""
    found = []
    for minus, phrase, minus_word, word in TERMS.findall(text):
        term = (phrase or word).strip()
        if term.lower() == "or" or not re.search(r"\w", term):
            continue
        found.append((bool(minus or minus_word), term))
    return found


def _visible_text_contains(term: str, in_full: Q | None) -> tuple[Q, Q]:
    """(matches in reference or subject, matches in what only a full view shows)."""
    shared = Q(reference__icontains=term) | Q(subject__icontains=term)
    contacts = ClientContact.objects.filter(client_id=OuterRef("client_id"), name__icontains=term)
    messages = CaseEvent.objects.filter(
        case_id=OuterRef("pk"), client_visible=True, kind__in=MESSAGE_KINDS, reason__icontains=term
    )
    hidden = (
        Q(client__name__icontains=term)
        | Q(Exists(contacts))
        | Q(description__icontains=term)
        | Q(Exists(messages))
    )
    if in_full is SHARED_ONLY:
        return shared, Q(pk__in=[])
    return shared, hidden if in_full is None else (hidden & in_full)


def _fallback_condition(text: str, *, in_full: Q | None) -> Q:
    terms = words(text)
    if not any(not excluded for excluded, _ in terms):
        return Q(pk__in=[])  # nothing to look for, as PostgreSQL finds nothing
    condition = Q()
    for excluded, term in terms:
        shared, hidden = _visible_text_contains(term, in_full)
        condition &= ~(shared | hidden) if excluded else (shared | hidden)
    return condition


def _fallback_rank(text: str, *, in_full: Q | None) -> Expression:
    """Per word: 4 if it is in the reference or subject, 1 if only elsewhere."""
    rank: Expression = Value(0)
    for excluded, term in words(text):
        if not excluded:
            shared, hidden = _visible_text_contains(term, in_full)
            rank = rank + SqlCase(
                When(shared, then=Value(4)), When(hidden, then=Value(1)), default=Value(0)
            )
    return Cast(rank, IntegerField())
