"""The engine's scores in the app: directory sort, filters, recommendations and the breakdown."""

from datetime import date, time

import pytest
from django.template.defaultfilters import floatformat
from django.urls import reverse

from accounts.models import AvailabilityWindow, Goal, Language, MentorProfile
from matching import recommendations

pytestmark = pytest.mark.django_db

DIRECTORY = reverse("accounts:mentor-directory")


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
    html = client_for(resident).get(reverse("accounts:person", args=[carol.pk])).content.decode()
    assert "How well Carol fits you" in html
    assert "1 of your 1 goals (Research)" in html
    assert "Both speak Spanish" in html
    assert "2 h a week in common" in html


def test_people_without_a_mentee_profile_see_no_scores(client_for, fits, coordinator):
    _resident, carol, _dave = fits
    response = client_for(coordinator).get(DIRECTORY)
    assert "Match score out of 100" not in response.content.decode() and response.context["recommended"] == []
    assert "How well" not in client_for(coordinator).get(reverse("accounts:person", args=[carol.pk])).content.decode()


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
