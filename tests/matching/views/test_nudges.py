"""Nudges: the coordinators' weekly digest, and the one-click reminder to a quiet pair.

The digest tests run at a fixed instant, NOW: Monday March 10, 2025, 12:00 UTC, which is
8:00 a.m. in New York (daylight time since the 9th), where UserFactory puts everyone.
"""

import pytest

from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


# --- The nudge: the page route, the button and the API.


def _nudge_url(mentorship, slug=None):
    return f"/programs/{slug or mentorship.program.slug}/pairings/{mentorship.pk}/nudge/"


def test_the_nudge_button_goes_back_where_it_was_pressed(client_for, pairing, coordinator):
    response = client_for(coordinator).post(_nudge_url(pairing), {"next": "/programs/im/pairings/?page=2"})
    assert response.status_code == 302 and response["Location"] == "/programs/im/pairings/?page=2"
    assert AuditEntry.objects.filter(action="mentorship.nudge").count() == 1


def test_the_nudge_never_redirects_off_the_site(client_for, pairing, coordinator):
    response = client_for(coordinator).post(_nudge_url(pairing), {"next": "https://evil.example/"})
    assert response["Location"] == f"/mentorships/{pairing.pk}/"


def test_a_second_nudge_says_why_not(client_for, pairing, coordinator):
    c = client_for(coordinator)
    c.post(_nudge_url(pairing))
    page = c.post(_nudge_url(pairing), follow=True).content.decode()
    assert "One reminder a week is enough" in page and "Nudged recently" in page


def test_the_nudge_route_is_the_programs_coordinators_only(
    client_for, pairing, coordinator, other_coordinator, resident
):
    assert client_for(other_coordinator).post(_nudge_url(pairing)).status_code == 404
    assert client_for(resident).post(_nudge_url(pairing)).status_code == 403  # one of the pair: sees it
    assert client_for(coordinator).post(_nudge_url(pairing, slug="gs")).status_code == 404  # not that program's pairing
    assert client_for(coordinator).get(_nudge_url(pairing)).status_code == 405
    assert not AuditEntry.objects.filter(action="mentorship.nudge").exists()


def test_the_mentorship_page_offers_the_nudge_to_coordinators_only(
    client_for, pairing, coordinator, resident, attending
):
    assert "Nudge to meet" in client_for(coordinator).get(f"/mentorships/{pairing.pk}/").content.decode()
    assert "Nudge to meet" not in client_for(resident).get(f"/mentorships/{pairing.pk}/").content.decode()
    assert "Nudge to meet" not in client_for(attending).get(f"/mentorships/{pairing.pk}/").content.decode()
