from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from .auth import sso
from .models import (
    AcademicRank,
    ApiToken,
    AvailabilityWindow,
    BusyBlock,
    CareerStage,
    Goal,
    Institution,
    Interest,
    Language,
    MeetingFormat,
    Membership,
    MenteeProfile,
    MentorProfile,
    Program,
    RosterImport,
    Specialty,
    User,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["program"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["last_name", "first_name"]
    list_display = ["email", "first_name", "last_name", "is_active", "invited_at", "last_seen"]
    list_filter = ["is_active", "is_staff", "memberships__role", "memberships__program"]
    search_fields = ["email", "first_name", "last_name"]
    readonly_fields = ["last_login", "date_joined", "invited_at", "last_seen"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "time_zone"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["date_joined", "invited_at", "last_login", "last_seen"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "first_name", "last_name", "password1", "password2"]})
    ]


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    """Set up an institution's sign-in: its identity provider (an SSO provider: create one with
    "+", provider OpenID Connect or SAML), the e-mail domains it signs in, and its MFA rules.
    The values its IT team enters at their provider are shown once a provider is chosen."""

    list_display = ["name", "sso_app", "email_domains", "require_mfa_for_coordinators"]
    search_fields = ["name", "email_domains"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["for_your_identity_provider"]
    fieldsets = [
        (None, {"fields": ["name", "slug"]}),
        ("Single sign-on", {"fields": ["sso_app", "email_domains", "sso_self_service", "for_your_identity_provider"]}),
        (
            "Two-factor authentication",
            {
                "fields": ["require_mfa_for_coordinators", "accept_idp_mfa"],
                # policy.on_signed_in decides at sign-in and keeps it in the session.
                "description": "A change applies at each coordinator's next sign-in, not to a session already open.",
            },
        ),
    ]

    @admin.display(description="For your identity provider")
    def for_your_identity_provider(self, institution):
        rows = sso.endpoints(institution)
        if not rows:
            return (
                "No SSO provider yet: add one under Social applications (or with the + beside “SSO provider”), "
                "choose it here and save; the addresses for your identity provider then appear here."
            )
        return format_html_join(
            mark_safe("<br>"), "<strong>{}</strong>: <code>{}</code>", ((label, url) for label, url in rows.items())
        )


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "institution", "specialty", "time_zone"]
    search_fields = ["name", "institution__name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "program", "role"]
    list_filter = ["role", "program"]
    search_fields = ["user__email", "user__last_name"]
    autocomplete_fields = ["user", "program"]


@admin.register(MenteeProfile)
class MenteeProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "career_stage", "updated_at"]
    list_filter = ["career_stage"]
    search_fields = ["user__email", "user__last_name"]
    autocomplete_fields = ["user"]


@admin.register(MentorProfile)
class MentorProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "specialty", "academic_rank", "capacity", "accepting_mentees"]
    list_filter = ["accepting_mentees", "academic_rank", "specialty"]
    search_fields = ["user__email", "user__last_name"]
    autocomplete_fields = ["user"]


@admin.register(AvailabilityWindow)
class AvailabilityWindowAdmin(admin.ModelAdmin):
    list_display = ["user", "weekday", "start", "end"]
    autocomplete_fields = ["user"]


@admin.register(BusyBlock)
class BusyBlockAdmin(admin.ModelAdmin):
    list_display = ["user", "label", "start_date", "end_date"]
    autocomplete_fields = ["user"]


@admin.register(RosterImport)
class RosterImportAdmin(admin.ModelAdmin):
    list_display = ["filename", "program", "uploaded_by", "status", "created_at", "applied_at"]
    list_filter = ["status", "program"]
    readonly_fields = [f.name for f in RosterImport._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "slug"]
    list_filter = [("parent", admin.EmptyFieldListFilter)]
    search_fields = ["name"]


for vocabulary in (Goal, Interest, CareerStage, AcademicRank, Language, MeetingFormat):
    admin.site.register(vocabulary, list_display=["name", "slug", "order"], search_fields=["name"])


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens can be looked at and revoked (deleted) here, never made or edited: a secret
    exists only in the response that issued it, and the row keeps its hash."""

    list_display = ["prefix", "user", "created_at", "expires_at", "last_used_at"]
    search_fields = ["prefix", "user__email"]
    fields = ["user", "prefix", "created_at", "expires_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# allauth's own admins for these show and edit the raw ``data`` (an authenticator's secret, a
# session's contents). Ours only look and delete: an administrator helping someone who lost their
# phone finds them by e-mail and deletes their authenticators, so they can enrol again at their
# next sign-in (policy.on_signed_in asks them to, where a second factor is required).
admin.site.unregister(Authenticator)
admin.site.unregister(UserSession)


class _LookAndDeleteAdmin(admin.ModelAdmin):
    list_select_related = ["user"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Authenticator)
class AuthenticatorAdmin(_LookAndDeleteAdmin):
    list_display = ["user", "type", "name", "created_at", "last_used_at"]
    list_filter = ["type"]
    fields = ["user", "type", "name", "created_at", "last_used_at"]
    readonly_fields = fields

    @admin.display(description="Name")
    def name(self, authenticator):
        # A security key's name; the type's label for the others.
        return str(authenticator)


@admin.register(UserSession)
class UserSessionAdmin(_LookAndDeleteAdmin):
    """Deleting a row here ends that session: its user is signed out on their next request."""

    list_display = ["user", "user_agent", "ip", "created_at", "last_seen_at"]
    fields = ["user", "user_agent", "ip", "created_at", "last_seen_at"]
    readonly_fields = fields

    def delete_model(self, request, obj):
        obj.end()

    def delete_queryset(self, request, queryset):
        for session in queryset:
            session.end()


# --- Institution administrators (issue 15): begin
from .models import InstitutionRole  # noqa: E402  (kept inside this block: the rest of the file is others')


@admin.register(InstitutionRole)
class InstitutionRoleAdmin(admin.ModelAdmin):
    """Superusers name an institution's first administrator here; after that, administrators
    name each other in the product (/institutions/<slug>/)."""

    list_display = ["user", "institution", "role", "created_by", "created_at"]
    list_filter = ["institution", "role"]
    search_fields = ["user__email", "user__last_name", "institution__name"]
    autocomplete_fields = ["user", "institution"]
    readonly_fields = ["created_by", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


# --- Institution administrators (issue 15): end
