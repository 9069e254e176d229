"""Mentorship requests raced against each other on PostgreSQL.

Each test pauses the first call inside its transaction, after its checks and with its
locks held (``Hold``), starts the others, and lets the first go on only once every
other call is either blocked on a database lock or finished. So the calls overlap
every time, whatever the machine's load. With the locks the others queue (the test
says how many it saw waiting) and then get a clear error; each control case takes
one model's locks away (``core.locking.disabled``, through the ``unlock`` fixture), and
nothing else, and shows the race then really happens; one takes the locks in the wrong order
and shows the deadlock the order prevents.

Locks, in the order they are taken (``core.locking``): the resident's user row (their
requests queue there: the pending cap), the mentor's profile row (accepting, capacity), the
request row.
"""

import pytest
from django.conf import settings
from django.db import transaction

from accounts.models import MentorProfile, User
from audit.models import AuditEntry
from core.locking import locked
from matching.models import Mentorship, MentorshipRequest, Notification
from matching.services import profiles as profile_services
from matching.services import requests as request_services
from matching.services.profiles import mentor_profile_update
from matching.services.requests import request_accept, request_create, request_decline, request_withdraw
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, ProgramFactory, UserFactory
from tests.integration.races import hold_step, overlap

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

Status = MentorshipRequest.Status


def _resident(program):
    user = UserFactory()
    MembershipFactory(user=user, program=program, role="resident")
    MenteeProfileFactory(user=user)
    return user


def _mentor(program, **profile):
    user = UserFactory()
    MembershipFactory(user=user, program=program, role="faculty")
    MentorProfileFactory(user=user, **profile)
    return user


@pytest.fixture
def program(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # notifications are not the point here
    return ProgramFactory()


@pytest.fixture
def pending(program):
    """A resident's pending request to an attending with spots left."""
    resident, mentor = _resident(program), _mentor(program, capacity=2)
    return request_create(mentee=resident, mentor=mentor, kind="career", message="Hello")


def _create(mentee, mentor):
    return lambda: request_create(mentee=mentee, mentor=mentor, kind="career", message="Hello")


# --- The pending cap: simultaneous requests of one resident to different mentors.

SENDERS = 6


@pytest.fixture
def eager_resident(program):
    return _resident(program), [_mentor(program) for _ in range(SENDERS)]


def _send_all(monkeypatch, resident, mentors):
    # Held after every check, just before the insert.
    hold = hold_step(monkeypatch, request_services, "pairing_block")
    return overlap(*[_create(resident, m) for m in mentors], hold=hold)


def test_simultaneous_requests_keep_the_pending_cap(eager_resident, monkeypatch):
    resident, mentors = eager_resident
    limit = settings.MENTORMATCH["MAX_PENDING_REQUESTS"]
    assert limit < SENDERS

    outcomes, errors, blocked = _send_all(monkeypatch, resident, mentors)

    assert errors == []
    assert blocked == SENDERS - 1  # all the others queued behind the first
    assert outcomes.count("ok") == limit
    refused = [o for o in outcomes if o != "ok"]
    assert refused == [f"You have {limit} pending requests, the most at once. Withdraw one or wait for an answer."] * (
        SENDERS - limit
    )
    assert MentorshipRequest.objects.filter(mentee=resident, status=Status.PENDING).count() == limit


def test_control_without_the_resident_lock_the_cap_overflows(eager_resident, monkeypatch, unlock):
    resident, mentors = eager_resident
    unlock(User)

    outcomes, errors, blocked = _send_all(monkeypatch, resident, mentors)

    # The first counted 0 pending before the others committed theirs, and sent one more.
    assert errors == [] and blocked == 0
    assert (
        MentorshipRequest.objects.filter(mentee=resident, status=Status.PENDING).count()
        > settings.MENTORMATCH["MAX_PENDING_REQUESTS"]
    )


# --- The same pair twice (a double submit).


@pytest.fixture
def pair(program):
    return _resident(program), _mentor(program)


def _send_twice(monkeypatch, resident, mentor):
    hold = hold_step(monkeypatch, request_services, "pairing_block")
    return overlap(_create(resident, mentor), _create(resident, mentor), hold=hold)


def test_a_double_submit_makes_one_pending_request_and_a_clear_error(pair, monkeypatch):
    resident, mentor = pair

    outcomes, errors, blocked = _send_twice(monkeypatch, resident, mentor)

    assert errors == [] and blocked == 1
    assert outcomes == ["ok", f"You already have a pending request to {mentor.full_name}."]
    assert MentorshipRequest.objects.filter(mentee=resident, mentor=mentor, status=Status.PENDING).count() == 1


def test_control_without_the_locks_the_constraint_still_gives_a_clear_error(pair, monkeypatch, unlock):
    resident, mentor = pair
    unlock(User, MentorProfile)

    outcomes, errors, blocked = _send_twice(monkeypatch, resident, mentor)

    # Both passed the "already pending" check; the second inserted first, and the unique
    # constraint refused the held one: a ValidationError, not an IntegrityError (a 500).
    assert errors == [] and blocked == 0
    assert outcomes == [f"You already have a pending request to {mentor.full_name}.", "ok"]
    assert MentorshipRequest.objects.filter(mentee=resident, mentor=mentor, status=Status.PENDING).count() == 1


# --- Accept against withdraw or decline of the same request.


def _answer(request, action):
    return {
        "accept": lambda: request_accept(request=request, actor=request.mentor),
        "withdraw": lambda: request_withdraw(request=request, actor=request.mentee),
        "decline": lambda: request_decline(request=request, actor=request.mentor, note="Full"),
    }[action]


def _actions(request):
    return sorted(
        AuditEntry.objects.filter(object_type="mentorshiprequest", object_id=str(request.pk))
        .exclude(action="request.create")
        .values_list("action", flat=True)
    )


ENDING = {"withdraw": Status.WITHDRAWN, "decline": Status.DECLINED}


@pytest.mark.parametrize("other", ["withdraw", "decline"])
@pytest.mark.parametrize("accept_first", [True, False], ids=["accept-first", "accept-second"])
def test_accept_and_another_answer_at_once_one_wins_cleanly(pending, monkeypatch, other, accept_first):
    hold = hold_step(monkeypatch, request_services, "_resolve")  # held with the request row locked
    order = ["accept", other] if accept_first else [other, "accept"]

    outcomes, errors, blocked = overlap(*[_answer(pending, a) for a in order], hold=hold)

    assert errors == [] and blocked == 1
    winner = order[0]
    won = Status.ACCEPTED if winner == "accept" else ENDING[other]
    assert outcomes == ["ok", f"This request is already {Status(won).label.lower()}."]
    pending.refresh_from_db()
    assert pending.status == won
    assert _actions(pending) == [f"request.{winner}"]
    started = Mentorship.objects.filter(mentee=pending.mentee, mentor=pending.mentor)
    if winner == "accept":
        assert pending.mentorship_id == started.get().pk
    else:
        assert pending.mentorship_id is None and not started.exists()


@pytest.mark.parametrize("other", ["withdraw", "decline"])
@pytest.mark.parametrize("accept_first", [True, False], ids=["accept-first", "accept-second"])
def test_control_without_the_request_lock_both_answers_go_through(pending, monkeypatch, unlock, other, accept_first):
    unlock(MentorshipRequest)
    hold = hold_step(monkeypatch, request_services, "_resolve")
    order = ["accept", other] if accept_first else [other, "accept"]

    outcomes, errors, blocked = overlap(*[_answer(pending, a) for a in order], hold=hold)

    # Both read "pending" and both went through: a mentorship started for a request the
    # audit trail also shows withdrawn or declined (whichever saved last is its status).
    assert errors == [] and blocked == 0 and outcomes == ["ok", "ok"]
    assert _actions(pending) == sorted(["request.accept", f"request.{other}"])
    assert Mentorship.objects.filter(mentee=pending.mentee, mentor=pending.mentor, status="active").count() == 1
    pending.refresh_from_db()
    assert pending.status == (Status.ACCEPTED if accept_first else ENDING[other])


# --- Two accepts of the same request (the page and the API, or a double click).


def _accept_twice(monkeypatch, request):
    hold = hold_step(monkeypatch, request_services, "_resolve")
    return overlap(_answer(request, "accept"), _answer(request, "accept"), hold=hold)


def test_a_double_accept_starts_one_mentorship_with_one_audit_entry_and_one_notification(pending, monkeypatch):
    outcomes, errors, blocked = _accept_twice(monkeypatch, pending)

    assert errors == [] and blocked == 1
    assert outcomes == ["ok", "This request is already accepted."]
    assert Mentorship.objects.filter(mentee=pending.mentee, mentor=pending.mentor).count() == 1
    assert _actions(pending) == ["request.accept"]
    assert AuditEntry.objects.filter(action="mentorship.start").count() == 1
    assert Notification.objects.filter(user=pending.mentee, event="request.accepted").count() == 1


def test_control_without_the_accept_locks_the_second_accept_gets_past_the_guard(pending, monkeypatch, unlock):
    unlock(User, MentorProfile, MentorshipRequest)

    outcomes, errors, blocked = _accept_twice(monkeypatch, pending)

    # The second read "pending" and went on to start a mentorship; only the unique
    # constraint on the pair's active mentorship stopped it (it waited on the first's
    # insert), with a message about something else.
    assert errors == [] and blocked == 1
    assert outcomes[0] == "ok"
    assert outcomes[1] == "This mentorship was just started by someone else."
    assert Mentorship.objects.filter(mentee=pending.mentee, mentor=pending.mentor).count() == 1


# --- The mentor turns "accepting" off meanwhile.


def _stop_accepting(mentor):
    return lambda: mentor_profile_update(user=mentor, accepting_mentees=False)


def test_stopping_accepting_while_a_request_is_accepted_does_not_deadlock(pending, monkeypatch):
    # Held with the profile locked and about to close the pending requests.
    hold = hold_step(monkeypatch, profile_services, "requests_close_for_mentor")

    outcomes, errors, blocked = overlap(_stop_accepting(pending.mentor), _answer(pending, "accept"), hold=hold)

    assert errors == [] and blocked == 1
    assert outcomes == ["ok", "This request is already closed."]
    pending.refresh_from_db()
    assert pending.status == Status.CLOSED
    assert not Mentorship.objects.filter(mentor=pending.mentor).exists()


def _accept_locking_the_request_first(request):
    """An accept that takes its locks out of ``core.locking``'s order: the request row, then
    (in ``request_accept``) the mentor's profile."""

    def accept():
        with transaction.atomic():
            locked(MentorshipRequest.objects).get(pk=request.pk)
            request_accept(request=request, actor=request.mentor)

    return accept


def test_control_locking_the_request_before_the_profile_deadlocks(pending, monkeypatch):
    hold = hold_step(monkeypatch, profile_services, "requests_close_for_mentor")

    outcomes, errors, blocked = overlap(
        _stop_accepting(pending.mentor), _accept_locking_the_request_first(pending), hold=hold
    )

    # Accept held the request and waited for the profile; the update held the profile and
    # waited for the request. PostgreSQL broke the cycle by failing one of them: a 500.
    assert blocked == 1
    assert len(errors) == 1 and "deadlock detected" in errors[0]


def test_a_request_sent_while_the_mentor_stops_accepting_is_closed_not_orphaned(pair, monkeypatch):
    resident, mentor = pair
    # Held after reading "accepting" (profile locked), before the insert.
    hold = hold_step(monkeypatch, request_services, "pairing_block")

    outcomes, errors, blocked = overlap(_create(resident, mentor), _stop_accepting(mentor), hold=hold)

    assert errors == [] and blocked == 1 and outcomes == ["ok", "ok"]
    request = MentorshipRequest.objects.get(mentee=resident, mentor=mentor)
    assert request.status == Status.CLOSED
    assert Notification.objects.filter(user=resident, event="request.closed").count() == 1


def test_control_without_the_profile_lock_the_request_is_orphaned(pair, monkeypatch, unlock):
    resident, mentor = pair
    unlock(MentorProfile)
    hold = hold_step(monkeypatch, request_services, "pairing_block")

    outcomes, errors, blocked = overlap(_create(resident, mentor), _stop_accepting(mentor), hold=hold)

    # The update closed the pending requests it could see, before this one was committed.
    assert errors == [] and blocked == 0 and outcomes == ["ok", "ok"]
    assert MentorProfile.objects.get(user=mentor).accepting_mentees is False
    assert MentorshipRequest.objects.get(mentee=resident, mentor=mentor).status == Status.PENDING
