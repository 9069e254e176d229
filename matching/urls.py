"""Pages of the matching app: each area's view module lists its own routes."""

from .views import (
    audit,
    conflicts,
    dashboard,
    directory,
    feeds,
    health,
    match_run_start,
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
    requests,
)

app_name = "matching"

urlpatterns = dashboard.urlpatterns + directory.urlpatterns + profiles.urlpatterns
urlpatterns += requests.urlpatterns + mentorships.urlpatterns + meetings.urlpatterns + notifications.urlpatterns
urlpatterns += match_run_start.urlpatterns + match_runs.urlpatterns
urlpatterns += rankings.urlpatterns
urlpatterns += conflicts.urlpatterns
urlpatterns += health.urlpatterns
urlpatterns += pairings.urlpatterns
urlpatterns += audit.urlpatterns + nudges.urlpatterns + portfolio.urlpatterns
urlpatterns += feeds.urlpatterns
urlpatterns += messages.urlpatterns
