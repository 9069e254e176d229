"""Pages of the matching app: each area's view module lists its own routes."""

from .views import meetings, mentorships, notifications, requests

app_name = "matching"

urlpatterns = requests.urlpatterns + mentorships.urlpatterns + meetings.urlpatterns + notifications.urlpatterns
