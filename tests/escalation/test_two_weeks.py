"""Two weeks of a hand-off nobody answers, swept every four business hours.

The acceptance of "no dead ends" over time: the hand-off is with the receiving supervisor by
business day 2 and with the lowest manager over both departments by day 3; each step's dry
run says exactly what the real run then does; the director gets at most one digest a day
plus one email per thing newly arriving with him; the client's page never shows a time
that has passed as one still to come.
"""

import re
from datetime import UTC, datetime, timedelta

import time_machine
from django.core import mail

from casedesk.notifications import notifications_deliver_pending
from casedesk.status_links import status_token
from escalation.digest import digests_send
from escalation.models import Escalation, TopDigest
from escalation.sweep import sweep
from tests.casedesk.helpers import ask_devon
from tests.factories import open_case

MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # London is on UTC in November
PROMISED = re.compile(r'by <strong><time datetime="([^"]+)"')


def every_four_business_hours(days: int):
    """09:00, 13:00 and 17:00 on each working day (the demo calendar: Mon to Fri, 9 to 17)."""
    for day in range(days):
        date = MONDAY_9 + timedelta(days=day)
        if date.weekday() < 5:
            for hour in (0, 4, 8):
                yield date + timedelta(hours=hour)


def test_two_weeks_of_silence_climb_to_lee_with_dry_runs_that_tell_the_truth(client, org):
    with time_machine.travel(MONDAY_9, tick=False):
        case = open_case(org, subject="Move plan members to institutional billing")
        handoff = ask_devon(org, case)
    page = f"/status/{status_token(case)}/"
    holders = {}
    for moment in every_four_business_hours(14):
        with time_machine.travel(moment, tick=False):
            would = sweep(now=moment, dry_run=True).lines
            assert sweep(now=moment).lines == would, f"at {moment:%a %d %H:%M}"
            digests_send(now=moment)
            notifications_deliver_pending(now=moment)
            handoff.refresh_from_db()
            holders[moment] = handoff.accountable.user.username
            html = client.get(page).content.decode()
            for promised in PROMISED.findall(html):
                assert datetime.fromisoformat(promised) > moment, f"at {moment:%a %d %H:%M}"

    tuesday_17 = MONDAY_9 + timedelta(days=1, hours=8)
    wednesday_17 = MONDAY_9 + timedelta(days=2, hours=8)
    assert holders[tuesday_17] in {"priya", "lee"}  # the receiving supervisor by day 2
    assert holders[wednesday_17] == "lee"  # the lowest manager over both by day 3
    assert handoff.at_top_of_chain

    to_lee = [m for m in mail.outbox if m.to == [org.lee.user.email]]
    digests = [m for m in to_lee if "stalled with you" in m.subject]
    days = list(TopDigest.objects.filter(person=org.lee).values_list("day", flat=True))
    assert len(digests) == len(days) == len(set(days))  # at most one a day
    assert 1 <= len(days) <= 10  # two weeks: ten working days at most
    arrivals = Escalation.objects.filter(to_person=org.lee).count()
    assert arrivals >= 2  # the case and the hand-off both reached him
    assert len(to_lee) - len(digests) == arrivals  # one email per new arrival, no more
