"""The client's status page: who has my case, what happens next and by when, and a way to
reach someone who can say yes. Opened by the case's signed link; no sign-in, no JavaScript.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from casedesk import deadlines, services
from casedesk.actors import Actor
from casedesk.models import Case, CaseState
from casedesk.selectors import case_timeline
from casedesk.status_links import case_for_token
from casedesk.views.submit import submit

PLAIN_STATE = {
    CaseState.OPEN: "We're working on it",
    CaseState.ESCALATED: "With a supervisor",
    CaseState.CROSS_DEPARTMENT: "Waiting on another team",
    CaseState.DENIED: "Declined: you can ask for a review",
    CaseState.RESOLVED: "Resolved",
}
BAD_TOKEN_WINDOW = 600  # seconds


def _text(label: str, *, required: bool = True):
    return forms.CharField(
        label=label,
        required=required,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MessageForm(forms.Form):
    text = _text("Your message")


class AppealForm(forms.Form):
    reason = _text("Why you would like a supervisor to look at it")


class ReopenForm(forms.Form):
    reason = _text("What is still wrong", required=False)


CLIENT_ACTIONS = {
    "message": (
        MessageForm,
        lambda case, actor, data: services.case_client_message(
            case=case, actor=actor, text=data["text"]
        ),
        "Thank you: your message is on your case.",
    ),
    "appeal": (
        AppealForm,
        lambda case, actor, data: services.case_escalate(
            case=case, actor=actor, reason=f"The client asked for a supervisor: {data['reason']}"
        ),
        "A supervisor now has your case.",
    ),
    "reopen": (
        ReopenForm,
        lambda case, actor, data: services.case_reopen(
            case=case, actor=actor, reason=data["reason"]
        ),
        "Your case is open again.",
    ),
}


def _address(request) -> str:
    return request.META.get("REMOTE_ADDR", "unknown")


def _too_many_bad_tokens(request) -> bool:
    return cache.get(f"status-bad:{_address(request)}", 0) >= settings.CASEDESK_STATUS_BAD_TOKENS


def _count_bad_token(request) -> None:
    key = f"status-bad:{_address(request)}"
    if cache.add(key, 1, BAD_TOKEN_WINDOW):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, BAD_TOKEN_WINDOW)


@never_cache
@require_http_methods(["GET", "POST"])
def status_page(request, token):
    """Anyone holding the case's current link. Wrong, tampered or revoked: 404, no hint;
    too many wrong links from one address: 429."""
    if _too_many_bad_tokens(request):
        return HttpResponse("Too many attempts. Please try again later.", status=429)
    case = case_for_token(token)
    if case is None:
        _count_bad_token(request)
        raise Http404
    bound, status = {}, 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in CLIENT_ACTIONS:
            raise Http404
        form_class, run, done = CLIENT_ACTIONS[action]
        form = bound[action] = form_class(request.POST)
        actor = Actor.for_status_link(case.client_id)
        result, status = submit(form, lambda data: run(case, actor, data))
        if result is not None:
            messages.success(request, done)
            return redirect("status_page", token=token)
    return _render(request, case.pk, bound, status)


def _render(request, case_id, bound, status):
    case = Case.objects.select_related("owner__user", "owner__manager__user").get(pk=case_id)
    reopen_until = deadlines.client_reopen_until(case)  # the service enforces the same
    can_reopen = reopen_until is not None and timezone.now() <= reopen_until
    context = {
        "case": case,
        "plain_state": PLAIN_STATE[case.state],
        "timeline": case_timeline(case, client_visible_only=True),
        "message_form": bound.get("message") or MessageForm(),
        "appeal_form": bound.get("appeal") or AppealForm(),
        "reopen_form": bound.get("reopen") or ReopenForm(),
        "can_appeal": case.state != CaseState.RESOLVED,
        "can_reopen": can_reopen,
        "reopen_until": reopen_until,
    }
    return render(request, "casedesk/status.html", context, status=status)
