"""Helpers the tests of matching share across its layers (services, pages, API), one copy each.

Fixtures live in conftest.py; these are plain functions a test calls."""

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Membership, MentorProfile
from audit.models import AuditEntry
from matching.match_runs.services import match_run_create
from matching.models import Meeting
from matching.notifications import notify
from matching.services.requests import request_create
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# --- People and requests.

MESSAGE = "I'm a PGY-1 thinking about cardiology fellowship and would value your advice."


def _ask(mentee, mentor, kind="career"):
    return request_create(mentee=mentee, mentor=mentor, kind=kind, message=MESSAGE)


def _residents(program, n):
    people = []
    for _ in range(n):
        user = UserFactory()
        MembershipFactory(user=user, program=program, role="resident")
        MenteeProfileFactory(user=user)
        people.append(user)
    return people


def _fill(mentor, program, n):
    """Give ``mentor`` ``n`` active mentees."""
    for mentee in _residents(program, n):
        MentorshipFactory(mentee=mentee, mentor=mentor, program=program)


def _mentor(program, first, last, capacity=3, **fields):
    user = UserFactory(first_name=first, last_name=last, **fields)
    MembershipFactory(user=user, program=program, role=Membership.Role.FACULTY)
    MentorProfileFactory(user=user, capacity=capacity)
    return user


def _capacity(mentor, capacity):
    MentorProfile.objects.filter(user=mentor).update(capacity=capacity)


# --- Meetings and time.


def _in(days: int, hour: int = 15) -> datetime:
    return (timezone.now() + timedelta(days=days)).astimezone(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)


def _days_ago(days):
    return timezone.now() - timedelta(days=days)


def _meeting(mentorship, status, start):
    """A meeting the mentor proposed, stored as is (no service, no notifications)."""
    return Meeting.objects.create(mentorship=mentorship, proposed_by=mentorship.mentor, status=status, start=start)


# --- Notifications.


def _notify(user, key="request:1:new", title="Bob Brown asked you to be their career mentor", **kwargs):
    return notify(event="request.new", user=user, title=title, url="/requests/1/", dedup_key=key, **kwargs)


# --- The audit trail.


def _page(program):
    """The program's audit trail page."""
    return reverse("matching:audit", args=[program.slug])


def _entry(
    program, *, action="conflict.add", actor=None, reason="", when=None, obj_type="mentorship", obj_id="1", **data
):
    return AuditEntry.objects.create(
        program=program,
        actor=actor,
        action=action,
        object_type=obj_type,
        object_id=obj_id,
        reason=reason,
        created_at=when or timezone.now(),
        before=data.get("before", {}),
        after=data.get("after", {}),
    )


# --- Match runs.


def _create(coordinator, program, residents, mentors, **kwargs):
    kwargs.setdefault("kind", "career")
    kwargs.setdefault("algorithm", "stable")
    return match_run_create(
        program=program,
        actor=coordinator,
        mentee_ids=[r.pk for r in residents],
        mentor_ids=[m.pk for m in mentors],
        **kwargs,
    )
