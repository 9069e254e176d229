"""The matching app's API routes under /api/v1/: each area lists its own."""

from . import conflicts, match_runs, meetings, mentorships, notifications, recommendations, requests

urlpatterns = (
    requests.urlpatterns
    + mentorships.urlpatterns
    + meetings.urlpatterns
    + notifications.urlpatterns
    + recommendations.urlpatterns
    + match_runs.urlpatterns
    + conflicts.urlpatterns
)
