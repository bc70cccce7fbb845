from celery import shared_task

from inbound.imap import poll_mailboxes as poll_all


@shared_task(ignore_result=True)
def poll_mailboxes() -> list[str]:
    """Run by beat every CASEDESK_MAIL_POLL_SECONDS on the mail queue: reads each active
    mailbox (inbound.imap; each message recorded, then moved)."""
    return [str(poll) for poll in poll_all()]
