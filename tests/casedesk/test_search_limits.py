"""What a search vector may hold: PostgreSQL refuses one over 1 MB, which a pasted log or a
long-running case's messages would pass. Each text is cut before it is indexed (the
description's start, the newest messages), so that no action ever fails for its size; and
an action refused for a hidden field of its form says why on the page. (Found in review.)"""

from django.test import Client as WebClient
from django.utils import timezone

from casedesk.models import ActorKind, Case, CaseEvent, EventKind
from casedesk.status_links import status_token
from tests.factories import open_case


def distinct_words(count: int, start: int = 0) -> str:
    # a pasted log: ids, hashes, timestamps, every one a word nobody else wrote
    return " ".join(f"ref{n:07d}x" for n in range(start, start + count))


def found_by(web: WebClient, word: str) -> str:
    response = web.get("/cases/", {"view": "all", "q": word})
    assert response.status_code == 200
    return response.content.decode()


def test_a_long_pasted_description_opens_its_case_and_its_start_is_found(org):
    web = WebClient(raise_request_exception=False)
    web.force_login(org.joanne.user)

    response = web.post(
        "/cases/new",
        {
            "client": org.harbor.pk,
            "subject": "Import failed, log attached",
            "description": distinct_words(110_000),  # ~1.3 MB, under Django's 2.5 MB
            "priority": "normal",
            "owner": org.joanne.pk,
        },
    )

    assert response.status_code == 302, response.status_code
    case = Case.objects.get(subject="Import failed, log attached")
    assert len(case.description) > 1_000_000  # kept whole: only its index is cut
    assert case.reference in found_by(web, "ref0000001x")


def test_a_client_can_keep_writing_on_a_long_running_case_and_the_newest_is_found(org):
    case = open_case(org)
    now = timezone.now()
    CaseEvent.objects.bulk_create(  # 200 earlier messages of 400 words each, ~2.4 MB
        CaseEvent(
            case=case,
            kind=EventKind.MESSAGE,
            actor_kind=ActorKind.STAFF,
            actor_user=org.joanne.user,
            reason=distinct_words(400, start=number * 400),
            client_visible=True,
            created_at=now,
        )
        for number in range(200)
    )
    web = WebClient(raise_request_exception=False)

    response = web.post(
        f"/status/{status_token(case)}/",
        {"action": "message", "text": "Any news? quokkaword"},
    )

    assert response.status_code == 302
    staff = WebClient()
    staff.force_login(org.joanne.user)
    assert case.reference in found_by(staff, "quokkaword")


def test_an_action_refused_for_its_hidden_version_says_why_on_the_page(org):
    case = open_case(org)
    web = WebClient(raise_request_exception=False)
    web.force_login(org.joanne.user)

    response = web.post(
        f"/cases/{case.reference}/act/escalate", {"reason": "Needs a refund above my limit."}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "reload the page and try again" in html
