from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

# Directory cards show "active 3 days ago"; minute precision is not needed, and
# writing on every request would cost an UPDATE per page view.
LAST_SEEN_RESOLUTION = timedelta(minutes=5)


class LastSeenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = timezone.now()
            if user.last_seen is None or now - user.last_seen > LAST_SEEN_RESOLUTION:
                get_user_model().objects.filter(pk=user.pk).update(last_seen=now)
                user.last_seen = now
        return self.get_response(request)
