"""The demo's email: each message to its own file, and one line in the log saying so.

Django's console backend prints every message whole, which buries the demo's terminal in
MIME; its file backend puts a whole connection's messages in one file. Here each message
is one `.eml` file (opens in any mail client) under EMAIL_FILE_PATH, and the log says who
it went to and what it is about.
"""

import logging
import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

logger = logging.getLogger("casedesk.mail")


class FileEmailBackend(BaseEmailBackend):
    def __init__(self, *, file_path: str | None = None, fail_silently: bool = False, **kwargs):
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.directory = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages) -> int:
        sent = 0
        for message in email_messages:
            try:
                path = self._write(message)
            except OSError:
                if not self.fail_silently:
                    raise
                continue
            recipients = ", ".join(message.recipients())
            logger.info("mail to %s: %s (%s)", recipients, message.subject, _shown(path))
            sent += 1
        return sent

    def _write(self, message) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Sorts by the real time of sending (not the change's `now`, which may be in the
        # past for a sweep catching up); the suffix keeps two in the same second apart.
        name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
        path = self.directory / name
        path.write_bytes(message.message().as_bytes(linesep="\n"))
        return path


def _shown(path: Path) -> str:
    """The path as the person at the terminal would type it: relative when it is below."""
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else relative
