"""Issue 14, "The right next step", in Chromium: a near-peer's dashboard leads with what needs
them in each hat; their page names the hat; the directory knows a resident's mentor and
requests; the attending reads a requester's fit and shared time. Each page at 390×844 and
1280×800, with no sideways scrolling and task links at least 24 px tall."""

from datetime import time

import pytest

from accounts.models import AvailabilityWindow, CareerStage, Membership
from matching.models import Meeting
from tests.factories import PASSWORD, MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory
from tests.matching.support import _ask

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def _both_sizes(page, shot, name):
    for size, label in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page.set_viewport_size(size)
        shot(f"{name}-{label}", a11y=label == "desktop")
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{name} at {label}: {width[0]} px wide in a {width[1]} px window"
        heights = page.locator(".task a").evaluate_all("links => links.map(a => a.getBoundingClientRect().height)")
        assert all(h >= 24 for h in heights), f"{name} at {label}: task links {heights} px tall"


def _near_peer(program):
    zoe = UserFactory(first_name="Zoe", last_name="Adeyemi", email="zoe@hospital.example")
    MembershipFactory(user=zoe, program=program, role=Membership.Role.RESIDENT)
    MembershipFactory(user=zoe, program=program, role=Membership.Role.FACULTY)
    pgy4 = CareerStage.objects.get(code="PGY-4")
    MenteeProfileFactory(user=zoe, career_stage=pgy4)
    MentorProfileFactory(user=zoe, career_stage=pgy4)
    return zoe


def test_a_near_peer_sees_both_hats_and_a_resident_sees_who_is_hers(
    page, shot, program, resident, other_resident, attending, other_attending
):
    zoe = _near_peer(program)
    zoe_as_mentee = MentorshipFactory(mentee=zoe, mentor=attending, program=program)
    Meeting.objects.create(mentorship=zoe_as_mentee, proposed_by=attending, status=Meeting.Status.PROPOSED)
    _ask(other_resident, zoe)

    # Zoe's dashboard leads with what needs her, as a mentor and as a mentee.
    log_in(page, zoe.email, PASSWORD)
    waiting = page.locator("section[aria-labelledby=waiting-for-you-h]")
    waiting.wait_for()
    mentor_hat = waiting.locator("[aria-labelledby=hat-mentor-h]")
    mentee_hat = waiting.locator("[aria-labelledby=hat-mentee-h]")
    assert mentor_hat.get_by_role("link", name="Answer Bob Brown's request").is_visible()
    assert mentee_hat.get_by_role("link", name="Pick a meeting time with Carol Chen").is_visible()
    assert page.locator("h2").first.inner_text() == "Waiting for you"
    _both_sizes(page, shot, "near-peer-dashboard")
    mentee_hat.get_by_role("link", name="Pick a meeting time with Carol Chen").click()
    page.wait_for_url(f"**/meetings/{zoe_as_mentee.meetings.get().pk}/")
    page.context.clear_cookies()

    # Alice: Carol is her mentor (not recommended again), Dave she has asked.
    MentorshipFactory(mentee=resident, mentor=attending, program=program, kind="research")
    _ask(resident, other_attending)
    log_in(page, resident.email, PASSWORD)
    page.get_by_role("link", name="Find a mentor").first.click()
    recommended = page.locator("section.recommended")
    assert "Carol Chen" not in recommended.inner_text()
    assert "Requested" in recommended.locator("li", has_text="Dave Diaz").first.inner_text()
    carol_card = page.locator("article.mentor-card", has_text="Carol Chen")
    assert carol_card.get_by_text("Your mentor").is_visible()
    _both_sizes(page, shot, "resident-directory")

    # Zoe's page names her hat.
    page.goto(f"/people/{zoe.pk}/")
    header = page.locator(".page-header p").first.inner_text()
    assert header == "PGY-4, near-peer mentor, Internal Medicine Residency"
    _both_sizes(page, shot, "near-peer-page")


def test_the_attending_reads_the_requesters_fit_and_shared_time(page, shot, resident, attending):
    AvailabilityWindow.objects.create(user=resident, weekday=1, start=time(18), end=time(20))
    AvailabilityWindow.objects.create(user=attending, weekday=1, start=time(19), end=time(21))
    request = _ask(resident, attending)
    log_in(page, attending.email, PASSWORD)
    page.locator("section[aria-labelledby=waiting-for-you-h]").get_by_role(
        "link", name="Answer Alice Adams's request"
    ).click()
    page.wait_for_url(f"**{request.get_absolute_url()}")
    fit = page.locator("section", has=page.get_by_role("heading", name="How well Alice fits you"))
    text = fit.inner_text()
    assert "1 h a week in common: Tue 7–8 pm your time" in text
    assert "Faculty; the resident is PGY-1" in text
    _both_sizes(page, shot, "request-with-fit")
