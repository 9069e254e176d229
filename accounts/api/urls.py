from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

app_name = "accounts-api"

router = SimpleRouter()
router.register("mentors", views.MentorViewSet, basename="mentor")
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
    path("me/", views.MeApi.as_view(), name="me"),
    path("me/mentee-profile/", views.MenteeProfileApi.as_view(), name="mentee-profile"),
    path("me/mentor-profile/", views.MentorProfileApi.as_view(), name="mentor-profile"),
    path("me/availability/", views.AvailabilityApi.as_view(), name="availability"),
    path("programs/<slug:slug>/roster/", views.ProgramRosterApi.as_view(), name="program-roster"),
    *router.urls,
]
