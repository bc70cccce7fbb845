"""Client contacts sign in by an emailed one-time link and see all their client's cases."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone

from casedesk.actors import Actor
from casedesk.models import ClientSignInLink, Notification
from casedesk.status_links import status_token
from tests.casedesk.helpers import deliver_outbox, settle_outbox, take
from tests.casedesk.workspace import bulk_cases, link, queries_for
from tests.factories import ContactFactory, open_case

LINK = re.compile(r"http://[^/]+(/status/sign-in/[^/\s]+/)")


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def emailed_link(client, address: str) -> str:
    settle_outbox()
    response = client.post("/status/sign-in/", {"email": address})
    assert response.status_code == 200
    [message] = deliver_outbox()
    assert message.to == [address]
    return LINK.search(message.body).group(1)


def sign_in(client, address: str):
    link = emailed_link(client, address)
    return client.post(link)


def test_a_contact_gets_a_link_that_signs_them_in_to_their_clients_cases(client, org):
    mine = open_case(org, subject="Harbor's own request")
    open_case(org, owner=org.devon, subject="Northwind's request", client=org.northwind)

    link = emailed_link(client, org.sam.email)
    confirm = client.get(link)
    signed_in = client.post(link)
    cases = client.get("/status/")

    assert confirm.status_code == 200
    assert b"Sign in as Sam Rivera" in confirm.content
    assert signed_in.status_code == 302
    assert signed_in.url == "/status/"
    page = cases.content.decode()
    assert "Harbor&#x27;s own request" in page
    assert f"/status/{status_token(mine)}/" in page
    assert "Northwind" not in page


def test_the_answer_is_the_same_for_an_address_we_do_not_know(client, org):
    known = client.post("/status/sign-in/", {"email": org.sam.email}).content.decode()
    unknown = client.post("/status/sign-in/", {"email": "nobody@example.com"}).content.decode()

    assert known.replace(org.sam.email, "X") == unknown.replace("nobody@example.com", "X")
    assert ClientSignInLink.objects.count() == 1
    assert [m.to for m in deliver_outbox()] == [[org.sam.email]]


def test_a_link_works_once(client, org):
    link = emailed_link(client, org.sam.email)
    client.post(link)

    other_browser = Client()
    again = other_browser.post(link)

    assert again.status_code == 404
    assert b"work once" in again.content
    assert other_browser.get("/status/").status_code == 302  # not signed in


def test_an_expired_link_answers_404(client, org):
    link = emailed_link(client, org.sam.email)

    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        response = client.post(link)

    assert response.status_code == 404
    assert client.get("/status/").url == "/status/sign-in/"


def test_only_a_digest_of_the_link_is_stored(client, org):
    link = emailed_link(client, org.sam.email)
    token = link.rstrip("/").rsplit("/", 1)[1]

    stored = ClientSignInLink.objects.get()

    assert token not in stored.token_hash
    assert len(stored.token_hash) == 64


def test_opening_the_link_does_not_use_it_up(client, org):
    link = emailed_link(client, org.sam.email)
    Client().get(link)  # a mail scanner following links

    assert client.post(link).status_code == 302


@override_settings(CASEDESK_STATUS_BAD_TOKENS=3)
def test_wrong_links_are_throttled_per_address(client, org):
    for n in range(3):
        assert client.get(f"/status/sign-in/wrong-{n}/").status_code == 404

    link = emailed_link(Client(), org.sam.email)

    assert client.get(link).status_code == 429
    assert Client(REMOTE_ADDR="10.1.1.1").get(link).status_code == 200


def test_sign_in_requests_are_throttled_per_email(client, org):
    for _ in range(3):
        client.post("/status/sign-in/", {"email": org.sam.email}, REMOTE_ADDR="10.0.0.1")

    fourth = client.post("/status/sign-in/", {"email": org.sam.email}, REMOTE_ADDR="10.0.0.2")

    assert fourth.status_code == 429
    assert b"Too many sign-in requests" in fourth.content
    assert org.sam.email.encode() in fourth.content  # what they typed stays
    assert ClientSignInLink.objects.count() == 3


def test_a_bad_address_is_a_400_that_says_why(client, org):
    response = client.post("/status/sign-in/", {"email": "not an address"})

    assert response.status_code == 400
    assert b"Enter a valid email address" in response.content


def test_a_contact_of_one_client_never_sees_another_clients_cases(client, org):
    theirs = open_case(org, owner=org.devon, subject="Northwind statements", client=org.northwind)
    open_case(org, subject="Harbor refund")
    sign_in(client, org.alex.email)

    listed = client.get("/status/").content.decode()
    searched = client.get("/status/", {"q": "Harbor"}).content.decode()

    assert "Northwind statements" in listed
    assert f"/status/{status_token(theirs)}/" in listed
    assert "Harbor refund" not in listed
    assert "No cases match" in searched


def test_a_contact_with_a_password_lands_on_the_same_list(client, org):
    open_case(org, subject="Harbor refund")
    client.force_login(org.sam.user)

    home = client.get("/")
    cases = client.get("/status/")

    assert home.url == "/status/"
    assert b"Harbor refund" in cases.content


def test_staff_have_no_client_list(client, org):
    client.force_login(org.joanne.user)

    assert client.get("/status/").url == "/status/sign-in/"


def test_signing_out_ends_the_clients_session(client, org):
    sign_in(client, org.sam.email)

    response = client.post("/status/sign-out/")

    assert response.url == "/status/sign-in/"
    assert client.get("/status/").status_code == 302


def test_signing_in_and_out_need_the_csrf_token(org):
    browser = Client(enforce_csrf_checks=True)

    assert browser.post("/status/sign-in/", {"email": org.sam.email}).status_code == 403
    assert browser.post("/status/sign-out/").status_code == 403
    assert not ClientSignInLink.objects.exists()


def test_what_a_signed_in_contact_does_carries_their_name(client, org):
    case = open_case(org)
    sign_in(client, org.sam.email)

    client.post(f"/status/{status_token(case)}/", {"action": "message", "text": "Hello"})

    event = case.events.get(kind="message")
    assert event.actor_contact == org.sam
    assert event.actor_label == "Sam Rivera"


def test_a_contact_of_several_clients_gets_a_link_for_each(client, org):
    ContactFactory(client=org.northwind, name="Sam at Northwind", email=org.sam.email)

    client.post("/status/sign-in/", {"email": org.sam.email.upper()})

    bodies = [m.body for m in deliver_outbox()]
    assert len(bodies) == 2
    assert any("Harbor Dental Group" in b for b in bodies)
    assert any("Northwind Credit Union" in b for b in bodies)


def test_the_list_pages_by_25_open_first_and_filters_open_and_closed(client, org):
    bulk_cases(org, 30)
    closed = open_case(org, subject="Closed one")
    take(org, "resolve", closed, Actor.for_staff(org.joanne))
    sign_in(client, org.sam.email)

    first = client.get("/status/")
    second = client.get(link(first, "next"))
    only_closed = client.get("/status/", {"show": "closed"}).content.decode()

    assert first.content.decode().count("Bulk case") == 25
    assert link(second, "next") is None
    assert second.content.decode().count("Bulk case") == 5
    assert second.content.decode().index("Bulk case") < second.content.decode().index("Closed one")
    assert "Closed one" in only_closed
    assert "Bulk case" not in only_closed


def test_the_list_runs_the_same_queries_for_5_and_60_cases(client, org):
    bulk_cases(org, 5)
    sign_in(client, org.sam.email)
    with_five = queries_for(client, "/status/")
    bulk_cases(org, 55, start=200_000)

    assert queries_for(client, "/status/") == with_five
    assert with_five <= 6, f"client list budget: {with_five} queries"


def test_a_password_sign_in_outranks_an_earlier_link_sign_in(client, org):
    open_case(org, owner=org.devon, subject="Northwind statements", client=org.northwind)
    open_case(org, subject="Harbor refund")
    sign_in(client, org.alex.email)

    client.force_login(org.sam.user)
    page = client.get("/status/").content.decode()

    assert "Harbor refund" in page
    assert "Northwind statements" not in page


def test_the_outbox_forgets_the_link_once_it_is_sent(client, org):
    link = emailed_link(client, org.sam.email)

    stored = Notification.objects.get(subject__contains="sign-in link")

    assert link.rstrip("/").rsplit("/", 1)[1] not in stored.body
    assert "Removed once sent" in stored.body
    assert client.post(link).status_code == 302  # the emailed copy still works


@override_settings(CASEDESK_BEHIND_TLS_PROXY=True, CASEDESK_STATUS_BAD_TOKENS=2)
def test_behind_the_proxy_each_client_address_is_counted_on_its_own(client, org):
    stranger = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    for n in range(2):
        client.get(f"/status/sign-in/wrong-{n}/", **stranger)
    link = emailed_link(Client(), org.sam.email)

    blocked = client.get(link, **stranger)
    other = client.get(link, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert blocked.status_code == 429
    assert other.status_code == 200  # same proxy, another client: not throttled


@override_settings(CASEDESK_STATUS_BAD_TOKENS=2)
def test_wrong_status_links_do_not_block_sign_in_links(client, org):
    for n in range(2):
        client.get(f"/status/wrong-{n}/")

    link = emailed_link(Client(), org.sam.email)

    assert client.get(link).status_code == 200
