"""Error pages. They render without the request context processors' queries failing, so a
database error still gets a page.

Under ``/api/`` every answer is JSON, routed or not: a path no route matches
(``/api/v1/match-runs/null,null/``: the id is not a number, so no view runs), a refusal
raised outside DRF, a crash. A client generated from the schema parses the error as it
parses every other (``{"detail": "..."}``, DRF's shape), never Django's HTML page.
"""

from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template.loader import get_template

API_PREFIX = "/api/"
NOT_FOUND = "Not found."
FORBIDDEN = "You do not have permission to perform this action."
SERVER_ERROR = "A server error occurred. It has been logged; please try again later."


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def permission_denied(request, exception=None):
    # A refusal that says why ("The ranking window for this match is closed.") shows it; the
    # bare PermissionDenied of a permission check gets the general explanation.
    reason = str(exception or "").strip()
    if _is_api(request):
        return JsonResponse({"detail": reason or FORBIDDEN}, status=403)
    return render(request, "errors/403.html", {"reason": reason}, status=403)


def page_not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": NOT_FOUND}, status=404)
    return render(request, "errors/404.html", status=404)


def server_error(request):
    if _is_api(request):
        return JsonResponse({"detail": SERVER_ERROR}, status=500)
    # No context processors: whatever broke may be what they would query.
    return HttpResponseServerError(get_template("errors/500.html").render({}))
