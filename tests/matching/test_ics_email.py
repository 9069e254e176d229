"""iTIP over e-mail (RFC 6047) read as a mail client reads it: the bytes parsed with
``email.message_from_bytes``, the calendar part found inside the ``multipart/alternative``
next to the text and HTML, its ``method=`` equal to the object's METHOD, and SEQUENCE
growing across propose → confirm the second time → reschedule → cancel, with both people
receiving every version and the proposer as ORGANIZER."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from matching.ics import itip_method
from matching.models import Notification
from matching.notifications import SWEEP_GRACE, notification_preference_set, notifications_email_unsent
from matching.services.meetings import meeting_cancel, meeting_confirm, meeting_propose, meeting_reschedule
from tests.matching.itip import calendar_part, parsed

pytestmark = pytest.mark.django_db


def _in(days, hour=15):
    return (timezone.now() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


def _sent(capture, action):
    """Run ``action`` with its on-commit e-mails sent; return the new e-mails by recipient."""
    before = len(mail.outbox)
    with capture(execute=True):
        action()
    return {tuple(m.to): m for m in mail.outbox[before:]}


def _version(message):
    """(method parameter, METHOD, SEQUENCE, STATUS, DTSTART, ORGANIZER) of an iTIP e-mail."""
    tree = parsed(message)
    assert tree.get_content_type() == "multipart/alternative"  # no attachment wrapper
    parts = [part.get_content_type() for part in tree.get_payload()]
    assert parts == ["text/plain", "text/html", "text/calendar"]
    calendar_mime = tree.get_payload()[2]
    assert calendar_mime.get_content_charset() == "utf-8"
    assert calendar_mime.get_content_disposition() is None  # inline, not an attachment
    method, calendar = calendar_part(message)
    (event,) = calendar.walk("VEVENT")
    assert method == str(calendar["METHOD"]), "the MIME method= must match the VCALENDAR METHOD"
    return (
        method,
        event["SEQUENCE"],
        str(event["STATUS"]),
        event.decoded("DTSTART"),
        str(event["ORGANIZER"]),
        str(event["UID"]),
    )


def test_every_version_reaches_both_people_with_a_growing_sequence(
    mentorship, resident, attending, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    alice, carol = (resident.email,), (attending.email,)
    slots = [_in(3), _in(4), _in(5)]
    meeting = None

    def propose():
        nonlocal meeting
        meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=slots, format="video")

    # 1. Three times proposed: Carol's e-mail lists them; no calendar part (which time?)
    #    and so no copy to Alice either.
    sent = _sent(capture, propose)
    assert set(sent) == {carol}
    assert calendar_part(sent[carol]) is None
    assert parsed(sent[carol]).get_content_type() == "multipart/alternative"

    # 2. Carol confirms the SECOND time: both get REQUEST, SEQUENCE 1, DTSTART the second time.
    sent = _sent(capture, lambda: meeting_confirm(meeting=meeting, actor=attending, start=slots[1]))
    assert set(sent) == {alice, carol}
    confirmed = {who: _version(m) for who, m in sent.items()}
    assert confirmed[alice] == confirmed[carol]
    method, sequence, status, start, organizer, uid = confirmed[alice]
    assert (method, sequence, status, start) == ("REQUEST", 1, "CONFIRMED", slots[1])
    assert organizer == f"mailto:{resident.email}"  # Alice proposed
    # Alice hears of it in the bell; Carol's copy (she acted) is already read.
    assert Notification.objects.get(user=resident, event="meeting.confirmed").read_at is None
    assert Notification.objects.get(user=attending, event="meeting.confirmed").read_at is not None

    # 3. Carol reschedules to one new time: a tentative REQUEST there, SEQUENCE 2, Carol organises.
    new = _in(8)
    sent = _sent(capture, lambda: meeting_reschedule(meeting=meeting, actor=attending, slots=[new]))
    assert set(sent) == {alice, carol}
    versions = {_version(m) for m in sent.values()}
    assert versions == {("REQUEST", 2, "TENTATIVE", new, f"mailto:{attending.email}", uid)}

    # 4. Alice cancels: METHOD:CANCEL, SEQUENCE 3, same UID, to both.
    sent = _sent(capture, lambda: meeting_cancel(meeting=meeting, actor=resident, reason="Exam week"))
    assert set(sent) == {alice, carol}
    versions = {_version(m)[:3] + _version(m)[5:] for m in sent.values()}
    assert versions == {("CANCEL", 3, "CANCELLED", uid)}
    assert "removes the meeting from your calendar" in sent[carol].body


def test_rescheduling_a_confirmed_meeting_to_several_times_cancels_the_old_one_in_calendars(
    mentorship, resident, attending, django_capture_on_commit_callbacks
):
    meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=[_in(3)])
    meeting = meeting_confirm(meeting=meeting, actor=attending, start=_in(3))
    sent = _sent(
        django_capture_on_commit_callbacks,
        lambda: meeting_reschedule(meeting=meeting, actor=resident, slots=[_in(6), _in(7)]),
    )
    assert {_version(m)[:3] for m in sent.values()} == {("CANCEL", 2, "CANCELLED")}
    assert len(sent) == 2
    # The next confirmation brings the same UID back with a higher SEQUENCE.
    sent = _sent(
        django_capture_on_commit_callbacks, lambda: meeting_confirm(meeting=meeting, actor=attending, start=_in(7))
    )
    assert {_version(m)[:4] for m in sent.values()} == {("REQUEST", 3, "CONFIRMED", _in(7))}


def test_a_single_time_proposal_is_held_as_tentative_by_both(
    mentorship, resident, attending, django_capture_on_commit_callbacks
):
    sent = _sent(
        django_capture_on_commit_callbacks,
        lambda: meeting_propose(mentorship=mentorship, actor=attending, slots=[_in(2)], format="phone"),
    )
    assert {_version(m)[:4] for m in sent.values()} == {("REQUEST", 0, "TENTATIVE", _in(2))}
    assert set(sent) == {(resident.email,), (attending.email,)}
    method, calendar = calendar_part(sent[(resident.email,)])
    (event,) = calendar.walk("VEVENT")
    attendees = {str(a): a.params for a in event["ATTENDEE"]}
    assert attendees[f"mailto:{resident.email}"]["PARTSTAT"] == "NEEDS-ACTION"
    assert attendees[f"mailto:{resident.email}"]["RSVP"] == "TRUE"
    assert attendees[f"mailto:{attending.email}"]["PARTSTAT"] == "ACCEPTED"
    assert event["ORGANIZER"].params["CN"] == "Carol Chen"


def test_calendar_emails_go_out_right_away_even_to_people_on_the_daily_digest(
    mentorship, resident, attending, django_capture_on_commit_callbacks
):
    notification_preference_set(user=resident, delivery=Notification.Delivery.DIGEST)
    notification_preference_set(user=attending, delivery=Notification.Delivery.DIGEST)
    with django_capture_on_commit_callbacks(execute=True):
        meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=[_in(3), _in(4)])
    assert mail.outbox == []  # the proposal without a calendar part waits for the digest
    sent = _sent(
        django_capture_on_commit_callbacks, lambda: meeting_confirm(meeting=meeting, actor=attending, start=_in(4))
    )
    assert set(sent) == {(resident.email,), (attending.email,)}
    assert all(calendar_part(m)[0] == "REQUEST" for m in sent.values())


def test_a_new_place_for_a_proposal_with_several_times_sends_no_calendar_part(
    mentorship, resident, attending, django_capture_on_commit_callbacks
):
    """Calendars hold nothing of it yet, so nothing to update (and no CANCEL: it was never there)."""
    meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=[_in(3), _in(4)])
    meeting.sequence = 1  # as meeting_update_details leaves it
    assert itip_method(meeting, event="meeting.details") is None
    assert itip_method(meeting, event="meeting.rescheduled") == "CANCEL"
    meeting.slots.filter(start=_in(4)).delete()
    assert itip_method(meeting, event="meeting.details") == "REQUEST"  # one time: calendars hold it


def test_the_sweeper_sends_calendar_emails_of_digest_people_but_leaves_the_rest_to_the_digest(
    mentorship, resident, attending
):
    notification_preference_set(user=attending, delivery=Notification.Delivery.DIGEST)
    # Without the on-commit e-mails (as if the broker was down): both rows stay un-emailed.
    several = meeting_propose(mentorship=mentorship, actor=resident, slots=[_in(3), _in(4)])
    single = meeting_propose(mentorship=mentorship, actor=resident, slots=[_in(6)])
    later = timezone.now() + SWEEP_GRACE + timedelta(minutes=1)
    assert notifications_email_unsent(now=later) == 2  # Carol's copy of `single`, and Alice's own
    to_carol = [m for m in mail.outbox if m.to == [attending.email]]
    assert len(to_carol) == 1 and calendar_part(to_carol[0])[1].walk("VEVENT")[0]["UID"].startswith(str(single.uid))
    assert Notification.objects.get(user=attending, meeting=several).emailed_at is None  # the digest's
