"""The engine's scores in the app: directory sort, filters, recommendations and the breakdown."""

import pytest
from django.template.defaultfilters import floatformat
from django.urls import reverse

from accounts.models import (
    MentorProfile,
)

pytestmark = pytest.mark.django_db


DIRECTORY = reverse("matching:mentor-directory")


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
