from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from .views.errors import page_not_found

# Directory cards show "active 3 days ago"; minute precision is not needed, and
# writing on every request would cost an UPDATE per page view.
LAST_SEEN_RESOLUTION = timedelta(minutes=5)


def _session_seen(request, now):
    """The account page's session list (allauth.usersessions, written at sign-in): this
    session's "last seen", at the same few-minute grain. A session signed in before the list
    existed stays off it until its next sign-in."""
    from allauth.usersessions.models import UserSession

    key = getattr(request, "session", None) and request.session.session_key
    if key:
        UserSession.objects.filter(session_key=key, user=request.user).update(last_seen_at=now)


# A session lasts SESSION_COOKIE_AGE after its last request (an inactivity timeout). Saving it on
# every request to move that deadline cost an UPDATE and a savepoint per page view; it is moved
# when it is more than this old instead, so a session ends between AGE - this and AGE after its
# last request.
SESSION_REFRESH = timedelta(minutes=5)
_SESSION_ACTIVE = "_active_at"


class SessionActivityMiddleware:
    """Moves a signed-in session's expiry forward, once per ``SESSION_REFRESH`` of activity (the
    session's own, so a phone and a laptop each keep theirs alive), by saving it then."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            now = int(timezone.now().timestamp())
            if now - session.get(_SESSION_ACTIVE, 0) >= SESSION_REFRESH.total_seconds():
                session[_SESSION_ACTIVE] = now  # marks it modified: SessionMiddleware saves it
        return self.get_response(request)


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
                _session_seen(request, now)
        return self.get_response(request)


class RequireMfaMiddleware:
    """A person who must use a second factor (accounts/auth/policy.py) and has none sees only
    the pages that set one up, and signing out; the API answers 403 to their session. The
    decision was made at sign-in and sits in the session: no query here for anyone else."""

    ALLOWED_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/accounts/reauthenticate/", "/static/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            from django.http import JsonResponse
            from django.shortcuts import redirect

            from .auth.policy import needs_mfa_setup, setup_done

            if (
                not request.path.startswith(self.ALLOWED_PREFIXES)
                and needs_mfa_setup(request)
                and not setup_done(request)
            ):
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"detail": "Set up two-factor authentication on the site before using the API."}, status=403
                    )
                return redirect("accounts:mfa-required")
        return self.get_response(request)


class ApiNotFoundAsJsonMiddleware:
    """Under ``/api/`` a path no route matches is a JSON 404 with DEBUG on too: Django's
    technical 404 page bypasses ``handler404`` (accounts/views/errors.py) when DEBUG is on.
    Inside CommonMiddleware, so ``/api/v1/me`` still redirects to ``/api/v1/me/``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 404
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return page_not_found(request)
        return response
