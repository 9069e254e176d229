"""Issue 3's journey: a resident finds a mentor and sends a request; the attending
accepts; the resident proposes a meeting and the attending confirms it; both see it
on their dashboards, each in their own time zone."""

import re
from datetime import time

import pytest

from accounts.models import AvailabilityWindow, Language, User
from matching.models import Meeting, Mentorship
from tests.factories import PASSWORD

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_out(page):
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("heading", name="Log in to MentorMatch").wait_for()


def test_request_accept_propose_confirm(page, shot, resident, attending, other_attending):
    User.objects.filter(pk=attending.pk).update(time_zone="America/Los_Angeles")
    attending.mentor_profile.languages.set([Language.objects.get(code="es")])
    attending.mentor_profile.bio = "Cardiologist; I read many fellowship applications."
    attending.mentor_profile.save()
    # Tuesday evenings in New York are Tuesday afternoons in Los Angeles: one shared window.
    AvailabilityWindow.objects.create(user=resident, weekday=1, start=time(18), end=time(20))
    AvailabilityWindow.objects.create(user=attending, weekday=1, start=time(15), end=time(17))

    # Alice finds Carol by language and asks her.
    log_in(page, resident.email, PASSWORD)
    page.get_by_role("link", name="Find a mentor").first.click()
    page.get_by_label("Language").select_option(label="Spanish")
    page.get_by_role("button", name="Filter").click()
    page.get_by_text("1 mentor matches your filters").wait_for()
    shot("directory-filtered")
    page.get_by_role("link", name="Request as mentor").click()
    page.get_by_label("Kind of mentorship").select_option(label="Career")
    page.get_by_label("Your message").fill(
        "I'm a PGY-1 hoping to apply to cardiology fellowship. Could we meet monthly?"
    )
    shot("request-form")
    page.get_by_role("button", name="Send request").click()
    page.get_by_role("heading", name="Your request to Carol Chen").wait_for()
    shot("request-sent")
    _log_out(page)

    # Carol sees it waiting and accepts.
    log_in(page, attending.email, PASSWORD)
    shot("attending-dashboard-request-waiting")
    page.get_by_role("link", name="Requests", exact=True).click()
    page.get_by_role("link", name="Alice Adams").first.click()
    page.get_by_label("Note to the resident (optional)").fill("Happy to. Let's find a time.")
    page.get_by_role("button", name="Accept").click()
    page.get_by_role("heading", name="Meetings").wait_for()
    shot("mentorship-page")
    mentorship = Mentorship.objects.get(mentee=resident, mentor=attending, status="active")
    _log_out(page)

    # Alice proposes a suggested time from their shared window.
    log_in(page, resident.email, PASSWORD)
    page.goto(mentorship.get_absolute_url())
    page.get_by_role("link", name="Propose a meeting").click()
    first_suggestion = page.locator("input[name='suggested']").first
    first_suggestion.check()
    shot("propose-meeting")
    page.get_by_role("button", name="Send times").click()
    page.get_by_text("Your times are sent to Carol Chen.").wait_for()
    shot("meeting-proposed")
    assert "for Carol Chen (America/Los Angeles)" in page.locator("main").inner_text()
    _log_out(page)

    # Carol confirms it, seeing it in Los Angeles time.
    log_in(page, attending.email, PASSWORD)
    meeting = Meeting.objects.get(mentorship=mentorship)
    page.goto(f"/meetings/{meeting.pk}/")
    page.locator("input[name='start']").first.check()
    shot("confirm-meeting")
    page.get_by_role("button", name="Confirm this time").click()
    meeting.refresh_from_db()
    assert meeting.status == "confirmed"
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("heading", name="Next meetings").wait_for()
    shot("attending-dashboard-next-meeting")
    attending_view = page.locator("section", has=page.get_by_role("heading", name="Next meetings")).inner_text()
    # The shared window is Tuesday 18:00 in New York, which is 15:00 in Los Angeles.
    assert re.search(r"15:00 P[SD]T with Alice Adams", attending_view) and "America/Los Angeles" in attending_view
    _log_out(page)

    log_in(page, resident.email, PASSWORD)
    page.get_by_role("heading", name="Next meetings").wait_for()
    shot("resident-dashboard-next-meeting")
    resident_view = page.locator("section", has=page.get_by_role("heading", name="Next meetings")).inner_text()
    assert re.search(r"18:00 E[SD]T with Carol Chen", resident_view) and "America/New York" in resident_view
