"""A meeting as an iCalendar invitation (RFC 5545 / iTIP).

The UID never changes, so a calendar updates the one event it already holds;
SEQUENCE grows on every reschedule and cancellation, so the newest e-mail wins.
A cancelled meeting goes out as METHOD:CANCEL with STATUS:CANCELLED. Times are
written in UTC: each person's calendar shows them in its own time zone.

The organizer is MentorMatch's sending address, the one the invitation e-mails
come from, so calendars accept later updates and the cancellation from it; both
people are attendees.
"""

from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

from django.conf import settings
from icalendar import Calendar, Event, vCalAddress

from core.bounds import shift

from .models import Meeting
from .scheduling import meeting_url

PRODID = "-//MentorMatch//Meetings//EN"


def meeting_start(meeting) -> datetime | None:
    """The confirmed start, else the first proposed time (shown as tentative)."""
    if meeting.start is not None:
        return meeting.start
    return min((slot.start for slot in meeting.slots.all()), default=None)


def _address(user, *, partstat: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{user.email}")
    address.params["CN"] = user.full_name or user.email
    address.params["ROLE"] = "REQ-PARTICIPANT"
    address.params["PARTSTAT"] = partstat
    address.params["RSVP"] = "FALSE"
    return address


def _organizer() -> vCalAddress:
    name, email = parseaddr(settings.DEFAULT_FROM_EMAIL)
    organizer = vCalAddress(f"mailto:{email}")
    organizer.params["CN"] = name or "MentorMatch"
    return organizer


def _description(meeting, url: str) -> str:
    lines = [f"{meeting.get_format_display()} meeting, {meeting.duration_minutes} minutes."]
    if meeting.status == Meeting.Status.PROPOSED:
        lines.append("Not confirmed yet: the proposed times are on the meeting page.")
    if meeting.video_url:
        lines.append(f"Join: {meeting.video_url}")
    if meeting.location:
        lines.append(f"Where: {meeting.location}")
    lines.append(f"Meeting page: {url}")
    return "\n".join(lines)


def meeting_ics(meeting) -> bytes:
    mentorship = meeting.mentorship
    mentor, mentee = mentorship.mentor, mentorship.mentee
    cancelled = meeting.status == Meeting.Status.CANCELLED
    url = f"{settings.SITE_URL}{meeting_url(meeting)}"

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")

    event = Event()
    event.add("uid", f"{meeting.uid}@mentormatch")
    event.add("sequence", meeting.sequence)
    # The time this version of the event was made: stable across downloads.
    event.add("dtstamp", (meeting.updated_at or meeting.created_at).astimezone(UTC))
    if meeting.created_at:
        event.add("created", meeting.created_at.astimezone(UTC))
    start = meeting_start(meeting) or meeting.created_at
    start = start.astimezone(UTC)
    event.add("dtstart", start)
    # A start stored before the bounds (year 9999) ends at the last instant a datetime holds.
    event.add("dtend", shift(start, timedelta(minutes=meeting.duration_minutes)))
    event.add("summary", f"Mentorship meeting: {mentor.full_name} / {mentee.full_name}")
    where = meeting.location or meeting.video_url
    if where:
        event.add("location", where)
    event.add("description", _description(meeting, url))
    event.add("url", url)
    event.add("organizer", _organizer())
    confirmed = meeting.status in (Meeting.Status.CONFIRMED, Meeting.Status.HELD)
    for person in (mentor, mentee):
        accepted = confirmed or person.pk == meeting.proposed_by_id
        event.add("attendee", _address(person, partstat="ACCEPTED" if accepted else "NEEDS-ACTION"), encode=0)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED" if confirmed else "TENTATIVE")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    calendar.add_component(event)
    return calendar.to_ical()
