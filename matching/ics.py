"""Meetings as iCalendar (RFC 5545): iTIP invitations by e-mail (RFC 5546/6047), the
downloadable file, and each person's calendar feed.

**Identity and versions.** The UID never changes, so a calendar updates the one event it
holds. SEQUENCE is the version: it starts at 0 when times are proposed and grows on every
change a calendar may already hold an older copy of — confirming a time (even the first
proposed one: the downloadable file of a proposal holds it as tentative), rescheduling,
cancelling, and changing the place or video link (``meeting_update_details``). Gaps are
allowed by RFC 5546; going backwards never happens. Times are written in UTC: each person's
calendar shows them in its own zone.

**What each change sends** (``itip_method``), to BOTH people, the one who acted included:

- a proposal with ONE time: ``METHOD:REQUEST`` with ``STATUS:TENTATIVE`` at that time — the
  only time it can be, so it is worth holding;
- a proposal with two or three times: no calendar part at all. Holding the first as tentative
  would put the wrong time in calendars two times out of three, and one event per time would
  leave orphans to clean up. The e-mail lists the times; the confirmation is the invitation;
- a confirmation: ``METHOD:REQUEST``, ``STATUS:CONFIRMED``, SEQUENCE + 1;
- a reschedule to one time: ``METHOD:REQUEST`` tentative at the new time, SEQUENCE + 1; to
  several times: ``METHOD:CANCEL`` (the old time no longer holds; calendars must not keep it
  as a firm meeting). The confirmation later re-issues the same UID with a higher SEQUENCE,
  which Google, Outlook and Apple Calendar accept as the event coming back;
- a cancellation: ``METHOD:CANCEL``, ``STATUS:CANCELLED``, SEQUENCE + 1.
- a new place or video link (``meeting_update_details``): SEQUENCE + 1, and ``METHOD:REQUEST``
  when calendars hold a time; nothing while several times are open (calendars have nothing).

The method is derived from the meeting's state when the e-mail is sent, so a late e-mail
carries the newest version, never an older one.

**Who organises.** The ORGANIZER is the person who proposed the current times (CN their name,
mailto their address), with ``SENT-BY`` MentorMatch's sending address, because the e-mail
comes from DEFAULT_FROM_EMAIL; Outlook then shows "sent by MentorMatch on behalf of …" and
Accept/Decline replies go to the proposer. Both people are ATTENDEEs: the proposer ACCEPTED,
the other NEEDS-ACTION with RSVP until a time is confirmed.

**The feed** (``feed_ics``) is not iTIP: it has no METHOD. It lists confirmed and held
meetings, proposals with one time as tentative, and meetings cancelled within
``FEED_CANCELLED_FOR`` as STATUS:CANCELLED (so subscribed calendars drop them); proposals with
several times are left out until one is confirmed.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vDuration

from accounts.models import User
from core.bounds import shift

from .models import Meeting
from .scheduling import meeting_url

PRODID = "-//MentorMatch//Meetings//EN"
REQUEST, CANCEL = "REQUEST", "CANCEL"
# Cancelled meetings stay in the feed this long, as STATUS:CANCELLED, so that calendars
# which already hold them see them go; after that they are simply absent.
FEED_CANCELLED_FOR = timedelta(days=30)
# How often subscribed calendars should fetch the feed again (Google ignores it and
# polls every few hours; Apple and Outlook honour it).
FEED_REFRESH = timedelta(hours=1)


def calendar_time(meeting: Meeting) -> datetime | None:
    """The time calendars hold: the confirmed start, else the only proposed time; None while
    two or three times are open."""
    if meeting.start is not None:
        return meeting.start
    starts = [slot.start for slot in meeting.slots.all()]
    return starts[0] if len(starts) == 1 else None


def meeting_start(meeting: Meeting) -> datetime | None:
    """What the downloadable file holds: the calendar time, else the first proposed time
    (as tentative; confirming raises SEQUENCE, so the file is replaced, not duplicated)."""
    start = calendar_time(meeting)
    if start is not None:
        return start
    return min((slot.start for slot in meeting.slots.all()), default=None)


def itip_method(meeting: Meeting, *, event: str = "") -> str | None:
    """The iTIP method an e-mail about ``meeting`` (for the notification ``event``) carries
    now, or None for no calendar part (see the module docstring)."""
    if meeting.status == Meeting.Status.CANCELLED:
        return CANCEL
    if calendar_time(meeting) is not None:
        return REQUEST
    # Several times open. The reschedule that opened them tells calendars that the old time
    # (if they hold one) no longer holds; anything else about a proposal (its place, say)
    # is not for calendars: they have nothing of it.
    if event == "meeting.rescheduled" and meeting.sequence > 0:
        return CANCEL
    return None


def _attendee(user: User, *, partstat: str, rsvp: bool) -> vCalAddress:
    address = vCalAddress(f"mailto:{user.email}")
    address.params["CN"] = user.full_name or user.email
    address.params["ROLE"] = "REQ-PARTICIPANT"
    address.params["PARTSTAT"] = partstat
    address.params["RSVP"] = "TRUE" if rsvp else "FALSE"
    return address


def _organizer(meeting: Meeting) -> vCalAddress:
    proposer = meeting.proposed_by
    organizer = vCalAddress(f"mailto:{proposer.email}")
    organizer.params["CN"] = proposer.full_name or proposer.email
    _, sender = parseaddr(settings.DEFAULT_FROM_EMAIL)
    if sender and sender.lower() != proposer.email.lower():
        organizer.params["SENT-BY"] = f"mailto:{sender}"
    return organizer


def _description(meeting: Meeting, url: str) -> str:
    lines = [f"{meeting.get_format_display()} meeting, {meeting.duration_minutes} minutes."]
    if meeting.status == Meeting.Status.PROPOSED:
        lines.append("Not confirmed yet: the proposed times are on the meeting page.")
    if meeting.video_url:
        lines.append(f"Join: {meeting.video_url}")
    if meeting.location:
        lines.append(f"Where: {meeting.location}")
    lines.append(f"Meeting page: {url}")
    return "\n".join(lines)


def summary(meeting: Meeting) -> str:
    mentorship = meeting.mentorship
    return f"Mentorship meeting: {mentorship.mentor.full_name} / {mentorship.mentee.full_name}"


def _event(meeting: Meeting, *, cancelled: bool, start: datetime | None) -> Event:
    mentorship = meeting.mentorship
    url = f"{settings.SITE_URL}{meeting_url(meeting)}"
    event = Event()
    event.add("uid", f"{meeting.uid}@mentormatch")
    event.add("sequence", meeting.sequence)
    # The time this version of the event was made: stable across downloads.
    event.add("dtstamp", (meeting.updated_at or meeting.created_at or timezone.now()).astimezone(UTC))
    if meeting.created_at:
        event.add("created", meeting.created_at.astimezone(UTC))
    start = (start or meeting.created_at or timezone.now()).astimezone(UTC)
    event.add("dtstart", start)
    # A start stored before the bounds (year 9999) ends at the last instant a datetime holds.
    event.add("dtend", shift(start, timedelta(minutes=meeting.duration_minutes)))
    event.add("summary", summary(meeting))
    where = meeting.location or meeting.video_url
    if where:
        event.add("location", where)
    event.add("description", _description(meeting, url))
    event.add("url", url)
    event.add("organizer", _organizer(meeting))
    confirmed = meeting.status in (Meeting.Status.CONFIRMED, Meeting.Status.HELD)
    for person in (mentorship.mentor, mentorship.mentee):
        accepted = confirmed or person.pk == meeting.proposed_by_id
        partstat = "ACCEPTED" if accepted else "NEEDS-ACTION"
        event.add("attendee", _attendee(person, partstat=partstat, rsvp=not accepted and not cancelled), encode=False)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED" if confirmed else "TENTATIVE")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    return event


def meeting_ics(meeting: Meeting, *, method: str | None = None) -> bytes:
    """One meeting as an iTIP object: ``method`` as given (an e-mail passes ``itip_method``),
    else CANCEL once cancelled and REQUEST before (the downloadable file)."""
    cancelled = meeting.status == Meeting.Status.CANCELLED
    method = method or (CANCEL if cancelled else REQUEST)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    calendar.add_component(_event(meeting, cancelled=method == CANCEL, start=meeting_start(meeting)))
    return calendar.to_ical()


def feed_meetings(meetings: Iterable[Meeting], *, now: datetime | None = None) -> list[Meeting]:
    """Those of ``meetings`` (slots prefetched) a feed lists (see the module docstring)."""
    now = now or timezone.now()
    listed = []
    for meeting in meetings:
        if meeting.status == Meeting.Status.CANCELLED:
            if meeting.updated_at and meeting.updated_at >= now - FEED_CANCELLED_FOR and meeting_start(meeting):
                listed.append(meeting)
        elif calendar_time(meeting) is not None:
            listed.append(meeting)
    return listed


def feed_ics(meetings: Iterable[Meeting], *, name: str) -> bytes:
    """A subscribed calendar: no METHOD (RFC 5546 objects are messages; a feed is a store)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("name", name)  # RFC 7986
    calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    # An X- property has no type to infer: written as the duration text Outlook reads ("PT1H").
    calendar.add("x-published-ttl", vDuration(FEED_REFRESH).to_ical().decode())
    for meeting in meetings:
        cancelled = meeting.status == Meeting.Status.CANCELLED
        calendar.add_component(_event(meeting, cancelled=cancelled, start=meeting_start(meeting)))
    return calendar.to_ical()


def add_to_calendar_links(meeting: Meeting) -> dict[str, str]:
    """ "Add to Google Calendar / Outlook" links for a meeting with a calendar time; empty
    otherwise. These copy the event once: later changes arrive by e-mail or the feed."""
    start = calendar_time(meeting)
    if start is None or meeting.status == Meeting.Status.CANCELLED:
        return {}
    start = start.astimezone(UTC)
    end = shift(start, timedelta(minutes=meeting.duration_minutes))
    title = summary(meeting)
    details = _description(meeting, f"{settings.SITE_URL}{meeting_url(meeting)}")
    where = meeting.location or meeting.video_url
    google = {
        "action": "TEMPLATE",
        "text": title,
        "dates": f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}",
        "details": details,
        "location": where,
    }
    outlook = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": title,
        "startdt": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "enddt": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "body": details,
        "location": where,
    }
    return {
        "google": "https://calendar.google.com/calendar/render?" + urlencode(google),
        "outlook": "https://outlook.office.com/calendar/0/deeplink/compose?" + urlencode(outlook),
        "outlook_com": "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(outlook),
    }
