"""What matching ends when people leave a roster (matching/receivers_roster.py), through the
public services only: each request and mentorship keeps its reason, its audit entry, and the
notification of whoever stays."""

import ast
from pathlib import Path

import pytest

from accounts.leaving import roster_members_leave
from accounts.models import Membership
from audit.models import AuditEntry
from matching.models import Mentorship, MentorshipRequest, Notification

pytestmark = pytest.mark.django_db


def _leave(program, coordinator, user, reason="left"):
    ids = list(Membership.objects.filter(program=program, user=user).values_list("pk", flat=True))
    return roster_members_leave(program=program, memberships=ids, actor=coordinator, reason=reason)


def _request(program, mentee, mentor):
    return MentorshipRequest.objects.create(
        mentee=mentee, mentor=mentor, program=program, message="Hello", expires_at="2099-01-01T00:00:00Z"
    )


def test_a_mentor_leaving_closes_requests_and_tells_the_residents(
    program, coordinator, resident, attending, django_capture_on_commit_callbacks
):
    request = _request(program, resident, attending)
    mentorship = Mentorship.objects.create(mentee=resident, mentor=attending, program=program)

    with django_capture_on_commit_callbacks(execute=True):
        _leave(program, coordinator, attending)

    request.refresh_from_db()
    mentorship.refresh_from_db()
    sentence = f"{attending.full_name} left the program."
    assert (request.status, request.response_note) == ("closed", sentence)
    assert (mentorship.status, mentorship.end_reason, mentorship.ended_by) == ("ended", sentence, coordinator)
    closed = AuditEntry.objects.get(action="request.close")
    assert (closed.actor, closed.reason, closed.before, closed.after) == (
        coordinator,
        sentence,
        {"status": "pending"},
        {"status": "closed"},
    )
    assert AuditEntry.objects.get(action="mentorship.end").reason == sentence
    told = dict(Notification.objects.filter(user=resident).values_list("event", "title"))
    assert told == {
        "request.closed": f"{attending.full_name} has left the program",
        "mentorship.ended": f"Your mentorship with {attending.full_name} has ended",
    }


def test_a_resident_leaving_closes_their_requests_quietly(
    program, coordinator, resident, attending, django_capture_on_commit_callbacks
):
    request = _request(program, resident, attending)

    with django_capture_on_commit_callbacks(execute=True):
        _leave(program, coordinator, resident, reason="graduated")

    request.refresh_from_db()
    assert (request.status, request.response_note) == (
        "closed",
        f"{resident.full_name} graduated and left the program.",
    )
    assert AuditEntry.objects.get(action="request.close").reason == request.response_note
    assert not Notification.objects.filter(event="request.closed").exists()


def test_the_receiver_uses_no_private_helper():
    source = Path(__file__).resolve().parents[2] / "matching" / "receivers_roster.py"
    imported = [
        alias.name
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    ]
    assert imported and not [name for name in imported if name.startswith("_")]
