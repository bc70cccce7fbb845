from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil

from casedesk.plain_words import client_time, headline

register = template.Library()

STATE_BADGES = {
    "open": "text-bg-primary",
    "escalated": "text-bg-warning",
    "cross_department": "text-bg-info",
    "denied": "text-bg-danger",
    "resolved": "text-bg-success",
}
PRIORITY_BADGES = {"urgent": "text-bg-danger", "high": "text-bg-warning"}


@register.simple_tag
def due(when, now=None, late=None):
    """Relative deadline text, the exact local time on hover; overdue stands out. `late`: a
    deadline missed at the top of a chain that has re-armed since; it stays the one shown."""
    if when is None:
        return format_html('<span class="text-body-secondary">no deadline</span>')
    now = now or timezone.now()
    when = late or when
    exact = timezone.localtime(when).strftime("%a %d %b %Y, %H:%M %Z")
    iso = when.isoformat()
    if when < now:
        return format_html(
            '<time class="cd-overdue fw-semibold" datetime="{}" title="{}">overdue by {}</time>',
            iso,
            exact,
            timesince(when, now, depth=1),
        )
    return format_html(
        '<time datetime="{}" title="{}">in {}</time>', iso, exact, timeuntil(when, now, depth=1)
    )


@register.filter
def is_late(case, now) -> bool:
    """An active case past its deadline, or whose breach at the top still stands."""
    return case.is_active and (case.late_since is not None or case.due_at < now)


@register.simple_tag
def when(moment):
    """An event's time: exact, in the reader's time zone."""
    local = timezone.localtime(moment)
    return format_html(
        '<time datetime="{}">{}</time>', moment.isoformat(), local.strftime("%d %b %Y, %H:%M")
    )


@register.filter
def state_badge(case_or_state):
    state = getattr(case_or_state, "state", case_or_state)
    label = getattr(case_or_state, "get_state_display", lambda: state)()
    return format_html(
        '<span class="badge {}">{}</span>', STATE_BADGES.get(state, "text-bg-secondary"), label
    )


@register.filter
def priority_badge(case):
    css = PRIORITY_BADGES.get(case.priority, "text-bg-light border")
    return format_html('<span class="badge {}">{}</span>', css, case.get_priority_display())


@register.filter
def get_item(mapping, key):
    return mapping.get(key, "")


@register.filter
def duration(value):
    """A timedelta as '3 h 20 min' or '2 d 4 h'."""
    minutes = int(value.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


@register.filter
def client_headline(event):
    """A timeline event as the client reads it."""
    return headline(event)


@register.filter
def last_digits(phone: str, count: int = 4) -> str:
    """A phone number shown to a link holder: enough to recognise it, not to read it off."""
    digits = [c for c in phone if c.isdigit()]
    return "".join(digits[-count:])


@register.filter
def requested_time(callback) -> str:
    """A call-back's time as the client chose it, in their own zone."""
    return client_time(callback.requested_for, callback.time_zone)
