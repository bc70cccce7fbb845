"""Client contacts' own way in: an emailed one-time link (expiring, single use) that signs
them in to a list of all their client's cases. Contacts who have a password sign in on the
ordinary sign-in page and land on the same list.
"""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from casedesk import services
from casedesk.client_forms import CaseListFilterForm, RequestForm, SignInForm
from casedesk.client_services import sign_in_link_contact, sign_in_link_redeem, sign_in_link_send
from casedesk.errors import InvalidTransition, TooManyRequests
from casedesk.keyset import cursor_in
from casedesk.models import ClientContact
from casedesk.plain_words import PLAIN_STATE
from casedesk.routing import NoOneToHold
from casedesk.selectors import CLIENT_CASES_ORDER, client_cases_page
from casedesk.status_links import status_token
from casedesk.throttle import Throttle, address

log = logging.getLogger(__name__)
SESSION_KEY = "casedesk_client_contact"
PER_PAGE = 25
SIGN_IN_REQUESTS_PER_ADDRESS = Throttle("sign-in-address", limit=10)
SIGN_IN_REQUESTS_PER_EMAIL = Throttle("sign-in-email", limit=3)


def bad_links(kind: str) -> Throttle:
    """Wrong links of one kind ("status" or "sign-in") tried from one address."""
    return Throttle(f"bad-{kind}-link", limit=settings.CASEDESK_STATUS_BAD_TOKENS)


def too_many(request):
    return render(request, "casedesk/client/too_many.html", status=429)


def signed_in_contact(request) -> ClientContact | None:
    """The client contact this browser is signed in as (by emailed link or password)."""
    if not hasattr(request, "_client_contact"):
        contacts = ClientContact.objects.select_related("client", "user")
        contact_id = request.session.get(SESSION_KEY)
        if request.user.is_authenticated:  # a password sign-in outranks an earlier link's
            # The person read again with what the page's frame asks of them (are they staff,
            # of which department? a contact, of which client?), in one query.
            user = (
                User.objects.select_related("staff__department", "client_contact__client")
                .filter(pk=request.user.pk)
                .first()
            )
            try:
                contact = user.client_contact if user is not None else None
            except ClientContact.DoesNotExist:
                contact = None
            if user is not None:
                request.user = user
        elif contact_id:
            contact = contacts.filter(pk=contact_id).first()
        else:
            contact = None
        request._client_contact = contact
    return request._client_contact


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_request(request):
    """Anyone: ask for a sign-in link. The answer is the same whether or not the address
    belongs to a client contact; repeated requests are throttled per address and email."""
    form = SignInForm(request.POST or None)
    context = {"form": form, "minutes": settings.CASEDESK_CLIENT_LINK_MINUTES}
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].lower()
        if SIGN_IN_REQUESTS_PER_ADDRESS.exceeded(
            address(request)
        ) or SIGN_IN_REQUESTS_PER_EMAIL.exceeded(email):
            form.add_error(None, "Too many sign-in requests: please try again in ten minutes.")
            return render(request, "casedesk/client/sign_in.html", context, status=429)
        SIGN_IN_REQUESTS_PER_ADDRESS.count(address(request))
        SIGN_IN_REQUESTS_PER_EMAIL.count(email)
        sign_in_link_send(email=email)
        return render(request, "casedesk/client/sign_in_sent.html", context | {"email": email})
    status = 400 if request.method == "POST" else 200
    return render(request, "casedesk/client/sign_in.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_with_link(request, token):
    """Whoever holds an emailed link. Opening it only asks to continue (mail scanners that
    follow links do not use it up); continuing uses it. Wrong, expired or used: 404."""
    if bad_links("sign-in").exceeded(address(request)):
        return too_many(request)
    if request.method == "GET":
        contact = sign_in_link_contact(token=token)
    else:
        contact = sign_in_link_redeem(token=token)
    if contact is None:
        bad_links("sign-in").count(address(request))
        context = {"minutes": settings.CASEDESK_CLIENT_LINK_MINUTES}
        return render(request, "casedesk/client/link_expired.html", context, status=404)
    if request.method == "GET":
        return render(request, "casedesk/client/sign_in_confirm.html", {"signing_in": contact})
    logout(request)  # a fresh session: no one else's sign-in carries over
    request.session[SESSION_KEY] = contact.pk
    request.session.set_expiry(settings.CASEDESK_SESSION_MAX_HOURS * 3600)
    messages.success(request, f"Signed in as {contact.name}.")
    return redirect("client_cases")


@require_POST
def sign_out(request):
    """Anyone: ends a client's sign-in (a CSRF-protected POST)."""
    logout(request)
    messages.success(request, "Signed out.")
    return redirect("client_sign_in_request")


@never_cache
@require_GET
def client_cases(request):
    """A signed-in client contact: their client's cases, and only those; others sign in."""
    contact = signed_in_contact(request)
    if contact is None:
        return redirect("client_sign_in_request")
    form = CaseListFilterForm(request.GET)
    form.is_valid()
    filters = {"search": form.cleaned_data.get("q", ""), "show": form.cleaned_data.get("show", "")}
    cursor = cursor_in(request.GET, CLIENT_CASES_ORDER)  # a mangled one: the first page
    page = client_cases_page(contact.client_id, **filters, cursor=cursor, size=PER_PAGE)
    rows = [(case, PLAIN_STATE[case.state], status_token(case)) for case in page.rows]
    query = request.GET.copy()
    for name in ("page", "after", "before"):
        query.pop(name, None)
    context = {
        "contact": contact,
        "form": form,
        "page": page,
        "rows": rows,
        "filtered": any(filters.values()),
        "query": query.urlencode(),
    }
    return render(request, "casedesk/client/cases.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def client_request_new(request):
    """A signed-in client contact: send a new request, which lands with their client's
    department like an email would (casedesk.routing); others sign in first."""
    contact = signed_in_contact(request)
    if contact is None:
        return redirect("client_sign_in_request")
    # bound on every POST, an empty one too, so that the page says what is missing
    posted = request.method == "POST"
    form = RequestForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        try:
            case = services.case_request_open(
                contact=contact,
                subject=form.cleaned_data["subject"],
                description=form.cleaned_data["description"],
                files=form.cleaned_data["files"],
                via="web",
            )
        except NoOneToHold:
            log.exception("a new request found nobody to hold it")  # an administrator's
            form.add_error(
                None,
                f"{contact.client.department} cannot take new requests here right now: "
                "please write to your usual contact there. Nothing was sent.",
            )
            status = 503
        except (InvalidTransition, TooManyRequests) as refused:
            form.add_error(None, str(refused))
            status = getattr(refused, "http_status", 400)
        else:
            messages.success(
                request,
                f"Sent: {case.reference} is with {case.owner.name}, {case.owner.title}, who "
                "will answer by the time shown below.",
            )
            return redirect("status_page", status_token(case))
    else:
        status = 400 if posted else 200
    context = {"contact": contact, "form": form}
    return render(request, "casedesk/client/request_new.html", context, status=status)
