"""Fixtures shared by the tests of several layers of matching (services, pages, API).

The health and portfolio worlds live in their own modules, which browser tests import too."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from accounts.models import AvailabilityWindow, Goal, Language, Membership
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory
from tests.matching.health_world import frozen, world  # noqa: F401  (re-exported as fixtures)
from tests.matching.pair_week_world import fresh_cache, goal, held, mentorship, resource  # noqa: F401  (re-exported)
from tests.matching.portfolio_world import record  # noqa: F401  (re-exported as fixtures)
from tests.matching.support import _create


@pytest.fixture
def cohort(program, resident, other_resident, attending, other_attending):
    goals = {g.slug: g for g in Goal.objects.all()}
    erin = UserFactory(first_name="Erin", last_name="Evans")
    MembershipFactory(user=erin, program=program, role=Membership.Role.FACULTY)
    MentorProfileFactory(user=erin, capacity=1)
    attending.mentor_profile.expertise.set([goals["research"], goals["teaching"]])
    other_attending.mentor_profile.expertise.set([goals["leadership"], goals["clinical-skills"]])
    erin.mentor_profile.expertise.set([goals["career-planning"], goals["wellness-and-worklife-balance"]])

    residents = [resident, other_resident]
    for first in ["Femi", "Gita", "Hugo", "Ines"]:
        user = UserFactory(first_name=first, last_name="Resident")
        MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
        MenteeProfileFactory(user=user)
        residents.append(user)
    wanted = [
        "research",
        "teaching",
        "leadership",
        "clinical-skills",
        "career-planning",
        "wellness-and-worklife-balance",
    ]
    for user, slug in zip(residents, wanted, strict=True):
        user.mentee_profile.goals.set([goals[slug]])
    return residents, [attending, other_attending, erin]


@pytest.fixture
def start_run(coordinator, program, cohort, django_capture_on_commit_callbacks):
    """``start_run(**settings)``: a finished run over ``cohort``'s residents and mentors, its
    on-commit work (the engine's task, in-process) done."""

    def start(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            run = _create(coordinator, program, *cohort, **kwargs)
        run.refresh_from_db()
        return run

    return start


@pytest.fixture
def fits(resident, attending, other_attending):
    """Carol fits Alice (research, Spanish, Tuesday evenings); Dave fits none of it."""
    research = Goal.objects.get(slug="research")
    spanish = Language.objects.get(code="es")
    resident.mentee_profile.goals.set([research])
    resident.mentee_profile.languages.set([spanish])
    attending.mentor_profile.expertise.set([research])
    attending.mentor_profile.languages.set([spanish])
    AvailabilityWindow.objects.create(user=resident, weekday=1, start=time(18), end=time(20))
    AvailabilityWindow.objects.create(user=attending, weekday=1, start=time(18), end=time(20))
    AvailabilityWindow.objects.create(user=other_attending, weekday=5, start=time(9), end=time(10))
    # Dave sorts before Carol by name only if names decide: make his name come first.
    other_attending.last_name = "Able"
    other_attending.save()
    return resident, attending, other_attending


# --- The nudge: the service.


@pytest.fixture
def pairing(program, resident, attending):
    return MentorshipFactory(
        mentee=resident, mentor=attending, program=program, started_at=timezone.now() - timedelta(days=80)
    )
