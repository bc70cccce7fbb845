"""Configuration comes from the environment and is strict about it: checked in fresh
processes, since settings are read once at start-up."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k3y-" + "x7Qp9Lm2Vz" * 5,  # 54 characters, varied
    "DJANGO_ALLOWED_HOSTS": "casedesk.example",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    clean["DJANGO_SETTINGS_MODULE"] = "casedesk.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", **{**PRODUCTION, "DJANGO_SECRET_KEY": ""})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = manage("check", **{**PRODUCTION, "DJANGO_ALLOWED_HOSTS": ""})

    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS is required" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("DJANGO_DEBUG", "maybe", "is not a boolean"),
        ("EMAIL_PORT", "twenty-five", "is not a whole number"),
        ("CASEDESK_TIME_ZONE", "Mars/Olympus", "is not an IANA time zone"),
        ("CASEDESK_MAIL_RATE_LIMIT", "fast", "is not a rate"),
        ("CASEDESK_MAIL_RATE_LIMIT", "10/h", "slower than one email in 5 seconds"),
    ],
)
def test_a_malformed_value_stops_start_up_with_its_name(variable, value, complaint):
    result = manage("check", **{**PRODUCTION, variable: value})

    assert result.returncode != 0
    assert f"{variable}=" in result.stderr
    assert complaint in result.stderr


def test_manage_py_runs_on_a_laptop_with_no_configuration_at_all():
    result = manage("makemigrations", "--check", "--dry-run")

    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_the_production_processes_refuse_to_start_without_a_secret_key():
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    result = subprocess.run(
        [sys.executable, "-c", "import casedesk.wsgi"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


@pytest.mark.parametrize(
    ("environment", "backend"),
    [
        ({"DJANGO_DEBUG": "1"}, "casedesk.mail_backends.FileEmailBackend"),
        (PRODUCTION, "django.core.mail.backends.smtp.EmailBackend"),
        (
            {
                "DJANGO_DEBUG": "1",
                "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
            },
            "django.core.mail.backends.console.EmailBackend",
        ),
    ],
)
def test_the_demo_writes_email_to_files_production_sends_it_and_the_environment_decides(
    environment, backend
):
    show = "from django.conf import settings; print(settings.EMAIL_BACKEND)"
    result = manage("shell", "-c", show, **{"EMAIL_BACKEND": "", **environment})

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == backend


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_compiles_no_query_plan_and_keeps_the_urls_own_options():
    """JIT cost 75 ms a page on plans that only looked expensive (a 15 ms query), and a
    parallel worker 5 ms to start for a query of 0.4 ms."""
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "0"
    shown = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])",
        DATABASE_URL=f"{settings.DATABASES['default']['ENGINE'] and 'postgres'}://u@h/d"
        "?options=-c%20statement_timeout%3D5000",
        DJANGO_DEBUG="1",
    )
    assert "-c statement_timeout=5000 -c jit=off -c max" in shown.stdout, shown.stderr
