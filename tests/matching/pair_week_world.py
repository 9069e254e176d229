"""The pair's week (issue 14): Alice and Carol's mentorship with a goal, a shared resource and
a held meeting. Each test gets a cache of its own: one-time form values and Idempotency-Keys
live there, and ids repeat between tests (``usefixtures("fresh_cache")``). Re-exported as
fixtures by tests/matching/conftest.py; a test module's own ``mentorship`` fixture wins over it."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from matching.models import Meeting
from matching.services.meetings import meeting_confirm, meeting_propose
from matching.services.plan import resource_share
from tests.matching.factories import ActionItemFactory, MentorshipFactory
from tests.matching.support import _in


@pytest.fixture
def fresh_cache(settings, request):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": request.module.__name__}
    }
    cache.clear()


@pytest.fixture
def mentorship(program, resident, attending):
    return MentorshipFactory(mentee=resident, mentor=attending, program=program)


@pytest.fixture
def goal(mentorship, resident):
    return ActionItemFactory(mentorship=mentorship, title="Draft the abstract", owner=resident, created_by=resident)


@pytest.fixture
def resource(mentorship, attending):
    return resource_share(mentorship=mentorship, actor=attending, title="A paper", url="https://example.org/p")


@pytest.fixture
def held(mentorship, resident, attending):
    meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=[_in(3)])
    meeting_confirm(meeting=meeting, actor=attending, start=_in(3))
    Meeting.objects.filter(pk=meeting.pk).update(status="held", start=timezone.now() - timedelta(hours=2))
    return Meeting.objects.get(pk=meeting.pk)
