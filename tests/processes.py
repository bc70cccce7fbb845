"""Real processes for the tests that need them: a redis-server, Celery workers and beats, a
PostgreSQL cluster of our own. Each runs on a free port of this machine, in a directory of
the test's, and is stopped by the test that started it: the machine's shared PostgreSQL and
Redis are never stopped, frozen or flushed.

A test that needs a program this machine lacks skips with the reason on a laptop and fails
under CI=true (CI must never skip).
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery import current_app
from django.conf import settings as django_settings
from django.db import connection

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[1]


def _postgres_bin() -> Path:
    """Debian's PostgreSQL server programs (not on PATH), of the newest version installed."""
    installed = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()]
    return max(installed, key=lambda p: int(p.parent.name), default=Path("/usr/lib/postgresql"))


POSTGRES_BIN = _postgres_bin()


def require(present: bool, reason: str) -> None:
    """Skip locally, fail in CI, when the test cannot run here."""
    if present:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(port: int) -> bool:
    """Something accepts connections on this port (a frozen server does too)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(
    check, *, timeout: float, what: str, log: Path | None = None, every: float = 0.25
) -> float:
    """Poll `check` until it is true; the seconds it took. On time-out, fail with the tail of
    the process log that should have made it true."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(every)
    tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    pytest.fail(f"timed out after {timeout}s waiting for {what}\n--- {log} ---\n{tail}")


def _stop(process: subprocess.Popen, *, grace: float = 20) -> None:
    """SIGTERM, then SIGKILL to the whole process group if it does not end in time."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class RedisServer:
    """A redis-server of the test's own, without persistence: stopped and started again on
    the same port it comes back empty, as a restarted production Redis without AOF would."""

    def __init__(self, port: int, workdir: Path):
        self.port, self.workdir, self.process = port, workdir, None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

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
            start_new_session=True,
        )
        wait_until(self.answers, timeout=10, what="redis-server to start")

    def answers(self) -> bool:
        return answers(self.port)

    def freeze(self):
        """SIGSTOP: it keeps its connections and accepts new ones, and never replies."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self):
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.thaw()  # a frozen process would not act on SIGTERM
            _stop(self.process, grace=10)


@contextmanager
def publishing_to(server: RedisServer) -> Iterator[RedisServer]:
    """This process's Celery app publishing to `server` (as REDIS_URL would), so the tasks a
    change queues land where the drill's worker reads, never on the machine's Redis."""
    conf = current_app.conf
    before = (conf.broker_url, conf.broker_transport_options)
    # Celery read its configuration once, at start-up: give it the new broker and drop the
    # connections it pooled for the old one.
    conf.broker_url = server.url
    conf.broker_transport_options = django_settings.REDIS_BROKER_TRANSPORT_OPTIONS
    current_app._after_fork()
    try:
        yield server
    finally:
        conf.broker_url, conf.broker_transport_options = before
        current_app._after_fork()


def start_redis(workdir: Path) -> RedisServer:
    require(shutil.which("redis-server") is not None, "needs redis-server on PATH")
    server = RedisServer(free_port(), workdir)
    server.start()
    return server


def database_url(settings_dict: dict) -> str:
    """The URL of a Django connection's database, for a subprocess to use the same one."""
    user, host = settings_dict["USER"] or "postgres", settings_dict["HOST"] or "127.0.0.1"
    return f"postgres://{user}@{host}:{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"


class CeleryProcess:
    """`celery -A casedesk <command>` in a session of its own (so a SIGKILL of the group
    takes a worker's embedded beat along, as a machine dying would), logging to a file."""

    SWEEP_DONE = "escalation.tasks.run_escalations["

    def __init__(self, name: str, command: list[str], env: dict, workdir: Path):
        self.name, self.log = name, workdir / f"{name}.log"
        self.mail = Path(env["EMAIL_FILE_PATH"])
        with self.log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "casedesk", *command],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def sweeps_done(self) -> int:
        """Sweeps this process has finished (Celery logs each task's success at INFO)."""
        if not self.log.exists():
            return 0
        text = self.log.read_text(errors="replace")
        return sum(
            1 for line in text.splitlines() if self.SWEEP_DONE in line and "succeeded" in line
        )

    def kill(self):
        """SIGKILL to the whole group: no shutdown, no acknowledgement, no clean-up."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        _stop(self.process)


def celery_env(
    *, database: str, redis: str, workdir: Path, mail: Path | None = None, **extra: str
) -> dict:
    """The environment of a worker or beat on the given database and Redis: sweeping,
    beating and delivering the outbox every second, email to files (the one fake: the
    outside world)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "casedesk.settings",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": database,
        "REDIS_URL": redis,
        "CASEDESK_SWEEP_SECONDS": "1",
        "CASEDESK_HEARTBEAT_SECONDS": "1",
        "CASEDESK_DELIVERY_SECONDS": "1",  # where delivery is beat's task of its own
        "CASEDESK_VAR_DIR": str(workdir),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail or workdir / "mail"),
        **extra,
    }


def start_worker(
    *,
    database: str,
    redis: str,
    workdir: Path,
    name: str = "worker",
    beat: bool = True,
    queues: tuple[str, ...] = (),
    concurrency: int | None = None,
    **env: str,
) -> CeleryProcess:
    """`celery worker`, one process (--pool=solo) unless given a concurrency, with its
    embedded beat unless beat=False, consuming every queue unless told which. Its email goes
    to workdir/<name>-mail."""
    pool = f"--concurrency={concurrency}" if concurrency else "--pool=solo"
    command = ["worker", pool, "--loglevel=INFO", "--without-mingle", "--without-gossip"]
    command += [f"--hostname={name}@%h"]
    if beat:
        command += ["--beat", f"--schedule={workdir / f'{name}-beat-schedule'}"]
    if queues:
        command += ["-Q", ",".join(queues)]
    mail = workdir / f"{name}-mail"
    environment = celery_env(database=database, redis=redis, workdir=workdir, mail=mail, **env)
    return CeleryProcess(name, command, environment, workdir)


def start_beat(*, database: str, redis: str, workdir: Path, name: str = "beat") -> CeleryProcess:
    """A `celery beat` of its own, beside the workers."""
    command = ["beat", "--loglevel=INFO", f"--schedule={workdir / f'{name}-schedule'}"]
    environment = celery_env(database=database, redis=redis, workdir=workdir)
    return CeleryProcess(name, command, environment, workdir)


class CeleryProcesses:
    """The workers and beats a test starts, on its Redis and (unless told otherwise) its
    own test database; every one still running is stopped when the test ends."""

    def __init__(self, redis: RedisServer, workdir: Path):
        self.redis, self.workdir, self.started = redis, workdir, []

    def worker(self, name: str = "worker", *, database: str | None = None, **options):
        database = database or database_url(connection.settings_dict)
        process = start_worker(
            database=database, redis=self.redis.url, workdir=self.workdir, name=name, **options
        )
        self.started.append(process)
        return process

    def beat(self, name: str = "beat", *, database: str | None = None) -> CeleryProcess:
        database = database or database_url(connection.settings_dict)
        process = start_beat(
            database=database, redis=self.redis.url, workdir=self.workdir, name=name
        )
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            process.stop()


@contextmanager
def private_redis(workdir: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own, which this process publishes to while it runs."""
    server = start_redis(workdir)
    try:
        with publishing_to(server):
            yield server
    finally:
        server.stop()


@pytest.fixture
def redis_server(tmp_path):
    with private_redis(tmp_path) as server:
        yield server


@pytest.fixture
def celery_processes(redis_server, tmp_path):
    processes = CeleryProcesses(redis_server, tmp_path)
    yield processes
    processes.stop_all()


class PostgresCluster:
    """A PostgreSQL cluster of the test's own, on a free port, so a test can restart it.

    initdb and postgres refuse to run as root: as root they run as the `postgres` OS user,
    in a directory it owns (pytest's tmp_path is private to root)."""

    AS_ROOT = os.geteuid() == 0

    def __init__(self):
        self.port = free_port()
        self.home = Path(tempfile.mkdtemp(prefix="casedesk-pg-"))
        self.data = self.home / "data"
        self.log = self.home / "server.log"
        if self.AS_ROOT:
            shutil.chown(self.home, user="postgres", group="postgres")

    @classmethod
    def available(cls) -> bool:
        return (POSTGRES_BIN / "initdb").exists() and (
            not cls.AS_ROOT or (shutil.which("runuser") is not None and _user_exists("postgres"))
        )

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _as_postgres(self, *command: str, timeout: float = 60) -> None:
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", *command] if self.AS_ROOT else list(command),
            cwd=self.home,
            timeout=timeout,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            pytest.fail(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}\n{log}")

    def _ctl(self, action: str, *options: str) -> None:
        settings = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.home} -c fsync=off"
        self._as_postgres(
            str(POSTGRES_BIN / "pg_ctl"), action, "-D", str(self.data), "-l", str(self.log),
            "-o", settings, "-w", "-t", "30", *options,
        )  # fmt: skip

    def start(self) -> None:
        if not self.data.exists():
            self._as_postgres(
                str(POSTGRES_BIN / "initdb"), "-D", str(self.data), "--auth=trust",
                "--username=postgres", "--encoding=UTF8", "--no-sync",
            )  # fmt: skip
        self._ctl("start")

    def restart(self) -> None:
        """A fast shutdown (every session is cut, open transactions roll back) and a start."""
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._ctl("stop", "-m", "immediate")

    def remove(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
