"""The app's URLs plus two reference views for ``benchmarks.page_bench``: the pages are
reported as ratios to these, measured in the same run, because the machine is shared.

- ``/bench/trivial/``: the middleware stack and a constant response, no database.
- ``/bench/one-query/``: the same plus one ``SELECT 1`` round trip, to separate the
  database's fixed cost from the pages' own work.
- ``/bench/shell/``: a signed-in person's empty page: the session and the user, and ``base.html``
  (navigation, notifications badge, program menu) around no content. What every page of the app
  pays before its own work: a page's ratio to it is what the page itself costs.
"""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse
from django.template import engines
from django.urls import path

from config.urls import handler403, handler404, handler500  # noqa: F401  (the same error pages)
from config.urls import urlpatterns as app_urlpatterns


def trivial(request):
    return HttpResponse("ok")


def one_query(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse("ok")


SHELL = engines["django"].from_string('{% extends "base.html" %}{% block content %}{% endblock %}')


@login_required
def shell(request):
    return HttpResponse(SHELL.render({}, request))


urlpatterns = [
    path("bench/trivial/", trivial),
    path("bench/one-query/", one_query),
    path("bench/shell/", shell),
    *app_urlpatterns,
]
