"""The engine's scores in the app: directory sort, filters, recommendations and the breakdown."""

import gc
from datetime import date, time

import pytest
from django.template.defaultfilters import floatformat
from django.urls import reverse

from accounts.models import (
    AvailabilityWindow,
    CareerStage,
    Goal,
    Interest,
    Language,
    MeetingFormat,
    MentorProfile,
    Specialty,
)
from matching import recommendations
from matching.selectors import mentor_directory
from matching.services.conflicts import conflict_add, evaluator_role_add
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


def test_directory_sorts_by_match_score_for_a_resident(client_for, fits):
    resident, carol, dave = fits
    response = client_for(resident).get(DIRECTORY)
    mentors = list(response.context["mentors"])
    assert [m.user for m in mentors] == [carol, dave]
    assert mentors[0].match_score > mentors[1].match_score
    assert f"Match {floatformat(mentors[0].match_score, 0)}</span>" in response.content.decode()
    by_name = client_for(resident).get(DIRECTORY, {"sort": "name"})
    assert [m.user for m in by_name.context["mentors"]] == [dave, carol]


def test_shared_time_filter_keeps_only_mentors_free_when_i_am(client_for, fits):
    resident, carol, _dave = fits
    response = client_for(resident).get(DIRECTORY, {"shared_time": "1"})
    assert [m.user for m in response.context["mentors"]] == [carol]


def test_open_spot_filter_drops_full_and_closed_mentors(client_for, fits):
    resident, carol, dave = fits
    MentorProfile.objects.filter(user=dave).update(accepting_mentees=False)
    response = client_for(resident).get(DIRECTORY, {"open_spot": "true"})
    assert [m.user for m in response.context["mentors"]] == [carol]


def test_recommendations_show_reasons_and_skip_mentors_not_accepting(client_for, fits):
    resident, carol, dave = fits
    MentorProfile.objects.filter(user=carol).update(accepting_mentees=False)
    response = client_for(resident).get(DIRECTORY)
    assert [mentor.user for mentor, _pair in response.context["recommended"]] == [dave]
    MentorProfile.objects.filter(user=carol).update(accepting_mentees=True)
    response = client_for(resident).get(DIRECTORY)
    top, pair = response.context["recommended"][0]
    assert top.user == carol
    html = response.content.decode()
    assert "Recommended for you" in html and "Both speak Spanish" in html


def test_mentor_page_shows_the_score_breakdown_with_reasons(client_for, fits):
    resident, carol, _dave = fits
    html = client_for(resident).get(reverse("matching:person", args=[carol.pk])).content.decode()
    assert "How well Carol fits you" in html
    assert "1 of your 1 goals (Research)" in html
    assert "Both speak Spanish" in html
    assert "2 h a week in common" in html


def test_people_without_a_mentee_profile_see_no_scores(client_for, fits, coordinator):
    _resident, carol, _dave = fits
    response = client_for(coordinator).get(DIRECTORY)
    assert "Match score out of 100" not in response.content.decode() and response.context["recommended"] == []
    assert "How well" not in client_for(coordinator).get(reverse("matching:person", args=[carol.pk])).content.decode()


class TestRecommendationsApi:
    URL = "/api/v1/me/recommendations/"

    def test_resident_gets_ranked_mentors_with_reasons(self, client_for, fits):
        resident, carol, dave = fits
        data = client_for(resident).get(self.URL).json()
        assert [item["mentor_id"] for item in data] == [carol.pk, dave.pk]
        assert data[0]["score"] > data[1]["score"]
        components = {c["name"]: c for c in data[0]["components"]}
        assert components["language"]["reason"] == "Both speak Spanish"
        assert sum(c["points"] for c in data[0]["components"]) == pytest.approx(data[0]["score"])

    def test_the_page_and_the_api_recommend_the_same(self, client_for, fits):
        resident, _carol, _dave = fits
        client = client_for(resident)
        page = [(m.user_id, pair.score) for m, pair in client.get(DIRECTORY).context["recommended"]]
        api = [(item["mentor_id"], item["score"]) for item in client.get(self.URL, {"n": 3}).json()]
        assert page == api

    def test_attending_without_mentee_profile_is_refused(self, client_for, attending):
        assert client_for(attending).get(self.URL).status_code == 403

    def test_anonymous_is_refused(self, client):
        assert client.get(self.URL).status_code in (401, 403)


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


def test_directory_and_api_leave_conflicted_and_evaluating_mentors_out(client_for, program, coordinator, fits):
    resident, carol, dave = fits
    client = client_for(resident)
    assert [m.user for m, _pair in client.get(DIRECTORY).context["recommended"]] == [carol, dave]  # control
    conflict_add(program=program, actor=coordinator, mentee=resident, mentor=carol, reason="Co-author dispute")
    evaluator_role_add(program=program, actor=coordinator, user=dave, role="program_director")
    response = client.get(DIRECTORY)
    assert response.context["recommended"] == []
    assert [m.match_score for m in response.context["mentors"]] == [None, None]
    assert client.get(TestRecommendationsApi.URL).json() == []


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
