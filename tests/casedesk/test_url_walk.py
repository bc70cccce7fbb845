"""Every workspace URL, walked as every kind of person, with the status each must get, and
with nothing in any answer that the person may not see.

The walk plants a unique marker in every piece of a case that stays with the client's own
side (contact details, descriptions, internal notes, justifications, rationales, risk
reasons) on cases of both departments and three clients, hands cases over to the other
department, and then checks every response, GET and POST, for markers its reader may not
see.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from accounts.models import Department, StaffProfile, User
from casedesk import handoffs, services
from casedesk.actors import Actor
from casedesk.callbacks import callback_request
from casedesk.models import (
    Attachment,
    Case,
    Client,
    ClientContact,
    HandOffState,
    Notification,
    Risk,
)
from casedesk.notifications import message_id
from casedesk.status_links import status_token
from escalation.exceptions import exception_decide, exception_request
from escalation.models import ExceptionKind
from inbound.models import Mailbox, Security
from inbound.receive import receive_message
from tests.casedesk.helpers import next_working_hour
from tests.inbound.helpers import email

PEOPLE = ["anonymous", "joanne", "maria", "lee", "devon", "priya", "sam", "alex", "robin", "admin"]
STAFF = {"joanne", "maria", "lee", "devon", "priya"}
SUPPORT = {"joanne", "maria", "lee"}
INSTITUTIONAL = {"devon", "priya", "lee"}
CONTACTS = {"sam", "alex", "robin"}
SIGN_IN = "sign-in"
OVER_LONG = "CD-" + "9" * 10_000

# Who may read each marker: the staff who see that case's client side in full (its own
# department, and lee, whose subtree holds both), and the client's own contacts for what
# the client is shown (their details, a decision's rationale).
HARBOR, NORTHWIND, BAYSIDE = SUPPORT | {"sam"}, INSTITUTIONAL | {"alex"}, SUPPORT | {"robin"}
MARKERS = {
    # Harbor Dental Group, a client of Client Support (sam is its contact)
    "Harbor Dental Group": HARBOR,
    "Sam Rivera": HARBOR,
    "sam.rivera@harbordental.example": HARBOR,
    "+44 20 7946 0101": HARBOR,  # Harbor's number: the call-back sam booked
    "zq-harbor-desk@harbor.example": HARBOR,
    "+44 20 7000 4411": HARBOR,
    "zq-harbor-street": HARBOR,
    "zq-harbor-notes": SUPPORT,
    "+44 7700 900411": HARBOR,  # sam's own phone
    "zq-handed-description": SUPPORT,
    "zq-handed-note": SUPPORT,
    "zq-handed-fee-justification": SUPPORT,
    "zq-handed-refund-justification": SUPPORT,
    "zq-handed-refund-rationale": HARBOR,  # the client reads decisions on its requests
    "zq-risk-reason": SUPPORT,
    "zq-risk-description": SUPPORT,
    "zq-support-justification": SUPPORT,
    "zq-support-small-justification": SUPPORT,
    # Northwind Credit Union, a client of Institutional Services (alex is its contact)
    "Northwind Credit Union": NORTHWIND,
    "Alex Kim": NORTHWIND,
    "alex.kim@northwind.example": NORTHWIND,
    "ops@northwind.example": NORTHWIND,
    "+44 20 7946 0202": NORTHWIND,
    "zq-institutional-description": INSTITUTIONAL,
    "zq-institutional-note": INSTITUTIONAL,
    "zq-institutional-pending-justification": INSTITUTIONAL,
    "zq-institutional-decided-justification": INSTITUTIONAL,
    "zq-institutional-rationale": NORTHWIND,
    # Bayside Pharmacy, a second client of Client Support (robin is its contact)
    "Bayside Pharmacy": BAYSIDE,
    "Robin Hale": BAYSIDE,
    "zq-bayside-desk@bayside.example": BAYSIDE,
    "+44 20 7000 5522": BAYSIDE,
    "zq-bayside-description": SUPPORT,
    "zq-bayside-note": SUPPORT,
    # Attachments: their names (on pages) and their bytes (in downloads)
    "zq-support-internal-file": SUPPORT,
    "zq-support-client-file": HARBOR,
    "zq-handed-private-file": SUPPORT,
    "zq-handed-shared-file": STAFF,
    "zq-institutional-file": INSTITUTIONAL,
    # Email in: a stranger's mail to each department's mailbox waits in that department's
    # list (lee is of Client Support: the other department's list is not his); a forged
    # reply on a Harbor case is held for the case's side (accepted, it is Harbor's message).
    "zq-support-stranger@mail.example": SUPPORT,
    "zq-support-unassigned": SUPPORT,
    "zq-institutional-stranger@mail.example": {"devon", "priya"},
    "zq-institutional-unassigned": {"devon", "priya"},
    "zq-held-sender@mail.example": HARBOR,
    "zq-held-text": HARBOR,
}


def expect(*, staff: int | str, allowed=STAFF, other: int = 404, anonymous=SIGN_IN):
    """Expected status per person: `staff` for the allowed staff, `other` for the rest."""
    table = {person: staff if person in allowed else other for person in PEOPLE}
    table["anonymous"] = anonymous
    return table


def _staff(username: str) -> Actor:
    return Actor.for_staff(StaffProfile.objects.get(user__username=username))


def _ask(case, username, kind, amount, justification):
    return exception_request(
        case=Case.objects.get(pk=case.pk),
        actor=_staff(username),
        kind=ExceptionKind.objects.get(name=kind),
        amount=Decimal(amount),
        justification=justification,
    )


@pytest.fixture
def demo(db):
    """The demo, plus objects of each department and client that the others must not read:
    exception requests and decisions on handed-off cases, a risk flag whose reason holds the
    client's contact details, and decided refunds of both departments as precedents."""
    call_command("seed_demo")
    support_dept = Department.objects.get(name="Client Support")
    by_subject = dict(Case.objects.values_list("subject", "reference"))
    support = Case.objects.get(reference=by_subject["Refund for a duplicated March invoice"])
    handed = Case.objects.get(
        reference=by_subject["Move dental-plan members to institutional billing"]
    )
    institutional = Case.objects.get(reference=by_subject["Reissue Q3 statements in bulk"])
    handoff = handed.handoffs.get(state=HandOffState.OPEN)

    harbor = Client.objects.get(name="Harbor Dental Group")
    Client.objects.filter(pk=harbor.pk).update(
        email="zq-harbor-desk@harbor.example",
        phone="+44 20 7000 4411",
        address="1 zq-harbor-street",
        notes="zq-harbor-notes",
    )
    ClientContact.objects.filter(client=harbor).update(phone="+44 7700 900411")
    bayside = Client.objects.create(
        name="Bayside Pharmacy",
        department=support_dept,
        email="zq-bayside-desk@bayside.example",
        phone="+44 20 7000 5522",
    )
    ClientContact.objects.create(
        client=bayside,
        name="Robin Hale",
        email="robin@bayside.example",
        user=User.objects.create_user("robin", "robin@bayside.example", "casedesk"),
    )
    bayside_case = services.case_open(
        actor=_staff("joanne"),
        client=bayside,
        subject="Repeat-prescription invoices",
        description="zq-bayside-description",
    )
    services.case_add_note(case=bayside_case, actor=_staff("joanne"), text="zq-bayside-note")

    Case.objects.filter(pk=handed.pk).update(description="zq-handed-description")
    services.case_add_note(
        case=Case.objects.get(pk=handed.pk), actor=_staff("joanne"), text="zq-handed-note"
    )
    handed_fee = _ask(handed, "joanne", "Fee waiver", "40", "zq-handed-fee-justification")
    handed_refund = _ask(handed, "joanne", "Refund", "90", "zq-handed-refund-justification")
    exception_decide(
        request=handed_refund,
        actor=_staff("maria"),
        approve=True,
        rationale="zq-handed-refund-rationale: Harbor Dental Group (Sam Rivera) paid twice.",
    )

    # A second Harbor case handed over, then flagged by the receiving side with the
    # client's number and email in the reason: it goes straight to lee.
    risky = services.case_open(
        actor=_staff("joanne"),
        client=Client.objects.get(pk=harbor.pk),
        subject="Members threaten to leave",
        description="zq-risk-description",
    )
    handoffs.handoff_request(
        case=risky,
        actor=_staff("joanne"),
        to_department=Department.objects.get(name="Institutional Services"),
        accountable=StaffProfile.objects.get(user__username="devon"),
        request="Check the members' billing.",
        shared_summary="Members of a shared client unhappy about billing.",
    )
    services.case_flag_risk(
        case=Case.objects.get(pk=risky.pk),
        actor=_staff("devon"),
        risk=Risk.values[0],
        reason="zq-risk-reason: Sam Rivera (sam.rivera@harbordental.example, "
        "+44 7700 900411) says he will go to the regulator.",
    )

    Case.objects.filter(pk=institutional.pk).update(description="zq-institutional-description")
    services.case_add_note(
        case=Case.objects.get(pk=institutional.pk),
        actor=_staff("devon"),
        text="zq-institutional-note",
    )
    decided = _ask(institutional, "devon", "Refund", "70", "zq-institutional-decided-justification")
    exception_decide(
        request=decided,
        actor=_staff("priya"),
        approve=False,
        rationale="zq-institutional-rationale: Alex Kim of Northwind Credit Union was told.",
    )
    institutional_pending = _ask(
        institutional, "devon", "Refund", "60", "zq-institutional-pending-justification"
    )
    inbound = handoffs.handoff_request(  # Client Support now sees its summary
        case=Case.objects.get(pk=institutional.pk),
        actor=_staff("devon"),
        to_department=support_dept,
        accountable=StaffProfile.objects.get(user__username="joanne"),
        request="Confirm the branch codes you hold.",
        shared_summary="Statements for a shared client need the branch codes checked.",
    )

    files = _attach_files(support, handed, institutional)

    exception = _ask(support, "joanne", "Refund", "250", "zq-support-justification")
    support_small = _ask(support, "joanne", "Refund", "80", "zq-support-small-justification")
    callback = callback_request(
        case=Case.objects.get(pk=support.pk),
        actor=Actor.for_status_link(support.client_id),
        phone="+44 20 7946 0101",
        at=next_working_hour(),
        time_zone="Europe/London",
    )
    mail = _mail(support_dept, Case.objects.get(pk=support.pk))
    cache.clear()  # wrong links walked by earlier people do not throttle later ones
    return {
        **mail,
        "support": support.reference,
        "callback": callback.pk,
        "token": status_token(Case.objects.get(pk=support.pk)),
        "handed": handed.reference,
        "risky": risky.reference,
        "institutional": institutional.reference,
        "bayside": bayside_case.reference,
        "handoff": handoff.pk,
        "inbound": inbound.pk,
        "exception": exception.pk,
        "support_small": support_small.pk,
        "handed_fee": handed_fee.pk,
        "handed_refund": handed_refund.pk,
        "institutional_pending": institutional_pending.pk,
        "institutional_decided": decided.pk,
        "support_version": Case.objects.get(pk=support.pk).version,
        **files,
    }


def _file(marker: str) -> SimpleUploadedFile:
    """A PDF whose name and bytes carry the marker."""
    return SimpleUploadedFile(f"{marker}.pdf", f"%PDF-1.4 {marker}-bytes\n%%EOF".encode())


def _attach_files(support, handed, institutional) -> dict:
    """Files of each side: an internal note's and a client message's on a Client Support
    case (and one more to remove), on the handed case one shared with Institutional
    Services by a second hand-off and one not, and Institutional Services' own."""
    joanne, devon = _staff("joanne"), _staff("devon")

    def note(case, actor, marker, *, client_visible=False):
        services.case_add_note(
            case=Case.objects.get(pk=case.pk),
            actor=actor,
            text="Attached.",
            client_visible=client_visible,
            files=[_file(marker)],
        )
        return Attachment.objects.get(original_name=f"{marker}.pdf")

    internal = note(support, joanne, "zq-support-internal-file")
    client_file = note(support, joanne, "zq-support-client-file", client_visible=True)
    removable = note(support, joanne, "zq-support-internal-file-2")
    private = note(handed, joanne, "zq-handed-private-file")
    shared = note(handed, joanne, "zq-handed-shared-file")
    handoffs.handoff_request(
        case=Case.objects.get(pk=handed.pk),
        actor=joanne,
        to_department=Department.objects.get(name="Institutional Services"),
        accountable=StaffProfile.objects.get(user__username="devon"),
        request="Check the file.",
        shared_summary="A statement to check.",
        shared_attachments=[shared],
    )
    own = note(institutional, devon, "zq-institutional-file")
    return {
        "file_internal": internal.pk,
        "file_client": client_file.pk,
        "file_removable": removable.pk,
        "file_private": private.pk,
        "file_shared": shared.pk,
        "file_institutional": own.pk,
    }


def _mail(support_dept, support_case) -> dict:
    """A stranger's email to each department's mailbox, and a forged reply (our Message-ID,
    a stranger's address) on a Harbor case of Client Support."""
    boxes = {}
    for department in Department.objects.all():
        boxes[department.name] = Mailbox.objects.create(
            department=department,
            address=f"desk{department.pk}@casedesk.example",
            host="127.0.0.1",
            security=Security.NONE,
            username="desk",
        )
    now = timezone.now()
    support_box, institutional_box = boxes["Client Support"], boxes["Institutional Services"]
    unassigned = receive_message(
        support_box,
        email(sender="zq-support-stranger@mail.example", text="zq-support-unassigned"),
        now=now,
    ).message
    institutional = receive_message(
        institutional_box,
        email(sender="zq-institutional-stranger@mail.example", text="zq-institutional-unassigned"),
        now=now,
    ).message
    ours = Notification.objects.filter(case=support_case, links_to_case=False).earliest("pk")
    held = receive_message(
        support_box,
        email(
            sender="zq-held-sender@mail.example",
            text="zq-held-text",
            headers={"In-Reply-To": message_id(ours)},
        ),
        now=now,
    ).message
    assert (unassigned.outcome, institutional.outcome, held.outcome) == (
        "unassigned",
        "unassigned",
        "held",
    )
    return {
        "mail_unassigned": unassigned.pk,
        "mail_institutional": institutional.pk,
        "mail_held": held.pk,
    }


def routes(refs):
    """(method, url, data, expected statuses)."""
    note = {"version": refs["support_version"], "text": "Called the client."}
    answer = {"outcome": "complete", "answer": "Re-mapped."}
    home = {p: 302 for p in PEOPLE}
    return [
        ("get", "/", None, home),
        ("get", "/healthz", None, {p: 200 for p in PEOPLE}),
        ("get", "/accounts/login/", None, {p: 200 for p in PEOPLE}),
        ("get", "/cases/", None, expect(staff=200)),
        ("get", "/cases/?view=overdue&state=open&q=refund", None, expect(staff=200)),
        # search: words, a phrase, an exclusion, a reference, the best-match order and its
        # pages (a rank's cursor), and a cursor that fits no order
        ("get", '/cases/?view=all&q="billing+move"+-march', None, expect(staff=200)),
        ("get", f"/cases/?view=all&q={refs['support'].lower()}", None, expect(staff=200)),
        ("get", "/cases/?view=all&q=refund&sort=rank&after=125000.25", None, expect(staff=200)),
        ("get", "/cases/?view=all&q=refund&after=1796138717000000.1.25", None, expect(staff=400)),
        # the Next and Previous links' cursors (keyset pages), and a mangled one
        ("get", "/cases/?view=all&after=1796138717000000.25", None, expect(staff=200)),
        ("get", "/cases/?sort=newest&before=1796138717000000.25", None, expect(staff=200)),
        ("get", "/cases/?view=all&after=25;1", None, expect(staff=400)),
        ("get", "/cases/new", None, expect(staff=200)),
        # The second factor: staff and administrators set one up; nobody has one here, so
        # verifying sends everyone signed in on to where they were going.
        ("get", "/accounts/two-factor/", None, expect(staff=200, allowed=STAFF | {"admin"})),
        ("get", "/accounts/two-factor/qr.svg", None, expect(staff=200, allowed=STAFF | {"admin"})),
        (
            "get",
            "/accounts/two-factor/verify/",
            None,
            expect(staff=302, allowed=set(PEOPLE), other=302),
        ),
        ("get", f"/cases/{refs['support']}/", None, expect(staff=200, allowed=SUPPORT)),
        ("get", f"/cases/{refs['handed']}/", None, expect(staff=200)),
        ("get", f"/cases/{refs['institutional']}/", None, expect(staff=200)),  # handed over
        ("get", f"/cases/{refs['bayside']}/", None, expect(staff=200, allowed=SUPPORT)),
        ("get", "/cases/CD-999999/", None, expect(staff=404)),
        # Input the database cannot store, or would never hold, names nothing.
        ("get", "/cases/CD-%00/", None, everyone(404)),
        ("get", f"/cases/{OVER_LONG}/", None, expect(staff=404)),
        ("get", "/cases/?q=refund%00", None, everyone(400)),
        ("post", f"/cases/{refs['support']}/act/note", note | {"text": "\x00"}, everyone(400)),
        ("post", f"/cases/{refs['support']}/act/note", note, expect(staff=302, allowed=SUPPORT)),
        ("post", f"/cases/{refs['support']}/act/nonsense", note, expect(staff=404)),
        (
            "get",
            f"/cases/{refs['support']}/act/note",
            None,
            expect(staff=405, other=405, anonymous=405),
        ),
        (
            "post",
            f"/cases/{refs['handed']}/handoffs/{refs['handoff']}/answer",
            answer,
            expect(staff=302, allowed=INSTITUTIONAL) | {"joanne": 403, "maria": 403},
        ),
        ("get", "/dashboard/", None, expect(staff=200, allowed={"maria", "lee", "priya"})),
        *[
            (
                "get",
                f"/dashboard/cases/{figure}/",
                None,
                expect(staff=200, allowed={"maria", "lee", "priya"}),
            )
            for figure in (
                "all",
                "on-time",
                "late",
                "breaches-week",
                "first-response",
                "time-to-yes",
                "day-2026-11-23",
                "department-Client%20Support",
                "awaiting-decision",
                "stalled-handoffs",
            )
        ],
        ("get", "/dashboard/cases/day-notadate/", None, expect(staff=404, allowed={"maria"})),
        ("get", "/dashboard/cases/department-%00/", None, everyone(404)),
        # An unknown department's figure is a 404 like any unknown figure, however long.
        (
            "get",
            f"/dashboard/cases/department-{OVER_LONG}/",
            None,
            expect(staff=404, allowed={"maria", "lee", "priya"}),
        ),
        (
            "get",
            "/dashboard/cases/department-Nowhere/",
            None,
            expect(staff=404, allowed={"maria", "lee", "priya"}),
        ),
        (
            "get",
            f"/cases/{refs['support']}/exceptions/new",
            None,
            expect(staff=200, allowed=SUPPORT),
        ),
        (
            "get",
            f"/cases/{refs['institutional']}/exceptions/new",
            None,
            expect(staff=200, allowed=INSTITUTIONAL),
        ),
        ("get", f"/exceptions/{refs['exception']}/", None, expect(staff=200, allowed=SUPPORT)),
        # Exception requests belong to the case's own side, even when the case was handed
        # over: the other department gets a 404, whatever it asks.
        (
            "get",
            f"/cases/{refs['handed']}/exceptions/new",
            None,
            expect(staff=200, allowed=SUPPORT),
        ),
        ("get", f"/exceptions/{refs['handed_fee']}/", None, expect(staff=200, allowed=SUPPORT)),
        (
            "get",
            f"/exceptions/{refs['institutional_pending']}/",
            None,
            expect(staff=200, allowed=INSTITUTIONAL),
        ),
        (
            "post",
            f"/exceptions/{refs['institutional_pending']}/decide",
            {"outcome": "approve", "rationale": ""},  # refused: the page shows why
            expect(staff=400, allowed=INSTITUTIONAL),
        ),
        ("get", "/exceptions/999999/", None, expect(staff=404)),
        (
            "get",
            f"/handoffs/{refs['handoff']}/convene",
            None,
            expect(staff=200, allowed={"maria", "lee", "priya"}),
        ),
        (
            "post",
            f"/exceptions/{refs['exception']}/decide",
            {"outcome": "approve", "rationale": "Charged twice, refund it."},
            expect(staff=302, allowed={"lee"}) | {"joanne": 403, "maria": 403},
        ),
        ("get", "/admin/", None, {p: 302 for p in PEOPLE} | {"admin": 200}),
        ("get", "/accounts/security/", None, everyone(200) | {"anonymous": SIGN_IN}),
        ("get", "/accounts/password/", None, everyone(200) | {"anonymous": SIGN_IN}),
        # The client's side: the link opens the case to whoever holds it; the list needs a
        # client contact's sign-in.
        ("get", "/status/", None, {p: 302 for p in PEOPLE} | {c: 200 for c in CONTACTS}),
        (
            "get",
            "/status/?after=253402214400000000.1796138717000000.25",
            None,
            {p: 302 for p in PEOPLE} | {c: 200 for c in CONTACTS},
        ),
        # a new request: a client contact's own; anyone else is sent to sign in
        ("get", "/status/new/", None, {p: 302 for p in PEOPLE} | {c: 200 for c in CONTACTS}),
        (
            "post",
            "/status/new/",
            {"subject": "", "description": "Kept."},
            {p: 302 for p in PEOPLE} | {c: 400 for c in CONTACTS},
        ),
        (
            "post",
            "/status/new/",
            {"subject": "Walked in", "description": "A new request."},
            {p: 302 for p in PEOPLE} | {c: 302 for c in CONTACTS},
        ),
        ("get", "/status/sign-in/", None, {p: 200 for p in PEOPLE}),
        ("post", "/status/sign-in/", {"email": "someone@example.com"}, everyone(200)),
        ("get", "/status/sign-in/not-a-link/", None, everyone(404)),
        ("post", "/status/sign-in/not-a-link/", {"x": "1"}, everyone(404)),
        ("get", f"/status/{refs['token']}/", None, everyone(200)),
        ("get", "/status/not-a-token/", None, everyone(404)),
        ("get", "/status/%00/", None, everyone(404)),
        ("get", f"/status/{OVER_LONG}/", None, everyone(404)),
        ("post", f"/status/{refs['token']}/", {"action": "message", "text": "Hi"}, everyone(302)),
        (
            "post",
            f"/cases/{refs['support']}/callbacks/{refs['callback']}/done",
            {"made": "yes", "outcome": "Called."},
            expect(staff=302, allowed=SUPPORT),
        ),
        # Attachments: the case's own side downloads them all; another department only
        # what a hand-off shares with it; the client's link only what the client can see.
        *_attachment_routes(refs),
        ("get", "/mail/unassigned/", None, expect(staff=200)),
        ("get", "/mail/held/", None, expect(staff=200)),
        ("get", "/mail/held/?before=12", None, expect(staff=200)),
        ("get", "/mail/held/?before=x", None, expect(staff=400)),
        ("get", "/mail/nonsense/", None, expect(staff=404)),
        (
            "get",
            f"/mail/message/{refs['mail_unassigned']}/",
            None,
            expect(staff=200, allowed=SUPPORT),
        ),
        (
            "get",
            f"/mail/message/{refs['mail_institutional']}/",
            None,
            expect(staff=200, allowed={"devon", "priya"}),
        ),
        ("get", f"/mail/message/{refs['mail_held']}/", None, expect(staff=200, allowed=SUPPORT)),
        ("get", "/mail/message/999999/", None, expect(staff=404)),
        (
            "post",
            f"/mail/message/{refs['mail_held']}/reject",
            {"reason": ""},
            expect(staff=400, allowed=SUPPORT),
        ),
        (
            "post",
            f"/mail/message/{refs['mail_unassigned']}/nonsense",
            {"reason": "x"},
            expect(staff=404),
        ),
        (
            "post",
            f"/mail/message/{refs['mail_institutional']}/discard",
            {"reason": "Spam."},
            expect(staff=302, allowed={"devon", "priya"}),
        ),
        ("post", "/status/sign-out/", {"x": "1"}, everyone(302)),
    ]


def _attachment_routes(refs):
    support, handed = refs["support"], refs["handed"]
    download = f"/cases/{support}/attachments/{{}}/"
    status = f"/status/{refs['token']}/attachments/{{}}/"
    return [
        ("get", download.format(refs["file_internal"]), None, expect(staff=200, allowed=SUPPORT)),
        ("get", download.format(refs["file_client"]), None, expect(staff=200, allowed=SUPPORT)),
        ("get", f"/cases/{handed}/attachments/{refs['file_shared']}/", None, expect(staff=200)),
        (
            "get",
            f"/cases/{handed}/attachments/{refs['file_private']}/",
            None,
            expect(staff=200, allowed=SUPPORT),
        ),
        (
            "get",
            f"/cases/{refs['institutional']}/attachments/{refs['file_institutional']}/",
            None,
            expect(staff=200, allowed=INSTITUTIONAL),
        ),
        # another case's file through this case's address; a file that does not exist
        ("get", download.format(refs["file_institutional"]), None, expect(staff=404)),
        ("get", download.format(999999), None, expect(staff=404)),
        ("get", status.format(refs["file_client"]), None, everyone(200)),
        ("get", status.format(refs["file_internal"]), None, everyone(404)),
        ("get", status.format(refs["file_shared"]), None, everyone(404)),
        (
            "get",
            f"/status/not-a-token/attachments/{refs['file_client']}/",
            None,
            everyone(404),
        ),
        (
            "post",
            f"/cases/{support}/attachments/{refs['file_removable']}/remove",
            {"reason": ""},
            expect(staff=400, allowed=SUPPORT),
        ),
        (
            "post",
            f"/cases/{support}/attachments/{refs['file_removable']}/remove",
            {"reason": "Sent in error."},
            expect(staff=302, allowed=SUPPORT),
        ),
        # removed from view: a 404 for everyone, the row and the timeline's record stay
        ("get", download.format(refs["file_removable"]), None, expect(staff=404)),
    ]


def everyone(status: int) -> dict:
    return {person: status for person in PEOPLE}


def _client_as(client, person):
    if person != "anonymous":
        client.force_login(User.objects.get(username=person))
    return client


@pytest.mark.parametrize("person", PEOPLE)
def test_every_workspace_url_answers_each_person_as_it_must(client, demo, person):
    client = _client_as(client, person)
    failures = []
    for method, url, data, expected in routes(demo):
        response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
        want = expected[person]
        if want == SIGN_IN:
            ok = response.status_code == 302 and response.url.startswith("/accounts/login/")
        else:
            ok = response.status_code == want
        if not ok:
            failures.append(f"{method.upper()} {url[:80]}: got {response.status_code}, want {want}")
    assert not failures, f"as {person}:\n" + "\n".join(failures)


# --- The walk: every URL pattern, GET and POST, as everyone, reading every answer ---------

FIGURES = ["all", "on-time", "late", "breaches-week", "first-response", "time-to-yes"]
FIGURES += ["day-2026-11-23", "department-Client%20Support", "department-Institutional%20Services"]
BAD_REFERENCES = ["CD-999999", "%00", "CD-%00", "CD-" + "9" * 300]
LATER = "the end"  # signing out ends the walk's session, so it comes last


def walk(refs):
    """(url, data to POST) for every URL pattern, with objects of both departments and all
    three clients, hand-offs both ways, and bad input."""
    version = {"version": "{version}"}
    text = {"text": "Walked.", "reason": "Walked.", "summary": "Walked.", "rationale": "Walked."}
    cases = [refs[name] for name in ("support", "handed", "risky", "institutional", "bayside")]
    handoffs = [
        (refs["handed"], refs["handoff"]),
        (refs["institutional"], refs["inbound"]),
        (refs["risky"], Case.objects.get(reference=refs["risky"]).handoffs.get().pk),
    ]
    exceptions = [
        refs[name]
        for name in (
            "exception",
            "support_small",
            "handed_fee",
            "handed_refund",
            "institutional_pending",
            "institutional_decided",
        )
    ]
    meeting = {
        "starts_at": (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "minutes": "30",
        "agenda": "Walked.",
    }
    mails = [refs[name] for name in ("mail_unassigned", "mail_institutional", "mail_held")]
    harbor = Client.objects.get(name="Harbor Dental Group").pk
    northwind = Client.objects.get(name="Northwind Credit Union").pk
    return [
        ("/", {}),
        ("/healthz", {}),
        ("/accounts/login/", {"username": "lee", "password": "wrong"}),
        ("/accounts/two-factor/", {"code": "000000"}),
        ("/accounts/two-factor/qr.svg", {}),
        ("/accounts/two-factor/verify/", {"code": "000000"}),
        ("/accounts/security/", {}),
        ("/accounts/security/sign-out-others", {}),
        ("/accounts/password/", {"old_password": "wrong", "new_password1": "x"}),
        ("/admin/login/", {}),
        ("/cases/", {}),
        *[
            (f"/cases/?{query}", {})
            for query in (
                "view=all",
                "view=handoffs",
                "view=flagged",
                "view=overdue",
                "view=all&q=Harbor",
                "view=all&q=Northwind",
                "view=all&q=Bayside",
                "view=all&q=zq",
                f"view=all&client={harbor}",
                f"view=all&client={northwind}",
            )
        ],
        ("/cases/new", {"client": harbor, "subject": "Walked.", "priority": "normal"}),
        *[(f"/cases/{ref}/", {}) for ref in cases + BAD_REFERENCES],
        *[
            (f"/cases/{ref}/act/{action}", version | text | {"risk": "legal"})
            for ref in cases + BAD_REFERENCES
            for action in ("note", "message", "flag_risk", "escalate", "nonsense")
        ],
        *[
            (f"/cases/{ref}/exceptions/new", {"kind": "1", "amount": "5", "justification": "W."})
            for ref in cases + BAD_REFERENCES
        ],
        *[
            (f"/cases/{ref}/handoffs/{pk}/{what}", {"outcome": "decline", "answer": "W."})
            for ref, pk in handoffs
            for what in ("assign", "answer")
        ],
        (f"/cases/{refs['support']}/callbacks/{refs['callback']}/done", {"outcome": "W."}),
        (f"/cases/{refs['handed']}/callbacks/{refs['callback']}/done", {"outcome": "W."}),
        ("/dashboard/", {}),
        *[
            (f"/dashboard/cases/{figure}/", {})
            for figure in [*FIGURES, "%00", "day-%00", "department-%00"]
        ],
        *[(f"/exceptions/{pk}/", {}) for pk in [*exceptions, 999999, 10**30]],
        *[
            (f"/exceptions/{pk}/decide", {"outcome": "deny", "rationale": "Walked."})
            for pk in [*exceptions, 999999]
        ],
        *[(f"/handoffs/{pk}/convene", meeting) for _, pk in handoffs],
        *[(f"/mail/{which}/", {}) for which in ("unassigned", "held", "nonsense")],
        ("/mail/unassigned/?before=%00", {}),
        *[(f"/mail/message/{pk}/", {}) for pk in [*mails, 999999, 10**30]],
        *[
            (f"/mail/message/{pk}/{action}", {"reason": "Walked.", "client": harbor})
            for pk in [*mails, 999999]
            for action in ("accept", "attach", "discard", "reject", "nonsense")
        ],
        ("/admin/", {}),
        ("/status/", {}),
        ("/status/new/", {"subject": "Walked in", "description": "A new request."}),
        ("/status/sign-in/", {"email": "someone@example.com"}),
        ("/status/sign-in/not-a-link/", {}),
        (f"/status/{refs['token']}/", {"action": "message", "text": "Walked."}),
        ("/status/not-a-token/", {}),
        ("/status/%00/", {}),
        *[
            (f"/status/{refs['token']}/attachments/{refs[name]}/", {})
            for name in ("file_client", "file_internal", "file_shared", "file_institutional")
        ],
        *[
            (f"/cases/{ref}/attachments/{refs[name]}/", {})
            for ref in cases
            for name in (
                "file_internal",
                "file_client",
                "file_private",
                "file_shared",
                "file_institutional",
            )
        ],
        (f"/cases/{refs['support']}/attachments/{10**30}/", {}),
        *[
            (f"/cases/{ref}/attachments/{refs['file_shared']}/remove", {"reason": "Walked."})
            for ref in (refs["handed"], refs["support"])
        ],
        (f"/cases/{refs['support']}/attachments/{refs['file_client']}/remove", {"reason": ""}),
        ("/status/sign-out/", LATER),
        ("/accounts/logout/", LATER),
    ]


def _readers(person: str, url: str, refs) -> set[str]:
    """Whoever reads this answer: the person, and on the case's status link, its client
    (the link opens the client's own view to whoever holds it)."""
    return {person, "sam"} if url.startswith(f"/status/{refs['token']}/") else {person}


def _leaks(person, url, method, response, refs) -> list[str]:
    """The answer, if it shows a marker none of its readers may see."""
    readers = _readers(person, url, refs)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    page = body.decode(errors="replace")
    shown = [m for m, audience in MARKERS.items() if m in page and not audience & readers]
    return [f"{method} {url} shows {', '.join(shown)}"] if shown else []


def _walk_as(client, person, refs):
    """Every walked URL, GET then POST: the leaks, and the answers that were 500."""
    client.raise_request_exception = False  # a crash counts as a 500, and the walk goes on
    leaks, crashes = [], []
    items = walk(refs)
    items = [item for item in items if item[1] != LATER] + [
        (url, {}) for url, data in items if data == LATER
    ]
    for url, data in items:
        for method in ("GET", "POST"):
            if method == "POST":
                reference = url.split("/")[2] if url.startswith("/cases/") else ""
                case = Case.objects.filter(reference=reference).first()
                data = {
                    key: (str(case.version if case else 0) if value == "{version}" else value)
                    for key, value in data.items()
                }
                response = client.post(url, data)
            else:
                response = client.get(url)
            if response.status_code >= 500:
                crashes.append(f"{method} {url}: {response.status_code}")
            leaks += _leaks(person, url, method, response, refs)
            leaks += _shown_inline(url, method, response)
    return leaks, crashes


def _shown_inline(url, method, response) -> list[str]:
    """A file answered as anything but a download that no browser would sniff."""
    if "/attachments/" not in url or response.status_code != 200:
        return []
    safe = (
        response.get("Content-Disposition", "").startswith("attachment;")
        and response.get("X-Content-Type-Options") == "nosniff"
        and not response["Content-Type"].startswith(("text/html", "image/svg"))
    )
    return [] if safe else [f"{method} {url} is not served as a download"]


@pytest.mark.parametrize("person", PEOPLE)
def test_no_answer_shows_anything_its_reader_may_not_see_or_crashes(client, demo, person):
    leaks, crashes = _walk_as(_client_as(client, person), person, demo)

    assert not leaks, f"as {person}, {len(leaks)} leaking answers:\n" + "\n".join(leaks)
    assert not crashes, f"as {person}, {len(crashes)} answers were 500:\n" + "\n".join(crashes)


def _patterns(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith("admin/"):
            yield "admin/"  # the admin is one door, walked at its index
        elif isinstance(pattern, URLPattern):
            yield route
        else:
            yield from _patterns(pattern, route)


def test_the_walk_covers_every_url_pattern(demo):
    walked = set()
    for url, _ in walk(demo):
        path = url.split("?")[0]
        match = resolve(path.replace("%00", "x"))
        walked.add("admin/" if match.route.startswith("admin/") else match.route)

    assert set(_patterns(get_resolver())) - walked == set()
