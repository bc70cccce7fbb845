"""The client's per-case status link: a signed token naming the case and its current nonce.

Unguessable (signed with the secret key); revoked by giving the case a new nonce, after which
the old link answers 404 like any wrong one.
"""

from django.core import signing

from casedesk.models import Case

SALT = "casedesk.status-link"


def status_token(case: Case) -> str:
    return signing.dumps([case.pk, case.status_nonce], salt=SALT)


def case_for_token(token: str) -> Case | None:
    """The case a token opens, or None for anything wrong, tampered with or revoked."""
    try:
        case_id, nonce = signing.loads(token, salt=SALT)
        case_id = int(case_id)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return Case.objects.filter(pk=case_id, status_nonce=str(nonce)).first()
