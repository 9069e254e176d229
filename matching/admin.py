"""Admin views of match runs and the audit trail: read-only. Runs change only through
matching.services.match_runs, which checks permissions and writes the audit trail; rankings are
confidential and not shown; audit entries are append-only."""

from django.contrib import admin

from .models import AuditEntry, MatchProposal, MatchRun


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MatchProposalInline(admin.TabularInline):
    model = MatchProposal
    extra = 0
    fields = ["mentee", "mentor", "score", "decision", "override_mentor", "why_not"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(MatchRun)
class MatchRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "program", "kind", "algorithm", "status", "progress", "round", "created_at", "published_at"]
    list_filter = ["status", "kind", "algorithm", "program"]
    list_select_related = ["program"]
    exclude = ["mentees", "mentors"]
    inlines = [MatchProposalInline]


@admin.register(MatchProposal)
class MatchProposalAdmin(ReadOnlyAdmin):
    list_display = ["id", "run", "mentee", "mentor", "score", "decision"]
    list_filter = ["decision"]
    list_select_related = ["run__program", "mentee", "mentor"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Append-only, even for superusers: no add, change or delete here (the model refuses too).
    The coordinators' own view, search and export is /programs/<slug>/audit/."""

    list_display = ["created_at", "program", "actor", "action", "object_type", "object_id"]
    list_filter = ["program", "object_type"]
    list_select_related = ["program", "actor"]
    search_fields = ["action", "reason", "object_id", "actor__email", "actor__last_name"]
    date_hierarchy = "created_at"
    actions = None
