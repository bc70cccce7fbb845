"""The processes of the outbox drills: `make run`'s worker, sending by SMTP to the drill's
relay, and a clock for it that can be moved forward.

The worker is the one `bin/run-demo` starts, `celery worker --beat -Q sweep,mail,celery
--concurrency=2` (beat inside it, two pool processes taking any queue), here on the test
database and a private redis-server (tests/processes.py), at the production intervals
unless a drill says otherwise.
"""

import glob
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.processes import RedisServer, database_url, require, start_worker

PROCESSES = 2  # the demo worker's --concurrency


class WorkerClock:
    """The worker's clock, moved forward on demand: Debian's libfaketime, preloaded, reads its
    offset from a file (again each second). Only the worker's: Redis, PostgreSQL and the
    test keep the real time."""

    def __init__(self, workdir: Path):
        found = glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1")
        require(bool(found), "needs libfaketime (Debian's faketime)")
        self._offset = timedelta(0)
        self._spec = workdir / "clock"
        self._spec.write_text("+0\n")
        self.env = {
            "LD_PRELOAD": found[0],
            "FAKETIME_TIMESTAMP_FILE": str(self._spec),
            "FAKETIME_CACHE_DURATION": "1",
        }

    def advance(self, by: timedelta) -> None:
        self._offset += by
        self._spec.write_text(f"+{int(self._offset.total_seconds())}\n")


@contextmanager
def demo_worker(*, redis: RedisServer, smtp_port: int, workdir: Path, **env: str) -> Iterator[Path]:
    """`make run`'s worker with its beat; yields its log, and stops it (a warm shutdown: the
    tasks in hand finish first) before the drill counts. `env`: settings to override."""
    production_pace = {
        "CASEDESK_SWEEP_SECONDS": str(settings.CASEDESK_SWEEP_SECONDS),
        "CASEDESK_DELIVERY_SECONDS": str(settings.CASEDESK_DELIVERY_SECONDS),
    }
    worker = start_worker(
        database=database_url(connection.settings_dict),
        redis=redis.url,
        workdir=workdir,
        queues=("sweep", "mail", "celery"),
        concurrency=PROCESSES,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        **{**production_pace, **env},
    )
    try:
        yield worker.log
    finally:
        worker.stop()
