"""Program health's fixed world: a program with every figure worked out by hand, and its
frozen clock. Used by tests/matching (through conftest.py) and tests/browser/test_health_page.py.

The fixed world (``world``), "now" being Thursday 2026-10-15 12:00 UTC, so the academic
year 2026–27 runs from 2026-07-01 04:00 UTC (midnight in New York, the program's zone):

Internal Medicine (``program``), residents and their active mentorships:
    Alice PGY-1  career ← Carol (since Jun 1; met Jul 10 and Sep 20)
    Bob   PGY-1  career ← Carol (since Jul 16; never met)                 stale, 91 days
    Eve   PGY-1  —       (career with Mia ended Aug 31, re-match asked)   waiting
    Finn  PGY-2  research ← Dave (since Aug 1; met Aug 10, a later one cancelled)  stale, 65 days
    Gina  PGY-2  career ← Dave (since Sep 1; a meeting proposed)
    Hank  PGY-3  wellness ← Mia (since Sep 20; one confirmed for Oct 20)
    Ivy   (year not set) — (wellness with Ned ended Feb 1, re-match asked) waiting
Mentors: Carol 2/2 (full), Dave 2/1 (over), Mia 1/1 (full), Ned 0/3 accepting, Pia 0/2 not accepting.

General Surgery (``other_program``): Olivia ← Zed, with a request, a meeting and a
check-in whose comment is "B-secret-comment": none of it may show up in program A.
"""

import types
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from accounts.models import CareerStage, Membership
from matching import health
from matching.models import CheckIn, Meeting, Mentorship, MentorshipRequest
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory

NOW = datetime(2026, 10, 15, 12, tzinfo=UTC)


def at(month, day, hour=12, year=2026):
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.fixture
def frozen(monkeypatch):
    """Pages and the API read "now" from matching.health's clock: pin it to NOW."""
    monkeypatch.setattr(
        health, "timezone", types.SimpleNamespace(now=lambda: NOW, get_default_timezone=timezone.get_default_timezone)
    )


def _resident(program, first, last, stage="PGY-1"):
    user = UserFactory(first_name=first, last_name=last)
    MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
    MenteeProfileFactory(user=user, career_stage=CareerStage.objects.get(code=stage) if stage else None)
    return user


def _mentor(program, first, last, capacity, accepting=True):
    user = UserFactory(first_name=first, last_name=last)
    MembershipFactory(user=user, program=program, role=Membership.Role.FACULTY)
    MentorProfileFactory(user=user, capacity=capacity, accepting_mentees=accepting)
    return user


def _pair(mentee, mentor, program, kind, started, ended=None, status=Mentorship.Status.ACTIVE, rematch=False):
    return MentorshipFactory(
        mentee=mentee,
        mentor=mentor,
        program=program,
        kind=kind,
        started_at=started,
        ended_at=ended,
        status=status if ended is None else Mentorship.Status.ENDED,
        rematch_requested=rematch,
    )


def _meeting(mentorship, status, start):
    return Meeting.objects.create(mentorship=mentorship, proposed_by=mentorship.mentor, status=status, start=start)


def _request(mentee, mentor, program, status, created, resolved=None, kind="career"):
    return MentorshipRequest.objects.create(
        mentee=mentee,
        mentor=mentor,
        program=program,
        kind=kind,
        message="Hello",
        status=status,
        created_at=created,
        resolved_at=resolved,
    )


def _checkin(mentorship, author, rating, when, comment=""):
    return CheckIn.objects.create(mentorship=mentorship, author=author, rating=rating, comment=comment, created_at=when)


@pytest.fixture
def world(
    program,
    other_program,
    resident,
    other_resident,
    attending,
    other_attending,
    coordinator,
    other_coordinator,
    outsider,
):
    alice, bob, carol, dave = resident, other_resident, attending, other_attending
    dave.mentor_profile.capacity = 1  # lowered after he took two mentees: over capacity
    dave.mentor_profile.save()
    eve = _resident(program, "Eve", "Evans")
    finn = _resident(program, "Finn", "Fox", "PGY-2")
    gina = _resident(program, "Gina", "Gold", "PGY-2")
    hank = _resident(program, "Hank", "Hill", "PGY-3")
    ivy = _resident(program, "Ivy", "Ingram", None)
    mia = _mentor(program, "Mia", "Moss", 1)
    ned = _mentor(program, "Ned", "Nash", 3)
    _mentor(program, "Pia", "Park", 2, accepting=False)

    m1 = _pair(alice, carol, program, "career", at(6, 1))
    m2 = _pair(bob, carol, program, "career", at(7, 16))
    m3 = _pair(finn, dave, program, "research", at(8, 1))
    m4 = _pair(gina, dave, program, "career", at(9, 1))
    m5 = _pair(eve, mia, program, "career", at(5, 1), ended=at(8, 31), rematch=True)
    m6 = _pair(hank, mia, program, "wellness", at(9, 20))
    _pair(gina, carol, program, "wellness", at(9, 1, year=2025), ended=at(3, 1))  # last year, completed
    _pair(gina, carol, program, "career", at(9, 1, year=2025), ended=at(4, 1), rematch=True)  # re-matched since (m4)
    m10 = _pair(ivy, ned, program, "wellness", at(9, 1, year=2025), ended=at(2, 1), rematch=True)  # still waiting

    held, confirmed = Meeting.Status.HELD, Meeting.Status.CONFIRMED
    _meeting(m1, held, at(6, 15, 16))  # before the year
    _meeting(m1, held, at(7, 10, 16))
    _meeting(m1, held, at(9, 20, 16))
    _meeting(m3, held, at(8, 10, 16))
    _meeting(m3, Meeting.Status.CANCELLED, at(10, 1, 16))
    _meeting(m5, held, at(7, 20, 16))
    _meeting(m6, confirmed, at(10, 20, 16))
    Meeting.objects.create(mentorship=m4, proposed_by=dave, status=Meeting.Status.PROPOSED)

    R = MentorshipRequest.Status
    _request(
        gina, carol, program, R.DECLINED, datetime(2026, 7, 1, 3, tzinfo=UTC), datetime(2026, 7, 1, 5, tzinfo=UTC)
    )  # June 30 in New York
    _request(alice, carol, program, R.ACCEPTED, at(5, 20), at(5, 21))  # last year
    _request(bob, carol, program, R.ACCEPTED, at(7, 14), at(7, 16))  # 48 h
    _request(finn, dave, program, R.ACCEPTED, at(7, 30), at(8, 1, 0), kind="research")  # 36 h
    _request(eve, dave, program, R.DECLINED, at(9, 1), at(9, 2, 0))  # 12 h
    _request(eve, ned, program, R.DECLINED, at(9, 5), at(9, 11))  # 144 h
    _request(ivy, carol, program, R.EXPIRED, at(8, 1), at(8, 15))
    _request(gina, ned, program, R.WITHDRAWN, datetime(2026, 7, 1, 4, tzinfo=UTC), at(7, 2))  # the year's first instant
    _request(hank, ned, program, R.PENDING, at(10, 10))

    _checkin(m1, alice, 3, at(6, 20))  # last year
    _checkin(m1, alice, 5, at(7, 20), "Carol makes time for me")
    _checkin(m1, alice, 4, at(8, 20))
    _checkin(m1, carol, 4, at(7, 21))
    _checkin(m2, bob, 2, at(9, 1), "We never meet")
    _checkin(m5, eve, 1, at(8, 1), "Schedules never line up")
    _checkin(m3, finn, 3, at(9, 10))
    _checkin(m3, dave, 5, at(9, 11))
    _checkin(m6, hank, 4, at(9, 25))
    _checkin(m6, mia, 3, at(9, 26))
    _checkin(m6, hank, 5, at(10, 10))

    # Program B: active, busy, and secret.
    zed = _mentor(other_program, "Zed", "Zimmer", 2)
    b = _pair(outsider, zed, other_program, "career", at(1, 5))
    _meeting(b, held, at(9, 5, 16))
    _request(outsider, zed, other_program, R.ACCEPTED, at(7, 10), at(7, 11))
    _checkin(b, outsider, 1, at(9, 15), "B-secret-comment")

    return types.SimpleNamespace(
        alice=alice,
        bob=bob,
        carol=carol,
        dave=dave,
        eve=eve,
        finn=finn,
        gina=gina,
        hank=hank,
        ivy=ivy,
        mia=mia,
        ned=ned,
        zed=zed,
        m1=m1,
        m2=m2,
        m3=m3,
        m5=m5,
        m10=m10,
    )
