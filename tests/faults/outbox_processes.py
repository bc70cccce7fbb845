"""The processes of the outbox drills: a Redis of their own and `make run`'s worker.

The worker is the one `bin/run-demo` starts, `celery worker --beat -Q sweep,mail,celery
--concurrency=2` (beat inside it, two pool processes taking any queue), here on the test
database and a private redis-server, sending email by SMTP to the drill's sink. Never the
machine's shared Redis: the drill stops its own. Its clock can be moved forward, so a retry
minutes away falls due without the drill waiting for it.
"""

import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from celery import current_app
from django.conf import settings
from django.db import connection

from tests.conftest import IN_CI
from tests.escalation.test_worker_integration import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 2  # the demo worker's --concurrency


def require(found: str | None, what: str) -> str:
    """Skip without it on a laptop; fail under CI=true, which must never skip."""
    if found is None:
        if IN_CI:
            pytest.fail(f"CI=true but the drill needs {what}")
        pytest.skip(f"needs {what}")
    return found


class WorkerClock:
    """The worker's clock, moved forward on demand: Debian's libfaketime, preloaded, reads its
    offset from a file (again each second). Only the worker's: Redis, PostgreSQL and the
    test keep the real time."""

    def __init__(self, workdir: Path):
        found = glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1")
        library = require(found[0] if found else None, "libfaketime (Debian's faketime)")
        self._offset = timedelta(0)
        self._spec = workdir / "clock"
        self._spec.write_text("+0\n")
        self.env = {
            "LD_PRELOAD": library,
            "FAKETIME_TIMESTAMP_FILE": str(self._spec),
            "FAKETIME_CACHE_DURATION": "1",
        }

    def advance(self, by: timedelta) -> None:
        self._offset += by
        self._spec.write_text(f"+{int(self._offset.total_seconds())}\n")


def broker_url(server: RedisServer) -> str:
    return f"redis://127.0.0.1:{server.port}/0"


@contextmanager
def private_redis(workdir: Path) -> Iterator[RedisServer]:
    """A redis-server on a free port, and this process's Celery app publishing to it (as
    REDIS_URL would), so the tasks a change queues land where the drill's worker reads."""
    require(shutil.which("redis-server"), "redis-server on PATH")
    server = RedisServer(free_port(), workdir)
    server.start()
    conf = current_app.conf
    before = (conf.broker_url, conf.broker_transport_options)
    conf.broker_url = broker_url(server)
    conf.broker_transport_options = settings.REDIS_BROKER_TRANSPORT_OPTIONS
    current_app._after_fork()  # drop the connections pooled for the old broker
    try:
        yield server
    finally:
        conf.broker_url, conf.broker_transport_options = before
        current_app._after_fork()
        server.stop()


@contextmanager
def demo_worker(*, redis_url: str, smtp_port: int, workdir: Path, **env: str) -> Iterator[Path]:
    """`make run`'s worker with its beat; yields its log. `env`: settings to override."""
    database = connection.settings_dict
    log = workdir / "worker.log"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "casedesk.settings",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:"
        f"{database['PORT'] or 5432}/{database['NAME']}",
        "REDIS_URL": redis_url,
        "CASEDESK_VAR_DIR": str(workdir),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        **env,
    }
    command = [sys.executable, "-m", "celery", "-A", "casedesk", "worker", "--beat"]
    command += ["-Q", "sweep,mail,celery", f"--concurrency={PROCESSES}", "--loglevel=INFO"]
    command += [f"--schedule={workdir / 'beat'}", "--without-mingle", "--without-gossip"]
    with log.open("w") as output:
        worker = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            yield log
        finally:
            worker.terminate()  # a warm shutdown: the tasks in hand finish first
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
