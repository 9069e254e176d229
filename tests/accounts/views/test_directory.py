import pytest
from django.urls import reverse

from accounts.models import MentorProfile

pytestmark = pytest.mark.django_db


class TestDirectoryPage:
    def test_filters_narrow_the_page_like_the_api(self, client_for, resident, attending, other_attending):
        from accounts.models import Language

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
        from tests.factories import MentorProfileFactory

        MentorProfileFactory.create_batch(14)
        response = client_for(resident).get(reverse("matching:mentor-directory"))
        assert len(response.context["mentors"]) == 12
        assert "Page 1 of 2" in response.content.decode()

    def test_accepting_filter_keeps_its_choice_and_narrows(self, client_for, resident, attending, other_attending):
        MentorProfile.objects.filter(user=other_attending).update(accepting_mentees=False)
        response = client_for(resident).get(reverse("matching:mentor-directory"), {"accepting": "true"})
        assert [m.user for m in response.context["mentors"]] == [attending]
        assert '<option value="true" selected>Accepting now</option>' in response.content.decode()
