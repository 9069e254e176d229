"""The profile checklist on the dashboard and one's own profile page: which parts of a mentee or
mentor profile are filled in, read in one query whatever the lists hold."""

from datetime import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AcademicRank, AvailabilityWindow, Goal, Interest, Language, MeetingFormat
from accounts.selectors import profile_completeness
from tests.factories import MenteeProfileFactory, MentorProfileFactory

pytestmark = pytest.mark.django_db


def test_an_empty_mentor_profile_lists_every_gap_but_its_specialty():
    mentor = MentorProfileFactory(bio="")
    done = profile_completeness(mentor)
    assert done.missing == [
        "your academic rank or career stage",
        "the goals you can help with",
        "your areas of interest",
        "the languages you speak",
        "how you like to meet",
        "when you are free",
        "a short bio",
    ]
    assert done.percent == 12 and not done.complete  # 1 of 8


def test_each_filled_part_leaves_the_list_and_one_query_reads_them_all():
    mentor = MentorProfileFactory(bio="Cardiology; clinician educator.", academic_rank=AcademicRank.objects.first())
    mentor.expertise.add(Goal.objects.first())
    mentor.languages.add(Language.objects.first())
    AvailabilityWindow.objects.create(user=mentor.user, weekday=0, start=time(9), end=time(10))
    with CaptureQueriesContext(connection) as queries:
        done = profile_completeness(mentor)
    assert len(queries) == 1
    assert done.missing == ["your areas of interest", "how you like to meet"]
    assert done.percent == 75

    mentor.interests.add(Interest.objects.first())
    mentor.meeting_formats.add(MeetingFormat.objects.first())
    assert profile_completeness(mentor).complete


def test_a_mentee_profile_counts_its_own_parts():
    mentee = MenteeProfileFactory(goals_text="")
    mentee.goals.add(Goal.objects.first())
    done = profile_completeness(mentee)
    # The PGY year (a foreign key, read by its id) and goals are there.
    assert "your PGY year" not in done.missing and "your goals" not in done.missing
    assert done.missing == [
        "your interests",
        "the languages you speak",
        "how you like to meet",
        "when you are free",
        "what you hope to get from mentorship",
    ]
    mentee.career_stage = None
    mentee.save(update_fields=["career_stage"])
    assert profile_completeness(mentee).missing[0] == "your PGY year"
