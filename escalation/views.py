from datetime import date, timedelta
from urllib.parse import quote

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Department
from casedesk import permissions
from casedesk.errors import CaseError
from casedesk.models import HandOff
from casedesk.selectors import case_for_viewer, cases_visible_to
from casedesk.views.access import staff_required
from casedesk.views.submit import submit
from escalation.authority import may_decide
from escalation.charts import bars
from escalation.convene import handoff_convene, handoff_invitable, handoff_parties
from escalation.dashboard import dashboard_for, figure_cases
from escalation.exceptions import exception_decide, exception_request
from escalation.forms import ConveneForm, DecisionForm, ExceptionRequestForm
from escalation.models import ExceptionRequest, ExceptionState
from escalation.selectors import exception_for_viewer, precedents_for


@require_http_methods(["GET", "POST"])
@staff_required
def exception_new(request, reference):
    """Staff who see the case's client side in full: ask for an exception, routed to whoever
    can decide. Another department the case was handed to: 404."""
    case = case_for_viewer(request.viewer, reference, in_full=True)
    if case is None:
        raise Http404
    form = ExceptionRequestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        created, status = submit(
            form,
            lambda data: exception_request(
                case=case,
                actor=request.actor,
                kind=data["kind"],
                amount=data["amount"] if data["kind"].has_amount else None,
                justification=data["justification"],
            ),
        )
        if created is not None:
            messages.success(request, f"Sent to {created.approver.name}, who can decide it.")
            return redirect("exception_detail", request_id=created.pk)
    return render(
        request, "escalation/exception_new.html", {"case": case, "form": form}, status=status
    )


@require_GET
@staff_required
def exception_detail(request, request_id):
    """Staff who see its case in full, or may decide it: the request, its route,
    precedents, and the decision. Anyone else: 404."""
    return _render_request(request, _visible_request(request, request_id))


@require_POST
@staff_required
def exception_decision(request, request_id):
    """The approver, or someone above them whose authority covers it."""
    exception = _visible_request(request, request_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _render_request(request, exception, form=form, status=400)
    try:
        exception_decide(
            request=exception,
            actor=request.actor,
            approve=form.cleaned_data["outcome"] == "approve",
            rationale=form.cleaned_data["rationale"],
        )
    except CaseError as error:
        messages.error(request, str(error))
        fresh = _visible_request(request, request_id)
        return _render_request(request, fresh, form=form, status=error.http_status)
    messages.success(request, "Decision recorded; the case timeline shows it.")
    return redirect("exception_detail", request_id=request_id)


@require_GET
@staff_required
def dashboard(request):
    """Supervisors and above: decisions, escalations, stalls and SLA health. Others: 404."""
    if not permissions.may_see_dashboard(request.actor):
        raise Http404
    board = dashboard_for(request.viewer)
    figure = reverse("dashboard_figure", args=["all"]).rsplit("all/", 1)[0]
    breach_bars = bars(
        [
            (day.strftime("%d %b"), count, str(count), f"{figure}day-{day.isoformat()}/")
            for day, count in board.health.breaches_per_day
        ]
    )
    department_bars = bars(
        [
            (name, good / total, f"{good / total:.0%}", f"{figure}department-{quote(name)}/")
            for name, good, total in board.health.on_time_by_department
        ],
        width=300,
    )
    context = {
        "board": board,
        "breach_bars": breach_bars,
        "breach_total": sum(count for _, count in board.health.breaches_per_day),
        "department_bars": department_bars,
        "convenable": {
            h.pk for h in board.stalled_handoffs.items if permissions.may_convene(h, request.actor)
        },
        "escalated_href": f"{reverse('case_queue')}?view=mine&state=escalated",
        "awaiting_href": f"{figure}awaiting-decision/",
        "stalled_href": f"{figure}stalled-handoffs/",
    }
    return render(request, "escalation/dashboard.html", context)


FIGURES = {
    "all": "Cases in your area, last 30 days",
    "on-time": "Cases that met every deadline",
    "late": "Cases that missed a deadline",
    "breaches-week": "Cases with a missed deadline this week",
    "first-response": "Cases with a first response",
    "time-to-yes": "Cases with a decided exception request",
    "awaiting-decision": "Cases with an exception request waiting on your decision",
    "stalled-handoffs": "Cases with a stalled hand-off involving your department",
}


@require_GET
@staff_required
def dashboard_figure(request, figure):
    """Supervisors and above: the cases behind one dashboard figure."""
    if not permissions.may_see_dashboard(request.actor):
        raise Http404
    title = FIGURES.get(figure)
    if title is None and figure.startswith("day-"):
        try:
            day = date.fromisoformat(figure[4:])
        except ValueError:
            raise Http404 from None
        if not date(2000, 1, 1) <= day <= date(9000, 1, 1):
            raise Http404
        title = f"Cases with a missed deadline on {day:%d %b %Y}"
    if title is None and figure.startswith("department-"):
        if not Department.objects.filter(name=figure[len("department-") :]).exists():
            raise Http404  # a figure of nothing that exists, like any unknown one
        title = f"Cases of {figure[len('department-') :]}, last 30 days"
    if title is None:
        raise Http404
    cases = list(figure_cases(request.viewer, figure)[:200])
    rows = [(case, request.viewer.sees_client_details(case)) for case in cases]
    return render(
        request, "escalation/figure.html", {"title": title, "rows": rows, "now": timezone.now()}
    )


@require_http_methods(["GET", "POST"])
@staff_required
def handoff_convene_view(request, handoff_id):
    """A supervisor over either side, who may see the case: convene the parties."""
    handoff = get_object_or_404(
        HandOff.objects.select_related(
            "case__owner",
            "accountable__user",
            "requested_by__user",
            "requested_by__manager__user",
            "to_department",
            "from_department",
        ),
        pk=handoff_id,
        case__in=cases_visible_to(request.viewer),
    )
    if not permissions.may_convene(handoff, request.actor):
        raise Http404
    form = ConveneForm(
        request.POST or None,
        invitable=handoff_invitable(handoff),
        parties=handoff_parties(handoff),
        convener=request.actor.staff,
        offer_client=permissions.may_write_on(handoff.case, request.actor),
    )
    status = 200
    if request.method == "POST":
        names, status = submit(
            form,
            lambda data: handoff_convene(
                handoff=handoff,
                actor=request.actor,
                starts_at=data["starts_at"],
                duration=timedelta(minutes=data["minutes"]),
                agenda=data["agenda"],
                include_client=data.get("include_client", False),
                invitees=data["invitees"],
                now=timezone.now(),
            ),
        )
        if names is not None:
            messages.success(request, f"Invitations sent to {', '.join(names)}.")
            return redirect("case_detail", reference=handoff.case.reference)
    return render(
        request, "escalation/convene.html", {"handoff": handoff, "form": form}, status=status
    )


def _visible_request(request, request_id) -> ExceptionRequest:
    exception = exception_for_viewer(request.viewer, request_id)
    if exception is None:
        raise Http404
    return exception


def _render_request(request, exception, *, form=None, status=200):
    can_decide = exception.state == ExceptionState.PENDING and may_decide(
        request.viewer.staff,
        approver=exception.approver,
        kind=exception.kind,
        amount=exception.amount,
    )
    context = {
        "exception": exception,
        "case": exception.case,
        "precedents": precedents_for(exception, request.viewer),
        "can_decide": can_decide,
        "form": form or DecisionForm(),
    }
    return render(request, "escalation/exception_detail.html", context, status=status)
