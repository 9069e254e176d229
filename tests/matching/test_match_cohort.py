"""Cohort match runs: create → the task computes proposals → coordinators review and publish.

The cohort: six residents of the program (Alice, Bob and four more), each with one goal,
and three mentors whose expertise covers two goals each: Carol (research, teaching;
2 spots), Dave (leadership, clinical skills; 2 spots) and Erin (career planning,
wellness; 1 spot). Five spots for six residents, so one resident is left unmatched.
"""

import pytest

from matching.models import MatchRun
from tests.matching.support import _create

pytestmark = pytest.mark.django_db


def test_loading_a_cohort_costs_the_same_queries_for_more_residents(coordinator, program, cohort):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from matching.match_cohort import load_cohort

    residents, mentors = cohort

    def queries_for(people):
        run = _create(coordinator, program, people, mentors)
        with CaptureQueriesContext(connection) as ctx:
            cohort_records = load_cohort(run)
        MatchRun.objects.filter(pk=run.pk).update(status=MatchRun.Status.CANCELLED)
        return len(ctx.captured_queries), cohort_records

    few, _ = queries_for(residents[:2])
    many, records = queries_for(residents)
    # Mentees, mentors, their vocabularies and windows, rankings and names are each read
    # once for the whole cohort, never once per person.
    assert many == few
    assert {m.specialty_id for m in records.mentees} == {program.specialty_id}


def test_a_cohort_read_in_bulk_gives_the_records_the_directory_scores(coordinator, program, cohort):
    """load_cohort reads relations in bulk (recommendations.Related); the records must be the
    very ones the directory builds profile by profile, so a score in a run is the score seen there."""
    from datetime import time

    from accounts.models import AvailabilityWindow, Interest, Language, MeetingFormat, Specialty
    from matching.match_cohort import load_cohort
    from matching.recommendations import mentee_record, mentor_record
    from matching.selectors.directory import mentor_directory

    residents, mentors = cohort
    languages, formats = list(Language.objects.all()[:3]), list(MeetingFormat.objects.all())
    interests, subspecialties = (
        list(Interest.objects.all()[:4]),
        list(Specialty.objects.filter(parent__isnull=False)[:3]),
    )
    for k, person in enumerate(residents + mentors):
        profile = getattr(person, "mentee_profile", None) or person.mentor_profile
        profile.languages.set(languages[: 1 + k % 3])
        profile.meeting_formats.set(formats[k % len(formats) :])
        profile.interests.set(interests[k % 4 :])
        if hasattr(profile, "subspecialty_interests"):
            profile.subspecialty_interests.set(subspecialties[: k % 3])
        AvailabilityWindow.objects.create(user=person, weekday=k % 7, start=time(17 + k % 3), end=time(20))
    residents[0].time_zone = "Asia/Tokyo"
    residents[0].save()

    run = _create(coordinator, program, residents, mentors)
    records = load_cohort(run)

    one_by_one = sorted(
        (mentee_record(u.mentee_profile, specialty_id=program.specialty_id) for u in residents), key=lambda r: r.id
    )
    assert sorted(records.mentees, key=lambda r: r.id) == one_by_one
    directory = [mentor_record(p) for p in mentor_directory().filter(user__in=mentors)]
    assert sorted(records.mentors, key=lambda r: r.id) == sorted(directory, key=lambda r: r.id)
    assert any(r.weekly_windows for r in records.mentees) and any(r.language_ids for r in records.mentors)
