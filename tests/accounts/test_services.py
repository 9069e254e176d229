from datetime import time

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import AvailabilityWindow, Goal, Language, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class TestInvitations:
    def test_invite_sends_one_email_with_a_set_password_link(
        self, program, coordinator, django_capture_on_commit_callbacks
    ):
        user = User.objects.create_user("newbie@hospital.example", first_name="Nina", last_name="New")
        with django_capture_on_commit_callbacks(execute=True):
            assert services.user_invite(user=user, invited_by=coordinator) is True
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["newbie@hospital.example"]
        assert "Cora Cole has invited you" in message.body
        assert "/accounts/invitation/" in message.body
        assert message.alternatives and "Set your password" in message.alternatives[0][0]
        user.refresh_from_db()
        assert user.invited_at is not None

    def test_no_invitation_for_someone_who_already_has_a_password(self, resident, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            assert services.user_invite(user=resident) is False
        assert mail.outbox == []

    def test_invitation_email_is_not_sent_if_the_transaction_rolls_back(self, django_capture_on_commit_callbacks):
        user = User.objects.create_user("later@hospital.example", first_name="L", last_name="Ater")
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.user_invite(user=user)
        # The e-mail waits for the commit; a rollback drops the callback unrun.
        assert len(callbacks) == 1 and mail.outbox == []


class TestProfileServices:
    def test_mentee_profile_update_sets_many_valued_fields(self):
        user = UserFactory()
        goals = list(Goal.objects.filter(slug__in=["research", "fellowship-application"]))
        profile = services.mentee_profile_update(user=user, goals=goals, languages=[Language.objects.get(code="es")])
        assert set(profile.goals.all()) == set(goals)
        assert [lang.code for lang in profile.languages.all()] == ["es"]


class TestAvailabilityReplace:
    def test_replaces_all_windows_and_merges_overlaps(self):
        user = UserFactory()
        AvailabilityWindow.objects.create(user=user, weekday=6, start=time(9), end=time(10))
        services.availability_replace(
            user=user, windows=[(0, time(17), time(19)), (0, time(18), time(20)), (2, time(7), time(8))]
        )
        assert [(w.weekday, w.start, w.end) for w in AvailabilityWindow.objects.filter(user=user)] == [
            (0, time(17), time(20)),
            (2, time(7), time(8)),
        ]

    def test_refuses_a_window_that_ends_before_it_starts_and_keeps_the_old_ones(self):
        user = UserFactory()
        AvailabilityWindow.objects.create(user=user, weekday=6, start=time(9), end=time(10))
        with pytest.raises(ValidationError):
            services.availability_replace(user=user, windows=[(1, time(12), time(11))])
        assert AvailabilityWindow.objects.filter(user=user).count() == 1
