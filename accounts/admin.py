from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.utils import timezone

from accounts.models import AccessEvent, Department, StaffProfile, User
from accounts.second_factor import second_factor_reset


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
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "department", "authority_level", "manager"]
    list_filter = ["department", "authority_level"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "title"]
    list_select_related = ["user", "department", "manager__user"]
    autocomplete_fields = ["manager"]


@admin.register(AccessEvent)
class AccessEventAdmin(admin.ModelAdmin):
    """The access audit: read here, written only by the application."""

    list_display = ["at", "kind", "username", "user", "address", "detail"]
    list_filter = ["kind", "at"]
    search_fields = ["username"]
    date_hierarchy = "at"
    list_select_related = ["user"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
