from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone

from accounts.admin import ReadOnlyAdminMixin
from casedesk.models import (
    Attachment,
    BusinessCalendar,
    CallBack,
    Case,
    CaseEvent,
    CaseReach,
    Client,
    ClientContact,
    ClientSignInLink,
    Feedback,
    HandOff,
    Notification,
    SlaPolicy,
    WorkerHeartbeat,
)
from casedesk.notifications import notifications_send_again
from casedesk.search import refresh_client_search
from casedesk.signin import SignInAttempts


class ClientContactInline(admin.TabularInline):
    model = ClientContact
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "department", "email", "phone"]
    list_filter = ["department"]
    search_fields = ["name", "email"]
    inlines = [ClientContactInline]

    @transaction.atomic
    def save_related(self, request, form, formsets, change):
        """Its name and its contacts' are searched in its cases: refreshed once all are saved,
        in the same transaction."""
        super().save_related(request, form, formsets, change)
        refresh_client_search([form.instance.pk])


@admin.register(ClientContact)
class ClientContactAdmin(admin.ModelAdmin):
    list_display = ["name", "client", "email", "phone"]
    list_filter = ["client__department"]
    search_fields = ["name", "email", "client__name"]
    list_select_related = ["client"]
    raw_id_fields = ["user"]

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        """A contact's name is searched in its client's cases (both clients', if it moved)."""
        moved_from = form.initial.get("client") if change else None
        super().save_model(request, obj, form, change)
        refresh_client_search([obj.client_id, *([moved_from] if moved_from else [])])

    @transaction.atomic
    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        refresh_client_search([obj.client_id])

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        clients = list(queryset.values_list("client_id", flat=True).distinct())
        super().delete_queryset(request, queryset)
        refresh_client_search(clients)


class CaseEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CaseEvent
    fields = [
        "created_at",
        "kind",
        "actor_label",
        "from_state",
        "to_state",
        "target",
        "reason",
        "client_visible",
    ]
    readonly_fields = fields
    extra = 0


class HandOffInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = HandOff
    fields = ["to_department", "accountable", "state", "due_at", "request"]
    readonly_fields = fields
    extra = 0


@admin.register(Case)
class CaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Cases change only through the services (their state machine); the admin shows them."""

    list_display = [
        "reference",
        "subject",
        "client",
        "state",
        "priority",
        "owner",
        "due_at",
        "escalation_level",
        "at_top_of_chain",
    ]
    list_filter = ["state", "priority", "department", "at_top_of_chain"]
    search_fields = ["reference", "subject", "client__name"]
    list_select_related = ["client", "owner__user"]
    date_hierarchy = "created_at"
    inlines = [HandOffInline, CaseEventInline]


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "case",
        "kind",
        "actor_label",
        "from_state",
        "to_state",
        "client_visible",
    ]
    list_filter = ["kind", "actor_kind", "client_visible"]
    search_fields = ["case__reference", "reason"]
    list_select_related = ["case", "actor_user", "actor_contact"]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read only: files join a case and leave its view only through casedesk.attachments
    (the admin never serves the bytes; the case page's download asks the visibility rule)."""

    list_display = ["created_at", "case", "original_name", "content_type", "size", "removed_at"]
    list_filter = ["content_type"]
    search_fields = ["case__reference", "original_name", "sha256"]
    list_select_related = ["case"]
    exclude = ["stored_name"]


@admin.register(HandOff)
class HandOffAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["case", "from_department", "to_department", "accountable", "state", "due_at"]
    list_filter = ["state", "to_department", "from_department"]
    search_fields = ["case__reference", "request", "shared_summary"]
    list_select_related = ["case", "from_department", "to_department", "accountable__user"]


@admin.register(CaseReach)
class CaseReachAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Derived rows (kept by the database's triggers): shown, never edited."""

    list_display = ["case", "department", "person", "due_at", "updated_at"]
    search_fields = ["case__reference"]
    list_select_related = ["case", "department", "person__user"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "seen_at"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "department",
        "priority",
        "first_response",
        "next_update",
        "resolution",
        "handoff_response",
        "escalation_step",
    ]
    list_filter = ["department", "priority"]
    search_fields = ["department__name"]


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = [
        "department",
        "time_zone",
        "work_days",
        "opens_at",
        "closes_at",
        "holiday_country",
    ]
    search_fields = ["department__name"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The outbox: what was sent to whom, and what is still waiting or failed. What failed
    for good is found with the status filter and queued again with "Send again"."""

    list_display = [
        "created_at",
        "recipient_email",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    ]
    list_filter = ["status", "created_at"]
    search_fields = ["recipient_email", "subject", "case__reference"]
    list_select_related = ["case"]
    actions = ["send_again"]

    @admin.action(description="Send again")
    def send_again(self, request, queryset):
        selected = queryset.count()
        queued, refused = notifications_send_again(
            ids=queryset.values_list("pk", flat=True), now=timezone.now()
        )
        self.message_user(request, f"{queued} queued to be sent again.", messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                f"{refused} not sent again: each held a one-time sign-in link, removed when it "
                "failed. The person can ask for a new link.",
                messages.WARNING,
            )
        skipped = selected - queued - refused
        if skipped > 0:
            self.message_user(
                request, f"{skipped} left alone: only failed emails are sent again.", messages.INFO
            )


@admin.register(CallBack)
class CallBackAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Call-backs clients asked for: who holds each, by when, and how it went."""

    list_display = ["case", "requested_for", "accountable", "state", "due_at", "escalation_level"]
    list_filter = ["state", "at_top_of_chain"]
    search_fields = ["case__reference", "phone"]
    list_select_related = ["case", "accountable__user"]


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "case", "rating", "owner"]
    list_filter = ["rating"]
    search_fields = ["case__reference", "letter"]
    list_select_related = ["case", "owner__user"]


@admin.register(ClientSignInLink)
class ClientSignInLinkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """One-time sign-in links sent to client contacts (only a digest of each is kept)."""

    list_display = ["contact", "created_at", "expires_at", "used_at"]
    search_fields = ["contact__name", "contact__email"]
    list_select_related = ["contact__client"]
    exclude = ["token_hash"]


# --- Sign-in lock-outs (django-axes) ---------------------------------------------------
# axes's own admin, with our handler for its "clean up expired attempts" action (axes's
# default handler would expire attempts by the wrong cool-off). Deleting an attempt clears
# the lock-out it holds. axes's access logs stay unregistered: accounts.AccessEvent is the
# record of who signed in.
for _model in (AccessAttempt, AccessLog, AccessFailureLog):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(AxesAccessAttemptAdmin):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.handler = SignInAttempts()
