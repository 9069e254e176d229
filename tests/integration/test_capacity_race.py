"""Many simultaneous accepts against a mentor with capacity 2, on PostgreSQL.

With the lock on the mentor's profile row exactly two mentorships start and the
others get a clear "no open spot" error. The control case removes the lock (and
nothing else) and shows that the race then really happens: more than two start.
Both cases slow the capacity count down, so that the threads overlap every time.
"""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection

from accounts.models import MentorProfile
from matching.models import Mentorship, MentorshipRequest
from matching.services import mentorships
from matching.services.requests import request_accept
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, ProgramFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

THREADS = 20
CAPACITY = 2


@pytest.fixture
def crowded_mentor(settings):
    # Notifications are not the point here: run their tasks in-process.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    program = ProgramFactory()
    mentor = UserFactory()
    MembershipFactory(user=mentor, program=program, role="faculty")
    MentorProfileFactory(user=mentor, capacity=CAPACITY)
    requests = []
    for _ in range(THREADS):
        mentee = UserFactory()
        MembershipFactory(user=mentee, program=program, role="resident")
        MenteeProfileFactory(user=mentee)
        requests.append(MentorshipRequest.objects.create(mentee=mentee, mentor=mentor, program=program, message="Hi"))
    return mentor, requests


@pytest.fixture
def slow_count(monkeypatch):
    real = mentorships.active_mentee_count

    def slow(mentor):
        taken = real(mentor)
        time.sleep(0.05)  # widen the window between the check and the insert
        return taken

    monkeypatch.setattr(mentorships, "active_mentee_count", slow)


def _race(mentor, requests):
    barrier = threading.Barrier(len(requests))
    outcomes, errors = [], []

    def accept(request):
        close_old_connections()
        try:
            barrier.wait()
            request_accept(request=request, actor=mentor)
            outcomes.append("accepted")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        except Exception as exc:  # anything else would be a 500 for someone
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(r,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes, errors


def test_capacity_holds_under_simultaneous_accepts(crowded_mentor, slow_count):
    mentor, requests = crowded_mentor
    outcomes, errors = _race(mentor, requests)

    assert errors == []
    assert outcomes.count("accepted") == CAPACITY
    lost = [o for o in outcomes if o != "accepted"]
    assert len(lost) == THREADS - CAPACITY
    assert all("no open spot left (2 of 2 taken)" in message for message in lost)
    assert Mentorship.objects.filter(mentor=mentor, status="active").count() == CAPACITY
    assert MentorshipRequest.objects.filter(status="accepted").count() == CAPACITY
    assert MentorshipRequest.objects.filter(status="pending").count() == THREADS - CAPACITY


def test_control_without_the_lock_the_race_overfills_the_mentor(crowded_mentor, slow_count, unlock):
    mentor, requests = crowded_mentor
    unlock(MentorProfile)

    outcomes, errors = _race(mentor, requests)

    assert errors == []
    assert Mentorship.objects.filter(mentor=mentor, status="active").count() > CAPACITY
