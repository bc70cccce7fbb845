from django.contrib import admin

from accounts.admin import ReadOnlyAdminMixin
from escalation.models import (
    AuthorityRule,
    Escalation,
    ExceptionKind,
    ExceptionRequest,
    FigureDay,
    FigureDuration,
    FigureRefresh,
    TopDigest,
)


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


class AuthorityRuleInline(admin.TabularInline):
    model = AuthorityRule
    extra = 1


@admin.register(ExceptionKind)
class ExceptionKindAdmin(admin.ModelAdmin):
    list_display = ["name", "has_amount"]
    search_fields = ["name"]
    inlines = [AuthorityRuleInline]


@admin.register(AuthorityRule)
class AuthorityRuleAdmin(admin.ModelAdmin):
    list_display = ["kind", "min_authority_level", "max_amount"]
    list_filter = ["kind", "min_authority_level"]
    search_fields = ["kind__name"]


@admin.register(ExceptionRequest)
class ExceptionRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Requests change only through their services; the admin shows them."""

    list_display = ["created_at", "case", "kind", "amount", "state", "approver", "decided_by"]
    list_filter = ["state", "kind", "beyond_authority"]
    search_fields = ["case__reference", "justification", "rationale"]
    list_select_related = ["case", "kind", "approver__user", "decided_by__user"]


@admin.register(TopDigest)
class TopDigestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["person", "day", "items", "sent_at"]
    list_filter = ["day"]


# The dashboard's figures: derived rows, recomputed by refresh_figures / rebuild_figures.
@admin.register(FigureDay)
class FigureDayAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["day", "department", "person", "opened", "opened_late", "resolved", "breaches"]
    list_filter = ["day", "department"]
    list_select_related = ["department", "person__user"]


@admin.register(FigureDuration)
class FigureDurationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["day", "kind", "department", "person", "seconds"]
    list_filter = ["kind", "day"]
    list_select_related = ["department", "person__user"]


@admin.register(FigureRefresh)
class FigureRefreshAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["refreshed_at", "first_day"]
