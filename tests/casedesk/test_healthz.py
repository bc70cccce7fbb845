import os

import pytest
import time_machine
from django.test import override_settings

from casedesk.tasks import record_heartbeat

IN_CI = os.environ.get("CI", "").lower() == "true"


def test_healthz_is_public_and_reports_database_and_broker(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["broker"] == "ok"


@pytest.mark.skipif(not IN_CI and not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_healthz_checks_the_real_redis_broker_in_ci(client, db, settings):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert client.get("/healthz").json()["broker"] == "ok"


@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0", CELERY_BROKER_TRANSPORT_OPTIONS={})
def test_healthz_answers_503_when_the_broker_does_not_answer(client, db):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == "ok"
    assert response.json()["broker"].startswith("error")


@override_settings(
    CELERY_BROKER_URL="filesystem://",
    CELERY_BROKER_TRANSPORT_OPTIONS={"data_folder_out": "/nonexistent/casedesk-broker"},
)
def test_healthz_answers_503_when_the_embedded_broker_folder_is_gone(client, db):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert "not writable" in response.json()["broker"]


def test_healthz_shows_when_the_beat_last_ran_on_a_worker(client, db):
    assert client.get("/healthz").json()["beat_last_seen"] is None

    with time_machine.travel("2026-11-23 09:00Z", tick=False):
        record_heartbeat()
    with time_machine.travel("2026-11-23 09:01:30Z", tick=False):
        report = client.get("/healthz").json()

    assert report["beat_last_seen"] == "2026-11-23T09:00:00+00:00"
    assert report["beat_age_seconds"] == 90


def test_healthz_refuses_writes(client, db):
    assert client.post("/healthz").status_code == 405
