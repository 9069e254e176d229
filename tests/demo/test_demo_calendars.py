"""The demo logins show the calendar work: the resident and the attending have a feed that
answers, and the resident's profile lists busy blocks, one calendar of them imported."""

from io import StringIO

import pytest
from django.core.management import call_command
from icalendar import Calendar

from accounts.models import BusyBlock, BusyCalendar, User
from matching.models import CalendarFeed

pytestmark = pytest.mark.django_db

RESIDENT, ATTENDING = "resident@demo.mentormatch.org", "attending@demo.mentormatch.org"


def _seed():
    call_command("seed_demo", force=True, stdout=StringIO())


def test_the_demo_logins_have_a_feed_and_an_imported_calendar(client, client_for):
    _seed()
    resident = User.objects.get(email=RESIDENT)
    calendar = BusyCalendar.objects.get(user=resident)
    assert calendar.blocks.count() == 3
    assert BusyBlock.objects.filter(user=resident, calendar__isnull=True).exists()  # typed ones too
    profile = client_for(resident).get("/profile/").content.decode()
    assert f"from {calendar.name}" in profile and "webcal://" in profile

    for email in (RESIDENT, ATTENDING):
        feed = CalendarFeed.objects.get(user__email=email)
        response = client.get(f"/feed/{feed.token}.ics")
        assert response.status_code == 200
        Calendar.from_ical(response.content)


def test_seeding_again_adds_no_second_calendar_or_feed():
    _seed()
    before = (BusyCalendar.objects.count(), BusyBlock.objects.count(), CalendarFeed.objects.count())
    _seed()
    assert (BusyCalendar.objects.count(), BusyBlock.objects.count(), CalendarFeed.objects.count()) == before
