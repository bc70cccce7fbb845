from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils.html import escape

from casedesk import services
from casedesk.actors import Actor
from casedesk.callbacks import callback_request
from casedesk.models import Case
from casedesk.status_links import status_token
from escalation.exceptions import exception_decide
from tests.casedesk.helpers import ask_for_a_refund, book_call, case_in_state, next_working_hour
from tests.casedesk.workspace import bulk_events, queries_for
from tests.factories import open_case

XSS = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(document.cookie)",
]


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def url(case) -> str:
    return f"/status/{status_token(case)}/"


def test_the_page_says_in_plain_words_who_has_the_case_and_what_happens_next(client, org):
    case = case_in_state(org, "escalated")  # with maria now

    page = client.get(url(case)).content.decode()

    assert "With a supervisor" in page
    assert "Maria" in page  # the owner now, by name and title
    assert "Lee" in page  # and their supervisor
    assert "will decide by" in page
    assert "@casedesk.example" not in page  # staff contact details never appear


def test_internal_notes_and_hand_off_internals_never_show(client, org, as_actor):
    case = case_in_state(org, "cross_department")
    services.case_add_note(case=case, actor=as_actor(org.joanne), text="Internal only secret")

    page = client.get(url(case)).content.decode()

    assert "Waiting on another team" in page
    assert "Internal only secret" not in page
    assert "Re-map the accounts." not in page  # what was asked of the other department


def test_a_token_opens_only_its_own_case(client, org):
    first = open_case(org, subject="First one")
    open_case(org, subject="Second one")

    page = client.get(url(first)).content.decode()

    assert "First one" in page
    assert "Second one" not in page


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # tampered
        lambda token: "nonsense",
        lambda token: token.split(":")[0] + ":x:y",
    ],
)
def test_wrong_or_tampered_tokens_answer_404_with_no_hint(client, org, mangle):
    case = open_case(org)

    response = client.get(f"/status/{mangle(status_token(case))}/")

    assert response.status_code == 404
    assert case.subject.encode() not in response.content


def test_a_revoked_link_answers_404_and_the_new_one_works(client, org, as_actor):
    case = open_case(org)
    old = url(case)

    case = services.case_reissue_status_link(case=case, actor=as_actor(org.joanne))

    assert client.get(old).status_code == 404
    assert client.get(url(case)).status_code == 200


@override_settings(CASEDESK_STATUS_BAD_TOKENS=5)
def test_repeated_bad_tokens_from_one_address_are_throttled(client, org):
    case = open_case(org)
    for n in range(5):
        assert client.get(f"/status/bad-{n}/").status_code == 404

    assert client.get(url(case)).status_code == 429  # even a good link, for a while
    other_address = client.get(url(case), REMOTE_ADDR="10.9.9.9")
    assert other_address.status_code == 200


def test_the_client_adds_information_and_asks_for_a_supervisor(client, org):
    case = open_case(org)

    added = client.post(url(case), {"action": "message", "text": "My account is 12345."})
    appealed = client.post(url(case), {"action": "appeal", "reason": "It has been a week."})

    assert (added.status_code, appealed.status_code) == (302, 302)
    case.refresh_from_db()
    assert (case.state, case.owner) == ("escalated", org.maria)
    page = client.get(url(case)).content.decode()
    assert "A supervisor now has your case." in page
    assert "My account is 12345." in page
    assert "Maria" in page


def test_an_empty_message_is_a_400_that_keeps_the_page(client, org):
    case = open_case(org)

    response = client.post(url(case), {"action": "message", "text": ""})

    assert response.status_code == 400
    assert b"This field is required" in response.content


def test_a_denied_case_can_be_appealed_or_reopened(client, org):
    case = case_in_state(org, "denied")

    page = client.get(url(case)).content.decode()

    assert "Declined: you can ask for a review" in page
    assert 'Why: <span class="cd-text">Policy 4.2 applies.</span>' in page
    assert "Ask for a supervisor" in page
    assert "Reopen my case" in page


@pytest.mark.parametrize("payload", XSS)
def test_everything_a_client_writes_is_escaped_here_and_on_staff_pages(client, org, payload):
    case = open_case(org)
    client.post(url(case), {"action": "message", "text": payload})

    public = client.get(url(case)).content.decode()
    client.force_login(org.joanne.user)
    staff = client.get(f"/cases/{case.reference}/").content.decode()

    for page in (public, staff):
        assert escape(payload) in page  # shown as the text it is
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert 'href="javascript:' not in page


@pytest.mark.parametrize("state", ["open", "resolved"])
def test_the_page_runs_the_same_queries_for_5_and_300_events(client, org, state):
    case = case_in_state(org, state)
    if state == "open":
        book_call(case)
    bulk_events(case, 3, actor_user=org.joanne.user, client_visible=True)
    assert case.events.filter(client_visible=True).count() == 5
    with_five = queries_for(client, url(case))
    bulk_events(case, 295, actor_user=org.joanne.user, client_visible=True)

    page = client.get(url(case)).content.decode()
    assert queries_for(client, url(case)) == with_five
    assert with_five <= 6, f"status page budget: {with_five} queries"
    assert page.count('<li><div class="small">') == 300  # every client-visible event shows


@pytest.mark.parametrize(
    "post",
    [
        {"action": "message", "text": "Hello"},
        {"action": "appeal", "reason": "Please"},
        {"action": "reopen", "reason": "Please"},
        {"action": "feedback", "rating": "5"},
        {"action": "cancel_callback", "callback": "1"},
        {"action": "callback", "phone": "+44 1", "date": "2030-01-07", "time": "11:00"},
    ],
)
def test_every_client_action_needs_the_csrf_token(org, post):
    case = case_in_state(org, "resolved")
    browser = Client(enforce_csrf_checks=True)
    before = case.events.count()

    response = browser.post(url(case), post)

    assert response.status_code == 403
    assert case.events.count() == before


def test_an_unknown_action_is_a_404(client, org):
    case = open_case(org)

    assert client.post(url(case), {"action": "delete"}).status_code == 404


@pytest.mark.parametrize("payload", XSS)
def test_call_back_notes_and_feedback_letters_are_escaped_everywhere(client, org, payload):
    case = open_case(org)
    callback = callback_request(
        case=case,
        actor=Actor.for_status_link(case.client_id),
        phone="+44 20 7946 0101",
        at=next_working_hour(),
        time_zone="Europe/London",
        note=payload,
    )
    resolved = case_in_state(org, "resolved")
    client.post(url(resolved), {"action": "feedback", "rating": "3", "letter": payload})

    pages = [client.get(url(case)).content.decode(), client.get(url(resolved)).content.decode()]
    client.force_login(org.joanne.user)
    pages += [
        client.get(f"/cases/{case.reference}/").content.decode(),
        client.get(f"/cases/{resolved.reference}/").content.decode(),
    ]

    assert callback.note == payload
    for page in pages:
        assert escape(payload) in page
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert 'href="javascript:' not in page


def test_decisions_on_exception_requests_are_shown_with_their_rationale(client, org):
    case = open_case(org)
    request = ask_for_a_refund(org, case)
    exception_decide(
        request=request,
        actor=Actor.for_staff(request.approver),
        approve=False,
        rationale="Refunds above 200 need the original invoice.",
    )

    page = client.get(url(case)).content.decode()

    assert "Decisions on your requests" in page
    assert "A decision on your request: declined" in page
    assert "Refunds above 200 need the original invoice." in page
    assert "Charged twice." not in page  # the internal justification stays inside


def test_reopening_is_offered_only_while_the_service_would_allow_it(client, org):
    case = case_in_state(org, "denied")
    case.__class__.objects.filter(pk=case.pk).update(closed_at=case.closed_at - timedelta(days=31))

    page = client.get(url(case)).content.decode()
    refused = client.post(url(case), {"action": "reopen", "reason": "Please"})

    assert "Reopen my case" not in page
    assert "Ask for a supervisor" in page  # the way to a yes stays open
    assert refused.status_code == 400
    assert b"within 30 days" in refused.content


def test_a_link_is_the_same_every_time_and_older_timestamped_links_still_open(client, org):
    from django.core import signing

    from casedesk.status_links import SALT

    case = open_case(org)
    older = signing.dumps([case.pk, case.status_nonce], salt=SALT)  # as links were made

    assert status_token(case) == status_token(Case.objects.get(pk=case.pk))
    assert client.get(f"/status/{older}/").status_code == 200
