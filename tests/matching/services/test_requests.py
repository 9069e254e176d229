"""The request and mentorship services: every transition and refusal, below the pages and API."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import MentorProfile
from audit.models import AuditEntry
from matching.models import Mentorship, MentorshipRequest, Notification
from matching.services.profiles import mentor_profile_update
from matching.services.requests import (
    request_accept,
    request_answer,
    request_ask_question,
    request_create,
    request_decline,
    request_withdraw,
    requests_expire,
    requests_remind,
)
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


def _ask(resident, attending, kind="career"):
    return request_create(mentee=resident, mentor=attending, kind=kind, message="I'd value your advice on fellowship.")


def _more_residents(program, n):
    people = []
    for _ in range(n):
        user = UserFactory()
        MembershipFactory(user=user, program=program, role="resident")
        MenteeProfileFactory(user=user)
        people.append(user)
    return people


class TestCreate:
    def test_resident_requests_a_mentor_and_the_mentor_is_notified(
        self, resident, attending, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            request = _ask(resident, attending)
        assert request.status == "pending"
        assert request.expires_at - request.created_at == timedelta(days=14)
        assert Notification.objects.get(user=attending).event == "request.new"
        assert [m.to for m in mail.outbox] == [[attending.email]]
        assert AuditEntry.objects.filter(action="request.create", object_id=str(request.pk)).exists()

    def test_an_attending_without_resident_role_cannot_request(self, attending, other_attending):
        with pytest.raises(PermissionDenied):
            _ask(attending, other_attending)

    def test_nobody_requests_themselves(self, program, resident):
        MembershipFactory(user=resident, program=program, role="faculty")
        MentorProfileFactory(user=resident)
        with pytest.raises(PermissionDenied):
            _ask(resident, resident)

    def test_one_pending_request_per_pair(self, resident, attending):
        _ask(resident, attending)
        with pytest.raises(ValidationError, match="already have a pending request"):
            _ask(resident, attending, kind="research")

    def test_at_most_three_pending_at_once(self, program, resident, settings):
        mentors = [MentorProfileFactory().user for _ in range(4)]
        for mentor in mentors[:3]:
            _ask(resident, mentor)
        with pytest.raises(ValidationError, match="3 pending requests, the most at once"):
            _ask(resident, mentors[3])
        settings.MENTORMATCH = {**settings.MENTORMATCH, "MAX_PENDING_REQUESTS": 4}
        _ask(resident, mentors[3])

    def test_mentor_not_accepting_is_refused(self, resident, attending):
        MentorProfile.objects.filter(user=attending).update(accepting_mentees=False)
        with pytest.raises(ValidationError, match="not accepting"):
            _ask(resident, attending)

    def test_full_mentor_is_refused(self, program, resident, attending):
        MentorProfile.objects.filter(user=attending).update(capacity=1)
        other = _more_residents(program, 1)[0]
        request_accept(request=_ask(other, attending), actor=attending)
        with pytest.raises(ValidationError, match="no open spot"):
            _ask(resident, attending)

    def test_a_second_mentor_of_the_same_kind_is_refused(self, resident, attending, other_attending):
        request_accept(request=_ask(resident, attending), actor=attending)
        with pytest.raises(ValidationError) as exc:
            _ask(resident, other_attending, kind="career")
        assert "already have an active career mentor" in str(exc.value)
        assert _ask(resident, other_attending, kind="research").status == "pending"

    def test_empty_message_is_refused_on_its_field(self, resident, attending):
        with pytest.raises(ValidationError) as exc:
            request_create(mentee=resident, mentor=attending, kind="career", message="   ")
        assert "message" in exc.value.message_dict


class TestRespond:
    def test_accept_starts_the_mentorship_with_an_agreement(
        self, resident, attending, django_capture_on_commit_callbacks
    ):
        request = _ask(resident, attending)
        with django_capture_on_commit_callbacks(execute=True):
            mentorship = request_accept(request=request, actor=attending, note="Happy to.")
        request.refresh_from_db()
        assert (request.status, request.mentorship, request.response_note) == ("accepted", mentorship, "Happy to.")
        assert (mentorship.mentee, mentorship.mentor, mentorship.kind, mentorship.source) == (
            resident,
            attending,
            "career",
            "request",
        )
        assert hasattr(mentorship, "agreement")
        assert Notification.objects.filter(user=resident, event="request.accepted").exists()

    def test_only_the_mentor_can_accept(self, resident, attending, other_attending):
        request = _ask(resident, attending)
        for actor in (resident, other_attending):
            with pytest.raises(PermissionDenied):
                request_accept(request=request, actor=actor)

    def test_accepting_a_withdrawn_request_is_refused(self, resident, attending):
        request = _ask(resident, attending)
        request_withdraw(request=request, actor=resident)
        with pytest.raises(ValidationError, match="already withdrawn"):
            request_accept(request=request, actor=attending)
        assert not Mentorship.objects.exists()

    def test_accept_when_full_says_so_and_leaves_the_request_pending(self, program, resident, attending):
        MentorProfile.objects.filter(user=attending).update(capacity=1)
        first, second = _more_residents(program, 2)
        r1, r2 = _ask(first, attending), _ask(second, attending)
        request_accept(request=r1, actor=attending)
        with pytest.raises(ValidationError, match=r"no open spot left \(1 of 1 taken\)"):
            request_accept(request=r2, actor=attending)
        r2.refresh_from_db()
        assert r2.status == "pending"

    def test_decline_with_a_note_reaches_the_mentee(self, resident, attending):
        request = request_decline(request=_ask(resident, attending), actor=attending, note="I'm on sabbatical.")
        assert request.status == "declined"
        assert Notification.objects.get(user=resident, event="request.declined").body == "I'm on sabbatical."

    def test_only_the_mentee_withdraws(self, resident, attending):
        request = _ask(resident, attending)
        with pytest.raises(PermissionDenied):
            request_withdraw(request=request, actor=attending)
        assert request_withdraw(request=request, actor=resident).status == "withdrawn"

    def test_one_question_then_one_answer(self, resident, attending):
        request = _ask(resident, attending)
        request_ask_question(request=request, actor=attending, question="Which fellowship?")
        with pytest.raises(ValidationError, match="one question"):
            request_ask_question(request=request, actor=attending, question="And another?")
        with pytest.raises(PermissionDenied):
            request_answer(request=request, actor=attending, answer="me")
        request = request_answer(request=request, actor=resident, answer="Cardiology.")
        assert (request.question, request.answer, request.status) == ("Which fellowship?", "Cardiology.", "pending")
        with pytest.raises(ValidationError, match="no open question"):
            request_answer(request=request, actor=resident, answer="Again")


class TestMentorStopsAccepting:
    def test_pending_requests_are_closed_with_a_message(self, resident, other_resident, attending):
        r1, r2 = _ask(resident, attending), _ask(other_resident, attending)
        mentor_profile_update(user=attending, accepting_mentees=False)
        for request in (r1, r2):
            request.refresh_from_db()
            assert request.status == "closed"
            assert "stopped accepting new mentees" in request.response_note
        assert Notification.objects.filter(event="request.closed").count() == 2

    def test_saving_the_profile_while_already_not_accepting_closes_nothing_new(self, resident, attending):
        mentor_profile_update(user=attending, accepting_mentees=False)
        mentor_profile_update(user=attending, capacity=3)
        assert not Notification.objects.filter(event="request.closed").exists()


class TestPeriodic:
    def test_expire_marks_overdue_requests_once(self, resident, attending):
        request = _ask(resident, attending)
        later = request.expires_at + timedelta(minutes=1)
        assert requests_expire(now=later) == 1
        assert requests_expire(now=later) == 0
        request.refresh_from_db()
        assert request.status == "expired"
        assert Notification.objects.filter(user=resident, event="request.expired").count() == 1

    def test_nothing_expires_before_its_time(self, resident, attending):
        request = _ask(resident, attending)
        assert requests_expire(now=request.expires_at - timedelta(minutes=1)) == 0

    def test_mentor_is_reminded_once_in_the_last_days(self, resident, attending):
        request = _ask(resident, attending)
        assert requests_remind(now=request.created_at + timedelta(days=1)) == 0  # too early
        near_end = request.expires_at - timedelta(days=2)
        assert requests_remind(now=near_end) == 1
        assert requests_remind(now=near_end + timedelta(hours=1)) == 0
        assert Notification.objects.filter(user=attending, event="request.reminder").count() == 1

    def test_the_reminder_names_the_last_day_in_the_mentors_time_zone(self, resident, attending, settings):
        settings.TIME_ZONE = "UTC"
        attending.time_zone = "Pacific/Auckland"  # UTC+13 in December
        attending.save(update_fields=["time_zone"])
        request = _ask(resident, attending)
        # 20:00 UTC on December 10 is already 09:00 on December 11 in Auckland.
        MentorshipRequest.objects.filter(pk=request.pk).update(
            expires_at=timezone.make_aware(datetime(2030, 12, 10, 20, 0), UTC)
        )
        assert requests_remind(now=timezone.make_aware(datetime(2030, 12, 9, 12, 0), UTC)) == 1
        reminder = Notification.objects.get(user=attending, event="request.reminder")
        assert reminder.body == "The request expires on 11 Dec 2030."

    def test_an_expired_request_frees_a_pending_slot(self, resident, settings):
        mentors = [MentorProfileFactory().user for _ in range(4)]
        first = _ask(resident, mentors[0])
        _ask(resident, mentors[1])
        _ask(resident, mentors[2])
        requests_expire(now=first.expires_at + timedelta(seconds=1))
        # All three expired at the same moment; the cap counts pending only.
        assert _ask(resident, mentors[3]).status == "pending"
        assert MentorshipRequest.objects.filter(mentee=resident, status="pending").count() == 1
        assert timezone.now() < first.expires_at
