"""Issue 11, finding 7 (its lost e-mail) and finding 8 (a long name inside a notification title).

The year-9999 meeting's e-mail was lost because the notification was marked e-mailed before
sending: the send failed, and nothing ever tried again. An SMTP server that refuses a
connection does the same to any notification, digest or invitation. Now the row is leased,
sent, and marked e-mailed only after the send succeeded; a failed send leaves it un-emailed,
the task retries, and the sweeper (or the next digest) sends what the retries could not,
exactly once.

A title composed with a person's name ("<name> proposed a meeting: please pick a time")
answered 500 on PostgreSQL when the name was long (``value too long for type character
varying(200)``); SQLite kept it whole. ``notify`` now fits it to the column with an ellipsis.
"""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from accounts import services as account_services
from accounts.models import User
from core.outbox import EMAIL_RETRIES
from matching.models import Notification
from matching.notifications import (
    EMAIL_LEASE,
    SWEEP_GRACE,
    digests_send,
    notification_preference_set,
    notifications_email_unsent,
)
from matching.services.meetings import meeting_propose
from matching.services.plan import action_item_create
from matching.tasks import send_notification_email
from tests.factories import UserFactory
from tests.matching.factories import MentorshipFactory

pytestmark = pytest.mark.django_db


class FlakySMTP(EmailBackend):
    """A mail server that drops the connection ``failures`` times, then delivers (locmem)."""

    failures = 0

    def send_messages(self, messages):
        if FlakySMTP.failures:
            FlakySMTP.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def smtp_down(settings):
    """``smtp_down(n)``: the next ``n`` sends fail. Eager tasks then run their retries at
    once, as a worker would after the countdown (propagating would stop at the first)."""
    settings.EMAIL_BACKEND = f"{__name__}.FlakySMTP"
    settings.CELERY_TASK_EAGER_PROPAGATES = False

    def fail(times):
        FlakySMTP.failures = times

    yield fail
    FlakySMTP.failures = 0


@pytest.fixture
def mentorship(resident, attending, program):
    return MentorshipFactory(mentee=resident, mentor=attending, program=program)


def _soon():
    return (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)


def _propose(mentorship, resident, capture):
    with capture(execute=True):
        # Two times: one e-mail, to the other person (one time would also send the
        # proposer a calendar copy, matching/ics.py, and this file counts e-mails).
        meeting_propose(mentorship=mentorship, actor=resident, slots=[_soon(), _soon() + timedelta(hours=1)])
    # The other person's; the proposer's own calendar copy is created read.
    return Notification.objects.get(event="meeting.proposed", read_at__isnull=True)


def _later():
    return timezone.now() + SWEEP_GRACE + timedelta(minutes=1)


def test_a_send_that_fails_once_is_retried_and_arrives_once(
    mentorship, resident, attending, smtp_down, django_capture_on_commit_callbacks
):
    smtp_down(1)
    notification = _propose(mentorship, resident, django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [[attending.email]]
    assert "proposed a meeting" in mail.outbox[0].subject
    notification.refresh_from_db()
    assert notification.emailed_at is not None and notification.email_attempts == 2
    # Nothing left for the sweeper: exactly one e-mail.
    assert notifications_email_unsent(now=_later()) == 0
    assert len(mail.outbox) == 1


def test_when_every_retry_fails_the_row_stays_unsent_and_the_sweeper_sends_it_once(
    mentorship, resident, attending, smtp_down, django_capture_on_commit_callbacks
):
    smtp_down(EMAIL_RETRIES + 1)
    notification = _propose(mentorship, resident, django_capture_on_commit_callbacks)
    assert mail.outbox == []
    notification.refresh_from_db()
    assert notification.emailed_at is None and notification.email_claimed_at is None
    assert notification.email_attempts == EMAIL_RETRIES + 1

    assert notifications_email_unsent(now=_later()) == 1  # the server is back
    assert [m.to for m in mail.outbox] == [[attending.email]]
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    assert notifications_email_unsent(now=_later()) == 0
    assert len(mail.outbox) == 1


def test_a_sender_that_died_mid_send_loses_its_lease_and_the_row_goes_out(attending):
    notification = Notification.objects.create(user=attending, event="x", title="Update", dedup_key="held")
    Notification.objects.filter(pk=notification.pk).update(email_claimed_at=timezone.now(), email_attempts=1)
    assert send_notification_email(notification.pk) is False, "a live sender holds it: no second e-mail"
    died = timezone.now() - EMAIL_LEASE - timedelta(seconds=1)
    Notification.objects.filter(pk=notification.pk).update(email_claimed_at=died, created_at=died)
    assert notifications_email_unsent(now=_later()) == 1
    assert [m.to for m in mail.outbox] == [[attending.email]]


def test_a_digest_that_fails_goes_out_with_the_next_one(resident, smtp_down):
    notification_preference_set(user=resident, delivery=Notification.Delivery.DIGEST)
    now = timezone.now()
    for key in ("a", "b"):
        Notification.objects.create(user=resident, event="x", title=f"Update {key}", dedup_key=key, created_at=now)
    smtp_down(1)
    assert digests_send(now=now + timedelta(minutes=1)) == 0
    assert not Notification.objects.filter(emailed_at__isnull=False).exists()

    # The next day's digest covers a day that no longer includes them, but they were never sent.
    assert digests_send(now=now + timedelta(days=1, hours=3)) == 1
    assert len(mail.outbox) == 1 and "Update a" in mail.outbox[0].body and "Update b" in mail.outbox[0].body
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


@pytest.fixture
def invitee():
    user = UserFactory(email="new.resident@hospital.example")
    user.set_unusable_password()
    user.save()
    return user


def test_an_invitation_that_fails_once_is_retried_and_sent_once(invitee, smtp_down, django_capture_on_commit_callbacks):
    smtp_down(1)
    with django_capture_on_commit_callbacks(execute=True):
        account_services.user_invite(user=invitee)
    assert [m.to for m in mail.outbox] == [[invitee.email]]
    assert list(account_services.invitations_unsent()) == []


def test_an_invitation_that_keeps_failing_stays_unsent_for_the_sweeper(
    invitee, smtp_down, django_capture_on_commit_callbacks
):
    smtp_down(EMAIL_RETRIES + 1)
    with django_capture_on_commit_callbacks(execute=True):
        account_services.user_invite(user=invitee)
    assert mail.outbox == []
    assert list(account_services.invitations_unsent()) == [invitee]

    later = timezone.now() + account_services.INVITATION_SWEEP_GRACE + timedelta(minutes=1)
    assert account_services.invitations_send_unsent(now=later) == 1
    assert [m.to for m in mail.outbox] == [[invitee.email]]
    assert account_services.invitations_send_unsent(now=later) == 0


def test_an_invitation_whose_sender_died_mid_send_is_sent_once_after_its_lease(invitee):
    """A worker SIGKILLed between the claim and the send leaves a lease, not a "sent" mark:
    while the lease lives nobody sends it twice; once it lapses, the sweeper sends it."""
    from accounts.tasks import send_invitation

    invitee.invited_at = timezone.now()
    invitee.save(update_fields=["invited_at"])
    dead = account_services.invitation_claim(user_id=invitee.pk)  # ... and the worker dies here
    assert dead is not None
    assert send_invitation.apply(args=[invitee.pk]).get() is False  # a redelivery finds it held
    assert list(account_services.invitations_unsent()) == [] and mail.outbox == []

    # Time passes: the lease and the sweeper's grace run out.
    past = timezone.now() - account_services.INVITATION_LEASE - account_services.INVITATION_SWEEP_GRACE
    User.objects.filter(pk=invitee.pk).update(invited_at=past, invitation_claimed_at=past)
    assert account_services.invitations_send_unsent() == 1
    assert [m.to for m in mail.outbox] == [[invitee.email]]
    invitee.refresh_from_db()
    assert invitee.invitation_sent_at is not None and invitee.invitation_claimed_at is None
    assert account_services.invitations_send_unsent() == 0


# --- A long name inside a title (finding 8). Run on PostgreSQL too: SQLite keeps any length.

LONG_FIRST, LONG_LAST = "A" * 150, "B" * 150


def test_a_150_character_name_fits_the_notification_title(mentorship, resident, attending):
    resident.first_name, resident.last_name = LONG_FIRST, LONG_LAST
    resident.save(update_fields=["first_name", "last_name"])
    limit = Notification._meta.get_field("title").max_length

    meeting_propose(mentorship=mentorship, actor=resident, slots=[_soon()])
    action_item_create(mentorship=mentorship, actor=resident, title="G" * 200, owner=attending)

    titles = list(Notification.objects.filter(user=attending).values_list("title", flat=True))
    assert len(titles) == 2
    for title in titles:
        assert len(title) == limit and title.endswith("…") and title.startswith(LONG_FIRST)
