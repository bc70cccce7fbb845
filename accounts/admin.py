from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.audit import access_record
from accounts.models import AccessEvent, AccessKind, Department, StaffProfile, User
from accounts.second_factor import second_factor_reset

# Authenticators change only through accounts.second_factor (set up by their owner, reset
# by the users admin's action), so every change is in the access audit: django-otp's own
# admin pages, which add and delete them silently, are not offered.
for device in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(device):
        admin.site.unregister(device)


class ReadOnlyAdminMixin:
    """For records the application writes itself: viewable, never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    fk_name = "user"
    autocomplete_fields = ["manager"]
    can_delete = False


@admin.register(User)
class CasedeskUserAdmin(UserAdmin):
    inlines = [StaffProfileInline]
    fieldsets = [*UserAdmin.fieldsets, ("Preferences", {"fields": ["time_zone"]})]
    list_display = ["username", "first_name", "last_name", "email", "is_staff", "is_active"]
    actions = ["reset_second_factor"]

    def user_change_password(self, request, id, form_url=""):
        """An administrator setting someone's password is an access event like any change
        of it (Django ends that person's sessions, the password being part of their hash)."""
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            access_record(
                kind=AccessKind.PASSWORD_CHANGED,
                user=User.objects.get(pk=id),
                request=request,
                now=timezone.now(),
                detail=f"set by {request.user.username}",
            )
        return response

    @admin.action(description="Reset the second factor (a lost phone)")
    def reset_second_factor(self, request, queryset):
        now = timezone.now()
        for user in queryset:
            second_factor_reset(user=user, by=request.user, request=request, now=now)
        self.message_user(
            request,
            f"Second factor reset for {queryset.count()} person(s): they set a new one up "
            "at their next sign-in if their role needs it.",
            messages.SUCCESS,
        )


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "intake_owner"]
    search_fields = ["name"]
    fields = ["name", "intake_owner"]
    autocomplete_fields = ["intake_owner"]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "department", "authority_level", "manager"]
    list_filter = ["department", "authority_level"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "title"]
    list_select_related = ["user", "department", "manager__user"]
    autocomplete_fields = ["manager"]


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The access audit: read here, written only by the application."""

    list_display = ["at", "kind", "username", "user", "address", "detail"]
    list_filter = ["kind", "at"]
    search_fields = ["username"]
    date_hierarchy = "at"
    list_select_related = ["user"]
