"""Who may say yes: routing a request straight to the lowest person whose authority covers it.

Nobody below that person has to say no first; they are recorded as skipped. When nobody's
authority covers a request, the top of the requester's chain decides: never a dead end.
"""

from dataclasses import dataclass
from decimal import Decimal

from accounts.chain import chain_of
from accounts.models import StaffProfile
from escalation.models import AuthorityRule, ExceptionKind


@dataclass(frozen=True)
class Route:
    approver: StaffProfile
    skipped: list[StaffProfile]
    beyond_authority: bool


def covers(person: StaffProfile, rules: list[AuthorityRule], amount: Decimal | None) -> bool:
    return any(
        person.authority_level >= rule.min_authority_level
        and (rule.max_amount is None or amount is None or amount <= rule.max_amount)
        for rule in rules
    )


def route_exception(
    *, requester: StaffProfile, kind: ExceptionKind, amount: Decimal | None
) -> Route | None:
    """None when the requester has nobody above them (they hold the top of the chain)."""
    chain = chain_of(requester)
    if not chain:
        return None
    rules = list(kind.rules.all())
    for index, person in enumerate(chain):
        if covers(person, rules, amount):
            return Route(approver=person, skipped=chain[:index], beyond_authority=False)
    return Route(approver=chain[-1], skipped=chain[:-1], beyond_authority=True)


def may_decide(person: StaffProfile, *, approver: StaffProfile, kind, amount) -> bool:
    """The routed approver, or anyone above them whose authority also covers it."""
    if person.pk == approver.pk:
        return True
    return any(boss.pk == person.pk for boss in chain_of(approver)) and covers(
        person, list(kind.rules.all()), amount
    )
