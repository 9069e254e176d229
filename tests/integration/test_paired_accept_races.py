"""Two mentors accept two pending requests of the same kind from one resident at once, on
PostgreSQL.

A resident may have one active mentor of each kind. When two mentors press "Accept" on that
resident's two career requests at the same moment, exactly one mentorship starts, the other
request is closed saying why ("… now has a career mentor", ``requests_close_for_paired``) and
its mentor gets a clear refusal, not a 500 and not a deadlock.

Both accepts lock the resident's user row first (``core.locking``: a resident's own row comes
before any mentor's profile and any request), so the second waits for the first and then finds
its request already closed. The control case takes that lock away: the second accept then
runs beside the first, each closes only the requests the other does not hold, and the
request of the accept that lost stays pending, asking its mentor to accept a resident who
already has a mentor of that kind.
"""

import pytest

from accounts.models import User
from audit.models import AuditEntry
from matching.models import Mentorship, MentorshipRequest, Notification
from matching.services import requests as request_services
from matching.services.requests import request_accept, request_create
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, ProgramFactory, UserFactory
from tests.integration.races import hold_step, overlap, together

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

Status = MentorshipRequest.Status


@pytest.fixture
def two_requests(settings):
    """Alice's two pending career requests, to two attendings of her program with spots left."""
    settings.CELERY_TASK_ALWAYS_EAGER = True  # notifications are not the point here
    program = ProgramFactory()
    resident = UserFactory(first_name="Alice", last_name="Adams")
    MembershipFactory(user=resident, program=program, role="resident")
    MenteeProfileFactory(user=resident)
    mentors = []
    for _ in range(2):
        mentor = UserFactory()
        MembershipFactory(user=mentor, program=program, role="faculty")
        MentorProfileFactory(user=mentor, capacity=2)
        mentors.append(mentor)
    return [request_create(mentee=resident, mentor=m, kind="career", message="Hello") for m in mentors]


def _accept(request):
    return lambda: request_accept(request=request, actor=request.mentor)


def _accept_both(monkeypatch, requests):
    # The first accept is held with its locks taken and its checks passed, just before it
    # starts the mentorship; the second starts then.
    hold = hold_step(monkeypatch, request_services, "mentorship_create")
    return overlap(*[_accept(r) for r in requests], hold=hold)


def _statuses(requests):
    return [MentorshipRequest.objects.get(pk=r.pk).status for r in requests]


def test_two_mentors_accepting_one_residents_requests_start_one_mentorship_and_close_the_other(
    two_requests, monkeypatch
):
    first, second = two_requests
    resident = first.mentee

    outcomes, errors, blocked = _accept_both(monkeypatch, two_requests)

    # The second queued behind the first on the resident's row, then found its request closed.
    assert errors == [] and blocked == 1
    assert outcomes == ["ok", "This request is already closed."]
    (mentorship,) = Mentorship.objects.filter(mentee=resident, kind="career", status=Mentorship.Status.ACTIVE)
    assert mentorship.mentor == first.mentor
    assert _statuses(two_requests) == [Status.ACCEPTED, Status.CLOSED]
    closed = MentorshipRequest.objects.get(pk=second.pk)
    assert closed.response_note == "Alice Adams now has a career mentor."
    assert closed.resolved_at is not None and closed.mentorship is None
    # Told once: the losing mentor that the request left their queue; the resident that they have a mentor.
    assert Notification.objects.filter(user=second.mentor, event="request.closed").count() == 1
    assert Notification.objects.filter(user=resident, event="request.accepted").count() == 1
    assert AuditEntry.objects.filter(action="mentorship.start").count() == 1
    assert AuditEntry.objects.filter(action="request.close", object_id=str(second.pk)).count() == 1


def test_released_at_the_same_moment_either_may_win_but_only_one_does(two_requests):
    # No hold: both threads start together, whichever locks the resident first wins.
    outcomes, errors = together(*[_accept(r) for r in two_requests])

    assert errors == []  # no deadlock, no 500
    assert sorted(outcomes) == ["This request is already closed.", "ok"]
    assert Mentorship.objects.filter(mentee=two_requests[0].mentee, kind="career").count() == 1
    assert sorted(_statuses(two_requests)) == sorted([Status.ACCEPTED, Status.CLOSED])


def test_control_without_the_resident_lock_the_losing_request_is_left_pending(two_requests, monkeypatch, unlock):
    unlock(User)
    first, second = two_requests

    outcomes, errors, blocked = _accept_both(monkeypatch, two_requests)

    # The second ran beside the held first: it started its mentorship and tried to close the
    # first's request, which the first held (skipped, not waited for). The first, released,
    # found the resident paired and gave up, so its own request is still pending.
    assert errors == [] and blocked == 0
    assert outcomes == ["Alice Adams already has an active career mentor.", "ok"]
    (mentorship,) = Mentorship.objects.filter(mentee=first.mentee, kind="career")
    assert mentorship.mentor == second.mentor
    assert _statuses(two_requests) == [Status.PENDING, Status.ACCEPTED]
