"""The client's status page: who has my case, what happens next and by when, and a way to
reach someone who can say yes. Opened by the case's signed link; no sign-in, no JavaScript.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from casedesk import callbacks, client_forms, client_services, deadlines, services
from casedesk.actors import Actor
from casedesk.models import Case, CaseState
from casedesk.plain_words import DECISIONS, PLAIN_STATE, late_words, next_step
from casedesk.selectors import (
    client_attachments,
    client_timeline,
    pending_callback,
    status_page_cases,
)
from casedesk.status_links import case_for_token
from casedesk.throttle import address
from casedesk.views.cases import serve_attachment
from casedesk.views.client_access import bad_links, signed_in_contact, too_many
from casedesk.views.submit import submit


@dataclass(frozen=True)
class ClientAction:
    form: type[forms.Form]
    run: Callable[[Case, Actor, forms.Form], object]
    done: str


CLIENT_ACTIONS = {
    "message": ClientAction(
        client_forms.MessageForm,
        lambda case, actor, form: services.case_client_message(
            case=case, actor=actor, text=form.cleaned_data["text"], files=form.cleaned_data["files"]
        ),
        "Thank you: your message is on your case.",
    ),
    "appeal": ClientAction(
        client_forms.AppealForm,
        lambda case, actor, form: services.case_escalate(
            case=case,
            actor=actor,
            reason=f"The client asked for a supervisor: {form.cleaned_data['reason']}",
        ),
        "A supervisor now has your case.",
    ),
    "reopen": ClientAction(
        client_forms.ReopenForm,
        lambda case, actor, form: services.case_reopen(
            case=case, actor=actor, reason=form.cleaned_data["reason"]
        ),
        "Your case is open again.",
    ),
    "callback": ClientAction(
        client_forms.CallBackForm,
        lambda case, actor, form: callbacks.callback_request(
            case=case, actor=actor, **form.service_arguments()
        ),
        "Your call-back is booked.",
    ),
    "cancel_callback": ClientAction(
        client_forms.CancelCallBackForm,
        lambda case, actor, form: callbacks.callback_cancel(
            callback=form.cleaned_data["callback"], actor=actor, reason=""
        ),
        "Your call-back is cancelled.",
    ),
    "feedback": ClientAction(
        client_forms.FeedbackForm,
        lambda case, actor, form: client_services.feedback_give(
            case=case,
            actor=actor,
            rating=form.cleaned_data["rating"],
            letter=form.cleaned_data["letter"],
        ),
        "Thank you for your feedback: it goes to the people who worked your case.",
    ),
}


@never_cache
@require_http_methods(["GET", "POST"])
def status_page(request, token):
    """Anyone holding the case's current link. Wrong, tampered or revoked: 404, no hint;
    too many wrong links from one address: 429."""
    if bad_links("status").exceeded(address(request)):
        return too_many(request)
    case = case_for_token(token, among=status_page_cases())
    if case is None:
        bad_links("status").count(address(request))
        raise Http404
    contact = signed_in_contact(request)
    own = contact if contact is not None and contact.client_id == case.client_id else None
    actor = Actor.for_contact(own) if own else Actor.for_status_link(case.client_id)
    bound, status = {}, 200
    if request.method == "POST":
        name = request.POST.get("action", "")
        if name not in CLIENT_ACTIONS:
            raise Http404
        action = CLIENT_ACTIONS[name]
        form = bound[name] = _form(name, action.form, case, own, request.POST, request.FILES)
        result, status = submit(form, lambda data: action.run(case, actor, form))
        if result is not None:
            messages.success(request, action.done)
            return redirect("status_page", token=token)
        case = status_page_cases().get(pk=case.pk)  # refused: show the case as it is now
    return _render(request, case, token, contact, own, bound, status)


@never_cache
@require_http_methods(["GET"])
def status_attachment(request, token, attachment_id):
    """Whoever holds the case's current link (the client, or their signed-in contact): the
    files on what the client can see of their case (selectors.client_attachments). A wrong
    link, another case's file, an internal one or one removed from view: 404."""
    if bad_links("status").exceeded(address(request)):
        return too_many(request)
    case = case_for_token(token)
    if case is None:
        bad_links("status").count(address(request))
        raise Http404
    attachment = client_attachments(case).filter(pk=attachment_id).first()
    return serve_attachment(request, attachment)


def _form(name, form_class, case, contact, data=None, files=None):
    """A client form, its fields' ids named after it (the page holds several); the call-back
    form starts from the signed-in contact's own details."""
    ids = f"id_{name}_%s"
    if form_class is client_forms.MessageForm:
        return form_class(data, files, auto_id=ids)
    if form_class is client_forms.CancelCallBackForm:
        return form_class(data, case=case, auto_id=ids)
    if form_class is client_forms.CallBackForm:
        zone = contact.user.time_zone if contact and contact.user_id else ""
        initial = {"phone": contact.phone} if contact else {}
        return form_class(data, zone=zone, initial=initial, auto_id=ids)
    return form_class(data, auto_id=ids)


def _render(request, case, token, contact, own, bound, status):
    """Four queries with the case (read with status_page_cases): the timeline, the booked
    call-back; the session's and the signed-in contact's are the frame's."""
    timeline = client_timeline(case)  # with each event's files, in the one query
    callback = pending_callback(case)
    resolved = case.state == CaseState.RESOLVED
    reopen_until = deadlines.client_reopen_until(case)  # the service enforces the same
    forms_ = {
        name: bound.get(name) or _form(name, action.form, case, own)
        for name, action in CLIENT_ACTIONS.items()
    }
    now = timezone.now()
    step = next_step(case, now=now)
    context = {
        "case": case,
        "token": token,
        "contact": contact,
        "plain_state": PLAIN_STATE[case.state],
        "next_step": step,
        "late_words": late_words(case, step) if step and step.late else "",
        "timeline": timeline,
        "decisions": [event for event in timeline if event.kind in DECISIONS],
        "callback": callback,
        "callback_hours": deadlines.hours_of(case.department).describe(),
        "rating": case.resolution_rating,
        "forms": forms_,
        "can_appeal": not resolved,
        "can_reopen": reopen_until is not None and now <= reopen_until,
        "can_book_call": not resolved,
        "can_give_feedback": resolved and case.resolution_rating is None,
        "reopen_until": reopen_until,
    }
    return render(request, "casedesk/status.html", context, status=status)
