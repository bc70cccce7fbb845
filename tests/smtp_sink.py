"""A real SMTP server for the outbox tests: the outside world that email goes to.

aiosmtpd, in a thread of the test process, on a port of its own. It records each message's
recipients, subject and Message-ID, and can take its time over each, as a slow relay does.
Stopped, its port refuses connections, as a relay that is down does; started again, it
listens on the same port.
"""

import asyncio
import logging
import threading
from collections import Counter
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


class SmtpSink:
    def __init__(self, port: int, *, seconds_per_message: float = 0.0):
        self.port = port
        self.seconds_per_message = seconds_per_message
        self._received: list[tuple[str, str]] = []
        self._ids: list[str] = []
        self._lock = threading.Lock()  # the server's thread appends, the test reads
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope) -> str:
        # Slow but not blocking: connections from several workers are served side by side.
        await asyncio.sleep(self.seconds_per_message)
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self._received += [(to, str(message["Subject"])) for to in envelope.rcpt_tos]
            self._ids.append(str(message["Message-ID"]))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        # aiosmtpd logs every SMTP command at INFO: thousands of lines in a failure's report.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def count(self) -> int:
        with self._lock:
            return len(self._received)

    def message_ids(self) -> Counter:
        """How many times each Message-ID arrived."""
        with self._lock:
            return Counter(self._ids)

    def received(self) -> Counter:
        """How many messages each (recipient, subject) got."""
        with self._lock:
            return Counter(self._received)
