"""Friendly error pages. They render without the request context processors' queries
failing, so a database error still gets a page."""

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template.loader import get_template


def permission_denied(request, exception=None):
    # A refusal that says why ("The ranking window for this match is closed.") shows it; the
    # bare PermissionDenied of a permission check gets the general explanation.
    reason = str(exception or "").strip()
    return render(request, "errors/403.html", {"reason": reason}, status=403)


def page_not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def server_error(request):
    # No context processors: whatever broke may be what they would query.
    return HttpResponseServerError(get_template("errors/500.html").render({}))
