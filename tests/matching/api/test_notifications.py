"""Notifications: created once, e-mailed once (right away or in the daily digest),
shown behind the bell, and only ever to their owner."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from matching.models import Notification
from tests.matching.support import _notify

pytestmark = pytest.mark.django_db


def _api_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


class TestApi:
    def test_lists_own_notifications_only(self, resident, other_resident):
        _notify(resident, key="a", title="Mine")
        _notify(other_resident, key="b", title="Bob's")

        response = _api_for(resident).get("/api/v1/notifications/")

        assert response.status_code == 200
        assert [n["title"] for n in response.json()["results"]] == ["Mine"]
        assert response.json()["results"][0]["is_read"] is False

    def test_filters_unread(self, resident):
        _notify(resident, key="a", title="Unread")
        read = _notify(resident, key="b", title="Read")
        Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
        client = _api_for(resident)

        assert [n["title"] for n in client.get("/api/v1/notifications/?unread=true").json()["results"]] == ["Unread"]
        assert [n["title"] for n in client.get("/api/v1/notifications/?unread=false").json()["results"]] == ["Read"]

    def test_list_query_budget(self, resident, django_assert_num_queries):
        for n in range(5):
            _notify(resident, key=f"n{n}")
        client = _api_for(resident)

        # 1. COUNT for the pagination; 2. the page of notifications.
        with django_assert_num_queries(2):
            response = client.get("/api/v1/notifications/")
        assert response.json()["count"] == 5

    def test_marks_one_read(self, resident):
        notification = _notify(resident)

        response = _api_for(resident).post(f"/api/v1/notifications/{notification.pk}/read/")

        assert response.status_code == 200
        assert response.json()["is_read"] is True
        notification.refresh_from_db()
        assert notification.read_at is not None

    def test_another_users_notification_is_not_found(self, resident, other_resident):
        bobs = _notify(other_resident)

        response = _api_for(resident).post(f"/api/v1/notifications/{bobs.pk}/read/")

        assert response.status_code == 404
        bobs.refresh_from_db()
        assert bobs.read_at is None

    def test_marks_all_read(self, resident, other_resident):
        _notify(resident, key="a")
        _notify(resident, key="b")
        bobs = _notify(other_resident, key="c")

        response = _api_for(resident).post("/api/v1/notifications/read-all/")

        assert response.json() == {"marked": 2}
        bobs.refresh_from_db()
        assert bobs.read_at is None

    def test_reads_and_replaces_the_preference(self, resident):
        client = _api_for(resident)
        assert client.get("/api/v1/notifications/preferences/").json() == {"delivery": "immediate"}

        response = client.put("/api/v1/notifications/preferences/", {"delivery": "digest"}, format="json")

        assert response.status_code == 200
        assert response.json() == {"delivery": "digest"}
        assert client.get("/api/v1/notifications/preferences/").json() == {"delivery": "digest"}

    def test_refuses_an_unknown_preference(self, resident):
        response = _api_for(resident).put("/api/v1/notifications/preferences/", {"delivery": "hourly"}, format="json")

        assert response.status_code == 400
        assert "delivery" in response.json()

    def test_needs_a_signed_in_user(self):
        assert APIClient().get("/api/v1/notifications/").status_code in (401, 403)

    def test_the_schema_documents_the_endpoints(self):
        schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

        assert {
            "/api/v1/notifications/",
            "/api/v1/notifications/{id}/read/",
            "/api/v1/notifications/read-all/",
            "/api/v1/notifications/preferences/",
        } <= schema["paths"].keys()
        params = {p["name"] for p in schema["paths"]["/api/v1/notifications/"]["get"]["parameters"]}
        assert params >= {"page", "unread"}
