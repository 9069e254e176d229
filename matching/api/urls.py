"""The matching app's API routes under /api/v1/: each area lists its own."""

from . import (
    audit,
    calendar,
    conflicts,
    directory,
    health,
    match_runs,
    meetings,
    mentorships,
    messages,
    notifications,
    nudges,
    pairings,
    portfolio,
    profiles,
    rankings,
    recommendations,
    requests,
)

urlpatterns = (
    directory.urlpatterns
    + profiles.urlpatterns
    + requests.urlpatterns
    + mentorships.urlpatterns
    + meetings.urlpatterns
    + notifications.urlpatterns
    + recommendations.urlpatterns
    + match_runs.urlpatterns
    + rankings.urlpatterns
    + conflicts.urlpatterns
    + health.urlpatterns
    + pairings.urlpatterns
    + audit.urlpatterns
    + nudges.urlpatterns
    + portfolio.urlpatterns
    + calendar.urlpatterns
    + messages.urlpatterns
)
