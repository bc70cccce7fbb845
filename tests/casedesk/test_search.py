"""Search: every word must match, phrases and exclusions, the best match first, and each
viewer finds a case only through what they may see of it (PostgreSQL's full-text search;
SQLite's per-word fallback answers the same)."""

import re

import pytest
from django.utils import timezone

from accounts.models import User
from casedesk import handoffs, services
from casedesk.actors import Actor
from casedesk.models import Case, ClientContact
from casedesk.search import refresh_every_case
from casedesk.selectors import QueueFilters, Viewer, queue_page
from tests.casedesk.helpers import ask_devon
from tests.casedesk.workspace import bulk_cases, link, queries_for
from tests.factories import open_case


def references(response) -> list[str]:
    assert response.status_code == 200, response.content.decode()[:500]
    return re.findall(r">(CD-\d{6})</a>", response.content.decode())


def search(client, person, text: str, **more) -> list[str]:
    client.force_login(person.user)
    return references(client.get("/cases/", {"view": "all", "q": text, **more}))


def test_every_word_must_match_somewhere(client, org):
    both = open_case(org, subject="Duplicate invoice for March")
    invoice_only = open_case(org, subject="Invoice address")
    open_case(org, subject="Duplicate statement")

    assert search(client, org.joanne, "duplicate invoice") == [both.reference]
    assert set(search(client, org.joanne, "invoice")) == {both.reference, invoice_only.reference}


def test_a_word_may_match_the_subject_and_another_the_description(client, org):
    case = open_case(org, subject="Card declined", description="At the pharmacy counter.")

    assert search(client, org.joanne, "declined pharmacy") == [case.reference]


def test_the_best_match_comes_first_and_is_the_default_sort_of_a_search(client, org):
    in_description = open_case(org, subject="Statement question", description="Ledger mismatch")
    in_subject = open_case(org, subject="Ledger mismatch", description="Raised by phone")

    found = search(client, org.joanne, "ledger mismatch")

    assert found == [in_subject.reference, in_description.reference]
    page = client.get("/cases/?view=all&q=ledger").content.decode()
    assert page.index('<option value="rank">Best match') < page.index('<option value="due">')


def test_best_match_is_offered_only_when_searching(client, org):
    open_case(org)
    client.force_login(org.joanne.user)

    plain = client.get("/cases/?view=all").content.decode()
    kept = client.get("/cases/?view=all&sort=rank")  # a search link whose term was cleared

    assert "Best match" not in plain
    assert kept.status_code == 200
    assert references(kept)  # listed soonest due first, as without a sort


def test_other_sorts_still_order_a_search(client, org):
    older = open_case(org, subject="Ledger one")
    newer = open_case(org, subject="Ledger two")

    assert search(client, org.joanne, "ledger", sort="newest") == [
        newer.reference,
        older.reference,
    ]


def test_a_quoted_phrase_matches_those_words_in_that_order(client, org):
    phrase = open_case(org, subject="Duplicated invoice in March")
    open_case(org, subject="Invoice duplicated in March")

    assert search(client, org.joanne, '"duplicated invoice"') == [phrase.reference]


def test_a_minus_excludes_a_word(client, org):
    kept = open_case(org, subject="Invoice for March")
    open_case(org, subject="Invoice for April")

    assert search(client, org.joanne, "invoice -april") == [kept.reference]


def test_a_whole_reference_finds_its_case_in_any_case_of_letters(client, org):
    case = open_case(org, subject="Anything")
    open_case(org, subject="Anything else")

    assert search(client, org.joanne, case.reference.lower()) == [case.reference]
    assert search(client, org.devon, case.reference) == []  # not theirs to see


@pytest.mark.parametrize("typed", ["CD-{n}", "cd-{n}", "cd{n}", " {n} ", "CD-00000{n}"])
def test_a_reference_is_found_however_it_is_typed(client, org, typed):
    case = open_case(org, subject="Anything")
    number = int(case.reference.removeprefix("CD-"))

    assert search(client, org.joanne, typed.format(n=number)) == [case.reference]


def test_a_receiving_department_finds_a_handed_off_case_by_subject_only(client, org, as_actor):
    case = open_case(org, subject="Mapping question", description="Crocodile account")
    services.case_add_note(case=case, actor=as_actor(org.joanne), text="Zebra internal")
    case = services.case_add_note(
        case=Case.objects.get(pk=case.pk),
        actor=as_actor(org.joanne),
        text="Giraffe for the client",
        client_visible=True,
    )
    ask_devon(org, case)

    for hidden in ("harbor", "rivera", "crocodile", "zebra", "giraffe", "mapping crocodile"):
        assert search(client, org.devon, hidden) == [], hidden
    assert search(client, org.devon, "mapping") == [case.reference]
    # its own department finds it by all it sees, but never by an internal note
    for seen in ("harbor", "rivera", "crocodile", "giraffe", "mapping crocodile"):
        assert search(client, org.joanne, seen) == [case.reference], seen
    assert search(client, org.joanne, "zebra") == []


def test_an_excluded_word_of_hidden_text_does_not_hide_a_case_from_the_receiving_side(client, org):
    case = open_case(org, subject="Mapping question", description="Crocodile account")
    ask_devon(org, case)

    # devon does not see the description, so excluding its word excludes nothing
    assert search(client, org.devon, "mapping -crocodile") == [case.reference]
    assert search(client, org.joanne, "mapping -crocodile") == []


def test_a_new_message_is_found_at_once(client, org, as_actor):
    case = open_case(org, subject="Statement")
    assert search(client, org.joanne, "kumquat") == []

    services.case_add_note(
        case=case, actor=as_actor(org.joanne), text="A kumquat for you", client_visible=True
    )
    assert search(client, org.joanne, "kumquat") == [case.reference]

    services.case_client_message(
        case=Case.objects.get(pk=case.pk), actor=as_actor(org.sam), text="Persimmon please"
    )
    assert search(client, org.joanne, "persimmon kumquat") == [case.reference]


def test_a_renamed_contact_and_client_are_found_at_once(client, org):
    case = open_case(org, subject="Statement")
    admin = User.objects.create_superuser("root", "root@example.com", "x-pass-1234")
    client.force_login(admin)
    sam = ClientContact.objects.get(name="Sam Rivera")

    renamed = client.post(
        f"/admin/casedesk/clientcontact/{sam.pk}/change/",
        {"client": org.harbor.pk, "name": "Samira Okonkwo", "email": sam.email, "phone": ""},
    )
    assert renamed.status_code == 302, renamed.content.decode()[:2000]
    client.post(
        f"/admin/casedesk/client/{org.harbor.pk}/change/",
        {
            "name": "Harbour Smiles",
            "department": org.support.pk,
            "email": "",
            "phone": "",
            "address": "",
            "notes": "",
            "contacts-TOTAL_FORMS": "1",
            "contacts-INITIAL_FORMS": "1",
            "contacts-MIN_NUM_FORMS": "0",
            "contacts-MAX_NUM_FORMS": "1000",
            "contacts-0-id": sam.pk,
            "contacts-0-client": org.harbor.pk,
            "contacts-0-name": "Samira Okonkwo",
            "contacts-0-email": sam.email,
            "contacts-0-phone": "",
        },
    )

    assert search(client, org.joanne, "okonkwo") == [case.reference]
    assert search(client, org.joanne, "smiles") == [case.reference]
    assert search(client, org.joanne, "rivera") == []


# --- Search equals an independent count ------------------------------------------------

WORDS = ["amber", "cobalt", "saffron", "violet"]
QUERIES = [
    "amber",
    "cobalt saffron",
    "amber -cobalt",
    "rivera",
    "rivera violet",
    "northwind amber",
    "kim -saffron",
    '"case amber"',
]


def _small_data_set(org) -> list[dict]:
    """24 cases, half each department's, with words in subject, description, messages
    and internal notes; every fourth handed to the other department. Returns each case's
    texts as a reader of it would see them."""
    cases = []
    for n in range(24):
        ours = n % 2 == 0
        client, owner = (org.harbor, org.joanne) if ours else (org.northwind, org.devon)
        actor = Actor.for_staff(owner)
        case = services.case_open(
            actor=actor,
            client=client,
            owner=owner,
            subject=f"Case {WORDS[n % 4]}",
            description=f"About {WORDS[(n // 4) % 4]}",
        )
        messages = []
        if n % 3 == 0:
            messages.append(f"Message {WORDS[(n + 2) % 4]}")
            services.case_add_note(case=case, actor=actor, text=messages[-1], client_visible=True)
        if n % 5 == 0:  # never searchable
            case = Case.objects.get(pk=case.pk)
            services.case_add_note(case=case, actor=actor, text=f"Note {WORDS[(n + 3) % 4]}")
        if n % 4 == 1:
            handoffs.handoff_request(
                case=Case.objects.get(pk=case.pk),
                actor=actor,
                to_department=org.support if not ours else org.institutional,
                accountable=org.joanne if not ours else org.devon,
                request="Please look",
                shared_summary="Look",
            )
        contact = org.sam if ours else org.alex
        cases.append(
            {
                "pk": case.pk,
                "department": client.department_id,
                "owner": owner.pk,
                "handed_to": (org.support.pk if not ours else org.institutional.pk)
                if n % 4 == 1
                else None,
                "accountable": (org.joanne.pk if not ours else org.devon.pk)
                if n % 4 == 1
                else None,
                "shared": f"{case.reference} Case {WORDS[n % 4]}",
                "full": " ".join(
                    [
                        f"{case.reference} Case {WORDS[n % 4]}",
                        client.name,
                        contact.name,
                        f"About {WORDS[(n // 4) % 4]}",
                        *messages,
                    ]
                ),
            }
        )
    return cases


def _expected(cases: list[dict], viewer: Viewer, query: str) -> set[int]:
    """The rule written again, in Python: what the viewer sees, then the words."""
    found = set()
    for case in cases:
        in_full = case["department"] == viewer.department_id or case["owner"] in viewer.subtree_ids
        visible = (
            in_full
            or case["handed_to"] == viewer.department_id
            or case["accountable"] in viewer.subtree_ids
        )
        words = set(re.findall(r"\w+", case["full" if in_full else "shared"].lower()))
        phrases = re.findall(r'"([^"]+)"', query)
        rest = re.sub(r'"[^"]+"', "", query).split()
        text = case["full" if in_full else "shared"].lower()
        matches = all(phrase in text for phrase in phrases) and all(
            (term[1:] not in words) if term.startswith("-") else (term in words) for term in rest
        )
        if visible and matches:
            found.add(case["pk"])
    return found


def test_a_search_finds_what_an_independent_count_finds_for_every_viewer(org):
    cases = _small_data_set(org)
    now = timezone.now()

    sizes = []
    for person in (org.joanne, org.maria, org.lee, org.devon, org.priya):
        viewer = Viewer.of(person)
        for query in QUERIES:
            filters = QueueFilters(view="all", search=query, sort="rank")
            page = queue_page(viewer, filters, now=now, size=100)
            found = {case.pk for case in page.rows}
            assert found == _expected(cases, viewer, query), (person.user.username, query)
            sizes.append(len(found))
    # the data set tells the rules apart: most searches find some cases, not all of them
    assert sum(1 for size in sizes if 0 < size < len(cases)) > len(sizes) // 2, sizes


# --- Pages, cost and bad input ---------------------------------------------------------


def test_a_search_pages_through_its_matches_in_rank_order(client, org):
    for n in range(30):
        open_case(org, subject=f"Ledger {n}", description="ledger " * (n % 3))
    client.force_login(org.joanne.user)
    urls = ["/cases/?view=all&q=ledger"]
    while next_url := link(client.get(urls[-1]), "next"):
        urls.append(next_url)
    pages = [references(client.get(url)) for url in urls]

    assert [len(page) for page in pages] == [25, 5]
    assert len({ref for page in pages for ref in page}) == 30
    back = link(client.get(urls[1]), "prev")
    assert references(client.get(back)) == pages[0]


def test_a_search_page_costs_the_same_queries_with_10_and_5000_cases(client, org):
    open_case(org, subject="Refund of a March fee")
    ask_devon(org, open_case(org, subject="Refund of an April fee"))
    bulk_cases(org, 8)
    refresh_every_case()
    urls = [
        (person, f"/cases/?view={view}&q={query}")
        for person in ("joanne", "maria", "lee", "devon", "priya")
        for view in ("all", "mine", "overdue")
        for query in ("refund+fee", "bulk", "%22bulk+case%22+-7")
    ]

    def costs() -> dict:
        counted = {}
        for person, url in urls:
            client.force_login(getattr(org, person).user)
            counted[(person, url)] = queries_for(client, url)
        return counted

    with_ten = costs()
    bulk_cases(org, 4990, start=200_000)
    refresh_every_case()
    with_five_thousand = costs()

    assert with_five_thousand == with_ten
    assert max(with_ten.values()) <= 8, with_ten


@pytest.mark.parametrize(
    "query",
    [
        "!!!",
        "&|!:*()",
        '"unclosed phrase',
        "-",
        "or or or",
        "-refund",
        "a <-> b",
        "refund & | march",
        "\\",
        "'",
        "\ufffd",
        "x" * 100,
    ],
)
def test_odd_search_text_answers_a_page_never_an_error(client, org, query):
    open_case(org)
    client.force_login(org.joanne.user)

    response = client.get("/cases/", {"view": "all", "q": query})

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"q": "x" * 101}, "at most 100 characters"),
        ({"q": "refund\x00"}, "character we cannot accept"),
        ({"q": "refund", "after": "1.2.3"}, "This page link is not one the queue made"),
        ({"q": "refund", "sort": "rank", "after": "99999999999999999999"}, "not one"),
        ({"q": "refund", "sort": "newest", "after": "-99999999999999999.1"}, "not one"),
    ],
)
def test_bad_search_input_is_a_400_with_a_message(client, org, query, message):
    open_case(org)
    client.force_login(org.joanne.user)

    response = client.get("/cases/", {"view": "all", **query})

    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_client_finds_their_own_cases_by_reference_and_subject_only(client, org):
    case = open_case(org, subject="Duplicate invoice", description="Crocodile account")
    open_case(org, subject="Statement missing")
    client.force_login(org.sam.user)

    def found(text):
        return re.findall(r"(CD-\d{6}) ·", client.get("/status/", {"q": text}).content.decode())

    assert found("invoice duplicate") == [case.reference]
    assert found(case.reference.lower()) == [case.reference]
    assert found("crocodile") == []


def test_best_match_ranks_the_newest_matches_and_newest_first_reaches_every_one(
    client, org, monkeypatch
):
    """Ranking reads every candidate's vector, so "Best match" ranks the newest
    RANKED_MATCHES (a common word matches a tenth of every case); the page says so and links
    to the order that goes through all of them."""
    monkeypatch.setattr("casedesk.selectors.RANKED_MATCHES", 3)  # the rows
    monkeypatch.setattr("casedesk.views.queue.RANKED_MATCHES", 3)  # the page's words
    best_but_oldest = open_case(org, subject="Ledger ledger ledger", description="ledger ledger")
    newer = [open_case(org, subject=f"Ledger {n}") for n in range(3)]
    for age, case in enumerate([best_but_oldest, *newer]):
        Case.objects.filter(pk=case.pk).update(
            created_at=timezone.now() - timezone.timedelta(hours=10 - age)
        )

    ranked = search(client, org.joanne, "ledger")
    assert sorted(ranked) == sorted(case.reference for case in newer)
    page = client.get("/cases/", {"view": "all", "q": "ledger"}).content.decode()
    assert "Best match orders the 3 newest matches" in page
    every = search(client, org.joanne, "ledger", sort="newest")
    assert every == [case.reference for case in reversed([best_but_oldest, *newer])]
