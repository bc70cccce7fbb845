"""The escalation app's part of the demo: kinds of exception and who may approve them."""

from decimal import Decimal

from accounts.models import AuthorityLevel
from escalation.models import AuthorityRule, ExceptionKind

KINDS = {
    # name: (has amount, policy, {authority level: up to amount, None = any})
    "Refund": (
        True,
        "Refunds are given for charges made in error within 90 days.",
        {AuthorityLevel.SUPERVISOR: Decimal("100"), AuthorityLevel.DIRECTOR: None},
    ),
    "Fee waiver": (
        True,
        "Fees apply as published in the price list.",
        {
            AuthorityLevel.SUPERVISOR: Decimal("50"),
            AuthorityLevel.MANAGER: Decimal("250"),
            AuthorityLevel.DIRECTOR: None,
        },
    ),
    "Extra vouchers": (
        True,
        "Vouchers are limited to one per incident.",
        {AuthorityLevel.SUPERVISOR: Decimal("3"), AuthorityLevel.DIRECTOR: None},
    ),
}


def install_exception_policies() -> None:
    for name, (has_amount, policy, limits) in KINDS.items():
        kind, _ = ExceptionKind.objects.get_or_create(
            name=name, defaults={"has_amount": has_amount, "policy": policy}
        )
        for level, amount in limits.items():
            AuthorityRule.objects.get_or_create(
                kind=kind, min_authority_level=level, defaults={"max_amount": amount}
            )
