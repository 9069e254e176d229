"""Notifications: created once, e-mailed once (right away or in the daily digest),
shown behind the bell, and only ever to their owner."""

from datetime import timedelta

import pytest
from django.utils import timezone

from matching.models import Notification, NotificationPreference
from matching.notifications import (
    notify,
)
from tests.matching.support import _notify

pytestmark = pytest.mark.django_db


class TestPages:
    def test_the_list_shows_own_notifications_newest_first_unread_emphasised(
        self, resident, other_resident, client_for
    ):
        older = _notify(resident, key="older", title="Older news")
        Notification.objects.filter(pk=older.pk).update(
            created_at=timezone.now() - timedelta(hours=2), read_at=timezone.now()
        )
        _notify(resident, key="newer", title="Newer news")
        _notify(other_resident, key="bobs", title="Bob's private news")

        response = client_for(resident).get("/notifications/")

        html = response.content.decode()
        assert [n.title for n in response.context["notifications"]] == ["Newer news", "Older news"]
        assert "Bob&#x27;s private news" not in html
        assert html.index("Newer news") < html.index("Older news")
        assert html.count("notification-unread") == 1
        # "2 hours ago", and the moment itself on hover, on the reader's clock with its zone.
        from core.bounds import format_instant

        older.refresh_from_db()
        assert f'title="{format_instant(older.created_at, resident.time_zone)}"' in html

    def test_the_list_is_paginated(self, resident, client_for):
        for n in range(25):
            _notify(resident, key=f"n{n}")

        client = client_for(resident)

        assert len(client.get("/notifications/").context["notifications"]) == 20
        assert len(client.get("/notifications/?page=2").context["notifications"]) == 5

    def test_the_list_costs_the_same_queries_for_one_or_many(
        self, resident, client_for, django_assert_num_queries, django_assert_max_num_queries
    ):
        client = client_for(resident)
        client.get("/dashboard/")  # LastSeenMiddleware's write happens once, here
        _notify(resident, key="one")
        with django_assert_max_num_queries(50) as one:
            client.get("/notifications/")
        for n in range(19):
            _notify(resident, key=f"more{n}")
        with django_assert_num_queries(len(one.captured_queries)):
            client.get("/notifications/")

    def test_opening_one_marks_it_read_and_goes_where_it_points(self, resident, client_for):
        notification = _notify(resident)

        response = client_for(resident).post(f"/notifications/{notification.pk}/read/")

        assert response.status_code == 302
        assert response["Location"] == "/requests/1/"
        notification.refresh_from_db()
        assert notification.read_at is not None

    def test_opening_one_again_keeps_the_first_read_time(self, resident, client_for):
        notification = _notify(resident)
        first_read = timezone.now() - timedelta(days=1)
        Notification.objects.filter(pk=notification.pk).update(read_at=first_read)

        client_for(resident).post(f"/notifications/{notification.pk}/read/")

        notification.refresh_from_db()
        assert notification.read_at == first_read

    def test_a_resident_cannot_open_another_residents_notification(self, resident, other_resident, client_for):
        bobs = _notify(other_resident)

        response = client_for(resident).post(f"/notifications/{bobs.pk}/read/")

        assert response.status_code == 404
        bobs.refresh_from_db()
        assert bobs.read_at is None

    def test_reading_is_a_post(self, resident, client_for):
        notification = _notify(resident)

        assert client_for(resident).get(f"/notifications/{notification.pk}/read/").status_code == 405

    def test_a_notification_never_redirects_off_the_site(self, resident, client_for):
        notification = notify(event="x", user=resident, title="Odd", url="https://evil.example/phish", dedup_key="odd")

        response = client_for(resident).post(f"/notifications/{notification.pk}/read/")

        assert response["Location"] == "/notifications/"

    def test_mark_all_read_marks_only_own(self, resident, other_resident, client_for):
        _notify(resident, key="a")
        _notify(resident, key="b")
        bobs = _notify(other_resident, key="c")

        response = client_for(resident).post("/notifications/read-all/")

        assert response.status_code == 302
        assert not Notification.objects.filter(user=resident, read_at__isnull=True).exists()
        bobs.refresh_from_db()
        assert bobs.read_at is None

    def test_signed_out_visitors_are_sent_to_log_in(self, client, db):
        response = client.get("/notifications/")

        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    def test_choosing_the_daily_digest(self, resident, client_for):
        client = client_for(resident)
        page = client.get("/notifications/preferences/")
        assert page.status_code == 200
        assert page.context["form"]["delivery"].value() == "immediate"

        response = client.post("/notifications/preferences/", {"delivery": "digest"})

        assert response.status_code == 302
        assert NotificationPreference.objects.get(user=resident).delivery == "digest"
        assert client.get("/notifications/preferences/").context["form"]["delivery"].value() == "digest"

    def test_an_unknown_preference_is_refused(self, resident, client_for):
        response = client_for(resident).post("/notifications/preferences/", {"delivery": "hourly"})

        assert response.status_code == 400
        assert response.context["form"].errors
        assert not NotificationPreference.objects.filter(user=resident).exists()
