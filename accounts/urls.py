from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from .forms import CanonicalPasswordResetForm
from .views import auth, institutions, invitations, profiles, roster, security

app_name = "accounts"

urlpatterns = [
    # Sign-in. No open sign-up: coordinators invite people.
    path("accounts/login/", auth.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth.LogoutView.as_view(), name="logout"),
    path("accounts/2fa/required/", auth.mfa_required, name="mfa-required"),
    path("accounts/tokens/", security.api_tokens, name="api-tokens"),
    path("accounts/tokens/<int:pk>/revoke/", security.api_token_revoke, name="api-token-revoke"),
    path("accounts/tokens/revoke-all/", security.api_tokens_revoke_all, name="api-tokens-revoke-all"),
    path("accounts/sign-out-everywhere/", security.sign_out_everywhere, name="sign-out-everywhere"),
    path(
        "accounts/password/change/",
        auth.PasswordChangeView.as_view(success_url=reverse_lazy("accounts:password_change_done")),
        name="password_change",
    ),
    path("accounts/password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path(
        "accounts/password/reset/",
        auth.PasswordResetView.as_view(
            form_class=CanonicalPasswordResetForm,
            success_url=reverse_lazy("accounts:password_reset_done"),
            email_template_name="registration/password_reset_email.txt",
            html_email_template_name="registration/password_reset_email.html",
            subject_template_name="registration/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path("accounts/password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth.PasswordResetConfirmView.as_view(success_url=reverse_lazy("accounts:password_reset_complete")),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"
    ),
    path("accounts/invitation/<uidb64>/<token>/", auth.InvitationView.as_view(), name="invitation"),
    # Everyone.
    path("profile/", profiles.profile, name="profile"),
    path("profile/account/", profiles.account_edit, name="account-edit"),
    path("profile/mentee/", profiles.mentee_profile_edit, name="mentee-profile-edit"),
    path("profile/availability/", profiles.availability_edit, name="availability-edit"),
    path("profile/busy/", profiles.busy_blocks, name="busy-blocks"),
    path("profile/busy/<int:pk>/edit/", profiles.busy_block_edit, name="busy-block-edit"),
    path("profile/busy/<int:pk>/delete/", profiles.busy_block_delete, name="busy-block-delete"),
    path("profile/busy/calendars/upload/", profiles.busy_calendar_upload, name="busy-calendar-upload"),
    path("profile/busy/calendars/subscribe/", profiles.busy_calendar_subscribe, name="busy-calendar-subscribe"),
    path("profile/busy/calendars/<int:pk>/refresh/", profiles.busy_calendar_refresh, name="busy-calendar-refresh"),
    path("profile/busy/calendars/<int:pk>/delete/", profiles.busy_calendar_delete, name="busy-calendar-delete"),
    # Coordinators.
    path("programs/", roster.program_list, name="programs"),
    path("programs/<slug:slug>/roster/", roster.roster, name="roster"),
    path("programs/<slug:slug>/roster/export.csv", roster.roster_export, name="roster-export"),
    path("programs/<slug:slug>/roster/template.csv", roster.roster_template, name="roster-template"),
    path("programs/<slug:slug>/roster/import/", roster.roster_import_upload, name="roster-import"),
    path("programs/<slug:slug>/roster/import/<int:pk>/", roster.roster_import_preview, name="roster-import-preview"),
    path("programs/<slug:slug>/roster/<int:membership_pk>/invite/", roster.roster_reinvite, name="roster-reinvite"),
    path(
        "programs/<slug:slug>/roster/invitations/<int:pk>/withdraw/",
        roster.roster_invitation_withdraw,
        name="roster-invitation-withdraw",
    ),
    *institutions.urlpatterns,  # Institution administrators: programs and their coordinators.
    # Invitations to join a program, for the person invited.
    path("invitations/", invitations.invitation_list, name="invitations"),
    path("invitations/<int:pk>/accept/", invitations.invitation_accept, name="invitation-accept"),
    path("invitations/<int:pk>/decline/", invitations.invitation_decline, name="invitation-decline"),
]
