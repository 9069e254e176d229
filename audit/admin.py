from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Append-only, even for superusers: no add, change or delete here (the model refuses too).
    The coordinators' own view, search and export is /programs/<slug>/audit/."""

    list_display = ["created_at", "program", "actor", "action", "object_type", "object_id"]
    list_filter = ["program", "object_type"]
    list_select_related = ["program", "actor"]
    search_fields = ["action", "reason", "object_id", "actor__email", "actor__last_name"]
    date_hierarchy = "created_at"
    actions = None

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
