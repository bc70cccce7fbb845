"""The embedded broker keeps every file it writes under CASEDESK_VAR_DIR.

kombu's filesystem transport has several folders, each with a default relative to the
directory a process starts in; one left unset (as `control_folder` once was) litters the
checkout. Checked in a fresh process started elsewhere, through the real transport.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from kombu.transport import filesystem

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json
import django
django.setup()
from django.conf import settings
from casedesk.celery import app

with app.connection_for_write() as connection:
    queue = connection.SimpleQueue("celery")  # binds the exchange: the control folder
    queue.put({"probe": 1})
    queue.get(timeout=5).ack()
    queue.close()
app.control.broadcast("ping", reply=False)  # the fanout exchange, also in the control folder
print(json.dumps(settings.CELERY_BROKER_TRANSPORT_OPTIONS))
"""


def transport_folders() -> set[str]:
    """The folder options kombu's filesystem transport reads, whatever its version."""
    return {
        name for name in dir(filesystem.Channel) if name.endswith("_folder") or "folder_" in name
    }


def test_every_broker_folder_is_under_the_var_dir_and_nothing_lands_where_it_started(tmp_path):
    started_in, var_dir = tmp_path / "elsewhere", tmp_path / "var"
    started_in.mkdir()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CASEDESK_", "REDIS"))
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "casedesk.settings",
        "DJANGO_DEBUG": "1",
        "CASEDESK_VAR_DIR": str(var_dir),
        "PYTHONPATH": str(ROOT),
    }

    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=started_in,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    options = json.loads(result.stdout.strip().splitlines()[-1])
    folders = transport_folders()
    assert folders >= {"data_folder_in", "data_folder_out", "control_folder", "processed_folder"}
    assert folders <= options.keys(), "a folder of the transport is left to its default"
    for name in folders:
        assert Path(options[name]).is_relative_to(var_dir), f"{name} is outside the var dir"
    assert list(started_in.iterdir()) == []
    assert (var_dir / "broker" / "control" / "celery.exchange").exists()
