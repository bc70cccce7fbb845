"""`make run`'s script, for real: it starts, serves, mails quietly, and Ctrl-C stops it all.

bin/run-demo runs in its own session on a free port with its own var directory (SQLite and
the embedded broker), as on a fresh laptop. Ctrl-C is the terminal's SIGINT to the
script's process group; every process the demo started must be gone within 10 seconds.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.processes import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
STOP_SECONDS = 10


def _descendants(pid: int) -> set[int]:
    """Every live process below `pid` (the web server, the worker, its pool and its beat)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone while we looked
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's bookkeeping is left


def _listing(folder: Path) -> dict[str, float]:
    return {f.name: f.stat().st_mtime for f in folder.iterdir()} if folder.is_dir() else {}


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def demo(tmp_path):
    missing = [tool for tool in ("bash",) if shutil.which(tool) is None]
    if missing or not Path("/proc/self/stat").exists():
        reason = f"needs bash and Linux's /proc (missing: {missing or '/proc'})"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    port = free_port()
    var_dir = tmp_path / "var"
    log = tmp_path / "run-demo.log"
    # The demo's own defaults, not the suite's configuration (CI's PostgreSQL and Redis).
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "CASEDESK_", "EMAIL_", "DATABASE_", "REDIS_"))
    }
    env |= {
        "DJANGO_DEBUG": "1",
        "CASEDESK_VAR_DIR": str(var_dir),
        "CASEDESK_DEMO_PORT": str(port),
        "CASEDESK_PYTHON": sys.executable,
        "CASEDESK_SWEEP_SECONDS": "2",  # the sweep, and its email, while the test watches
    }
    control_before = _listing(ROOT / "control")
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(ROOT / "bin" / "run-demo")],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal's foreground job
        )
    try:
        yield {
            "process": process,
            "url": f"http://127.0.0.1:{port}",
            "var": var_dir,
            "log": log,
            "control_before": control_before,
        }
    finally:
        for pid in _descendants(process.pid) | {process.pid}:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)  # only what this test started, and still left
        process.wait(timeout=10)


def test_ctrl_c_stops_the_web_server_the_worker_and_beat_within_10_seconds(demo):
    log = demo["log"]
    wait_until(lambda: _answers(f"{demo['url']}/healthz"), timeout=40, what="/healthz", log=log)
    wait_until(lambda: "beat: Starting" in log.read_text(), timeout=15, what="beat", log=log)
    started = _descendants(demo["process"].pid)
    assert len(started) >= 4, started  # runserver, the worker, its pool, its beat

    os.killpg(demo["process"].pid, signal.SIGINT)
    stopping = time.monotonic()
    wait_until(
        lambda: demo["process"].poll() is not None and not any(map(_alive, started)),
        timeout=STOP_SECONDS,
        what="every demo process to exit after Ctrl-C",
        log=log,
    )

    print(f"stopped in {time.monotonic() - stopping:.1f}s")
    assert not _answers(f"{demo['url']}/healthz")


def test_the_demo_s_emails_are_files_with_one_log_line_each(demo):
    log = demo["log"]
    mail = demo["var"] / "mail"
    wait_until(lambda: "mail to " in log.read_text(), timeout=40, what="an email", log=log)
    os.killpg(demo["process"].pid, signal.SIGINT)
    demo["process"].wait(timeout=STOP_SECONDS)

    text = log.read_text()
    lines = [line for line in text.splitlines() if "mail to " in line]
    files = sorted(mail.glob("*.eml"))
    assert len(lines) == len(files) >= 1
    assert {line.rsplit("(", 1)[1].rstrip(")") for line in lines} == {str(f) for f in files}
    assert "Content-Transfer-Encoding" not in text  # no message printed whole
    assert f"The demo's emails are files in {mail}" in text
    assert (demo["var"] / "broker" / "control").is_dir()
    assert _listing(ROOT / "control") == demo["control_before"]  # nothing left in the checkout
