"""Staff pages for mail that waits: the department's unassigned mail, the mail held on
the cases they work, and one message with what can be done with it. Thin: a form, an
action of inbound.services, a redirect."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from casedesk.views.access import staff_required
from casedesk.views.submit import submit
from inbound import permissions, services
from inbound.forms import AcceptForm, AttachForm, ReasonForm
from inbound.models import Outcome
from inbound.selectors import LISTS, clients_of, mail_page, message_for, waiting_counts

PAGE_SIZE = 25
TITLES = {"unassigned": "Unassigned mail", "held": "Held mail"}


@require_GET
@staff_required
def mail_list(request, which):
    """Unassigned: the mail of their department's mailboxes from senders we do not know.
    Held: replies on the cases they see in full from people who are not the client's."""
    if which not in LISTS:
        raise Http404
    before, status = None, 200
    if "before" in request.GET:
        raw = request.GET["before"]
        if raw.isdigit() and 0 < int(raw) < 2**63:
            before = int(raw)
        else:
            status = 400
    rows, next_before = mail_page(request.viewer, which, before=before, size=PAGE_SIZE)
    context = {
        "which": which,
        "title": TITLES[which],
        "titles": TITLES,
        "rows": rows,
        "next_before": next_before,
        "first_page": before is None,
        "bad_cursor": status == 400,
        "counts": waiting_counts(request.viewer),
    }
    return render(request, "inbound/list.html", context, status=status)


@require_GET
@staff_required
def mail_detail(request, message_id):
    message = _visible(request, message_id)
    return _render_message(request, message, {})


ACTIONS = {
    "attach": (AttachForm, services.inbound_attach, "Attached: a case is open for it."),
    "discard": (ReasonForm, services.inbound_discard, "Discarded."),
    "accept": (AcceptForm, services.inbound_accept, "Accepted into the case."),
    "reject": (ReasonForm, services.inbound_reject, "Rejected."),
}


@require_POST
@staff_required
def mail_act(request, message_id, action):
    message = _visible(request, message_id)
    if action not in ACTIONS:
        raise Http404
    form_class, service, done_message = ACTIONS[action]
    form = _form(form_class, request, request.POST)
    done, status = submit(
        form,
        lambda data: service(message=message, actor=request.actor, now=timezone.now(), **data),
    )
    if done is None:
        return _render_message(request, _visible(request, message_id), {action: form}, status)
    messages.success(request, done_message)
    return redirect("mail_detail", message_id=message_id)


def _visible(request, message_id):
    message = message_for(request.viewer, message_id)
    if message is None:
        raise Http404
    return message


def _form(form_class, request, data=None):
    if form_class is AttachForm:
        return AttachForm(data, clients=clients_of(request.viewer))
    return form_class(data)


def _render_message(request, message, bound, status=200):
    actor = request.actor
    forms = {}
    if message.outcome == Outcome.UNASSIGNED and permissions.may_handle_unassigned(message, actor):
        forms = {"attach": AttachForm, "discard": ReasonForm}
    elif message.outcome == Outcome.HELD and permissions.may_handle_held(message, actor):
        forms = {"accept": AcceptForm, "reject": ReasonForm}
    # A refusal shows on its form; when that form is no longer offered (someone handled
    # the email first), above the email.
    refusals = [
        error
        for name, form in bound.items()
        if name not in forms
        for error in form.non_field_errors()
    ]
    context = {
        "message": message,
        "refusals": refusals,
        "forms": {
            name: bound.get(name) or _form(form_class, request)
            for name, form_class in forms.items()
        },
    }
    return render(request, "inbound/detail.html", context, status=status)
