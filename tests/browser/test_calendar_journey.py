"""Issue 14, "Calendars that work", in Chromium: a resident adds, edits and removes a busy
block on their profile, imports a rotation schedule (.ics), turns on their calendar feed and
copies its address; the meeting page offers "Add to Google Calendar / Outlook". Each page is
checked at 390×844 (no sideways scrolling, no target under 24×24) and saved at both sizes."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from icalendar import Calendar

from accounts.models import BusyBlock, BusyCalendar
from matching.models import CalendarFeed
from matching.services.meetings import meeting_confirm, meeting_propose
from tests.factories import PASSWORD
from tests.matching.factories import MentorshipFactory

from .conftest import log_in
from .test_phone_layout import LAYOUT_CHECK, MIN_TARGET

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def _day(offset):
    return timezone.localdate() + timedelta(days=offset)


ROTATION = "\r\n".join(
    [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//QGenda//EN",
        "BEGIN:VEVENT",
        "UID:nights-1@qgenda",
        "DTSTAMP:20260101T000000Z",
        f"DTSTART;VALUE=DATE:{_day(6):%Y%m%d}",
        f"DTEND;VALUE=DATE:{_day(13):%Y%m%d}",
        "SUMMARY:Night float",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:micu-1@qgenda",
        "DTSTAMP:20260101T000000Z",
        f"DTSTART;VALUE=DATE:{_day(30):%Y%m%d}",
        f"DTEND;VALUE=DATE:{_day(58):%Y%m%d}",
        "SUMMARY:MICU",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
).encode()


def _look(page, shot, name):
    """Save the page at 1280×800 and at 390×844, and check the phone layout."""
    page.set_viewport_size(DESKTOP)
    shot(f"{name}-desktop")
    page.set_viewport_size(PHONE)
    found = page.evaluate(LAYOUT_CHECK, MIN_TARGET)
    shot(f"{name}-phone", a11y=False)
    page.set_viewport_size(DESKTOP)
    assert found["scrollWidth"] <= found["viewport"], f"{name}: {found['scrollWidth']} px wide: {found['wide']}"
    assert found["small"] == [], f"{name}: targets under {MIN_TARGET} px: {found['small']}"


def test_busy_blocks_import_and_the_feed(page, shot, resident, attending, program, live_server):
    log_in(page, resident.email, PASSWORD)
    page.goto("/profile/")
    page.get_by_role("link", name="Add, edit or import busy blocks").click()

    # Add a block.
    page.get_by_label("What").fill("Vacation")
    page.get_by_label("First day").fill(_day(20).isoformat())
    page.get_by_label("Last day").fill(_day(27).isoformat())
    page.get_by_role("button", name="Add block").click()
    page.get_by_text("“Vacation” is in your busy blocks.").wait_for()
    block = BusyBlock.objects.get(user=resident)
    _look(page, shot, "busy-blocks")

    # Edit it.
    page.get_by_role("link", name=f"Edit Vacation, {block.start_date:%-d %b %Y}").click()
    page.get_by_label("What").fill("Vacation (Lisbon)")
    _look(page, shot, "busy-block-edit")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("The busy block is saved.").wait_for()
    block.refresh_from_db()
    assert block.label == "Vacation (Lisbon)"

    # Import a rotation schedule exported as .ics.
    page.get_by_label("Calendar file (.ics)").set_input_files(
        {"name": "qgenda.ics", "mimeType": "text/calendar", "buffer": ROTATION}
    )
    page.locator("#id_upload_name").fill("QGenda")
    page.get_by_role("button", name="Import file").click()
    page.get_by_text("Imported 2 busy blocks from “QGenda”.").wait_for()
    assert BusyCalendar.objects.get(user=resident).blocks.count() == 2
    assert page.get_by_text("from QGenda").count() == 2
    _look(page, shot, "busy-blocks-imported")

    # Remove the typed block; the imported ones stay.
    page.get_by_role("button", name=f"Remove Vacation (Lisbon), {block.start_date:%-d %b %Y}").click()
    page.get_by_text("“Vacation (Lisbon)” is removed.").wait_for()
    assert list(BusyBlock.objects.filter(user=resident).values_list("label", flat=True)) == ["Night float", "MICU"]

    # The profile lists them with their source; turn the feed on and copy its address.
    page.goto("/profile/")
    assert page.locator("#busy-blocks").get_by_text("from QGenda").count() == 2
    page.get_by_role("button", name="Turn on my calendar feed").click()
    page.get_by_text("Your calendar feed is on").wait_for()
    feed = CalendarFeed.objects.get(user=resident)
    address = page.get_by_label("Your feed address").input_value()
    assert address.startswith("webcal://") and address.endswith(f"/feed/{feed.token}.ics")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.get_by_role("button", name="Copy", exact=True).click()
    page.get_by_text("Copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == address
    # Google Calendar takes only the site's own (https) address: its own field and button.
    https = page.get_by_label("For Google Calendar").input_value()
    assert https == f"{settings.SITE_URL}/feed/{feed.token}.ics"
    page.get_by_role("button", name="Copy the address for Google Calendar").click()
    page.wait_for_function("t => navigator.clipboard.readText().then(v => v === t)", arg=https)
    _look(page, shot, "profile-feed")

    # The address works without signing in and lists the confirmed meeting.
    mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    soon = (timezone.now() + timedelta(days=3)).replace(hour=15, minute=0, second=0, microsecond=0)
    meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=[soon, soon + timedelta(days=1)])
    meeting_confirm(meeting=meeting, actor=attending, start=soon + timedelta(days=1))
    response = page.context.request.get(f"{live_server.url}/feed/{feed.token}.ics")
    assert response.status == 200 and "private" in response.headers["cache-control"]
    (event,) = Calendar.from_ical(response.body()).walk("VEVENT")
    assert str(event["UID"]).startswith(str(meeting.uid))

    # The meeting page offers "Add to Google Calendar / Outlook".
    page.goto(f"/meetings/{meeting.pk}/")
    google = page.get_by_role("link", name="Google Calendar")
    assert google.get_attribute("href").startswith("https://calendar.google.com/calendar/render?action=TEMPLATE")
    assert page.get_by_role("link", name="Outlook (work)").count() == 1
    _look(page, shot, "meeting-add-to-calendar")

    # Regenerate: the old address stops.
    page.goto("/profile/")
    page.get_by_text("Regenerate or turn off…").click()  # a second step: it stops subscribed calendars
    page.get_by_role("button", name="Regenerate address").click()
    page.get_by_text("Your calendar feed has a new address").wait_for()
    assert page.context.request.get(f"{live_server.url}/feed/{feed.token}.ics").status == 404
