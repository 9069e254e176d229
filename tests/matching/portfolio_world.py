"""The portfolio's fixed record over the academic year 2024–25, shared by its tests of
matching/portfolio.py, the page and the API."""

from datetime import UTC, datetime

import pytest

from accounts.models import AcademicRank
from matching.models import ActionItem, Meeting, Mentorship
from tests.factories import MembershipFactory, MenteeProfileFactory, UserFactory
from tests.matching.factories import ActionItemFactory, MentorshipFactory

PERIOD = {"from": "2024-07-01", "to": "2025-06-30"}


def _at(*args):
    return datetime(*args, tzinfo=UTC)


def _held(mentorship, start, minutes, status=Meeting.Status.HELD):
    return Meeting.objects.create(
        mentorship=mentorship, proposed_by=mentorship.mentee, status=status, start=start, duration_minutes=minutes
    )


def _goal(mentorship, title, completed_at, status=ActionItem.Status.DONE):
    return ActionItemFactory(mentorship=mentorship, title=title, status=status, completed_at=completed_at)


@pytest.fixture
def record(program, resident, other_resident, attending, other_attending):
    """Carol's year:
    - Alice (career), since May 2024, still active;
    - Bob (research), Sept 2024 – completed March 15, 2025, with a thank-you note;
    - Marcus (career), Aug 2024 – ended May 1, 2025, with a thank-you note too;
    - Priya (wellness), 2023 – June 15, 2024: finished before the period, so left out, note and all.
    Dave mentors Alice in research: none of it is Carol's."""
    attending.mentor_profile.academic_rank = AcademicRank.objects.get(name="Associate Professor")
    attending.mentor_profile.save()
    marcus, priya = (
        UserFactory(first_name="Marcus", last_name="Moore"),
        UserFactory(first_name="Priya", last_name="Patel"),
    )
    for person in (marcus, priya):
        MembershipFactory(user=person, program=program, role="resident")
        MenteeProfileFactory(user=person)
    alice = MentorshipFactory(mentee=resident, mentor=attending, program=program, started_at=_at(2024, 5, 1, 14))
    bob = MentorshipFactory(
        mentee=other_resident,
        mentor=attending,
        program=program,
        kind="research",
        started_at=_at(2024, 9, 1, 14),
        status=Mentorship.Status.COMPLETED,
        ended_at=_at(2025, 3, 15, 14),
        thank_you_note="=Thank you for a wonderful year",
    )
    ended = MentorshipFactory(
        mentee=marcus,
        mentor=attending,
        program=program,
        started_at=_at(2024, 8, 1, 14),
        status=Mentorship.Status.ENDED,
        ended_at=_at(2025, 5, 1, 14),
        thank_you_note="Thanks all the same",
    )
    MentorshipFactory(
        mentee=priya,
        mentor=attending,
        program=program,
        kind="wellness",
        started_at=_at(2023, 1, 10, 14),
        status=Mentorship.Status.COMPLETED,
        ended_at=_at(2024, 6, 15, 14),
        thank_you_note="From the year before",
    )
    daves = MentorshipFactory(mentee=resident, mentor=other_attending, program=program, kind="research")

    _held(alice, _at(2024, 7, 1, 3, 30), 60)  # June 30, 11:30 p.m. in New York: before the period
    _held(alice, _at(2024, 7, 1, 4, 30), 30)  # July 1, 00:30 in New York: the first half hour of it
    _held(alice, _at(2025, 1, 15, 15), 45)
    _held(alice, _at(2025, 2, 1, 15), 60, status=Meeting.Status.CONFIRMED)  # never marked held
    _held(alice, _at(2025, 2, 8, 15), 60, status=Meeting.Status.CANCELLED)
    _held(bob, _at(2024, 10, 10, 15), 90)
    _held(bob, _at(2025, 7, 1, 3, 30), 20)  # June 30, 11:30 p.m. in New York: the last day
    _held(daves, _at(2025, 1, 1, 15), 60)

    _goal(alice, "Submit the abstract", _at(2025, 2, 2, 15))
    _goal(alice, "Old goal", _at(2024, 6, 20, 15))  # done before the period
    _goal(alice, "Still open", None, status=ActionItem.Status.OPEN)
    _goal(alice, "Dropped", _at(2025, 1, 2, 15), status=ActionItem.Status.DROPPED)
    _goal(bob, "-Pass the boards practice test", _at(2025, 3, 1, 15))
    _goal(daves, "Dave's goal", _at(2025, 3, 1, 15))
    return {"alice": alice, "bob": bob, "marcus": ended}
