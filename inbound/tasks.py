from celery import shared_task

from inbound.drop import read_drop_folder
from inbound.imap import poll_mailboxes as poll_all


@shared_task(ignore_result=True)
def poll_mailboxes() -> list[str]:
    """Run by beat every CASEDESK_MAIL_POLL_SECONDS on the mail queue: reads each active
    mailbox (inbound.imap; each message recorded, then moved), and the drop folder if one
    is set (inbound.drop)."""
    return [str(poll) for poll in poll_all()] + read_drop_folder()
