"""Every workspace URL, walked as every kind of person, with the status each must get."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management import call_command

from accounts.models import StaffProfile, User
from casedesk.actors import Actor
from casedesk.callbacks import callback_request
from casedesk.models import Case, HandOffState
from casedesk.status_links import status_token
from escalation.exceptions import exception_request
from escalation.models import ExceptionKind
from tests.casedesk.helpers import next_working_hour

PEOPLE = ["anonymous", "joanne", "maria", "lee", "devon", "priya", "sam", "admin"]
STAFF = {"joanne", "maria", "lee", "devon", "priya"}
SUPPORT = {"joanne", "maria", "lee"}
INSTITUTIONAL = {"devon", "priya", "lee"}
SIGN_IN = "sign-in"
OVER_LONG = "CD-" + "9" * 10_000


def expect(*, staff: int | str, allowed=STAFF, other: int = 404, anonymous=SIGN_IN):
    """Expected status per person: `staff` for the allowed staff, `other` for the rest."""
    table = {person: staff if person in allowed else other for person in PEOPLE}
    table["anonymous"] = anonymous
    return table


@pytest.fixture
def demo(db):
    call_command("seed_demo")
    by_subject = dict(Case.objects.values_list("subject", "reference"))
    support = by_subject["Refund for a duplicated March invoice"]
    handed = by_subject["Move dental-plan members to institutional billing"]
    institutional = by_subject["Reissue Q3 statements in bulk"]
    handoff = Case.objects.get(reference=handed).handoffs.get(state=HandOffState.OPEN)
    exception = exception_request(
        case=Case.objects.get(reference=support),
        actor=Actor.for_staff(StaffProfile.objects.get(user__username="joanne")),
        kind=ExceptionKind.objects.get(name="Refund"),
        amount=Decimal("250"),
        justification="Charged twice.",
    )
    callback = callback_request(
        case=Case.objects.get(reference=support),
        actor=Actor.for_status_link(Case.objects.get(reference=support).client_id),
        phone="+44 20 7946 0101",
        at=next_working_hour(),
        time_zone="Europe/London",
    )
    cache.clear()  # wrong links walked by earlier people do not throttle later ones
    return {
        "support": support,
        "callback": callback.pk,
        "token": status_token(Case.objects.get(reference=support)),
        "handed": handed,
        "institutional": institutional,
        "handoff": handoff.pk,
        "exception": exception.pk,
        "support_version": Case.objects.get(reference=support).version,
    }


def routes(refs):
    """(method, url, data, expected statuses)."""
    note = {"version": refs["support_version"], "text": "Called the client."}
    answer = {"outcome": "complete", "answer": "Re-mapped."}
    home = {p: 302 for p in PEOPLE}
    return [
        ("get", "/", None, home),
        ("get", "/healthz", None, {p: 200 for p in PEOPLE}),
        ("get", "/accounts/login/", None, {p: 200 for p in PEOPLE}),
        ("get", "/cases/", None, expect(staff=200)),
        ("get", "/cases/?view=overdue&state=open&q=refund", None, expect(staff=200)),
        ("get", "/cases/new", None, expect(staff=200)),
        ("get", f"/cases/{refs['support']}/", None, expect(staff=200, allowed=SUPPORT)),
        ("get", f"/cases/{refs['handed']}/", None, expect(staff=200)),
        ("get", f"/cases/{refs['institutional']}/", None, expect(staff=200, allowed=INSTITUTIONAL)),
        ("get", "/cases/CD-999999/", None, expect(staff=404)),
        # Input the database cannot store, or would never hold, names nothing.
        ("get", "/cases/CD-%00/", None, everyone(404)),
        ("get", f"/cases/{OVER_LONG}/", None, expect(staff=404)),
        ("get", "/cases/?q=refund%00", None, everyone(400)),
        ("post", f"/cases/{refs['support']}/act/note", note | {"text": "\x00"}, everyone(400)),
        ("post", f"/cases/{refs['support']}/act/note", note, expect(staff=302, allowed=SUPPORT)),
        ("post", f"/cases/{refs['support']}/act/nonsense", note, expect(staff=404)),
        (
            "get",
            f"/cases/{refs['support']}/act/note",
            None,
            expect(staff=405, other=405, anonymous=405),
        ),
        (
            "post",
            f"/cases/{refs['handed']}/handoffs/{refs['handoff']}/answer",
            answer,
            expect(staff=302, allowed=INSTITUTIONAL) | {"joanne": 403, "maria": 403},
        ),
        ("get", "/dashboard/", None, expect(staff=200, allowed={"maria", "lee", "priya"})),
        *[
            (
                "get",
                f"/dashboard/cases/{figure}/",
                None,
                expect(staff=200, allowed={"maria", "lee", "priya"}),
            )
            for figure in (
                "all",
                "on-time",
                "late",
                "breaches-week",
                "first-response",
                "time-to-yes",
                "day-2026-11-23",
                "department-Client%20Support",
            )
        ],
        ("get", "/dashboard/cases/day-notadate/", None, expect(staff=404, allowed={"maria"})),
        ("get", "/dashboard/cases/department-%00/", None, everyone(404)),
        # An unknown department's figure is an empty list, however long its name.
        (
            "get",
            f"/dashboard/cases/department-{OVER_LONG}/",
            None,
            expect(staff=200, allowed={"maria", "lee", "priya"}),
        ),
        (
            "get",
            f"/cases/{refs['support']}/exceptions/new",
            None,
            expect(staff=200, allowed=SUPPORT),
        ),
        (
            "get",
            f"/cases/{refs['institutional']}/exceptions/new",
            None,
            expect(staff=200, allowed=INSTITUTIONAL),
        ),
        ("get", f"/exceptions/{refs['exception']}/", None, expect(staff=200, allowed=SUPPORT)),
        ("get", "/exceptions/999999/", None, expect(staff=404)),
        (
            "get",
            f"/handoffs/{refs['handoff']}/convene",
            None,
            expect(staff=200, allowed={"maria", "lee", "priya"}),
        ),
        (
            "post",
            f"/exceptions/{refs['exception']}/decide",
            {"outcome": "approve", "rationale": "Charged twice, refund it."},
            expect(staff=302, allowed={"lee"}) | {"joanne": 403, "maria": 403},
        ),
        ("get", "/admin/", None, {p: 302 for p in PEOPLE} | {"admin": 200}),
        # The client's side: the link opens the case to whoever holds it; the list needs a
        # client contact's sign-in.
        ("get", "/status/", None, {p: 302 for p in PEOPLE} | {"sam": 200}),
        ("get", "/status/sign-in/", None, {p: 200 for p in PEOPLE}),
        ("post", "/status/sign-in/", {"email": "someone@example.com"}, everyone(200)),
        ("get", "/status/sign-in/not-a-link/", None, everyone(404)),
        ("post", "/status/sign-in/not-a-link/", {"x": "1"}, everyone(404)),
        ("get", f"/status/{refs['token']}/", None, everyone(200)),
        ("get", "/status/not-a-token/", None, everyone(404)),
        ("get", "/status/%00/", None, everyone(404)),
        ("get", f"/status/{OVER_LONG}/", None, everyone(404)),
        ("post", f"/status/{refs['token']}/", {"action": "message", "text": "Hi"}, everyone(302)),
        (
            "post",
            f"/cases/{refs['support']}/callbacks/{refs['callback']}/done",
            {"made": "yes", "outcome": "Called."},
            expect(staff=302, allowed=SUPPORT),
        ),
        ("post", "/status/sign-out/", {"x": "1"}, everyone(302)),
    ]


def everyone(status: int) -> dict:
    return {person: status for person in PEOPLE}


def _client_as(client, person):
    if person != "anonymous":
        client.force_login(User.objects.get(username=person))
    return client


@pytest.mark.parametrize("person", PEOPLE)
def test_every_workspace_url_answers_each_person_as_it_must(client, demo, person):
    client = _client_as(client, person)
    failures = []
    for method, url, data, expected in routes(demo):
        response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
        want = expected[person]
        if want == SIGN_IN:
            ok = response.status_code == 302 and response.url.startswith("/accounts/login/")
        else:
            ok = response.status_code == want
        if not ok:
            failures.append(f"{method.upper()} {url[:80]}: got {response.status_code}, want {want}")
    assert not failures, f"as {person}:\n" + "\n".join(failures)
