"""The audit trail: coverage of the services, the coordinators' page, its CSV export, the API,
and append-only everywhere (model, admin, API).

Times: UserFactory puts everyone in America/New_York, which moved to daylight time (UTC−4)
at 2 a.m. on Sunday March 9, 2025; the date tests below lean on that.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEntry
from matching.services.requests import request_create, request_decline
from tests.matching.support import _api, _entry

pytestmark = pytest.mark.django_db


def test_the_api_offers_reading_only(program, coordinator):
    entry = _entry(program, actor=coordinator, reason="as written")
    api = _api(coordinator)
    url = f"/api/v1/programs/{program.slug}/audit/"

    assert api.put(url, {"reason": "x"}, format="json").status_code == 405
    assert api.patch(url, {"reason": "x"}, format="json").status_code == 405
    assert api.delete(url).status_code == 405
    assert api.post(url, {"action": "x"}, format="json").status_code == 405
    assert api.delete(f"{url}{entry.pk}/").status_code == 404  # there is no per-entry endpoint
    assert AuditEntry.objects.get(pk=entry.pk).reason == "as written"
    assert AuditEntry.objects.count() == 1


# --- The API.


def test_the_api_lists_with_the_pages_filters_and_words(program, coordinator, resident, attending):
    request = request_create(mentee=resident, mentor=attending, kind="career", message="Hello")
    request_decline(request=request, actor=attending, note="Full")
    _entry(
        program, action="conflict.add", actor=coordinator, reason="kept apart", when=timezone.now() - timedelta(days=3)
    )
    api = _api(coordinator)
    url = f"/api/v1/programs/{program.slug}/audit/"

    body = api.get(url, {"group": "requests"}).json()
    assert body["count"] == 2
    declined = body["results"][0]
    assert declined["action"] == "request.decline" and declined["action_label"] == "Declined a request"
    assert declined["group"] == "requests" and declined["reason"] == "Full"
    assert declined["actor"] == {"id": attending.pk, "full_name": attending.full_name}
    assert declined["object"] == {
        "label": f"Request from {resident.full_name} to {attending.full_name}",
        "url": f"/requests/{request.pk}/",
    }
    assert declined["before"] == {"status": "pending"} and declined["after"] == {"status": "declined"}
    assert declined["changes"] == [{"field": "status", "before": "pending", "after": "declined"}]
    assert [e["action"] for e in api.get(url, {"q": "kept apart"}).json()["results"]] == ["conflict.add"]
    today = timezone.localdate().isoformat()
    assert api.get(url, {"from": today}).json()["count"] == 2


@pytest.mark.parametrize(
    "query, key",
    [
        ({"group": "everything"}, "group"),
        ({"actor": "carol"}, "actor"),
        ({"from": "2025-13-01"}, "from"),
        ({"from": "2025-03-10", "to": "2025-03-01"}, "to"),
    ],
)
def test_the_api_refuses_a_bad_filter_by_name(program, coordinator, query, key):
    response = _api(coordinator).get(f"/api/v1/programs/{program.slug}/audit/", query)
    assert response.status_code == 400 and key in response.json()


@pytest.mark.parametrize("who", ["other_coordinator", "resident", "attending"])
def test_the_api_is_the_programs_coordinators_only(request, program, who):
    # core/access.py: the program's members know it exists (403); others do not (404).
    refused = 404 if who == "other_coordinator" else 403
    assert _api(request.getfixturevalue(who)).get(f"/api/v1/programs/{program.slug}/audit/").status_code == refused


def test_the_api_needs_a_signed_in_user(program):
    assert APIClient().get(f"/api/v1/programs/{program.slug}/audit/").status_code in (401, 403)


def test_the_api_paginates(program, coordinator):
    for _ in range(30):
        _entry(program)
    body = _api(coordinator).get(f"/api/v1/programs/{program.slug}/audit/").json()
    assert body["count"] == 30 and len(body["results"]) == 25 and body["next"]
