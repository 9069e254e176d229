from django.urls import path
from rest_framework.routers import SimpleRouter

from . import busy, institutions, invitations, roster_actions, views

app_name = "accounts-api"

router = SimpleRouter()
router.register("programs", views.ProgramViewSet, basename="program")
router.register("specialties", views.SpecialtyViewSet, basename="specialty")
router.register("goals", views.GoalViewSet, basename="goal")
router.register("interests", views.InterestViewSet, basename="interest")
router.register("career-stages", views.CareerStageViewSet, basename="career-stage")
router.register("academic-ranks", views.AcademicRankViewSet, basename="academic-rank")
router.register("languages", views.LanguageViewSet, basename="language")
router.register("meeting-formats", views.MeetingFormatViewSet, basename="meeting-format")

urlpatterns = [
    path("auth/token/", views.TokenObtainApi.as_view(), name="token"),
    path("auth/tokens/", views.TokenListApi.as_view(), name="tokens"),
    path("auth/tokens/<int:id>/", views.TokenRevokeApi.as_view(), name="token-revoke"),
    path("me/", views.MeApi.as_view(), name="me"),
    path("me/mentee-profile/", views.MenteeProfileApi.as_view(), name="mentee-profile"),
    path("me/availability/", views.AvailabilityApi.as_view(), name="availability"),
    path("me/busy-blocks/", busy.BusyBlockListApi.as_view(), name="busy-blocks"),
    path("me/busy-blocks/<int:id>/", busy.BusyBlockDetailApi.as_view(), name="busy-block"),
    path("me/busy-calendars/", busy.BusyCalendarListApi.as_view(), name="busy-calendars"),
    path("me/busy-calendars/<int:id>/", busy.BusyCalendarDetailApi.as_view(), name="busy-calendar"),
    path("me/busy-calendars/<int:id>/refresh/", busy.BusyCalendarRefreshApi.as_view(), name="busy-calendar-refresh"),
    path("me/program-invitations/", invitations.MyInvitationListApi.as_view(), name="my-invitations"),
    path(
        "me/program-invitations/<int:id>/accept/",
        invitations.MyInvitationAcceptApi.as_view(),
        name="my-invitation-accept",
    ),
    path(
        "me/program-invitations/<int:id>/decline/",
        invitations.MyInvitationDeclineApi.as_view(),
        name="my-invitation-decline",
    ),
    path("programs/<slug:slug>/roster/", views.ProgramRosterApi.as_view(), name="program-roster"),
    path(
        "programs/<slug:slug>/invitations/", invitations.ProgramInvitationListApi.as_view(), name="program-invitations"
    ),
    path(
        "programs/<slug:slug>/invitations/<int:id>/withdraw/",
        invitations.ProgramInvitationWithdrawApi.as_view(),
        name="program-invitation-withdraw",
    ),
    *roster_actions.urlpatterns,
    *institutions.urlpatterns,  # Institution administrators: programs and their coordinators.
    *router.urls,
]
