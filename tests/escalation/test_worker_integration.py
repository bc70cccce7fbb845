"""The real thing: a Redis server, a Celery worker with its beat, and PostgreSQL.

The test starts its own redis-server (so it can stop it) and a worker with beat as
subprocesses on the test database, sweeping every second. Email goes to files, the one
fake: the outside world. Nobody calls the task: beat does.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from casedesk.models import Case
from tests.conftest import IN_CI
from tests.factories import open_case

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(check, *, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    tail = log.read_text()[-4000:] if log and log.exists() else ""
    pytest.fail(f"timed out after {timeout}s waiting for {what}\n--- worker log ---\n{tail}")


class RedisServer:
    def __init__(self, port: int, workdir: Path):
        self.port, self.workdir, self.process = port, workdir, None

    def start(self):
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, timeout=10, what="redis-server to start")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    if shutil.which("redis-server") is None:
        reason = "needs redis-server on PATH"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    server = RedisServer(free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def worker(redis_server, tmp_path):
    """celery worker --beat on the test database, sweeping every second."""
    database = connection.settings_dict
    mail_dir = tmp_path / "mail"
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "casedesk.settings",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:"
        f"{database['PORT'] or 5432}/{database['NAME']}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0",
        "CASEDESK_SWEEP_SECONDS": "1",
        "CASEDESK_HEARTBEAT_SECONDS": "1",
        "CASEDESK_VAR_DIR": str(tmp_path),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "casedesk",
                "worker",
                "--beat",
                "--pool=solo",
                "--loglevel=INFO",
                f"--schedule={tmp_path / 'beat'}",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            yield {"mail": mail_dir, "log": log}
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def emails_to(mail_dir: Path, address: str) -> int:
    if not mail_dir.exists():
        return 0
    return sum(f"To: {address}" in path.read_text() for path in mail_dir.glob("*.log"))


def make_overdue(org, subject: str) -> Case:
    case = open_case(org, subject=subject, priority="urgent")
    Case.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    return case


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_beat_and_a_worker_escalate_on_their_own_and_catch_up_after_redis_returns(
    org, redis_server, worker
):
    maria = org.maria.user.email

    first = make_overdue(org, "Overdue while all is well")
    wait_until(
        lambda: Case.objects.get(pk=first.pk).state == "escalated",
        timeout=60,
        what="beat and the worker to escalate the overdue case",
        log=worker["log"],
    )
    wait_until(
        lambda: emails_to(worker["mail"], maria) >= 1,
        timeout=30,
        what="the escalation email to maria",
        log=worker["log"],
    )
    assert Case.objects.get(pk=first.pk).owner == org.maria

    redis_server.stop()
    second = make_overdue(org, "Overdue while Redis is down")  # the web side keeps working
    time.sleep(3)
    assert Case.objects.get(pk=second.pk).state == "open"  # nothing runs without the broker

    redis_server.start()
    wait_until(
        lambda: Case.objects.get(pk=second.pk).state == "escalated",
        timeout=90,
        what="the escalation once Redis is back",
        log=worker["log"],
    )
    wait_until(
        lambda: emails_to(worker["mail"], maria) >= 2,
        timeout=60,
        what="the second email once Redis is back",
        log=worker["log"],
    )
    assert Case.objects.get(pk=second.pk).events.filter(kind="escalated").count() == 1
