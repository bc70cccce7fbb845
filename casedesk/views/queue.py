from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from casedesk.forms import QueueFilterForm
from casedesk.selectors import QUEUE_SORTS, QUEUE_VIEWS, QueueFilters, queue_cases
from casedesk.views.access import staff_required

PAGE_SIZE = 25


@require_GET
@staff_required
def case_queue(request):
    """Staff: the cases they may see, by view, filters and search, soonest deadline first."""
    form = QueueFilterForm(request.GET or None, viewer=request.viewer)
    valid = form.is_valid() if form.is_bound else True
    filters = form.filters() if form.is_bound and valid else QueueFilters()
    page = Paginator(queue_cases(request.viewer, filters, now=timezone.now()), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    now = timezone.now()
    context = {
        "now": now,
        "form": form,
        "filters": filters,
        "views": QUEUE_VIEWS,
        "page": page,
        "rows": [(case, request.viewer.sees_client_details(case)) for case in page],
        "query": query.urlencode(),
        "sort_label": QUEUE_SORTS[filters.sort].lower(),
        "is_filtered": any(
            [filters.state, filters.priority, filters.client, filters.owner, filters.search]
        ),
    }
    return render(request, "casedesk/queue.html", context, status=200 if valid else 400)
