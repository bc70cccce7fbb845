from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from casedesk import attachments, callbacks, handoffs, permissions, services
from casedesk.errors import CaseError
from casedesk.forms import (
    AttachmentRemoveForm,
    CallBackDoneForm,
    HandoffAnswerForm,
    HandoffAssignForm,
    NewCaseForm,
)
from casedesk.models import Attachment, CallBack, Case, HandOff, HandOffState
from casedesk.selectors import (
    attachment_for_viewer,
    case_for_viewer,
    case_page_timeline,
)
from casedesk.status_links import status_token
from casedesk.views.access import staff_required
from casedesk.views.actions import ACTIONS, available_actions
from casedesk.views.submit import submit


@require_http_methods(["GET", "POST"])
@staff_required
def case_new(request):
    """Staff: open a case for a client of their own department."""
    form = NewCaseForm(request.POST or None, viewer=request.viewer)
    status = 200
    if request.method == "POST":
        case, status = submit(form, lambda data: services.case_open(actor=request.actor, **data))
        if case is not None:
            messages.success(request, f"{case.reference} opened.")
            return redirect("case_detail", reference=case.reference)
    return render(request, "casedesk/case_new.html", {"form": form}, status=status)


@require_http_methods(["GET"])
@staff_required
def case_detail(request, reference):
    """Staff who may see the case (selectors.cases_visible_to); anyone else: 404."""
    return _render_case(request, _visible_case(request, reference))


@require_POST
@staff_required
def case_act(request, reference, action):
    """Staff who may see the case, taking an action the state machine allows them now."""
    case = _visible_case(request, reference)
    if action not in ACTIONS:
        raise Http404
    spec = ACTIONS[action]
    form = spec.form(request.POST, request.FILES, case=case, directory=request.viewer.directory)
    if not form.is_valid():
        return _render_case(request, case, bound={action: form}, status=400)
    case.version = form.cleaned_data["version"]  # what the person saw: stale means conflict
    try:
        spec.run(case, request.actor, form.cleaned_data, now=timezone.now())
    except CaseError as error:
        return _refused(request, reference, action, form, error)
    messages.success(request, f"{spec.label}: done.")
    return redirect("case_detail", reference=reference)


@require_POST
@staff_required
def handoff_answer(request, reference, handoff_id):
    """The receiving department (or anyone above its accountable person) answers."""
    case = _visible_case(request, reference)
    handoff = get_object_or_404(HandOff, pk=handoff_id, case=case)
    form = HandoffAnswerForm(request.POST, request.FILES, handoff=handoff)
    if not form.is_valid():
        return _render_case(request, case, answer_forms={handoff.pk: form}, status=400)
    text, files = form.cleaned_data["answer"], form.cleaned_data["files"]
    try:
        if form.cleaned_data["outcome"] == "complete":
            handoffs.handoff_complete(
                handoff=handoff, actor=request.actor, answer=text, files=files
            )
        else:
            handoffs.handoff_decline(handoff=handoff, actor=request.actor, reason=text, files=files)
    except CaseError as error:
        messages.error(request, str(error))
        fresh = _visible_case(request, reference)
        return _render_case(
            request, fresh, answer_forms={handoff.pk: form}, status=error.http_status
        )
    messages.success(request, "Hand-off answered.")
    return redirect("case_detail", reference=reference)


@require_POST
@staff_required
def handoff_assign(request, reference, handoff_id):
    """The receiving department: take the hand-off, or (supervisors) give it to someone."""
    case = _visible_case(request, reference)
    handoff = get_object_or_404(HandOff, pk=handoff_id, case=case)
    form = HandoffAssignForm(request.POST, handoff=handoff, directory=request.viewer.directory)
    if not form.is_valid():
        messages.error(request, "Choose someone in the receiving department.")
        return _render_case(request, case, status=400)
    try:
        handoffs.handoff_assign(handoff=handoff, actor=request.actor, to=form.cleaned_data["to"])
    except CaseError as error:
        messages.error(request, str(error))
        return _render_case(request, _visible_case(request, reference), status=error.http_status)
    messages.success(request, f"The hand-off is now with {form.cleaned_data['to'].name}.")
    return redirect("case_detail", reference=reference)


@require_POST
@staff_required
def callback_done(request, reference, callback_id):
    """Staff who work the case, or hold the call-back (or are above whoever does), record
    the call made or why it is not needed."""
    case = _visible_case(request, reference, in_full=True)
    callback = get_object_or_404(CallBack, pk=callback_id, case=case)
    form = CallBackDoneForm(request.POST, callback=callback)

    def close(data):
        if data["made"]:
            return callbacks.callback_complete(
                callback=callback, actor=request.actor, outcome=data["outcome"]
            )
        return callbacks.callback_cancel(
            callback=callback, actor=request.actor, reason=data["outcome"]
        )

    done, status = submit(form, close)
    if done is None:
        fresh = _visible_case(request, reference)
        return _render_case(request, fresh, callback_forms={callback.pk: form}, status=status)
    messages.success(request, "Call-back closed: the client reads what you wrote.")
    return redirect("case_detail", reference=reference)


@require_http_methods(["GET"])
@staff_required
def attachment_download(request, reference, attachment_id):
    """A file of a case the viewer may download (selectors.attachments_visible_to: the
    case's own side all of them, another department what is shared with it); anyone
    else, or a file removed from view: 404."""
    attachment = attachment_for_viewer(request.viewer, reference, attachment_id)
    return serve_attachment(request, attachment)


@require_POST
@staff_required
def attachment_remove(request, reference, attachment_id):
    """Whoever works the case (or gave the hand-off answer it came with) takes a file out
    of view, saying why; the timeline keeps the record that it existed."""
    case = _visible_case(request, reference)
    attachment = attachment_for_viewer(request.viewer, reference, attachment_id)
    if attachment is None:
        raise Http404
    form = AttachmentRemoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the file is removed from view.")
        return _render_case(request, case, status=400)
    try:
        attachments.attachment_remove(
            attachment=attachment,
            actor=request.actor,
            reason=form.cleaned_data["reason"],
            now=timezone.now(),
        )
    except CaseError as error:
        messages.error(request, str(error))
        return _render_case(request, _visible_case(request, reference), status=error.http_status)
    messages.success(request, f"{attachment.original_name} is removed from view.")
    return redirect("case_detail", reference=reference)


def serve_attachment(request, attachment: Attachment | None):
    """The file as a download, never shown inline: its name in the Content-Disposition
    (RFC 6266, filename* for any name), the type found by its content, nosniff. A file
    removed from view, or whose bytes are gone: a 404 that says so."""
    if attachment is None:
        raise Http404
    if attachment.is_removed:
        context = {"attachment": attachment}
        return render(request, "casedesk/attachment_gone.html", context, status=404)
    try:
        file = attachments.storage().open(attachment.stored_name, "rb")
    except OSError:
        context = {"attachment": attachment, "missing": True}
        return render(request, "casedesk/attachment_gone.html", context, status=404)
    response = FileResponse(
        file,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def _visible_case(request, reference, *, in_full: bool = False) -> Case:
    case = case_for_viewer(request.viewer, reference, in_full=in_full)
    if case is None:
        raise Http404
    return case


def _refused(request, reference, action, form, error: CaseError):
    """Show why, on the case as it is now, keeping everything the person typed."""
    messages.error(request, str(error))
    fresh = _visible_case(request, reference)
    data = request.POST.copy()
    data["version"] = fresh.version  # they have now seen the fresh case
    rebound = ACTIONS[action].form(data, case=fresh, directory=request.viewer.directory)
    rebound.is_valid()
    return _render_case(request, fresh, bound={action: rebound}, status=error.http_status)


def _render_case(request, case, *, bound=None, answer_forms=None, callback_forms=None, status=200):
    """The case page in a fixed number of queries whoever looks: the case and what hangs on
    it come from case_for_viewer, the people, their chains and every list of choices from
    the request's staff directory, so asking each permission costs nothing; then the
    timeline, with its people, in one query."""
    actor, viewer = request.actor, request.viewer
    directory = viewer.directory
    bound, answer_forms, callback_forms = bound or {}, answer_forms or {}, callback_forms or {}
    timeline = case_page_timeline(viewer, case)  # one query, with the files it may show
    case.live_files = timeline.live  # what a hand-off request may share
    actions = [
        (action, bound.get(action.name) or action.form(case=case, directory=directory))
        for action in available_actions(case, actor)
    ]
    open_handoffs = [h for h in case.handoffs.all() if h.state == HandOffState.OPEN]
    answerable = [
        (
            handoff,
            answer_forms.get(handoff.pk) or HandoffAnswerForm(handoff=handoff),
            HandoffAssignForm(handoff=handoff, directory=directory)
            if permissions.may_give_handoff(handoff, actor)
            else None,
        )
        for handoff in open_handoffs
        if permissions.acts_for_handoff(handoff, actor)
    ]
    sees_client = viewer.sees_client_details(case)
    shown_handoffs = (
        list(case.handoffs.all())
        if sees_client
        else [h for h in case.handoffs.all() if h.to_department_id == viewer.department_id]
    )
    for handoff in shown_handoffs:
        handoff.files = timeline.by_handoff.get(handoff.pk, [])
    removable = {
        attachment.pk
        for event in timeline.events
        for attachment in event.files
        if not attachment.is_removed and permissions.may_remove_attachment(case, attachment, actor)
    }
    context = {
        "status_url": request.build_absolute_uri(reverse("status_page", args=[status_token(case)]))
        if sees_client
        else "",
        "case": case,
        "sees_client": sees_client,
        "handoffs": shown_handoffs,
        "timeline": timeline.events,
        "removable": removable,
        "actions": actions,
        "callbacks": [
            (
                callback,
                callback_forms.get(callback.pk) or CallBackDoneForm(callback=callback),
                callback.is_pending and permissions.may_record_call(case, callback, actor),
            )
            for callback in case.callbacks.all()
        ]
        if sees_client
        else [],
        "answerable": answerable,
        "convenable": {h.pk for h in open_handoffs if permissions.may_convene(h, actor)},
        "open_action": next(iter(bound), None),
    }
    return render(request, "casedesk/case_detail.html", context, status=status)
