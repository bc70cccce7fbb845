import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command

from tests.casedesk.test_settings import ROOT


def test_no_model_change_lacks_a_migration(db):
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_every_migration_reverses_and_reapplies_on_sqlite(tmp_path):
    _migrate_down_and_up(f"sqlite:///{tmp_path / 'migrations.sqlite3'}", tmp_path)


def _migrate_down_and_up(database_url, tmp_path):
    env = {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": database_url,
        "CASEDESK_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "casedesk.settings",
    }
    for args in (
        ["migrate"],
        ["migrate", "casedesk", "zero"],
        ["migrate", "accounts", "zero"],
        ["migrate"],
    ):
        result = subprocess.run(
            [sys.executable, "manage.py", *args, "--no-input"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"{args}: {result.stderr}"


@pytest.mark.postgres
def test_every_migration_reverses_and_reapplies_on_postgresql(db, tmp_path):
    import psycopg
    from django.db import connection

    params = connection.settings_dict
    scratch = f"{params['NAME']}_reversal"
    server = f"postgres://{params['USER']}@{params['HOST']}:{params['PORT'] or 5432}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        admin.execute(f'CREATE DATABASE "{scratch}"')
    try:
        _migrate_down_and_up(f"{server}/{scratch}", tmp_path)
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}"')


@pytest.mark.django_db(transaction=True)
def test_hand_offs_and_requests_stranded_on_closed_cases_are_withdrawn_by_the_migration(org):
    """Before closing settled them, items stayed open on closed cases; the data migration
    withdraws those, each with a timeline entry."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from casedesk import services
    from casedesk.actors import Actor
    from casedesk.models import HandOff
    from tests.casedesk.helpers import ask_devon
    from tests.factories import open_case

    case = open_case(org)
    handoff = ask_devon(org, case)
    case.refresh_from_db()
    services.case_escalate(case=case, actor=Actor.for_staff(org.joanne), reason="Urgent")
    case.refresh_from_db()
    services.case_resolve(case=case, actor=Actor.for_staff(org.maria))
    # As an older version left it: still open on the resolved case.
    HandOff.objects.filter(pk=handoff.pk).update(
        state="open", closed_at=None, answer="", due_at=case.created_at
    )
    before = case.events.count()

    executor = MigrationExecutor(connection)
    executor.migrate([("escalation", "0008_held_items_are_state_machines")])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    handoff.refresh_from_db()
    assert (handoff.state, handoff.due_at) == ("withdrawn", None)
    assert case.events.count() == before + 1
    assert case.events.last().kind == "handoff_withdrawn"
