"""Notifications: created once, e-mailed once (right away or in the daily digest),
shown behind the bell, and only ever to their owner."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from matching.models import Notification, NotificationPreference
from matching.notifications import (
    digests_send,
    notification_preference_set,
    notifications_email_unsent,
    notify,
)
from matching.tasks import send_daily_digests, send_notification_email

pytestmark = pytest.mark.django_db


def _notify(user, key="request:1:new", title="Bob Brown asked you to be their career mentor", **kwargs):
    return notify(event="request.new", user=user, title=title, url="/requests/1/", dedup_key=key, **kwargs)


def _prefer_digest(user):
    notification_preference_set(user=user, delivery=Notification.Delivery.DIGEST)


def _api_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


class TestImmediateEmail:
    def test_a_notification_is_emailed_once_after_commit(self, attending, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            notification = _notify(attending)
        # Nothing leaves before the change commits.
        assert mail.outbox == []
        for callback in callbacks:
            callback()

        assert [m.to for m in mail.outbox] == [[attending.email]]
        notification.refresh_from_db()
        assert notification.emailed_at is not None

    def test_a_redelivered_task_does_not_email_twice(self, attending, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            notification = _notify(attending)

        assert send_notification_email(notification.pk) is False
        assert send_notification_email.delay(notification.pk).get() is False
        assert len(mail.outbox) == 1

    def test_notifying_twice_with_the_same_key_makes_one_row_and_one_email(
        self, attending, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            first = _notify(attending)
            second = _notify(attending)

        assert first is not None and second is None
        assert Notification.objects.filter(dedup_key="request:1:new").count() == 1
        assert len(mail.outbox) == 1

    def test_the_email_has_a_clear_subject_the_link_and_how_to_change_the_preference(
        self, attending, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            _notify(attending, title="Alice Adams can't make Tuesday")

        message = mail.outbox[0]
        # Plain text is not HTML-escaped: the apostrophe stays an apostrophe.
        assert message.subject == "Alice Adams can't make Tuesday · MentorMatch"
        assert "http://127.0.0.1:8000/requests/1/" in message.body
        assert "/notifications/preferences/" in message.body
        html = message.alternatives[0][0]
        assert 'href="http://127.0.0.1:8000/requests/1/"' in html
        assert "/notifications/preferences/" in html

    def test_the_sweeper_emails_what_never_reached_the_broker_and_only_that(self, attending, resident):
        now = timezone.now()
        lost = _notify(attending, key="lost")  # on_commit never ran: the test transaction is open
        fresh = _notify(attending, key="fresh")
        for_digest = _notify(resident, key="digest")
        _prefer_digest(resident)
        Notification.objects.filter(pk__in=[lost.pk, for_digest.pk]).update(created_at=now - timedelta(minutes=30))

        assert notifications_email_unsent(now=now) == 1

        assert [m.to for m in mail.outbox] == [[attending.email]]
        assert Notification.objects.get(pk=lost.pk).emailed_at is not None
        # Still in the on-commit task's hands, and the digest's.
        assert Notification.objects.get(pk=fresh.pk).emailed_at is None
        assert Notification.objects.get(pk=for_digest.pk).emailed_at is None
        # Sweeping again finds nothing more.
        assert notifications_email_unsent(now=now) == 0


class TestDigest:
    def test_digest_preference_means_no_immediate_email_then_one_digest_with_everything(
        self, resident, django_capture_on_commit_callbacks
    ):
        _prefer_digest(resident)
        with django_capture_on_commit_callbacks(execute=True):
            _notify(resident, key="a", title="Carol Chen accepted your request")
            _notify(resident, key="b", title="Carol Chen proposed a meeting")
        assert mail.outbox == []

        assert send_daily_digests.delay().get() == 1

        assert len(mail.outbox) == 1
        digest = mail.outbox[0]
        assert digest.to == [resident.email]
        assert digest.subject == "Your MentorMatch digest: 2 updates"
        assert "Carol Chen accepted your request" in digest.body
        assert "Carol Chen proposed a meeting" in digest.body
        assert "/notifications/preferences/" in digest.body
        assert "Carol Chen proposed a meeting" in digest.alternatives[0][0]
        assert not Notification.objects.filter(user=resident, emailed_at__isnull=True).exists()

        # A second run, or a re-delivered task, sends nothing.
        assert digests_send() == 0
        assert len(mail.outbox) == 1

    def test_the_digest_lists_the_last_day_only_and_only_digest_readers(self, resident, attending):
        _prefer_digest(resident)
        recent = _notify(resident, key="recent", title="Recent")
        old = _notify(resident, key="old", title="Three days old")
        now = timezone.now()
        Notification.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=3))
        _notify(attending, key="immediate", title="For someone who wants e-mails right away")

        assert digests_send(now=now) == 1

        assert [m.to for m in mail.outbox] == [[resident.email]]
        assert "Recent" in mail.outbox[0].body
        assert "Three days old" not in mail.outbox[0].body
        assert Notification.objects.get(pk=recent.pk).emailed_at == now
        assert Notification.objects.get(pk=old.pk).emailed_at is None

    def test_a_notification_created_after_a_digest_goes_in_the_next_one(self, resident):
        _prefer_digest(resident)
        _notify(resident, key="first", title="First")
        now = timezone.now()
        digests_send(now=now)
        later = _notify(resident, key="second", title="Second")
        Notification.objects.filter(pk=later.pk).update(created_at=now + timedelta(hours=1))

        assert digests_send(now=now + timedelta(days=1)) == 1

        assert len(mail.outbox) == 2
        assert "Second" in mail.outbox[1].body and "First" not in mail.outbox[1].body


class TestBell:
    def test_the_header_bell_says_how_many_are_unread(self, resident, client_for):
        _notify(resident, key="a")
        _notify(resident, key="b")
        read = _notify(resident, key="c")
        Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())

        response = client_for(resident).get("/dashboard/")

        assert response.status_code == 200
        assert response.context["unread_notification_count"] == 2
        assert 'aria-label="Notifications, 2 unread"' in response.content.decode()

    def test_nobody_has_unread_notifications_at_first(self, resident, client_for):
        response = client_for(resident).get("/dashboard/")

        assert 'aria-label="Notifications, 0 unread"' in response.content.decode()

    def test_signed_out_visitors_get_no_bell(self, client, db):
        response = client.get("/accounts/login/")

        assert "unread_notification_count" not in response.context
        assert "Notifications," not in response.content.decode()


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

        assert response.status_code == 200
        assert response.context["form"].errors
        assert not NotificationPreference.objects.filter(user=resident).exists()


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
