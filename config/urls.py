from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import health

handler403 = "accounts.views.errors.permission_denied"
handler404 = "accounts.views.errors.page_not_found"
handler500 = "accounts.views.errors.server_error"

urlpatterns = [
    # For load balancers and orchestrators: public, JSON, nothing personal (core/health.py).
    path("healthz/live/", health.liveness, name="health-live"),
    path("healthz/ready/", health.readiness, name="health-ready"),
    path("", include("accounts.urls")),
    path("", include("matching.urls")),
    # allauth's pages (second factor, SSO, sessions) beside ours; where both have a path
    # (sign-in, sign-out, passwords), ours above come first.
    path("accounts/", include("accounts.auth.urls")),
    # The admin signs in through the site's sign-in page, second factor included.
    path("admin/login/", RedirectView.as_view(pattern_name="accounts:login", query_string=True)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI from our own static files (no Redoc: its page loads web fonts from Google). The split
    # view serves its start-up script as a file, so script-src stays 'self'; Swagger UI sets inline
    # styles as it renders, so this one page allows them.
    path(
        "api/docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
]
