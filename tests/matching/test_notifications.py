"""Notifications: created once, e-mailed once (right away or in the daily digest),
shown behind the bell, and only ever to their owner."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from matching.models import Notification
from matching.notifications import (
    digests_send,
    notification_preference_set,
    notifications_email_unsent,
)
from matching.tasks import send_daily_digests, send_notification_email
from tests.matching.support import _notify

pytestmark = pytest.mark.django_db


def _prefer_digest(user):
    notification_preference_set(user=user, delivery=Notification.Delivery.DIGEST)


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
