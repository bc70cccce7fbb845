from django import template

from inbound.selectors import waiting_counts

register = template.Library()


@register.inclusion_tag("inbound/_waiting.html")
def mail_waiting(viewer):
    """The links to the mail lists with how many wait in each (one query)."""
    return {"counts": waiting_counts(viewer)}
