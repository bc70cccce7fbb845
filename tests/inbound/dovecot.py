"""A real Dovecot IMAP server of the test's own, and a real SMTP hop into it.

`dovecot -F -c <own config>` on a free port of 127.0.0.1, with its own base_dir, state,
log and maildir: plaintext login (ssl=no, only on loopback), one user from a passwd-file.
Its directory is made with tempfile, not under pytest's tmp_path, because Dovecot's mail
and login processes run as the `dovecot`/`dovenull` users, who cannot enter root's
private tmp_path (tests/processes.py's PostgresCluster does the same).

Mail reaches it as mail does: `smtplib` to an aiosmtpd server, whose handler APPENDs each
message it accepts into the user's INBOX over IMAP.
"""

import contextlib
import imaplib
import os
import pwd
import shutil
import signal
import smtplib
import subprocess
import tempfile
from pathlib import Path

from aiosmtpd.controller import Controller

from tests.processes import _stop, answers, free_port, require, wait_until

USER, PASSWORD = "desk", "desk-secret"


class Dovecot:
    def __init__(self):
        require(shutil.which("dovecot") is not None, "needs Dovecot: apt-get install dovecot-imapd")
        self.port = free_port()
        self.home = Path(tempfile.mkdtemp(prefix="casedesk-dovecot-"))
        self.home.chmod(0o755)
        self.log = self.home / "dovecot.log"
        self.process: subprocess.Popen | None = None
        mail = self.home / "mail"
        mail.mkdir()
        as_root = os.geteuid() == 0
        owner = pwd.getpwnam("dovecot") if as_root else pwd.getpwuid(os.geteuid())
        internal, login = ("dovecot", "dovenull") if as_root else (owner.pw_name, owner.pw_name)
        if as_root:
            os.chown(mail, owner.pw_uid, owner.pw_gid)
        (self.home / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        (self.home / "dovecot.conf").write_text(
            f"""
base_dir = {self.home}/run
state_dir = {self.home}/state
log_path = {self.log}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{mail}/%u
mail_uid = {owner.pw_uid}
mail_gid = {owner.pw_gid}
first_valid_uid = 1
first_valid_gid = 1
default_internal_user = {internal}
default_login_user = {login}
shutdown_clients = yes
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.home}/users
}}
userdb {{
  driver = static
  args = home={mail}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""
        )

    def start(self) -> None:
        output = (self.home / "stdout.log").open("a")
        self.process = subprocess.Popen(
            ["dovecot", "-F", "-c", str(self.home / "dovecot.conf")],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(lambda: self._logs_in(), timeout=30, what="Dovecot", log=self.log)

    def stop(self) -> None:
        """The whole server down: the master and every process serving a connection (the
        master alone leaves its imap processes serving the connections they have)."""
        if self.process is not None:
            group = self.process.pid
            _stop(self.process)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
            self.process = None
        wait_until(lambda: not answers(self.port), timeout=10, what="Dovecot to stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    def _logs_in(self) -> bool:
        if not answers(self.port):
            return False
        try:
            with self.imap():
                return True
        except (OSError, imaplib.IMAP4.error):
            return False

    def imap(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(USER, PASSWORD)
        return client

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        with self.imap() as client:
            status, data = client.append(folder, None, None, raw)
            assert status == "OK", data

    def count(self, folder: str) -> int:
        with self.imap() as client:
            status, data = client.select(folder, readonly=True)
            if status != "OK":
                return 0
            return int(data[0])

    def message_ids(self, folder: str) -> list[str]:
        """The Message-ID of each message in the folder."""
        with self.imap() as client:
            if client.select(folder, readonly=True)[0] != "OK":
                return []
            status, data = client.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            if status != "OK" or data == [None]:
                return []
            return [
                item[1].decode().split(":", 1)[1].strip()
                for item in data
                if isinstance(item, tuple)
            ]


class SmtpToImap:
    """An SMTP server (aiosmtpd) that delivers each accepted message into Dovecot."""

    def __init__(self, dovecot: Dovecot):
        self.dovecot, self.port = dovecot, free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.dovecot.append(envelope.original_content or envelope.content)
        return "250 Delivered"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def send(self, raw: bytes, *, sender: str, to: str) -> None:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as smtp:
            smtp.sendmail(sender, [to], raw)
