"""Issue 14, "Time zones, said once and right", in Chromium: a resident in Madrid and her
mentor in Los Angeles, with a meeting just after Madrid's spring-forward night (March 28,
2027, two weeks after Los Angeles changed its clocks). The dashboard, the mentorship page and
the mentor's page each show her own day and time; the mentor reads his.

Each page is looked at 390×844 and 1280×800: the document is no wider than the window.
"""

from datetime import UTC, datetime, time

import pytest

from accounts.models import AvailabilityWindow, User
from matching.models import Meeting
from tests.factories import PASSWORD
from tests.matching.factories import MentorshipFactory

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# 22:30 UTC on Sunday March 28, 2027: 00:30 Monday in Madrid (summer time since 2 am that
# night), 3:30 pm Sunday in Los Angeles (summer time since March 14), 6:30 pm in New York.
MEETING = datetime(2027, 3, 28, 22, 30, tzinfo=UTC)
# 23:30 UTC on December 3, 2026: December 4 in Madrid, December 3 in New York (the server's zone).
STARTED = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)


def _both_sizes(page, shot, name):
    """A screenshot at each size, and no sideways scrolling at either."""
    for size, label in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page.set_viewport_size(size)
        shot(f"{name}-{label}", a11y=label == "desktop")
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{name} at {label}: {width[0]} px wide in a {width[1]} px window"


def test_madrid_resident_and_los_angeles_mentor_read_the_same_event_on_their_own_clocks(
    page, shot, program, resident, attending
):
    User.objects.filter(pk=resident.pk).update(time_zone="Europe/Madrid")
    User.objects.filter(pk=attending.pk).update(time_zone="America/Los_Angeles")
    mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    mentorship.started_at = STARTED
    mentorship.save(update_fields=["started_at"])
    Meeting.objects.create(
        mentorship=mentorship,
        proposed_by=resident,
        status=Meeting.Status.CONFIRMED,
        start=MEETING,
        duration_minutes=30,
    )
    # Carol's Sunday afternoon in Los Angeles is Alice's Monday night in Madrid.
    AvailabilityWindow.objects.create(user=attending, weekday=6, start=time(16), end=time(17))

    log_in(page, resident.email, PASSWORD)
    page.get_by_role("heading", name="Welcome, Alice").wait_for()
    meetings = page.locator("section[aria-labelledby=meetings-h]")
    # Written as the mentorship and meeting pages write it (core/bounds.TIME_FORMAT).
    assert "Mon 29 Mar 2027, 00:30 CEST" in meetings.inner_text()
    mentors = page.locator("#my-mentors")
    assert "since 4 Dec 2026" in mentors.inner_text()
    _both_sizes(page, shot, "resident-dashboard")

    page.get_by_role("link", name="Carol Chen").first.click()
    page.get_by_role("heading", name="Meetings").wait_for()
    body = page.locator("main").inner_text()
    assert "since 4 Dec 2026" in body and "Mon 29 Mar 2027, 00:30 CEST" in body
    _both_sizes(page, shot, "resident-mentorship")

    page.get_by_role("link", name="Mon 29 Mar 2027, 00:30 CEST").click()
    body = page.locator("main").inner_text()
    assert "Mon 29 Mar 2027, 00:30 CEST" in body and "Sun 28 Mar 2027, 15:30 PDT for Carol Chen" in body
    _both_sizes(page, shot, "resident-meeting")

    page.goto(f"/people/{attending.pk}/")
    windows = page.locator(".weekly-windows").inner_text()
    # December: Los Angeles is nine hours behind Madrid. (The unit tests hold the weeks in
    # March and November when it is eight.)
    assert windows.strip() == "Mon 1–2 am your time (Sun 4–5 pm in Los Angeles)"
    assert "Times in your time zone, Europe/Madrid" in page.locator("main").inner_text()
    _both_sizes(page, shot, "mentor-page-for-madrid")

    # Carol reads the same meeting on her own Sunday afternoon, and the start on her own day.
    page.context.clear_cookies()
    log_in(page, attending.email, PASSWORD)
    page.get_by_role("heading", name="Welcome, Carol").wait_for()
    assert "Sun 28 Mar 2027, 15:30 PDT" in page.locator("section[aria-labelledby=meetings-h]").inner_text()
    assert "since 3 Dec 2026" in page.locator(".dashboard-block[aria-labelledby=mentees-h]").inner_text()
    _both_sizes(page, shot, "mentor-dashboard")


def test_changing_the_time_zone_asks_about_the_weekly_availability(page, shot, resident):
    AvailabilityWindow.objects.create(user=resident, weekday=1, start=time(9), end=time(10))
    log_in(page, resident.email, PASSWORD)
    page.goto("/profile/account/")
    page.get_by_label("Time zone", exact=False).and_(page.locator("select")).select_option("America/Los_Angeles")
    question = page.get_by_role("group", name="If you change your time zone, your weekly availability should")
    question.get_by_label("Keep its moments").check()
    _both_sizes(page, shot, "time-zone-question")
    page.get_by_role("button", name="Save").click()
    # 9–10 am in New York is 6–7 am in Los Angeles.
    assert page.locator(".weekly-windows").inner_text().strip() == "Tue 6–7 am"
    _both_sizes(page, shot, "profile-after-moving")
