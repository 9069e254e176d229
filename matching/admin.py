"""Admin views of match runs: read-only. Runs change only through the match-run services, which
check permissions and write the audit trail; rankings are confidential and not shown."""

from django.contrib import admin

from .models import MatchProposal, MatchRun


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
