"""The engine's scores in the app: directory sort, filters, recommendations and the breakdown."""

import gc
from datetime import date, time

import pytest
from django.urls import reverse

from accounts.models import (
    AvailabilityWindow,
    CareerStage,
    Goal,
    Interest,
    Language,
    MeetingFormat,
    Specialty,
)
from matching import recommendations
from matching.selectors.directory import mentor_directory
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory

pytestmark = pytest.mark.django_db


DIRECTORY = reverse("matching:mentor-directory")


class _Window:
    def __init__(self, weekday, start, end):
        self.weekday, self.start, self.end = weekday, start, end


def test_windows_are_converted_to_utc_with_the_offset_in_force_that_week():
    tuesday_evening = [_Window(1, time(18), time(20))]
    # Winter (EST, UTC-5): 23:00–01:00 UTC, crossing midnight, which the engine wraps.
    assert recommendations.weekly_windows_utc(tuesday_evening, "America/New_York", today=date(2026, 11, 23)) == [
        (1, 23 * 60, 60)
    ]
    # Summer (EDT, UTC-4): 22:00–00:00 UTC.
    assert recommendations.weekly_windows_utc(tuesday_evening, "America/New_York", today=date(2026, 7, 6)) == [
        (1, 22 * 60, 0)
    ]


# --- Scoring from plain rows (the directory and the API at thousands of mentors).


@pytest.fixture
def varied_mentors(program, resident, attending, other_attending):
    """Mentors unlike each other in every field a record reads: stages (none, MS4 with order 0,
    a PGY), subspecialty, time zones with windows crossing UTC midnight, no windows, no
    vocabularies, full capacity, not accepting; and one inactive mentor the directory hides."""
    goals, interests = list(Goal.objects.order_by("pk")[:4]), list(Interest.objects.order_by("pk")[:4])
    languages, formats = list(Language.objects.order_by("pk")[:3]), list(MeetingFormat.objects.order_by("pk"))
    cardiology = Specialty.objects.filter(parent__isnull=False).order_by("pk").first()
    ms4, pgy3 = CareerStage.objects.get(order=0), CareerStage.objects.filter(order__gt=2).order_by("order").first()
    people = [attending, other_attending]
    for i, (zone, stage, accepting, capacity) in enumerate(
        [
            ("Asia/Tokyo", None, True, 3),
            ("America/Los_Angeles", ms4, True, 1),
            ("Europe/Berlin", pgy3, False, 2),
            ("Australia/Adelaide", None, True, 0),
            ("America/New_York", pgy3, True, 2),
        ]
    ):
        user = UserFactory(time_zone=zone, first_name=f"M{i}", last_name="Same" if i < 2 else f"Last{i}")
        MembershipFactory(user=user, program=program, role="faculty")
        MentorProfileFactory(
            user=user,
            career_stage=stage,
            accepting_mentees=accepting,
            capacity=capacity,
            subspecialty=cardiology if i % 2 else None,
        )
        people.append(user)
    for i, user in enumerate(people):
        profile = user.mentor_profile
        profile.expertise.set(goals[: i % 5])
        profile.interests.set(interests[(i % 3) :])
        profile.languages.set(languages[: i % 4])
        profile.meeting_formats.set(formats[: (i + 1) % 4])
        for day in range(i % 3):  # none for some; late evenings cross UTC midnight in the Americas
            AvailabilityWindow.objects.create(user=user, weekday=(i + day) % 7, start=time(19 + day), end=time(23))
    for _ in range(2):  # the Berlin mentor's capacity is taken
        mentee = UserFactory()
        MenteeProfileFactory(user=mentee)
        MentorshipFactory(mentee=mentee, mentor=people[4], program=program)
    inactive = people[-1]
    inactive.is_active = False
    inactive.save()
    return people


def test_records_from_rows_equal_records_from_profiles(resident, varied_mentors):
    rows, records = recommendations.mentor_records(mentor_directory().exclude(user=resident))
    profiles = list(mentor_directory().exclude(user=resident))
    assert [r.user_id for r in rows] == [p.user_id for p in profiles]  # the queryset's order, inactive left out
    assert len(profiles) == len(varied_mentors) - 1
    assert records == [recommendations.mentor_record(p) for p in profiles]
    assert [r.full_name for r in rows] == [p.user.full_name for p in profiles]
    assert {r.stage_order for r in records} >= {0, recommendations._FACULTY_STAGE}  # MS4's order 0 is not "no stage"
    assert any(r.active_count == 2 for r in records) and any(not r.accepting for r in records)


def test_records_from_rows_of_a_filtered_directory_are_its_profiles_only(resident, varied_mentors):
    closed = mentor_directory().filter(accepting_mentees=False)
    rows, records = recommendations.mentor_records(closed)
    assert [r.user_id for r in rows] == [p.user_id for p in closed] != []
    assert records == [recommendations.mentor_record(p) for p in closed]


def test_recommending_from_the_scores_picks_what_scoring_everyone_picks(resident, varied_mentors):
    _rows, records = recommendations.mentor_records(mentor_directory().exclude(user=resident))
    me = recommendations.mentee_record(resident.mentee_profile)
    blocked = recommendations.exclusions_for(me, records)
    scores = recommendations.scores_for(me, records, exclusions=blocked)
    # "Same" and "Same": two mentors with equal scores, so the cut at n falls on a tie for some n.
    for n in range(1, len(records) + 2):
        everyone = recommendations.recommendations_for(me, records, n=n, exclusions=blocked)
        assert recommendations.recommendations_for(me, records, n=n, exclusions=blocked, scores=scores) == everyone


def test_the_bulk_read_leaves_the_garbage_collector_as_it_found_it(resident, attending):
    assert gc.isenabled()
    recommendations.mentor_records(mentor_directory())
    assert gc.isenabled()
    gc.disable()  # e.g. a caller pausing it around a larger job: not turned back on under it
    try:
        recommendations.mentor_records(mentor_directory())
        assert not gc.isenabled()
    finally:
        gc.enable()
