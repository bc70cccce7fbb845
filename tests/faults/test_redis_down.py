"""Fault drill: Redis stopped, then Redis frozen (SIGSTOP: it accepts connections and never
replies). The web keeps answering within 2 seconds, a committed change stays committed and
its email waits in the outbox, and /healthz says 503.

The drill starts its own redis-server on a free port and points this process's cache and
Celery app at it; the machine's shared Redis is never touched.
"""

import logging
import time

import pytest
import redis
from django.conf import settings as django_settings

from casedesk.models import CaseEvent, Notification
from casedesk.models.outbox import NotificationStatus
from casedesk.status_links import status_token
from tests.factories import ContactFactory, open_case
from tests.faults.report import report_line
from tests.processes import publishing_to, start_redis

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WITHIN_SECONDS = 2


@pytest.fixture
def private_redis(tmp_path):
    server = start_redis(tmp_path)
    yield server
    server.stop()  # thawed first if frozen


@pytest.fixture
def app_on_private_redis(private_redis, settings):
    """This process's cache and Celery app, on the private Redis (as REDIS_URL would)."""
    url = f"redis://127.0.0.1:{private_redis.port}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "casedesk.cache.FailOpenRedisCache",
            "LOCATION": url,
            "OPTIONS": django_settings.REDIS_CACHE_OPTIONS,
        }
    }
    settings.CELERY_BROKER_URL = url
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = django_settings.REDIS_BROKER_TRANSPORT_OPTIONS
    with publishing_to(private_redis):
        yield redis.Redis(port=private_redis.port)


def freeze(server):
    server.freeze()


def stop(server):
    server.stop()


PAST = {stop: "stopped", freeze: "frozen"}


def timed(request):
    started = time.monotonic()
    response = request()
    return response, time.monotonic() - started


@pytest.mark.parametrize("fault", [stop, freeze], ids=["stopped", "frozen"])
def test_with_redis_stopped_or_frozen_every_page_answers_within_2_seconds(
    client, org, app_on_private_redis, private_redis, fault, caplog
):
    case = open_case(org)
    for n in range(5):  # a message tells six people: never a publishing timeout each
        ContactFactory(client=org.harbor, email=f"colleague{n}@harbor.example")
    client.force_login(org.joanne.user)
    reply = f"/cases/{case.reference}/act/message"

    # While Redis answers, the message's email is queued there (the drill is on this Redis).
    client.post(reply, {"version": case.version, "text": "We are on it."})
    assert app_on_private_redis.llen("mail") >= 1
    case.refresh_from_db()

    fault(private_redis)
    caplog.set_level(logging.WARNING)

    posted, post_seconds = timed(
        lambda: client.post(reply, {"version": case.version, "text": "Your refund is approved."})
    )
    status, status_seconds = timed(lambda: client.get(f"/status/{status_token(case)}/"))
    wrong_link, wrong_link_seconds = timed(lambda: client.get("/status/not-a-link/"))
    client.logout()
    sign_in, sign_in_seconds = timed(lambda: client.get("/accounts/login/"))
    health, health_seconds = timed(lambda: client.get("/healthz"))
    report_line(
        f"the web with Redis {PAST[fault]}: "
        f"post {post_seconds:.2f} s, status page {status_seconds:.2f} s, "
        f"wrong link {wrong_link_seconds:.2f} s, sign-in {sign_in_seconds:.2f} s, "
        f"/healthz {health_seconds:.2f} s (each must answer within {WITHIN_SECONDS} s)"
    )

    assert posted.status_code == 302
    assert post_seconds < WITHIN_SECONDS
    event = CaseEvent.objects.get(case=case, kind="message", reason="Your refund is approved.")
    assert Notification.objects.filter(
        case=case, created_at=event.created_at, status=NotificationStatus.PENDING
    ).exists()
    assert status.status_code == 200
    assert status_seconds < WITHIN_SECONDS
    assert "Your refund is approved." in status.content.decode()
    assert wrong_link.status_code == 404
    assert wrong_link_seconds < WITHIN_SECONDS
    assert sign_in.status_code == 200
    assert sign_in_seconds < WITHIN_SECONDS
    assert health.status_code == 503
    assert health_seconds < WITHIN_SECONDS
    assert health.json()["broker"].startswith("error")
    assert "cache: Redis does not answer" in caplog.text
