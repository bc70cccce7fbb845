from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import AccessEvent, Department, StaffProfile, User


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
