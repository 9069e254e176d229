"""Invitations are their own outbox: ``invited_at`` newer than ``invitation_sent_at``
means unsent; the sender claims it before sending and a sweeper re-enqueues the rest."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts import services
from accounts.tasks import send_invitation, send_unsent_invitations
from core import outbox
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitee():
    user = UserFactory(email="new.resident@hospital.example")
    user.set_unusable_password()
    user.save()
    return user


@pytest.fixture
def broker_down(monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("Connection refused.")

    monkeypatch.setattr(send_invitation, "delay", unreachable)
    token = outbox.processing_delayed_reset()
    yield
    outbox.processing_delayed_restore(token)


def _invite(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert services.user_invite(user=user) is True
    user.refresh_from_db()


def test_an_invitation_is_sent_once_and_marked_sent(invitee, django_capture_on_commit_callbacks):
    _invite(invitee, django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [[invitee.email]]
    assert invitee.invitation_sent_at >= invitee.invited_at
    # A re-delivered task finds the invitation claimed.
    assert send_invitation(invitee.pk) is False
    assert len(mail.outbox) == 1


def test_a_resent_invitation_is_unsent_again_and_goes_out(invitee, django_capture_on_commit_callbacks):
    _invite(invitee, django_capture_on_commit_callbacks)
    _invite(invitee, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2


def test_with_the_broker_down_the_invitation_waits_for_the_sweeper(
    invitee, broker_down, monkeypatch, django_capture_on_commit_callbacks
):
    _invite(invitee, django_capture_on_commit_callbacks)
    assert mail.outbox == [] and invitee.invitation_sent_at is None
    assert outbox.processing_delayed() is True
    assert list(services.invitations_unsent()) == [invitee]

    monkeypatch.undo()  # the broker is back
    # Within the grace period the on-commit task may still be on its way: left alone.
    assert send_unsent_invitations() == 0
    later = timezone.now() + services.INVITATION_SWEEP_GRACE + timedelta(seconds=1)
    assert services.invitations_send_unsent(now=later) == 1
    assert [m.to for m in mail.outbox] == [[invitee.email]]
    assert services.invitations_send_unsent(now=later) == 0, "sent invitations are not swept again"


def test_the_sweeper_leaves_old_unsent_invitations_alone(invitee):
    invitee.invited_at = timezone.now() - services.INVITATION_SWEEP_WINDOW - timedelta(hours=1)
    invitee.save(update_fields=["invited_at"])
    assert services.invitations_send_unsent() == 0
    assert mail.outbox == []


def test_someone_who_set_a_password_is_not_sent_the_invitation(invitee):
    invitee.invited_at = timezone.now() - timedelta(hours=1)
    invitee.save(update_fields=["invited_at"])
    invitee.set_password("a-strong-pass-phrase")
    invitee.save()
    later = timezone.now() + services.INVITATION_SWEEP_GRACE
    assert services.invitations_send_unsent(now=later) == 0
    assert send_invitation(invitee.pk) is False
    assert mail.outbox == []
