from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from casedesk.forms import QueueFilterForm
from casedesk.keyset import cursor_in
from casedesk.search import RANKED_MATCHES
from casedesk.selectors import QUEUE_ORDERS, QUEUE_VIEWS, SEARCH_SORTS, QueueFilters, queue_page
from casedesk.views.access import staff_required

PAGE_SIZE = 25


@require_GET
@staff_required
def case_queue(request):
    """Staff: the cases they may see, by view, filters and search, soonest deadline first,
    25 a page with Next and Previous (no page numbers: nothing counts the whole set)."""
    form = QueueFilterForm(request.GET or None, viewer=request.viewer)
    valid = form.is_valid() if form.is_bound else True
    filters = form.filters() if form.is_bound and valid else QueueFilters()
    cursor = (
        cursor_in(form.cleaned_data, QUEUE_ORDERS[filters.sort])
        if valid and form.is_bound
        else None
    )
    now = timezone.now()
    page = queue_page(request.viewer, filters, now=now, cursor=cursor, size=PAGE_SIZE)
    query = request.GET.copy()
    for name in ("page", "after", "before"):
        query.pop(name, None)
    context = {
        "now": now,
        "form": form,
        "filters": filters,
        "views": QUEUE_VIEWS,
        "page": page,
        "rows": [(case, request.viewer.sees_client_details(case)) for case in page.rows],
        "query": query.urlencode(),
        "sort_label": SEARCH_SORTS[filters.sort].lower(),
        "ranked_matches": f"{RANKED_MATCHES:,}",
        "newest_first": _with(query, sort="newest"),
        "is_filtered": any(
            [filters.state, filters.priority, filters.client, filters.owner, filters.search]
        ),
    }
    return render(request, "casedesk/queue.html", context, status=200 if valid else 400)


def _with(query, **changes) -> str:
    changed = query.copy()
    for name, value in changes.items():
        changed[name] = value
    return changed.urlencode()
