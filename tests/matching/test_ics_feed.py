"""The personal calendar feed: fetched without signing in, parsed with icalendar as a
calendar app would, its secret address regenerated and revoked, and a stranger's guess
answered 404."""

from datetime import UTC, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from icalendar import Calendar

from matching.models import CalendarFeed, Meeting, MeetingSlot
from matching.services.calendar_feeds import calendar_feed_enable, calendar_feed_regenerate
from matching.services.meetings import meeting_cancel, meeting_confirm, meeting_propose
from tests.matching.factories import MentorshipFactory

pytestmark = pytest.mark.django_db


def _at(days, hour=16):
    return (timezone.now() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def world(resident, attending, other_resident, other_attending, program):
    """Alice's meetings with Carol in each state, and one of a stranger's mentorship."""
    cache.clear()
    mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    confirmed = meeting_propose(mentorship=mentorship, actor=resident, slots=[_at(3), _at(4)], location="Room 4B")
    meeting_confirm(meeting=confirmed, actor=attending, start=_at(4))
    several = meeting_propose(mentorship=mentorship, actor=attending, slots=[_at(8), _at(9)])
    single = meeting_propose(mentorship=mentorship, actor=attending, slots=[_at(10)])
    cancelled = meeting_propose(mentorship=mentorship, actor=resident, slots=[_at(12)])
    meeting_cancel(meeting=cancelled, actor=resident)
    long_cancelled = meeting_propose(mentorship=mentorship, actor=resident, slots=[_at(14)])
    meeting_cancel(meeting=long_cancelled, actor=resident)
    Meeting.objects.filter(pk=long_cancelled.pk).update(updated_at=timezone.now() - timedelta(days=60))
    held = Meeting.objects.create(
        mentorship=mentorship, proposed_by=resident, status=Meeting.Status.HELD, start=_at(-7), sequence=1
    )
    MeetingSlot.objects.create(meeting=held, start=held.start)
    strangers = MentorshipFactory(mentee=other_resident, mentor=other_attending, program=program)
    theirs = meeting_propose(mentorship=strangers, actor=other_resident, slots=[_at(5)])
    return {
        "confirmed": confirmed,
        "several": several,
        "single": single,
        "cancelled": cancelled,
        "long_cancelled": long_cancelled,
        "held": held,
        "theirs": theirs,
    }


def _feed_path(feed):
    return f"/feed/{feed.token}.ics"


def _events(response):
    calendar = Calendar.from_ical(response.content)
    return calendar, {str(e["UID"]).split("@")[0]: e for e in calendar.walk("VEVENT")}


def test_the_feed_lists_the_persons_meetings_for_a_calendar_app(client, world, resident):
    feed = calendar_feed_enable(user=resident)
    response = client.get(_feed_path(feed))  # no sign-in: a calendar app has none
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response["Cache-Control"]
    assert response["ETag"] and response["Last-Modified"]

    calendar, events = _events(response)
    assert "METHOD" not in calendar  # a feed is not an iTIP message
    assert str(calendar["X-WR-CALNAME"]) == "MentorMatch: Alice Adams"
    assert calendar["REFRESH-INTERVAL"].dt == timedelta(hours=1)
    # Outlook's refresh hint is an X- property: its value must be an RFC 5545 duration text.
    assert b"\r\nX-PUBLISHED-TTL:PT1H\r\n" in response.content

    uid = {name: str(meeting.uid) for name, meeting in world.items()}
    assert set(events) == {uid["confirmed"], uid["single"], uid["cancelled"], uid["held"]}
    confirmed = events[uid["confirmed"]]
    assert (str(confirmed["STATUS"]), confirmed["SEQUENCE"]) == ("CONFIRMED", 1)
    assert confirmed.decoded("DTSTART") == _at(4).astimezone(UTC)  # the second time, as confirmed
    assert str(confirmed["LOCATION"]) == "Room 4B"
    assert str(events[uid["single"]]["STATUS"]) == "TENTATIVE"
    assert str(events[uid["cancelled"]]["STATUS"]) == "CANCELLED"
    assert str(events[uid["held"]]["STATUS"]) == "CONFIRMED"

    feed.refresh_from_db()
    assert feed.last_fetched_at is not None


def test_an_unchanged_feed_answers_304_and_a_change_makes_a_new_etag(client, world, resident, attending):
    feed = calendar_feed_enable(user=resident)
    first = client.get(_feed_path(feed))
    again = client.get(_feed_path(feed), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    meeting_cancel(meeting=world["confirmed"], actor=attending)
    changed = client.get(_feed_path(feed), HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


def test_regenerating_stops_the_old_address_and_turning_off_stops_all(client, client_for, world, resident):
    feed = calendar_feed_enable(user=resident)
    old = _feed_path(feed)
    page = client_for(resident)

    response = page.post("/profile/calendar-feed/regenerate/")
    assert response.status_code == 302
    new = _feed_path(CalendarFeed.objects.get(user=resident))
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert new.removesuffix(".ics").split("/")[-1] in page.get("/profile/").content.decode()

    page.post("/profile/calendar-feed/off/")
    assert not CalendarFeed.objects.filter(user=resident).exists()
    assert client.get(new).status_code == 404
    assert "Turn on my calendar feed" in page.get("/profile/").content.decode()


def test_a_strangers_guess_or_an_empty_token_is_404(client, world, resident, other_resident):
    calendar_feed_enable(user=resident)
    theirs = calendar_feed_enable(user=other_resident)
    assert client.get("/feed/" + "A" * 43 + ".ics").status_code == 404
    assert client.get("/feed/.ics").status_code == 404
    # Another resident's own feed lists their meeting only, never Alice's.
    _, events = _events(client.get(_feed_path(theirs)))
    assert set(events) == {str(world["theirs"].uid)}


def test_a_deactivated_persons_feed_stops(client, world, resident):
    feed = calendar_feed_enable(user=resident)
    resident.is_active = False
    resident.save(update_fields=["is_active"])
    assert client.get(_feed_path(feed)).status_code == 404


def test_the_feed_buttons_need_a_post_and_a_sign_in(client, client_for, resident):
    assert client_for(resident).get("/profile/calendar-feed/on/").status_code == 405
    response = client.post("/profile/calendar-feed/on/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not CalendarFeed.objects.exists()


class TestApi:
    def test_read_turn_on_regenerate_and_revoke(self, api_for, client, resident):
        api = api_for(resident)
        assert api.get("/api/v1/me/calendar-feed/").json()["enabled"] is False
        on = api.post("/api/v1/me/calendar-feed/").json()
        assert on["enabled"] is True and on["webcal_url"].startswith("webcal://")
        path = "/" + on["url"].split("/", 3)[3]
        assert client.get(path).status_code == 200
        assert api.post("/api/v1/me/calendar-feed/").json()["url"] == on["url"]  # on stays on

        new = api.post("/api/v1/me/calendar-feed/regenerate/").json()
        assert new["url"] != on["url"]
        assert client.get(path).status_code == 404

        assert api.delete("/api/v1/me/calendar-feed/").status_code == 204
        assert api.get("/api/v1/me/calendar-feed/").json() == {
            "enabled": False,
            "url": None,
            "webcal_url": None,
            "created_at": None,
            "last_fetched_at": None,
        }

    def test_each_person_sees_only_their_own_feed(self, api_for, resident, attending):
        calendar_feed_enable(user=resident)
        assert api_for(attending).get("/api/v1/me/calendar-feed/").json()["enabled"] is False

    def test_anonymous_gets_nothing(self, client):
        assert client.get("/api/v1/me/calendar-feed/").status_code in (401, 403)


def test_regenerate_makes_a_new_unguessable_token(resident):
    first = calendar_feed_enable(user=resident).token
    second = calendar_feed_regenerate(user=resident).token
    assert first != second and len(second) >= 40


def test_the_feed_costs_the_same_queries_however_many_meetings(client, world, resident, attending):
    feed = calendar_feed_enable(user=resident)
    client.get(_feed_path(feed))  # stamps last_fetched_at: later fetches do not write

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(_feed_path(feed)).status_code == 200
        return len(captured)

    # The feed row (with its person), the meetings (with the pair and proposer), their slots,
    # and the newest change among them: four, whatever the number of meetings.
    before = queries()
    mentorship = world["confirmed"].mentorship
    for day in (20, 21, 22):
        meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=[_at(day)])
        meeting_confirm(meeting=meeting, actor=attending, start=_at(day))
    assert queries() == before == 4


@pytest.mark.parametrize(
    "button,said",
    [("on", "Your calendar feed is on"), ("regenerate", "has a new address"), ("off", "Your calendar feed is off")],
)
def test_each_feed_button_changes_only_ones_own_feed_and_returns_to_its_card(
    client_for, resident, other_resident, button, said
):
    calendar_feed_enable(user=resident)
    theirs = calendar_feed_enable(user=other_resident).token
    response = client_for(resident).post(f"/profile/calendar-feed/{button}/", follow=True)
    assert response.redirect_chain == [("/profile/#calendar-feed", 302)]
    assert said in response.content.decode()
    assert CalendarFeed.objects.get(user=other_resident).token == theirs
