import pytest

from tests.inbound.dovecot import Dovecot, SmtpToImap
from tests.inbound.helpers import support_mailbox


@pytest.fixture
def dovecot():
    """A Dovecot of the test's own (skips locally without the program; fails under CI)."""
    server = Dovecot()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def smtp_in(dovecot):
    """The SMTP hop: what is sent here lands in Dovecot's INBOX."""
    hop = SmtpToImap(dovecot)
    hop.start()
    yield hop
    hop.stop()


@pytest.fixture
def mailbox(org):
    """Client Support's mailbox, never polled (test_imap's own points at its Dovecot)."""
    return support_mailbox(org)
