"""The engine's scores in the app: directory sort, filters, recommendations and the breakdown."""

import pytest
from django.urls import reverse

from matching.services.conflicts import conflict_add, evaluator_role_add

pytestmark = pytest.mark.django_db


DIRECTORY = reverse("matching:mentor-directory")


class TestRecommendationsApi:
    URL = "/api/v1/me/recommendations/"

    def test_resident_gets_ranked_mentors_with_reasons(self, client_for, fits):
        resident, carol, dave = fits
        body = client_for(resident).get(self.URL).json()
        assert (body["count"], body["next"], body["previous"]) == (2, None, None)
        data = body["results"]
        assert [item["mentor_id"] for item in data] == [carol.pk, dave.pk]
        assert data[0]["score"] > data[1]["score"]
        components = {c["name"]: c for c in data[0]["components"]}
        assert components["language"]["reason"] == "Both speak Spanish"
        assert sum(c["points"] for c in data[0]["components"]) == pytest.approx(data[0]["score"])

    def test_the_page_and_the_api_recommend_the_same(self, client_for, fits):
        resident, _carol, _dave = fits
        client = client_for(resident)
        page = [(m.user_id, pair.score) for m, pair in client.get(DIRECTORY).context["recommended"]]
        api = [(item["mentor_id"], item["score"]) for item in client.get(self.URL, {"n": 3}).json()["results"]]
        assert page == api

    def test_pages_like_every_list_and_n_still_sizes_the_page(self, client_for, fits):
        resident, carol, dave = fits
        client = client_for(resident)
        first = client.get(self.URL, {"page_size": 1}).json()
        assert (first["count"], [r["mentor_id"] for r in first["results"]]) == (2, [carol.pk])
        second = client.get(first["next"]).json()
        assert ([r["mentor_id"] for r in second["results"]], second["next"]) == ([dave.pk], None)
        # A client of the unpaged API asked with ?n=: it still sizes the page; page_size wins over it.
        assert [r["mentor_id"] for r in client.get(self.URL, {"n": 1}).json()["results"]] == [carol.pk]
        assert len(client.get(self.URL, {"n": 1, "page_size": 2}).json()["results"]) == 2
        assert client.get(self.URL, {"page": 2}).status_code == 404  # past the last page of five

    def test_attending_without_mentee_profile_is_refused(self, client_for, attending):
        assert client_for(attending).get(self.URL).status_code == 403

    def test_anonymous_is_refused(self, client):
        assert client.get(self.URL).status_code in (401, 403)


def test_directory_and_api_leave_conflicted_and_evaluating_mentors_out(client_for, program, coordinator, fits):
    resident, carol, dave = fits
    client = client_for(resident)
    assert [m.user for m, _pair in client.get(DIRECTORY).context["recommended"]] == [carol, dave]  # control
    conflict_add(program=program, actor=coordinator, mentee=resident, mentor=carol, reason="Co-author dispute")
    evaluator_role_add(program=program, actor=coordinator, user=dave, role="program_director")
    response = client.get(DIRECTORY)
    assert response.context["recommended"] == []
    assert [m.match_score for m in response.context["mentors"]] == [None, None]
    assert client.get(TestRecommendationsApi.URL).json()["results"] == []
