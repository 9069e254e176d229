"""The .ics invitation: one stable UID, a SEQUENCE that grows, UTC instants that
survive a round trip through a calendar parser, and a CANCEL when cancelled."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from icalendar import Calendar

from matching.ics import itip_method, meeting_ics
from matching.services.meetings import meeting_cancel, meeting_confirm, meeting_propose, meeting_reschedule
from tests.matching.factories import MentorshipFactory

pytestmark = pytest.mark.django_db

NEW_YORK, LOS_ANGELES = ZoneInfo("America/New_York"), ZoneInfo("America/Los_Angeles")


def _day_after_us_dst_change() -> date:
    first = date(timezone.now().year + 1, 3, 1)
    second_sunday = first + timedelta(days=(6 - first.weekday()) % 7 + 7)
    return second_sunday + timedelta(days=1)


@pytest.fixture
def mentorship(resident, attending, program):
    attending.time_zone = "America/Los_Angeles"
    attending.save(update_fields=["time_zone"])
    return MentorshipFactory(mentee=resident, mentor=attending, program=program)


def _parse(meeting):
    calendar = Calendar.from_ical(meeting_ics(meeting))
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_a_confirmed_meeting_after_the_dst_change_round_trips_to_the_right_instant(mentorship, resident, attending):
    start = datetime.combine(_day_after_us_dst_change(), time(13, 0), tzinfo=NEW_YORK)  # 13:00 EDT
    meeting = meeting_propose(
        mentorship=mentorship,
        actor=resident,
        slots=[start],
        duration_minutes=45,
        format="video",
        video_url="https://meet.example/alice-carol",
    )
    meeting = meeting_confirm(meeting=meeting, actor=attending, start=start)

    calendar, event = _parse(meeting)
    assert str(calendar["VERSION"]) == "2.0"
    assert "MentorMatch" in str(calendar["PRODID"])
    assert str(calendar["METHOD"]) == "REQUEST"
    assert event.decoded("DTSTART") == datetime.combine(start.date(), time(17, 0), tzinfo=UTC)
    assert event.decoded("DTSTART").astimezone(LOS_ANGELES).hour == 10
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=45)
    assert str(event["UID"]) == f"{meeting.uid}@mentormatch"
    assert event["SEQUENCE"] == 1  # confirming replaces the tentative single-time proposal
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Mentorship meeting: Carol Chen / Alice Adams"
    assert str(event["LOCATION"]) == "https://meet.example/alice-carol"
    assert "DTSTAMP" in event and "DESCRIPTION" in event
    assert str(event["ORGANIZER"]) == "mailto:alice@hospital.example"  # the proposer
    assert event["ORGANIZER"].params["SENT-BY"] == "mailto:no-reply@mentormatch.local"
    assert sorted(str(a) for a in event["ATTENDEE"]) == [
        "mailto:alice@hospital.example",
        "mailto:carol@hospital.example",
    ]


def test_the_downloaded_file_of_a_proposal_holds_its_first_time_as_tentative(mentorship, resident):
    later, sooner = timezone.now() + timedelta(days=5), timezone.now() + timedelta(days=2)
    meeting = meeting_propose(
        mentorship=mentorship, actor=resident, slots=[later, sooner], format="in-person", location="Room 4B"
    )
    assert itip_method(meeting) is None  # but no e-mail carries it: two times are open
    _, event = _parse(meeting)
    assert str(event["STATUS"]) == "TENTATIVE"
    assert event.decoded("DTSTART") == sooner.astimezone(UTC).replace(second=0, microsecond=0)
    assert str(event["LOCATION"]) == "Room 4B"


def test_reschedule_then_cancel_keeps_the_uid_and_raises_the_sequence(mentorship, resident, attending):
    meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=[timezone.now() + timedelta(days=2)])
    _, first = _parse(meeting)
    meeting = meeting_reschedule(meeting=meeting, actor=attending, slots=[timezone.now() + timedelta(days=4)])
    _, rescheduled = _parse(meeting)
    meeting = meeting_cancel(meeting=meeting, actor=resident, reason="Exam week")
    calendar, cancelled = _parse(meeting)

    assert str(first["UID"]) == str(rescheduled["UID"]) == str(cancelled["UID"])
    assert [first["SEQUENCE"], rescheduled["SEQUENCE"], cancelled["SEQUENCE"]] == [0, 1, 2]
    assert str(rescheduled["ORGANIZER"]) == "mailto:carol@hospital.example"  # who proposed the new time
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(cancelled["STATUS"]) == "CANCELLED"
