"""One-click unsubscribe (RFC 8058) and the headers every e-mail carries (issue 17).

Notification e-mails and digests carry ``List-Unsubscribe`` with a signed link and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``; a mail client's POST to it stops them,
with no sign-in and no CSRF token. Account mail and calendar invitations carry no such header:
they cannot be stopped. Every message says it is automatic and has a Message-ID on our domain.
"""

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from matching.models import Notification
from matching.notifications import (
    SWEEP_GRACE,
    digests_send,
    notification_preference_set,
    notifications_email_unsent,
    unsubscribe_url,
)
from matching.selectors.notifications import delivery_of
from matching.services.meetings import meeting_confirm, meeting_propose
from matching.tasks import send_notification_email
from tests.matching.itip import calendar_part
from tests.matching.support import _notify

pytestmark = pytest.mark.django_db

SITE = "https://mentormatch.hospital.example"


def _headers(message):
    """The headers as a mail client reads them (a long one is folded on the wire)."""
    return message_from_bytes(message.message().as_bytes(), policy=policy.default)


def _path(url):
    assert url.startswith(SITE + "/")
    return url[len(SITE) :]


def _in(days, hour=15):
    return (timezone.now() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE


class TestHeaders:
    def test_a_notification_email_can_be_stopped_in_one_click(self, attending, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            _notify(attending)

        (message,) = mail.outbox
        headers = _headers(message)
        assert headers["List-Unsubscribe"].strip() == f"<{unsubscribe_url(attending)}>"  # folded: a long line
        assert headers["List-Unsubscribe"].strip().startswith(f"<{SITE}/notifications/unsubscribe/")
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert headers["Auto-Submitted"] == "auto-generated"
        assert headers["Message-ID"].endswith("@mentormatch.hospital.example>")
        assert unsubscribe_url(attending) in message.body  # said in words too

    def test_the_daily_digest_can_be_stopped_too(self, resident, django_capture_on_commit_callbacks):
        notification_preference_set(user=resident, delivery=Notification.Delivery.DIGEST)
        with django_capture_on_commit_callbacks(execute=True):
            _notify(resident, key="a")

        assert digests_send(now=timezone.now() + timedelta(minutes=1)) == 1
        assert _headers(mail.outbox[-1])["List-Unsubscribe"].strip() == f"<{unsubscribe_url(resident)}>"

    def test_a_calendar_invitation_cannot_be_stopped(
        self, mentorship, resident, attending, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=[_in(3), _in(4)])
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            meeting_confirm(meeting=meeting, actor=attending, start=_in(4))

        assert mail.outbox, "the confirmation goes out as an invitation"
        for message in mail.outbox:
            assert calendar_part(message)[0] == "REQUEST"
            headers = _headers(message)
            assert headers["List-Unsubscribe"] is None and headers["List-Unsubscribe-Post"] is None
            assert headers["Auto-Submitted"] == "auto-generated"

    def test_account_mail_cannot_be_stopped(self, resident):
        response = Client().post("/accounts/password/reset/", {"email": resident.email})

        assert response.status_code == 302
        (message,) = mail.outbox
        headers = _headers(message)
        assert headers["List-Unsubscribe"] is None
        assert headers["Auto-Submitted"] == "auto-generated"
        assert headers["Message-ID"].endswith("@mentormatch.hospital.example>")


class TestOneClick:
    def test_the_mail_clients_post_stops_the_emails_without_sign_in_or_csrf_token(self, attending):
        client = Client(enforce_csrf_checks=True)

        response = client.post(
            _path(unsubscribe_url(attending)),
            "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )

        assert response.status_code == 200
        assert delivery_of(attending) == Notification.Delivery.NONE
        assert "You will no longer get notification e-mails" in response.content.decode()

    def test_a_second_post_changes_nothing_and_says_the_same(self, attending):
        url = _path(unsubscribe_url(attending))
        first = Client().post(url)
        second = Client().post(url)

        assert first.status_code == second.status_code == 200
        assert delivery_of(attending) == Notification.Delivery.NONE
        assert "You will no longer get notification e-mails" in second.content.decode()

    def test_opening_the_link_asks_and_stops_nothing(self, attending):
        # A link scanner or a preview follows links: a GET must not unsubscribe.
        response = Client().get(_path(unsubscribe_url(attending)))

        assert response.status_code == 200
        assert "Stop notification e-mails" in response.content.decode()
        assert delivery_of(attending) == Notification.Delivery.IMMEDIATE

    @pytest.mark.parametrize(
        "token",
        [
            "1:forged",  # a made-up signature
            "not-a-token",
            "%s",  # another person's id on a valid signature for someone else: see below
        ],
    )
    def test_a_link_not_made_here_is_a_404_and_stops_nothing(self, attending, resident, token):
        if token == "%s":
            good = unsubscribe_url(attending).rsplit("/", 2)[-2]
            token = f"{resident.pk}:{good.split(':', 1)[1]}"

        response = Client().post(f"/notifications/unsubscribe/{token}/")

        assert response.status_code == 404
        assert delivery_of(attending) == delivery_of(resident) == Notification.Delivery.IMMEDIATE

    def test_a_deactivated_persons_link_is_a_404(self, attending):
        url = _path(unsubscribe_url(attending))
        attending.is_active = False
        attending.save(update_fields=["is_active"])

        assert Client().post(url).status_code == 404


class TestAfterUnsubscribing:
    def test_no_notification_email_is_queued_and_the_bell_still_has_it(
        self, attending, django_capture_on_commit_callbacks
    ):
        notification_preference_set(user=attending, delivery=Notification.Delivery.NONE)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            notification = _notify(attending)

        assert notification is not None and callbacks == []
        assert mail.outbox == []
        assert Notification.objects.filter(user=attending, read_at__isnull=True).count() == 1

    def test_one_queued_before_unsubscribing_is_never_sent(self, attending, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            notification = _notify(attending)
        notification_preference_set(user=attending, delivery=Notification.Delivery.NONE)
        for callback in callbacks:
            callback()

        assert mail.outbox == []
        assert send_notification_email(notification.pk) is False
        later = timezone.now() + SWEEP_GRACE + timedelta(minutes=1)
        assert notifications_email_unsent(now=later) == 0
        assert digests_send(now=later) == 0
        assert mail.outbox == []

    def test_meeting_invitations_still_come(self, mentorship, resident, attending, django_capture_on_commit_callbacks):
        notification_preference_set(user=resident, delivery=Notification.Delivery.NONE)
        with django_capture_on_commit_callbacks(execute=True):
            meeting = meeting_propose(mentorship=mentorship, actor=attending, slots=[_in(3), _in(4)])
        assert [m.to for m in mail.outbox] == []  # a proposal of two times carries no invitation
        with django_capture_on_commit_callbacks(execute=True):
            meeting_confirm(meeting=meeting, actor=resident, start=_in(4))

        assert [resident.email] in [m.to for m in mail.outbox]

    def test_the_preferences_page_offers_never_and_can_switch_back(self, client, attending):
        notification_preference_set(user=attending, delivery=Notification.Delivery.NONE)
        client.force_login(attending)

        page = client.get("/notifications/preferences/").content.decode()
        assert "Never: only here in MentorMatch" in page
        response = client.post("/notifications/preferences/", {"delivery": "immediate"})

        assert response.status_code == 302
        assert delivery_of(attending) == Notification.Delivery.IMMEDIATE
