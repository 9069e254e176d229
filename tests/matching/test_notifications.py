"""Notifications: created once, e-mailed once (right away or in the daily digest),
shown behind the bell, and only ever to their owner."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from matching import notifications
from matching.match_runs.ranking import ranking_window_close
from matching.models import Notification
from matching.notifications import (
    SWEEP_GRACE,
    digests_send,
    notification_preference_set,
    notifications_email_unsent,
    notify_many,
)
from matching.tasks import send_daily_digests, send_notification_email, send_notification_emails
from tests.matching.support import _create, _notify

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


# --- Until a first sign-in: invitations only, everything else in the bell (the one rule).


def _not_signed_in_yet(user):
    """An imported resident: invited, invitation not accepted (no password, never signed in)."""
    user.set_unusable_password()
    user.last_login = user.last_seen = None
    user.invited_at = timezone.now() - timedelta(days=2)
    user.save()
    return user


class TestNotSignedInYet:
    def test_their_notifications_wait_in_the_bell_and_are_never_emailed(
        self, resident, attending, django_capture_on_commit_callbacks
    ):
        _not_signed_in_yet(resident)
        with django_capture_on_commit_callbacks(execute=True):
            withheld = _notify(resident, key="goals-reminder")
            sent = _notify(attending, key="control")

        assert [m.to for m in mail.outbox] == [[attending.email]]  # the control case: e-mailed
        assert Notification.objects.filter(pk=withheld.pk, read_at__isnull=True).exists()  # in the bell
        # Not later either: neither the sweeper nor a digest, even once they have signed in
        # (a first sign-in must not release a day of stale news at once).
        now = timezone.now() + SWEEP_GRACE + timedelta(minutes=1)
        type(resident).objects.filter(pk=resident.pk).update(last_login=timezone.now())
        assert notifications_email_unsent(now=now) == 0
        _prefer_digest(resident)
        assert digests_send(now=now) == 0
        assert send_notification_email(withheld.pk) is False
        assert [m.to for m in mail.outbox] == [[attending.email]]
        assert Notification.objects.get(pk=sent.pk).emailed_at is not None

    def test_the_bulk_path_follows_the_same_rule(self, resident, attending, django_capture_on_commit_callbacks):
        _not_signed_in_yet(resident)
        notes = [
            {"event": "match.published", "user": person, "title": "Your match", "dedup_key": f"bulk:{person.pk}"}
            for person in (resident, attending)
        ]
        with django_capture_on_commit_callbacks(execute=True):
            created = notify_many(notes)

        assert {n.user_id for n in created} == {resident.pk, attending.pk}
        assert [m.to for m in mail.outbox] == [[attending.email]]

    def test_once_signed_in_they_are_emailed_as_anyone(self, resident, django_capture_on_commit_callbacks):
        _not_signed_in_yet(resident)
        # Signed in through the institution's SSO: still no password of their own, but their account is taken.
        type(resident).objects.filter(pk=resident.pk).update(last_login=timezone.now())
        resident.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            _notify(resident, key="after-sign-in")

        assert [m.to for m in mail.outbox] == [[resident.email]]

    def test_ranking_emails_skip_them_and_reach_the_rest_of_the_cohort(
        self, coordinator, program, cohort, django_capture_on_commit_callbacks
    ):
        residents, mentors = cohort
        invitee = _not_signed_in_yet(residents[2])
        with django_capture_on_commit_callbacks(execute=True):
            run = _create(coordinator, program, residents, mentors, ranking_deadline=timezone.now() + timedelta(days=3))
        with django_capture_on_commit_callbacks(execute=True):
            ranking_window_close(run=run, actor=coordinator)

        told = {to for m in mail.outbox for to in m.to}
        assert invitee.email not in told
        # (The coordinator hears that the run finished: not part of the cohort's e-mails.)
        assert told - {coordinator.email} == {p.email for p in residents + mentors} - {invitee.email}
        # Both wait in their bell, for when they have signed in.
        assert set(Notification.objects.filter(user=invitee).values_list("event", flat=True)) == {
            "match.ranking_open",
            "match.ranking_closed",
        }


class TestBatchEmail:
    def test_a_batch_is_sent_once_skips_the_unsubscribed_and_retries_a_failure_on_its_own(
        self, resident, other_resident, attending, monkeypatch
    ):
        notes = [
            {"event": "match.published", "user": person, "title": "Your match", "dedup_key": f"batch:{person.pk}"}
            for person in (resident, other_resident, attending)
        ]
        created = notify_many(notes)  # the test's transaction stays open: nothing is queued yet
        notification_preference_set(user=other_resident, delivery=Notification.Delivery.NONE)
        real = notifications.send_templated_email
        refuse_once = {attending.email}

        def greylisting(*, to, **kwargs):
            if to[0] in refuse_once:
                refuse_once.discard(to[0])
                raise smtplib.SMTPRecipientsRefused({to[0]: (450, b"try again later")})
            return real(to=to, **kwargs)

        monkeypatch.setattr(notifications, "send_templated_email", greylisting)
        ids = [n.pk for n in created]

        assert send_notification_emails(ids) == 1
        # Attending's failed in the batch and was sent by its own task (in-process here); the
        # unsubscribed resident's was not sent and stays in the bell.
        assert sorted(m.to[0] for m in mail.outbox) == sorted([resident.email, attending.email])
        assert Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).get().user == other_resident
        assert send_notification_emails(ids) == 0  # delivered twice: nothing more
        assert len(mail.outbox) == 2
