"""Shared fixtures: the demo organisation's people, by name, built with factories.

A test that needs PostgreSQL is marked `postgres`. On a laptop without it the test skips
with the reason; under CI=true it fails instead, because CI must never skip.
"""

import os

import pytest
from django.db import connection

from casedesk.actors import Actor
from tests import factories
from tests.clock import monday_morning  # noqa: F401  (a fixture for every test module)

IN_CI = os.environ.get("CI", "").lower() == "true"

# The fixtures of real processes (redis_server, celery_processes) for every test that asks.
pytest_plugins = ["tests.processes"]


@pytest.fixture(autouse=True)
def _require_postgres(request):
    if request.node.get_closest_marker("postgres") is None:
        return
    if connection.vendor == "postgresql":
        return
    reason = "needs PostgreSQL: set DATABASE_URL=postgres://... (see README)"
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _attachments_in_a_temporary_directory(settings, tmp_path):
    """Every test's uploads go to its own temporary directory, never var/."""
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "attachments")},
        },
    }


@pytest.fixture
def org(db):
    return factories.demo_org()


@pytest.fixture
def joanne(org):
    return org.joanne


@pytest.fixture
def maria(org):
    return org.maria


@pytest.fixture
def lee(org):
    return org.lee


@pytest.fixture
def devon(org):
    return org.devon


@pytest.fixture
def priya(org):
    return org.priya


@pytest.fixture
def as_actor():
    """Turn a staff member or client contact into the Actor services take."""

    def convert(person):
        if hasattr(person, "authority_level"):
            return Actor.for_staff(person)
        return Actor.for_contact(person)

    return convert
