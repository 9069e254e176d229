"""The demo's mentorships (demo/lifecycle.py, run by ``manage.py seed_demo``): every step
of the lifecycle is there for the demo logins on first login, and a re-run changes nothing."""

import re
import zoneinfo
from dataclasses import dataclass
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core import mail
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.test import RequestFactory, TestCase
from django.urls import reverse
from django.utils import timezone

from accounts.models import MentorProfile, User
from audit.models import AuditEntry
from demo.people import DEMO_LOGINS, DEMO_PASSWORD, seed_demo
from matching.models import (
    ActionItem,
    CheckIn,
    Kind,
    Meeting,
    Mentorship,
    MentorshipRequest,
    Notification,
    Resource,
)
from matching.services.requests import request_accept
from tests.shared_world import world_for_scope

pytestmark = pytest.mark.django_db

RESIDENT = "resident@demo.mentormatch.org"
ATTENDING = "attending@demo.mentormatch.org"
NEARPEER = "nearpeer@demo.mentormatch.org"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
SUMMARY = re.compile(r"Mentorships: \d+ active, \d+ ended; requests: \d+ pending; meetings: \d+\.")


def seed():
    out = StringIO()
    # pytest-django runs with DEBUG off, which the command treats as production.
    call_command("seed_demo", "--force", stdout=out)
    return out.getvalue()


@dataclass(frozen=True)
class SeededDemo:
    output: str  # what ``seed_demo`` printed
    emailed: list  # the messages its tasks sent


@pytest.fixture(scope="class")
def seeded_demo(django_db_setup, django_db_blocker):
    """The demo, seeded once per class (a couple of seconds a seed); each test's changes are
    rolled back (tests/shared_world.py)."""

    def build():
        mail.outbox = []
        # Run what would run on commit (the e-mail tasks), to see that nothing is e-mailed.
        with TestCase.captureOnCommitCallbacks(execute=True):
            output = seed()
        return SeededDemo(output=output, emailed=list(mail.outbox))

    yield from world_for_scope(django_db_blocker, build)


@pytest.fixture
def demo(seeded_demo, db):
    return seeded_demo.output


def user(email):
    return User.objects.get(email=email)


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (MentorshipRequest, Mentorship, Meeting, ActionItem, Resource, CheckIn, Notification, AuditEntry)
    }


def active(**filters):
    return Mentorship.objects.filter(status=Mentorship.Status.ACTIVE, **filters)


def in_availability(when, person):
    """``when`` falls inside one of ``person``'s weekly windows, in their own time zone."""
    local = when.astimezone(zoneinfo.ZoneInfo(person.time_zone))
    return person.availability.filter(weekday=local.weekday(), start__lte=local.time(), end__gt=local.time()).exists()


class TestTheAttending:
    def test_her_dashboard_shows_requests_waiting_her_mentee_the_next_meeting_and_free_spots(self, demo, client):
        attending = user(ATTENDING)
        client.force_login(attending, backend=MODEL_BACKEND)
        response = client.get(reverse("matching:dashboard"))

        assert response.status_code == 200
        waiting = response.context["requests_waiting"]
        assert len(waiting) == 2 and all(r.waiting_for_me for r in waiting)
        assert len(response.context["my_mentees"]) == 1
        assert response.context["free_spots"] == attending.mentor_profile.capacity - 1 > 0
        (meeting,) = response.context["next_meetings"]
        mentee = response.context["my_mentees"][0].mentee
        assert meeting.mentorship.mentee == mentee
        html = response.content.decode()
        for request in waiting:
            assert request.mentee.full_name in html
        assert "Waiting for you" in html and "No meetings confirmed yet" not in html

    def test_one_request_has_her_question_asked_and_answered(self, demo):
        pending = MentorshipRequest.objects.filter(mentor__email=ATTENDING, status="pending")
        assert {r.mentee.memberships.get().program.slug for r in pending} == {"im"}
        (asked,) = pending.exclude(question="")
        assert asked.answer and asked.question_asked_at < asked.answered_at <= timezone.now()
        assert all(r.expires_at > timezone.now() for r in pending)

    def test_her_mentee_is_the_residents_classmate_with_a_full_mentorship(self, demo):
        (mentorship,) = active(mentor__email=ATTENDING)
        mentee = mentorship.mentee
        assert mentee.email != RESIDENT
        assert mentee.mentee_profile.career_stage.code == user(RESIDENT).mentee_profile.career_stage.code == "PGY-1"
        assert mentee.memberships.get().program.slug == "im"

        agreement = mentorship.agreement
        assert agreement.expectations and agreement.first_goals and agreement.preferred_channel

        items = list(mentorship.action_items.all())
        assert len(items) == 3
        assert sum(item.is_overdue for item in items) == 1
        assert sum(item.status == ActionItem.Status.DONE for item in items) == 1
        assert mentorship.resources.count() == 2

        now = timezone.now()
        (held,) = mentorship.meetings.filter(status=Meeting.Status.HELD)
        assert now - timedelta(days=45) < held.start < now - timedelta(days=14) and held.notes
        assert held.start > mentorship.started_at
        (upcoming,) = mentorship.meetings.filter(status=Meeting.Status.CONFIRMED)
        local = upcoming.start.astimezone(zoneinfo.ZoneInfo(mentorship.mentor.time_zone))
        next_monday = (now.astimezone(local.tzinfo) + timedelta(days=7 - now.astimezone(local.tzinfo).weekday())).date()
        assert next_monday <= local.date() < next_monday + timedelta(days=7)
        # At a time both said they are free, in their own time zones.
        assert in_availability(upcoming.start, mentorship.mentor) and in_availability(upcoming.start, mentee)


class TestTheResident:
    def test_has_no_mentor_and_no_pending_request_but_a_kindly_declined_one(self, demo):
        resident = user(RESIDENT)
        assert not active(mentee=resident).exists()
        assert not MentorshipRequest.objects.filter(mentee=resident, status="pending").exists()
        (declined,) = MentorshipRequest.objects.filter(mentee=resident)
        assert declined.status == MentorshipRequest.Status.DECLINED
        assert declined.mentor.email != ATTENDING and declined.mentor.mentor_profile.academic_rank is not None
        assert "Jordan" in declined.response_note

    def test_can_request_a_mentor_from_scratch(self, demo, client):
        client.force_login(user(RESIDENT), backend=MODEL_BACKEND)
        response = client.get(reverse("matching:dashboard"))
        assert response.context["my_mentorships"] == [] and response.context["pending_requests"] == []
        assert client.get(reverse("matching:requests")).status_code == 200


class TestTheNearPeer:
    def test_mentors_an_intern_who_has_times_to_choose_from(self, demo):
        (mentorship,) = active(mentor__email=NEARPEER)
        assert mentorship.kind == Kind.NEAR_PEER
        intern = mentorship.mentee
        assert intern.mentee_profile.career_stage.code == "PGY-1"
        assert intern.memberships.get().program.slug == "gs"
        (meeting,) = mentorship.meetings.all()
        assert meeting.status == Meeting.Status.PROPOSED and meeting.proposed_by.email == NEARPEER
        slots = [slot.start for slot in meeting.slots.all()]
        assert len(slots) == 3 and all(start > timezone.now() for start in slots)

    def test_completed_her_own_career_mentorship_early_with_a_thank_you(self, demo):
        nearpeer = user(NEARPEER)
        assert not active(mentee=nearpeer).exists()
        (past,) = Mentorship.objects.filter(mentee=nearpeer)
        assert past.status == Mentorship.Status.COMPLETED and past.kind == Kind.CAREER
        assert past.ended_by == nearpeer and past.started_at < past.ended_at < timezone.now()
        assert past.thank_you_note
        assert past.mentor.mentor_profile.academic_rank is not None  # an attending
        assert past.mentor.memberships.get().program.slug == "gs"


class TestEveryoneElse:
    def test_mentorships_and_check_ins_in_both_programs(self, demo):
        others = active().exclude(Q(mentor__email__in=[ATTENDING, NEARPEER]))
        for slug in ("im", "gs"):
            assert others.filter(program__slug=slug).count() >= 2
            assert CheckIn.objects.filter(mentorship__program__slug=slug).values("mentorship").distinct().count() >= 2

    def test_one_mentee_asked_for_a_rematch(self, demo):
        (rematch,) = Mentorship.objects.filter(rematch_requested=True)
        assert rematch.status == Mentorship.Status.ENDED and rematch.ended_by == rematch.mentee

    def test_no_mentor_is_over_capacity_and_no_mentee_has_two_of_a_kind(self, demo):
        over = MentorProfile.objects.annotate(
            taken=Count("user__mentorships_as_mentor", filter=Q(user__mentorships_as_mentor__status="active"))
        ).filter(taken__gt=F("capacity"))
        assert not over.exists()
        doubled = active().values("mentee", "kind").annotate(n=Count("pk")).filter(n__gt=1)
        assert not doubled.exists()

    def test_past_events_are_in_the_past_and_pending_ones_ahead(self, demo):
        now = timezone.now()
        assert not Mentorship.objects.filter(started_at__gt=now).exists()
        assert not Meeting.objects.filter(status=Meeting.Status.HELD, start__gt=now).exists()
        assert not Meeting.objects.filter(status=Meeting.Status.CONFIRMED, start__lt=now).exists()
        assert not Notification.objects.filter(created_at__gt=now).exists()


class TestSeeding:
    def test_nobody_is_emailed_and_the_console_gets_one_summary_line(self, demo, seeded_demo):
        assert seeded_demo.emailed == []
        assert not Notification.objects.filter(emailed_at__isnull=True).exists()
        assert len(SUMMARY.findall(demo)) == 1
        assert "Mentorships: 9 active, 2 ended; requests: 3 pending" in demo

    def test_running_it_twice_changes_nothing(self, demo):
        before = counts()
        assert before["MentorshipRequest"] and before["Meeting"] and before["ActionItem"]
        output = seed()
        assert counts() == before
        assert "nothing changed" in output and SUMMARY.search(output)

    def test_what_people_do_while_exploring_survives_a_re_run(self, demo):
        attending = user(ATTENDING)
        waiting = MentorshipRequest.objects.filter(mentor=attending, status="pending").first()
        request_accept(request=waiting, actor=attending)
        before = counts()
        seed()
        assert counts() == before
        assert not MentorshipRequest.objects.filter(mentee=waiting.mentee, mentor=attending, status="pending").exists()

    def test_every_page_of_the_demo_logins_renders(self, demo, client):
        for email in (RESIDENT, ATTENDING, NEARPEER, "coordinator@demo.mentormatch.org"):
            person = user(email)
            client.force_login(person, backend=MODEL_BACKEND)
            urls = [reverse("matching:dashboard"), reverse("matching:requests")]
            urls += [
                r.get_absolute_url() for r in MentorshipRequest.objects.filter(Q(mentee=person) | Q(mentor=person))
            ]
            for mentorship in Mentorship.objects.filter(Q(mentee=person) | Q(mentor=person)):
                urls.append(mentorship.get_absolute_url())
                urls += [reverse("matching:meeting-detail", args=[m.pk]) for m in mentorship.meetings.all()]
            for url in urls:
                assert client.get(url).status_code == 200, (email, url)

    def test_every_demo_login_still_authenticates(self, demo):
        request = RequestFactory().post("/accounts/login/")  # django-axes wants the request
        for login in DEMO_LOGINS:
            assert authenticate(request, username=login.email, password=DEMO_PASSWORD) == user(login.email)


# Outside the classes: a class's demo is there for every test of the class.
def test_a_story_the_demo_no_longer_allows_is_left_out_and_the_rest_is_seeded():
    seed_demo()  # the people only
    MentorProfile.objects.filter(user__email="grace.thompson@demo.mentormatch.org").update(capacity=0)
    output = seed()
    assert "Left out the story of" in output and "Grace Thompson" in output
    assert not Mentorship.objects.filter(mentor__email="grace.thompson@demo.mentormatch.org").exists()
    assert active(mentor__email=ATTENDING).count() == 1


def test_the_demo_program_director_is_kept_from_its_residents_and_one_exception_is_on_record(demo):
    from matching import recommendations
    from matching.conflicts import EVALUATOR, blocked_pairs
    from matching.models import EvaluatorRole, PairingException

    director = user("karen.mitchell@demo.mentormatch.org")
    assert EvaluatorRole.objects.get(user=director).role == EvaluatorRole.Role.PROGRAM_DIRECTOR
    resident = user(RESIDENT)
    assert blocked_pairs([resident.pk], [director.pk]) == {(resident.pk, director.pk): EVALUATOR}

    # Dr Thompson sits on the CCC, and keeps the mentee she had by an explicit exception.
    (exception,) = PairingException.objects.select_related("mentee", "mentor")
    assert active(mentee=exception.mentee, mentor=exception.mentor).exists()
    assert blocked_pairs([exception.mentee.pk], [exception.mentor.pk]) == {}
    me = recommendations.mentee_record(resident.mentee_profile)
    mentors = [
        recommendations.mentor_record(p)
        for p in MentorProfile.objects.filter(
            user__email__in=["karen.mitchell@demo.mentormatch.org", "grace.thompson@demo.mentormatch.org"]
        )
    ]
    assert recommendations.scores_for(me, mentors) == {}  # both evaluate the demo resident's program
