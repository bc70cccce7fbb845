from django.contrib import admin

from casedesk.admin import ReadOnlyAdminMixin
from escalation.models import Escalation


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "escalated_at",
        "case",
        "handoff",
        "deadline_kind",
        "level",
        "from_person",
        "to_person",
    ]
    list_filter = ["deadline_kind", "level"]
    search_fields = ["case__reference"]
    list_select_related = ["case", "from_person__user", "to_person__user"]
