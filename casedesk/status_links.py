"""The client's per-case status link: a signed token naming the case and its current nonce.

Unguessable (signed with the secret key); revoked by giving the case a new nonce, after which
the old link answers 404 like any wrong one.
"""

from django.core import signing
from django.db.models import QuerySet

from casedesk.models import Case

SALT = "casedesk.status-link"


def status_token(case: Case) -> str:
    """The same link for as long as the nonce stands (no timestamp in it: a link in an
    email, on the case page and in a test all agree)."""
    return signing.Signer(salt=SALT).sign_object([case.pk, case.status_nonce])


def case_for_token(token: str, *, among: QuerySet[Case] | None = None) -> Case | None:
    """The case a token opens (read from `among`: a page reads it with what it shows), or
    None for anything wrong, tampered with or revoked."""
    try:
        case_id, nonce = _unsign(token)
        case_id = int(case_id)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    cases = Case.objects.all() if among is None else among
    return cases.filter(pk=case_id, status_nonce=str(nonce)).first()


def _unsign(token: str):
    if token.count(":") == 2:
        # Links sent before they stopped carrying a timestamp ("data:time:signature") still
        # open their case.
        return signing.loads(token, salt=SALT)
    return signing.Signer(salt=SALT).unsign_object(token)
