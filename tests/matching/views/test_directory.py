"""The mentor directory page: the engine's scores (sort, filters, recommendations, the
breakdown), the filters and pages, and the mentor card and person page that lead to a request."""

from datetime import timedelta

import pytest
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone

from accounts.models import Goal, Language, MentorProfile, Specialty
from tests.factories import MembershipFactory, MentorProfileFactory, UserFactory
from tests.matching.support import _count_queries, _fill

pytestmark = pytest.mark.django_db


DIRECTORY = reverse("matching:mentor-directory")


def test_directory_sorts_by_match_score_for_a_resident(client_for, fits):
    resident, carol, dave = fits
    response = client_for(resident).get(DIRECTORY)
    mentors = list(response.context["mentors"])
    assert [m.user for m in mentors] == [carol, dave]
    assert mentors[0].match_score > mentors[1].match_score
    assert f"Fit {floatformat(mentors[0].match_score, 0)}/100</span>" in response.content.decode()
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


def test_a_mentor_who_shares_nothing_but_a_career_stage_is_no_recommendation(client_for, fits):
    """An Internal Medicine intern whose own program's mentors are full was recommended General
    Surgery mentors at fit 11 to 15: a recommendation needs the specialty, a goal or an interest."""
    resident, carol, dave = fits
    MentorProfile.objects.filter(user=carol).update(accepting_mentees=False)
    MentorProfile.objects.filter(user=dave).update(specialty=Specialty.objects.get(slug="general-surgery"))
    assert not dave.mentor_profile.expertise.exists() and not dave.mentor_profile.interests.exists()
    response = client_for(resident).get(DIRECTORY)
    assert response.context["recommended"] == []
    html = response.content.decode()
    assert "shares your specialty, one of your goals or one of your interests right now" in html
    assert reverse("accounts:mentee-profile-edit") in html
    # Dave is still listed, with his score, for anyone who browses.
    listed = {m.user: m.match_score for m in response.context["mentors"]}
    assert set(listed) == {carol, dave} and listed[dave] > 0
    # Once Dave's expertise meets one of the resident's goals, he is recommended, his score unchanged but for it.
    dave.mentor_profile.expertise.set([Goal.objects.get(slug="research")])
    response = client_for(resident).get(DIRECTORY)
    assert [mentor.user for mentor, _pair in response.context["recommended"]] == [dave]
    assert "right now, so there is nobody to recommend" not in response.content.decode()
    # Filtered, or on a later page, nothing was looked for: no empty state.
    MentorProfile.objects.filter(user=dave).update(accepting_mentees=False)
    filtered = client_for(resident).get(DIRECTORY, {"q": "Able"}).content.decode()
    assert "nobody to recommend" not in filtered
    assert "Your recommendations are on the directory without filters" in filtered


def test_mentor_page_shows_the_score_breakdown_with_reasons(client_for, fits):
    resident, carol, _dave = fits
    html = client_for(resident).get(reverse("matching:person", args=[carol.pk])).content.decode()
    assert "How well Carol fits you" in html
    assert "Your one goal (Research)" in html
    assert "Both speak Spanish" in html
    assert "2 h a week in common" in html


def test_people_without_a_mentee_profile_see_no_scores(client_for, fits, coordinator):
    _resident, carol, _dave = fits
    response = client_for(coordinator).get(DIRECTORY)
    body = response.content.decode()
    assert "How well this mentor fits you" not in body and "Fit " not in body and response.context["recommended"] == []
    assert "How well" not in client_for(coordinator).get(reverse("matching:person", args=[carol.pk])).content.decode()


@pytest.mark.parametrize("viewer", ["resident", "coordinator"])
def test_a_card_lists_what_the_mentor_helps_with_and_speaks_in_vocabulary_order(client_for, fits, coordinator, viewer):
    """Scored (a resident) or not (a coordinator), the cards' lists come joined from one query, in
    the vocabularies' order (goals by their order, languages by name), and a mentor without any
    shows neither line."""
    resident, carol, dave = fits
    goals = list(Goal.objects.order_by("-order")[:3])  # given in the reverse of their order
    carol.mentor_profile.expertise.set(goals)
    carol.mentor_profile.languages.set(Language.objects.filter(code__in=["es", "en"]))
    dave.mentor_profile.expertise.clear()
    dave.mentor_profile.languages.clear()
    html = client_for(resident if viewer == "resident" else coordinator).get(DIRECTORY).content.decode()
    in_order = ", ".join(g.name for g in sorted(goals, key=lambda g: (g.order, g.name)))
    assert f"<strong>Helps with:</strong> {in_order}</p>" in html
    assert "<strong>Speaks:</strong> English, Spanish</p>" in html
    assert html.count("<strong>Helps with:</strong>") == 1 and html.count("<strong>Speaks:</strong>") == 1


# --- Filters and pages.


class TestDirectoryPage:
    def test_filters_narrow_the_page_like_the_api(self, client_for, resident, attending, other_attending):
        attending.mentor_profile.languages.set([Language.objects.get(code="es")])
        html = client_for(resident).get(reverse("matching:mentor-directory"), {"language": "es"}).content.decode()
        assert "Carol Chen" in html and "Dave Diaz" not in html
        assert "1 mentor matches your filters" in html

    def test_nobody_sees_themselves_and_empty_results_say_so(self, client_for, attending):
        html = client_for(attending).get(reverse("matching:mentor-directory"), {"q": "zzzz"}).content.decode()
        assert "No mentors match these filters" in html
        response = client_for(attending).get(reverse("matching:mentor-directory"))
        assert attending.mentor_profile not in response.context["mentors"]

    def test_directory_is_paginated(self, client_for, resident):
        MentorProfileFactory.create_batch(14)
        response = client_for(resident).get(reverse("matching:mentor-directory"))
        assert len(response.context["mentors"]) == 12
        assert "Page 1 of 2" in response.content.decode()

    def test_accepting_filter_keeps_its_choice_and_narrows(self, client_for, resident, attending, other_attending):
        MentorProfile.objects.filter(user=other_attending).update(accepting_mentees=False)
        response = client_for(resident).get(reverse("matching:mentor-directory"), {"accepting": "true"})
        assert [m.user for m in response.context["mentors"]] == [attending]
        assert '<option value="true" selected>Accepting now</option>' in response.content.decode()


# --- The directory card and person page.


class TestMentorCard:
    def test_card_shows_open_spots_recency_and_the_request_button(self, client_for, program, resident, attending):
        _fill(attending, program, 1)
        type(attending).objects.filter(pk=attending.pk).update(last_seen=timezone.now() - timedelta(days=3, hours=2))
        html = client_for(resident).get(reverse("matching:mentor-directory")).content.decode()
        card = html.split("Carol Chen</a></h2>")[1].split("</article>")[0]
        assert "1 of 2 open" in card
        assert "Active 3\xa0days ago" in card
        assert reverse("matching:request-create", args=[attending.pk]) in card

    def test_a_full_mentor_has_no_request_button_and_says_why(self, client_for, program, resident, attending):
        _fill(attending, program, 2)
        html = client_for(resident).get(reverse("matching:mentor-directory")).content.decode()
        card = html.split("Carol Chen</a></h2>")[1].split("</article>")[0]
        assert "0 of 2 open" in card and "No open spot right now." in card and "disabled" in card
        assert reverse("matching:request-create", args=[attending.pk]) not in card

    def test_a_mentor_not_accepting_says_so(self, client_for, resident, attending):
        MentorProfile.objects.filter(user=attending).update(accepting_mentees=False)
        html = client_for(resident).get(reverse("matching:mentor-directory")).content.decode()
        assert "Not accepting new mentees right now." in html
        assert reverse("matching:request-create", args=[attending.pk]) not in html

    def test_attendings_see_no_request_button(self, client_for, attending, other_attending):
        html = client_for(attending).get(reverse("matching:mentor-directory")).content.decode()
        assert "Dave Diaz" in html and "Request as mentor" not in html

    def test_a_mentor_never_seen_says_so(self, client_for, resident, attending):
        assert "Not active yet" in client_for(resident).get(reverse("matching:mentor-directory")).content.decode()

    def test_person_page_shows_open_spots_and_the_button(self, client_for, program, resident, attending):
        _fill(attending, program, 1)
        html = client_for(resident).get(reverse("matching:person", args=[attending.pk])).content.decode()
        assert "1 of 2 open" in html
        assert reverse("matching:request-create", args=[attending.pk]) in html

    def test_directory_query_budget_does_not_grow_with_mentors(
        self, client_for, program, resident, django_assert_max_num_queries
    ):
        def add_mentors(n):
            for _ in range(n):
                mentor = UserFactory()
                MembershipFactory(user=mentor, program=program, role="faculty")
                MentorProfileFactory(user=mentor)
                _fill(mentor, program, 1)

        client = client_for(resident)
        add_mentors(2)
        client.get(reverse("matching:mentor-directory"))  # the first request also records last_seen
        few = _count_queries(client, reverse("matching:mentor-directory"))
        add_mentors(10)
        # The mentors changed: the next request prepares them again (tests/matching/
        # test_directory_mentors.py counts that one); the budget is the steady state after it.
        client.get(reverse("matching:mentor-directory"))
        # session, user, roles and mentor profile (nav), unread notifications (bell), 5 filter
        # choices (specialty, subspecialty, expertise, language, meeting format), the prepared
        # mentors' stamp (1: they are kept across requests, matching.directory_mentors), the
        # page's cards only (1 query) and their 5 prefetches (expertise, interests, languages,
        # meeting formats, availability), the resident's own record for the engine (mentee
        # profile, program, 6 of its vocabularies and windows: 8), conflicts of interest
        # (evaluator roles and do-not-pair entries: 2), current mentors (not recommended again),
        # the resident's mentors and pending requests (the cards' labels), and the session save
        # (3). Vocabulary names for the reasons are cached.
        with django_assert_max_num_queries(33):
            many = _count_queries(client, reverse("matching:mentor-directory"))
        assert many == few
