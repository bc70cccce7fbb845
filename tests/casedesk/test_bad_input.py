"""Input the database cannot store (a NUL byte) answers 404 or 400, never 500, on every URL.

Every URL pattern is read from the URLconf, so a page added later is walked without anyone
remembering to list it. Each runs on SQLite and, marked `postgres`, on PostgreSQL, whose
text columns refuse NUL outright (a DataError, which was a 500 before).
"""

import re
from http.cookies import Morsel

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.models import User
from casedesk.models import Case, HandOffState
from casedesk.status_links import status_token
from inbound.models import Mailbox
from inbound.receive import receive_message
from tests.inbound.helpers import email

# A staff member, a superuser (so the admin's own pages are walked past its sign-in), a
# client contact, and nobody.
PEOPLE = ["joanne", "admin", "sam", "anonymous"]
NUL = "\x00"
OVER_LONG = "CD-" + "9" * 10_000
# Field names the site's forms read, and one any form would ignore.
FORM_FIELDS = ["text", "reason", "rationale", "email", "q", "version", "outcome", "action", "x"]
PLACEHOLDER = re.compile(r"<(?:\w+:)?(?P<route>\w+)>|\(\?P<(?P<regex>\w+)>[^)]*\)")


def url_patterns(patterns=None, prefix=""):
    """Every URL pattern of the site as one string, route and regex syntax as written."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from url_patterns(entry.url_patterns, prefix + str(entry.pattern))
        else:
            assert isinstance(entry, URLPattern)
            yield prefix + str(entry.pattern)


def fill(pattern: str, values: dict, *, override: str | None = None, only: str | None = None):
    """The pattern as a path, each placeholder given its sample value (or `override`)."""

    def value(match):
        name = match["route"] or match["regex"]
        if override is not None and only in (None, name):
            return override
        assert name in values, f"add a sample value for the URL parameter {name!r}"
        return str(values[name])

    return "/" + PLACEHOLDER.sub(value, pattern).replace("^", "").replace("$", "")


def parameters(pattern: str) -> list[str]:
    return [m["route"] or m["regex"] for m in PLACEHOLDER.finditer(pattern)]


@pytest.fixture
def samples(db):
    """A real object behind every URL parameter, so requests reach as deep as they can."""
    call_command("seed_demo")
    cache.clear()  # wrong links walked by earlier tests do not throttle this one
    case = Case.objects.get(subject="Refund for a duplicated March invoice")
    handoff = Case.objects.filter(handoffs__state=HandOffState.OPEN).first().handoffs.first()
    support = Mailbox.objects.get(address="support@casedesk.example")  # the demo's
    unassigned = receive_message(support, email(sender="pat@nowhere.example"), now=timezone.now())
    return {
        "reference": case.reference,
        "token": status_token(case),
        "action": "note",
        "figure": "all",
        "handoff_id": handoff.pk,
        "callback_id": 1,
        "attachment_id": 1,
        "which": "unassigned",  # the mail lists
        "message_id": unassigned.message.pk,
        "request_id": 1,
        "content_type_id": 1,
        "object_id": 1,
        "id": 1,
        "pk": 1,  # django-otp's admin: a device's set-up picture
        "app_label": "casedesk",
        "url": "",
    }


def signed_in(person: str) -> Client:
    # A view's exception becomes the 500 response a visitor would get, counted below.
    client = Client(raise_request_exception=False)
    if person != "anonymous":
        client.force_login(User.objects.get(username=person))
    return client


def nul_requests(values):
    """(method, path, data, the statuses allowed) for every pattern's NUL-bearing variants."""
    form = {name: f"before{NUL}after" for name in FORM_FIELDS}
    for pattern in url_patterns():
        valid = fill(pattern, values)
        # In the path: the object named cannot exist.
        yield "get", valid.rstrip("/") + "%00/", None, {404}
        for name in parameters(pattern):
            yield "get", fill(pattern, values, override="CD-%00", only=name), None, {404}
            yield "post", fill(pattern, values, override="%00", only=name), form, {404}
        # In the query string or a form field: the request is refused, with a message.
        yield "get", valid + "?q=%00&page=1", None, {400}
        yield "get", valid + "?view%00=1", None, {400}
        yield "post", valid, form, {400}
        yield "post", valid, {f"text{NUL}": "key"}, {400}


def over_long_requests(values):
    """Each parameter given a 10,000-character value: not found, refused or redirected."""
    for pattern in url_patterns():
        for name in parameters(pattern):
            yield "get", fill(pattern, values, override=OVER_LONG, only=name), None, None


def walk(person, requests):
    client = signed_in(person)
    failures = []
    for method, path, data, allowed in requests:
        if person != "anonymous" and not client.cookies.get("sessionid", Morsel()).value:
            client = signed_in(person)  # a sign-out page the walk reached ended the session
        response = getattr(client, method)(path, data) if data else getattr(client, method)(path)
        status = response.status_code
        if status >= 500 or (allowed is not None and status not in allowed):
            failures.append(f"{method.upper()} {path[:120]!r}: {status}, want {allowed or '<500'}")
    return failures


@pytest.mark.parametrize("person", PEOPLE)
def test_a_nul_anywhere_in_any_url_or_form_answers_404_or_400(samples, person):
    failures = walk(person, nul_requests(samples))
    assert not failures, f"as {person}:\n" + "\n".join(failures)


@pytest.mark.parametrize("person", PEOPLE)
def test_an_over_long_value_in_any_url_part_never_answers_500(samples, person):
    failures = walk(person, over_long_requests(samples))
    assert not failures, f"as {person}:\n" + "\n".join(failures)


@pytest.mark.postgres
@pytest.mark.parametrize("person", PEOPLE)
def test_on_postgresql_a_nul_anywhere_answers_404_or_400(samples, person):
    failures = walk(person, [*nul_requests(samples), *over_long_requests(samples)])
    assert not failures, f"as {person}:\n" + "\n".join(failures)


def test_the_refusal_says_what_was_wrong_and_where(samples):
    client = signed_in("joanne")

    in_query = client.get("/cases/?q=refund%00")
    in_form = client.post(f"/cases/{samples['reference']}/act/note", {"text": f"Hi{NUL}"})

    assert in_query.status_code == in_form.status_code == 400
    assert "character we cannot accept" in in_query.text
    assert "address" in in_query.text
    assert "“text”" in in_form.text
    case = Case.objects.get(reference=samples["reference"])
    assert not case.events.filter(reason__startswith="Hi").exists()


def test_a_nul_in_the_path_is_the_site_s_own_not_found_page(samples):
    response = signed_in("joanne").get("/cases/%00/")

    assert response.status_code == 404
    assert "We could not find that page" in response.text


def test_a_session_cookie_with_a_nul_is_treated_as_no_session(samples):
    # Python's cookie parser turns the escape \000 into a NUL, which would reach the
    # session table's lookup.
    client = Client(HTTP_COOKIE='sessionid="\\000\\000\\000\\000\\000\\000\\000\\000"')

    response = client.get("/cases/")

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_a_utf_8_encoded_surrogate_reaches_views_as_a_replacement_character(samples):
    # Lone surrogates cannot be stored either; Django's decoding never yields one, which
    # this pins: the bytes of U+D800 become U+FFFD, an ordinary character.
    response = signed_in("joanne").get("/cases/?q=%ED%A0%80")

    assert response.status_code == 200
    assert response.wsgi_request.GET["q"] == "\ufffd\ufffd\ufffd"


# --- A body in another character set (Django ticket #34709) ---------------------------
# Django refuses a form body that is not UTF-8; its 400 page then ran the CSRF check, which
# read the body again and raised again: a 500. Posted as a browser-less tool would, with
# and without a valid CSRF token.
FORM_PAGES = [("anonymous", "/accounts/login/"), ("joanne", "/cases/new"), ("sam", "status")]


def post_raw(samples, person, page, body: bytes, content_type: str, *, with_token: bool):
    client = signed_in(person)
    client.handler.enforce_csrf_checks = True
    path = f"/status/{samples['token']}/" if page == "status" else page
    assert client.get(path).status_code == 200
    if with_token:
        body += b"&csrfmiddlewaretoken=" + client.cookies["csrftoken"].value.encode()
    return client.generic("POST", path, body, content_type=content_type)


@pytest.mark.parametrize("with_token", [True, False], ids=["token", "no-token"])
@pytest.mark.parametrize("charset", ["latin-1", "windows-1252", "bogus", "utf-16"])
@pytest.mark.parametrize(("person", "page"), FORM_PAGES)
def test_a_form_in_another_character_set_answers_400_not_500(
    samples, person, page, charset, with_token
):
    cases_before = Case.objects.count()
    body = b"username=jo%E9&password=casedesk&subject=Caf%E9&text=Caf%E9"

    response = post_raw(
        samples,
        person,
        page,
        body,
        f"application/x-www-form-urlencoded; charset={charset}",
        with_token=with_token,
    )

    assert response.status_code == 400
    assert "character set we cannot read" in response.text
    assert f"“{charset}”" in response.text
    assert Case.objects.count() == cases_before


@pytest.mark.parametrize(("person", "page"), FORM_PAGES)
def test_the_same_form_in_utf_8_is_not_refused(samples, person, page):
    body = b"username=jo%C3%A9&password=wrong&subject=Caf%C3%A9&text=Caf%C3%A9"

    for content_type in (
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=UTF-8",
    ):
        response = post_raw(samples, person, page, body, content_type, with_token=True)
        assert response.status_code < 500, content_type
        assert "We cannot accept this request" not in response.text, content_type


@pytest.mark.parametrize("with_token", [True, False], ids=["token", "no-token"])
def test_a_form_django_refuses_to_parse_answers_400_not_500(samples, with_token, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = b"&".join(b"f%d=x" % n for n in range(20))

    response = post_raw(
        samples,
        "anonymous",
        "/accounts/login/",
        body,
        "application/x-www-form-urlencoded",
        with_token=with_token,
    )

    assert response.status_code == 400
    assert "could not be read" in response.text
