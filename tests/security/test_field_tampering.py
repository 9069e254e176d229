"""Field tampering (issue 6): a write changes only what its caller may change.

Every writable API operation in the OpenAPI schema has at least one case below (a new one
without a case fails ``test_every_writable_operation_has_a_case``). Each case sends the
operation's normal, valid body PLUS privileged fields that the caller may not set (``TAMPER``:
status, someone else as author/owner/mentee/mentor, the other program, is_staff, capacity,
score, published…), then compares the database before and after:

- only the tables and columns the case names changed (everything else is byte-for-byte equal);
- no row that was added or changed carries a tampered value.

The "other person" in a tampered field is always someone of General Surgery (Zebulon,
Quintessa) and the "other program" is ``gs``: no legitimate write in ``im`` stores them, so
finding one is proof that the tampered field took effect. A few page forms get the same
treatment at the end.
"""

from dataclasses import dataclass, field
from datetime import UTC, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import InstitutionRole, Program, User
from matching.models import MatchProposal, MatchRanking, MentorshipRequest

from .conftest import snapshot
from .routes import UNSAFE, api_operations
from .world_args import api_kwargs

pytestmark = pytest.mark.django_db

# Written by every write, not by the caller's choice: new audit entries and notifications.
SIDE_EFFECTS = {"AuditEntry", "Notification"}


def TAMPER(w):
    """Privileged fields, with values that no legitimate write in ``im`` would store."""
    zeb, quin = w.zeb.pk, w.quin.pk
    return {
        "id": 424242,
        "pk": 424242,
        "is_staff": True,
        "is_superuser": True,
        "is_active": False,
        "email": "mallory@evil.example",
        "role": "coordinator",
        "program": w.gs.pk,
        "program_id": w.gs.pk,
        "status": "expired",
        "source": "coordinator",
        "capacity": 97,
        "score": 99.5,
        "rank_obtained": 7,
        "published": True,
        "published_at": "2001-02-03T04:05:06Z",
        "accepted_at": "2001-02-03T04:05:06Z",
        "created_at": "2001-02-03T04:05:06Z",
        "responded_at": "2001-02-03T04:05:06Z",
        "mentorship": w.gs_mentorship.pk,
        "mentorship_id": w.gs_mentorship.pk,
        "run": w.gs_run.pk,
        "run_id": w.gs_run.pk,
        "author": quin,
        "created_by": quin,
        "owner": quin,
        "user": zeb,
        "shared_by": quin,
        "proposed_by": quin,
        "decided_by": quin,
        "ended_by": quin,
        "updated_by": quin,
        "uploaded_by": quin,
        "actor": quin,
        "mentee": zeb,
        "mentor": quin,
        "mentee_id": zeb,
        "mentor_id": quin,
        "colleague": quin,
        "target": zeb,
    }


@dataclass
class Case:
    role: str
    body: object = lambda w: {}  # the normal, valid body
    changes: dict = field(default_factory=dict)  # table -> columns that may change on existing rows
    adds: frozenset = frozenset()  # tables that may gain rows
    removes: frozenset = frozenset()  # tables that may lose rows
    keep: tuple = ()  # TAMPER keys this case does not send (a legitimate value would equal them)
    status: str = "ok"  # "ok": 2xx; "bad": 400 and nothing but side effects changed
    check: object = None  # (world, diff) -> None: what the intended change must look like
    setup: object = None  # (world) -> None: bring the object into the state the operation needs
    path_args: object = None  # (world) -> URL, when world_args' default object is not the right one
    extra: object = lambda w: {}  # (world) -> more privileged fields, or other values for TAMPER's


def _tamper(world, case, body):
    fields = {**TAMPER(world), **case.extra(world)}
    return {k: v for k, v in fields.items() if k not in body and k not in case.keep}


def _start(w, days):
    return (timezone.now() + timedelta(days=days)).astimezone(UTC).replace(hour=15, minute=0, second=0, microsecond=0)


def _slot(w):
    return w.meeting.slots.order_by("start").first().start.isoformat()


def _day(days):
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def _only(diff, table, how="added"):
    rows = diff.get(table, {}).get(how, [])
    if how == "changed":
        rows = [c["after"] for c in rows.values()]
    assert len(rows) == 1, f"expected one row {how} in {table}, got {rows}"
    return rows[0]


def _message_tamper(w):
    # A thread or state the caller may not choose: Bob's request (not Alice–Carol's), marks of time.
    return {
        "request": w.request.pk,
        "request_id": w.request.pk,
        "thread": w.gs_mentorship.pk,
        "read_at": "2001-02-03T04:05:06Z",
        "edited_at": "2001-02-03T04:05:06Z",
        "deleted_at": "2001-02-03T04:05:06Z",
    }


def _ask_bob(w):
    from matching.services.requests import request_ask_question

    request_ask_question(request=w.request, actor=w.users["other_attending"], question="What are your goals?")


def _allow_bob_and_dave(w):
    # Dave is a program director of im: pairing him with a resident needs the coordinator's exception.
    from matching.models import PairingException

    PairingException.objects.create(
        program=w.im, mentee=w.users[BOB], mentor=w.users[DAVE], reason="Known", created_by=w.users[CORA]
    )


def _minute_slot(w):
    # Proposed times are whole minutes (the service rounds the confirmed one): so is the world's first slot.
    from matching.models import MeetingSlot

    MeetingSlot.objects.filter(pk=w.meeting.slots.order_by("start").first().pk).update(start=_start(w, 3))


ALICE, BOB, CAROL, DAVE, CORA = "resident", "other_resident", "attending", "other_attending", "coordinator"
NOW = ("updated_at",)
# A shared text's version grows by one with each save (core/concurrency.py).
VERSION = ("version",)
# Ending a mentorship cancels its meetings still ahead.
CANCELS_MEETINGS = {"Meeting": {"status", "cancelled_by_id", "cancelled_at", "cancel_reason", "sequence", *NOW}}

# fmt: off
CASES = {
    # --- The signed-in user: nobody promotes themselves, joins a program or takes another's e-mail.
    ("/api/v1/me/", "PATCH"): [Case(
        ALICE, lambda w: {"first_name": "Alicia"}, changes={"User": {"first_name"}},
        check=lambda w, d: _changed(d, "User", w.users[ALICE].pk) == {"first_name"},
    )],
    ("/api/v1/me/availability/", "PUT"): [Case(
        ALICE, lambda w: {"windows": [{"weekday": 0, "start": "09:00", "end": "10:00"}]},
        adds={"AvailabilityWindow"}, removes={"AvailabilityWindow"},
        check=lambda w, d: _all_rows_of(d, "AvailabilityWindow", "user_id", w.users[ALICE].pk),
    )],
    # Busy blocks and calendars: the owner is the caller, whatever "user" or "calendar" says.
    ("/api/v1/me/busy-blocks/", "POST"): [Case(
        ALICE, lambda w: {"label": "ICU", "start_date": _day(5), "end_date": _day(9)}, adds={"BusyBlock"},
        extra=lambda w: {"calendar": w.busy_calendar.pk},
        check=lambda w, d: _all_rows_of(d, "BusyBlock", "user_id", w.users[ALICE].pk),
    )],
    ("/api/v1/me/busy-blocks/{id}/", "PUT"): [Case(
        ALICE, lambda w: {"label": "ICU", "start_date": _day(5), "end_date": _day(9)},
        changes={"BusyBlock": {"label", "start_date", "end_date"}}, extra=lambda w: {"calendar": w.busy_calendar.pk},
        check=lambda w, d: _all_rows_of(d, "BusyBlock", "user_id", w.users[ALICE].pk),
    )],
    ("/api/v1/me/busy-blocks/{id}/", "PATCH"): [Case(
        ALICE, lambda w: {"label": "Nights (moved)"}, changes={"BusyBlock": {"label"}},
        check=lambda w, d: _all_rows_of(d, "BusyBlock", "user_id", w.users[ALICE].pk),
    )],
    # The world's calendar address cannot resolve: the import is refused and nothing is stored.
    ("/api/v1/me/busy-calendars/", "POST"): [Case(
        ALICE, lambda w: {"url": "https://schedule.invalid/alice.ics", "name": "Amion"}, status="bad",
    )],
    ("/api/v1/me/busy-calendars/{id}/refresh/", "POST"): [Case(
        ALICE, changes={"BusyCalendar": {"last_error"}},
        check=lambda w, d: _all_rows_of(d, "BusyCalendar", "user_id", w.users[ALICE].pk),
    )],
    ("/api/v1/me/calendar-feed/", "POST"): [Case(ALICE)],
    ("/api/v1/me/calendar-feed/regenerate/", "POST"): [Case(
        ALICE, changes={"CalendarFeed": {"token", "last_fetched_at"}},
        check=lambda w, d: _all_rows_of(d, "CalendarFeed", "user_id", w.users[ALICE].pk),
    )],
    ("/api/v1/me/mentee-profile/", "PUT"): [Case(
        ALICE, lambda w: {"bio": "PGY-2, curious"},
        changes={"MenteeProfile": {"bio", "goals_text", "career_stage_id", *NOW}},
        check=lambda w, d: _all_rows_of(d, "MenteeProfile", "user_id", w.users[ALICE].pk),
    )],
    ("/api/v1/me/mentee-profile/", "PATCH"): [Case(
        ALICE, lambda w: {"bio": "PGY-2, curious"}, changes={"MenteeProfile": {"bio", *NOW}},
        check=lambda w, d: _all_rows_of(d, "MenteeProfile", "user_id", w.users[ALICE].pk),
    )],
    # A mentor sets their own capacity; the tampered fields name someone else's profile.
    ("/api/v1/me/mentor-profile/", "PUT"): [Case(
        CAROL, lambda w: {"bio": "Cardiology", "capacity": 3, "accepting_mentees": True},
        changes={"MentorProfile": {"bio", "capacity", "accepting_mentees", "specialty_id", "subspecialty_id",
                                   "academic_rank_id", "career_stage_id", *NOW}},
        check=lambda w, d: _all_rows_of(d, "MentorProfile", "user_id", w.users[CAROL].pk),
    )],
    ("/api/v1/me/mentor-profile/", "PATCH"): [Case(
        CAROL, lambda w: {"bio": "Cardiology"}, changes={"MentorProfile": {"bio", *NOW}}, keep=("capacity",),
        check=lambda w, d: _all_rows_of(d, "MentorProfile", "user_id", w.users[CAROL].pk),
    )],
    # --- Requests: a resident asks for herself, pending; only the mentor answers.
    ("/api/v1/requests/", "POST"): [Case(
        # ``program`` is the caller's to choose, among her own programs: the next case tries another.
        ALICE, lambda w: {"mentor": w.users[DAVE].pk, "kind": "research", "message": "Hi"}, keep=("mentor", "program"),
        adds={"MentorshipRequest"}, extra=lambda w: {"status": "accepted", "mentorship": w.mentorship.pk},
        check=lambda w, d: _has(_only(d, "MentorshipRequest"), mentee_id=w.users[ALICE].pk, mentor_id=w.users[DAVE].pk,
                                program_id=w.im.pk, status="pending", mentorship_id=None),
    ), Case(
        ALICE, lambda w: {"mentor": w.users[DAVE].pk, "kind": "research", "message": "Hi", "program": w.gs.slug},
        keep=("mentor",), status="bad",
    )],
    ("/api/v1/requests/{id}/accept/", "POST"): [Case(
        DAVE, lambda w: {"note": "Happy to"}, keep=("status",), setup=_allow_bob_and_dave,
        changes={"MentorshipRequest": {"status", "response_note", "responded_at", "resolved_at", "mentorship_id", *NOW}},
        # The note opens the pair's conversation: a message from Dave in the new mentorship.
        adds={"Mentorship", "Agreement", "Message"},
        check=lambda w, d: (  # both checked (_has asserts and returns None)
            _has(_only(d, "Mentorship"), mentee_id=w.users[BOB].pk, mentor_id=w.users[DAVE].pk,
                 program_id=w.im.pk, source="request", status="active"),
            _has(_only(d, "Message"), author_id=w.users[DAVE].pk, body="Happy to", request_id=None,
                 mentorship_id=_only(d, "Mentorship")["id"]),
        ),
    )],
    ("/api/v1/requests/{id}/decline/", "POST"): [Case(
        DAVE, lambda w: {"note": "Sorry"},
        changes={"MentorshipRequest": {"status", "response_note", "responded_at", "resolved_at", *NOW}},
        check=lambda w, d: _has(_new(d, "MentorshipRequest", w.request.pk), status="declined"),
    )],
    ("/api/v1/requests/{id}/question/", "POST"): [Case(
        # Deprecated: the question is now also a message in the request's thread, by its asker.
        DAVE, lambda w: {"question": "What are your goals?"}, adds={"Message"},
        changes={"MentorshipRequest": {"question", "question_asked_at", "expires_at", *NOW}},
        check=lambda w, d: (
            _has(_new(d, "MentorshipRequest", w.request.pk), status="pending"),
            _has(_only(d, "Message"), request_id=w.request.pk, mentorship_id=None, author_id=w.users[DAVE].pk),
        ),
    )],
    ("/api/v1/requests/{id}/answer/", "POST"): [Case(
        BOB, lambda w: {"answer": "Research"}, setup=_ask_bob, adds={"Message"},
        changes={"MentorshipRequest": {"answer", "answered_at", "expires_at", *NOW}},
        check=lambda w, d: (
            _has(_new(d, "MentorshipRequest", w.request.pk), status="pending"),
            _has(_only(d, "Message"), request_id=w.request.pk, mentorship_id=None, author_id=w.users[BOB].pk),
        ),
    )],
    # --- Invitations to join: Alice answers Oscar's (to gs); Cora withdraws hers (to im).
    ("/api/v1/me/program-invitations/{id}/accept/", "POST"): [Case(
        # The membership is in gs, TAMPER's "other program": the legitimate value, so not sent.
        ALICE, changes={"ProgramInvitation": {"status", "responded_at"}}, adds={"Membership"},
        keep=("program", "program_id"),
        check=lambda w, d: (
            _has(_new(d, "ProgramInvitation", w.alice_invitation.pk), status="accepted"),
            _has(_only(d, "Membership"), user_id=w.users[ALICE].pk, program_id=w.gs.pk, role="resident"),
        ),
    )],
    ("/api/v1/me/program-invitations/{id}/decline/", "POST"): [Case(
        ALICE, changes={"ProgramInvitation": {"status", "responded_at"}},
        check=lambda w, d: _has(_new(d, "ProgramInvitation", w.alice_invitation.pk), status="declined"),
    )],
    ("/api/v1/programs/{slug}/invitations/{id}/withdraw/", "POST"): [Case(
        CORA, changes={"ProgramInvitation": {"status", "responded_at"}},
        check=lambda w, d: _has(_new(d, "ProgramInvitation", w.im_invitation.pk), status="withdrawn"),
    )],
    ("/api/v1/requests/{id}/withdraw/", "POST"): [Case(
        BOB, changes={"MentorshipRequest": {"status", "resolved_at", *NOW}},
        check=lambda w, d: _has(_new(d, "MentorshipRequest", w.request.pk), status="withdrawn"),
    )],
    # --- The Alice–Carol mentorship.
    ("/api/v1/mentorships/{id}/agreement/", "PUT"): [Case(
        ALICE, lambda w: {"cadence": "monthly", "expectations": "Monthly talks"},
        changes={"Agreement": {"cadence", "preferred_channel", "expectations", "first_goals", "updated_by_id", *NOW, *VERSION}},
        check=lambda w, d: _has(_only(d, "Agreement", "changed"), updated_by_id=w.users[ALICE].pk, mentorship_id=w.mentorship.pk),
    )],
    ("/api/v1/mentorships/{id}/agreement/", "PATCH"): [Case(
        ALICE, lambda w: {"expectations": "Monthly talks"},
        changes={"Agreement": {"expectations", "updated_by_id", *NOW, *VERSION}},
        check=lambda w, d: _has(_only(d, "Agreement", "changed"), updated_by_id=w.users[ALICE].pk),
    )],
    ("/api/v1/mentorships/{id}/end/", "POST"): [Case(
        ALICE, lambda w: {"outcome": "completed", "reason": "Goals reached"},
        changes={"Mentorship": {"status", "ended_at", "ended_by_id", "end_reason", "rematch_requested", *NOW}, **CANCELS_MEETINGS},
        check=lambda w, d: _has(_new(d, "Mentorship", w.mentorship.pk), ended_by_id=w.users[ALICE].pk, status="completed"),
    )],
    ("/api/v1/mentorships/{id}/thanks/", "POST"): [Case(
        ALICE, lambda w: {"note": "Thank you"}, setup=lambda w: _end(w),
        changes={"Mentorship": {"thank_you_note", "thanked_at", *NOW}},
        check=lambda w, d: _has(_new(d, "Mentorship", w.mentorship.pk), status="completed", ended_by_id=w.users[CAROL].pk),
    )],
    ("/api/v1/mentorships/{id}/action-items/", "POST"): [
        Case(
            ALICE, lambda w: {"title": "Submit the abstract"}, adds={"ActionItem"}, keep=("owner",),
            check=lambda w, d: _has(_only(d, "ActionItem"), mentorship_id=w.mentorship.pk, created_by_id=w.users[ALICE].pk,
                                    owner_id=w.users[ALICE].pk, status="open", completed_at=None),
        ),
        # The owner is the mentee's or the mentor's to choose, never a third person.
        Case(ALICE, lambda w: {"title": "Submit the abstract", "owner": w.quin.pk}, status="bad"),
        Case(ALICE, lambda w: {"title": "Submit the abstract", "owner": w.users[BOB].pk}, status="bad"),
    ],
    ("/api/v1/action-items/{id}/", "PATCH"): [
        Case(
            # Owner and status are the pair's to set (the owner among the two of them): sent apart, below.
            ALICE, lambda w: {"title": "Draft the abstract, v2"}, changes={"ActionItem": {"title", *NOW, *VERSION}},
            keep=("owner", "status"),
            check=lambda w, d: _has(_new(d, "ActionItem", w.action_item.pk), mentorship_id=w.mentorship.pk,
                                    created_by_id=w.users[ALICE].pk, owner_id=w.users[ALICE].pk),
        ),
        Case(ALICE, lambda w: {"owner": w.users[DAVE].pk}, status="bad"),
    ],
    ("/api/v1/mentorships/{id}/resources/", "POST"): [Case(
        CAROL, lambda w: {"title": "A paper", "url": "https://example.org/p"}, adds={"Resource"},
        check=lambda w, d: _has(_only(d, "Resource"), mentorship_id=w.mentorship.pk, shared_by_id=w.users[CAROL].pk),
    )],
    # Carol's resource: she edits what it says, never who shared it or where.
    ("/api/v1/resources/{id}/", "PATCH"): [Case(
        CAROL, lambda w: {"title": "A longer reading list"}, changes={"Resource": {"title", *NOW, *VERSION}},
        check=lambda w, d: _has(_new(d, "Resource", w.resource.pk), shared_by_id=w.users[CAROL].pk,
                                mentorship_id=w.mentorship.pk, title="A longer reading list"),
    )],
    # --- Messages: the author is the caller, the thread the one in the URL; read marks are the reader's.
    ("/api/v1/mentorships/{id}/messages/", "POST"): [Case(
        ALICE, lambda w: {"body": "Hi"}, adds={"Message"}, extra=_message_tamper,
        check=lambda w, d: _has(_only(d, "Message"), mentorship_id=w.mentorship.pk, request_id=None,
                                author_id=w.users[ALICE].pk, read_at=None, edited_at=None, deleted_at=None),
    )],
    ("/api/v1/requests/{id}/messages/", "POST"): [Case(
        # The request in the URL is the legitimate thread here: its id is not a tampered value.
        BOB, lambda w: {"body": "Hi"}, adds={"Message"}, extra=_message_tamper, keep=("request", "request_id"),
        check=lambda w, d: _has(_only(d, "Message"), request_id=w.request.pk, mentorship_id=None,
                                author_id=w.users[BOB].pk, read_at=None, edited_at=None, deleted_at=None),
    )],
    # Carol reads Alice's message; Dave reads Bob's. Nobody else's messages are marked.
    ("/api/v1/mentorships/{id}/messages/read/", "POST"): [Case(
        CAROL, changes={"Message": {"read_at"}, "Notification": {"read_at"}}, extra=_message_tamper,
        check=lambda w, d: _all_rows_of(d, "Message", "mentorship_id", w.mentorship.pk),
    )],
    ("/api/v1/requests/{id}/messages/read/", "POST"): [Case(
        DAVE, changes={"Message": {"read_at"}, "Notification": {"read_at"}}, extra=_message_tamper,
        check=lambda w, d: _all_rows_of(d, "Message", "request_id", w.request.pk),
    )],
    ("/api/v1/messages/{id}/", "PATCH"): [Case(
        # Carol's unread notification of it shows the new text.
        ALICE, lambda w: {"body": "Hello again"}, changes={"Message": {"body", "edited_at"}, "Notification": {"body"}},
        extra=_message_tamper,
        check=lambda w, d: _has(_new(d, "Message", w.message.pk), author_id=w.users[ALICE].pk,
                                mentorship_id=w.mentorship.pk, request_id=None, body="Hello again", deleted_at=None),
    )],
    ("/api/v1/mentorships/{id}/introductions/", "POST"): [
        Case(
            CAROL, lambda w: {"colleague": w.users[DAVE].pk, "kind": "research", "note": "Meet"}, keep=("colleague",),
            setup=lambda w: type(w.introduction).objects.filter(pk=w.introduction.pk).delete(), adds={"Introduction"},
            check=lambda w, d: _has(_only(d, "Introduction"), mentorship_id=w.mentorship.pk, colleague_id=w.users[DAVE].pk,
                                    status="pending"),
        ),
    ],
    ("/api/v1/introductions/{id}/respond/", "POST"): [Case(
        DAVE, lambda w: {"response": "decline", "note": ""},
        changes={"Introduction": {"status", "response_note", "responded_at", "resolved_at", *NOW}},
        check=lambda w, d: _has(_new(d, "Introduction", w.introduction.pk), colleague_id=w.users[DAVE].pk,
                                mentorship_id=w.mentorship.pk),
    )],
    # A check-in is the author's own: never written in someone else's name.
    ("/api/v1/mentorships/{id}/checkins/", "POST"): [Case(
        ALICE, lambda w: {"rating": 3, "comment": "Fine"}, setup=lambda w: type(w.checkin).objects.filter(pk=w.checkin.pk).delete(), adds={"CheckIn"},
        extra=lambda w: {"author": w.users[CAROL].pk},  # the other party, not only a stranger
        check=lambda w, d: _has(_only(d, "CheckIn"), author_id=w.users[ALICE].pk, mentorship_id=w.mentorship.pk, rating=3),
    )],
    ("/api/v1/mentorships/{id}/nudge/", "POST"): [Case(
        CORA, check=lambda w, d: None,
    )],
    # --- Meetings.
    ("/api/v1/mentorships/{id}/meetings/", "POST"): [Case(
        ALICE, lambda w: {"slots": [_start(w, 5).isoformat()], "location": "Cafe"}, adds={"Meeting", "MeetingSlot"},
        extra=lambda w: {"proposed_by": w.users[CAROL].pk, "status": "confirmed", "start": _start(w, 5).isoformat()},
        check=lambda w, d: _has(_only(d, "Meeting"), proposed_by_id=w.users[ALICE].pk, mentorship_id=w.mentorship.pk,
                                status="proposed", start=None),
    )],
    ("/api/v1/meetings/{id}/confirm/", "POST"): [Case(
        CAROL, lambda w: {"start": _slot(w)}, setup=_minute_slot,
        changes={"Meeting": {"status", "start", "confirmed_at", "sequence", *NOW}},
        check=lambda w, d: _has(_new(d, "Meeting", w.meeting.pk), status="confirmed", proposed_by_id=w.users[ALICE].pk),
    )],
    ("/api/v1/meetings/{id}/reschedule/", "POST"): [Case(
        ALICE, lambda w: {"slots": [_start(w, 6).isoformat()]},
        changes={"Meeting": {"status", "start", "proposed_by_id", "sequence", *NOW}}, adds={"MeetingSlot"},
        removes={"MeetingSlot"},
        check=lambda w, d: _has(_new(d, "Meeting", w.meeting.pk), status="proposed", proposed_by_id=w.users[ALICE].pk),
    )],
    ("/api/v1/meetings/{id}/cancel/", "POST"): [Case(
        ALICE, lambda w: {"reason": "Clinic ran late"},
        changes={"Meeting": {"status", "cancelled_by_id", "cancelled_at", "cancel_reason", "sequence", *NOW}},
        check=lambda w, d: _has(_new(d, "Meeting", w.meeting.pk), status="cancelled", cancelled_by_id=w.users[ALICE].pk),
    )],
    ("/api/v1/meetings/{id}/held/", "POST"): [Case(
        ALICE, setup=lambda w: _confirm_in_the_past(w), changes={"Meeting": {"status", "held_at", *NOW}},
        check=lambda w, d: _has(_new(d, "Meeting", w.meeting.pk), status="held"),
    )],
    ("/api/v1/meetings/{id}/notes/", "POST"): [Case(
        ALICE, lambda w: {"notes": "We talked"}, setup=lambda w: _confirm_in_the_past(w), changes={"Meeting": {"notes", *NOW, *VERSION}},
        check=lambda w, d: _has(_new(d, "Meeting", w.meeting.pk), proposed_by_id=w.users[ALICE].pk),
    )],
    ("/api/v1/meetings/{id}/notes/", "PUT"): [Case(
        CAROL, lambda w: {"notes": "We talked"}, setup=lambda w: _confirm_in_the_past(w), changes={"Meeting": {"notes", *NOW, *VERSION}},
        check=lambda w, d: _has(_new(d, "Meeting", w.meeting.pk), proposed_by_id=w.users[ALICE].pk, notes="We talked",
                                mentorship_id=w.mentorship.pk),
    )],
    # Where and how to meet: the pair's to change, never who proposed it or when.
    ("/api/v1/meetings/{id}/details/", "PATCH"): [Case(
        CAROL, lambda w: {"location": "Room 5"}, changes={"Meeting": {"location", "sequence", *NOW, *VERSION}},
        extra=lambda w: {"start": "2001-02-03T04:05:06Z", "cancelled_by": w.quin.pk},
        check=lambda w, d: _has(_new(d, "Meeting", w.meeting.pk), proposed_by_id=w.users[ALICE].pk, location="Room 5",
                                mentorship_id=w.mentorship.pk, status="proposed"),
    )],
    # --- Notifications: only one's own.
    # Alice's notifications only: Zebulon's (the tampered ``user``) stays unread.
    ("/api/v1/notifications/read-all/", "POST"): [Case(
        ALICE, changes={"Notification": {"read_at"}},
        check=lambda w, d: _all_rows_of(d, "Notification", "user_id", w.users[ALICE].pk),
    )],
    ("/api/v1/notifications/{id}/read/", "POST"): [Case(
        ALICE, changes={"Notification": {"read_at"}},
        check=lambda w, d: _has(_new(d, "Notification", w.notification.pk), user_id=w.users[ALICE].pk),
    )],
    ("/api/v1/notifications/preferences/", "PUT"): [Case(
        ALICE, lambda w: {"delivery": "digest"}, adds={"NotificationPreference"},
        changes={"NotificationPreference": {"delivery", *NOW}},
        check=lambda w, d: _all_rows_of(d, "NotificationPreference", "user_id", w.users[ALICE].pk),
    )],
    # --- Rankings: one's own only, of the other side of one's own run.
    ("/api/v1/match-runs/{id}/my-ranking/", "PUT"): [
        Case(
            ALICE, lambda w: {"ordered_ids": [w.users[CAROL].pk], "never_ids": [w.users[DAVE].pk]}, adds={"MatchRanking"},
            removes={"MatchRanking"},
            check=lambda w, d: _ranked_only_by(w, d, ALICE),
        ),
        # Ranking Bob (a resident like her) or Quintessa (not in the run) is refused outright.
        Case(ALICE, lambda w: {"ordered_ids": [w.users[BOB].pk]}, status="bad"),
        Case(ALICE, lambda w: {"ordered_ids": [w.quin.pk]}, status="bad"),
    ],
    # --- A coordinator's writes: the program in the URL, never the one in the body; people of that program only.
    ("/api/v1/programs/{slug}/match-runs/", "POST"): [
        Case(
            # Research: Alice already has a career mentor, and a run leaves out who has one of its kind.
            CORA, lambda w: {"kind": "research", "mentee_ids": [w.users[ALICE].pk], "mentor_ids": [w.users[DAVE].pk]},
            adds={"MatchRun", "MatchProposal"}, changes={"MatchRun": set()},
            check=lambda w, d: _has(d["MatchRun"]["added"][0], program_id=w.im.pk, created_by_id=w.users[CORA].pk),
        ),
        Case(CORA, lambda w: {"kind": "career", "mentee_ids": [w.zeb.pk], "mentor_ids": [w.users[DAVE].pk]}, status="bad"),
    ],
    ("/api/v1/match-proposals/{id}/decide/", "POST"): [Case(
        CORA, lambda w: {"decision": "accepted"}, keep=("status",),
        changes={"MatchProposal": {"decision", "decided_by_id", "decided_at", "decision_note", *NOW}},
        check=lambda w, d: _has(_new(d, "MatchProposal", w.proposal.pk), decided_by_id=w.users[CORA].pk,
                                mentor_id=w.users[CAROL].pk, score=80.0),
    )],
    ("/api/v1/match-proposals/{id}/override/", "POST"): [
        Case(
            CORA, lambda w: {"mentor_id": w.users[DAVE].pk, "note": "Same division"}, keep=("mentor_id",),
            # explanation: the override's own fit (explanation.override_fit), scored as the run scored.
            changes={"MatchProposal": {"decision", "decided_by_id", "decided_at", "decision_note", "override_mentor_id",
                                       "explanation", *NOW}},
            check=lambda w, d: _has(_new(d, "MatchProposal", w.proposal.pk), override_mentor_id=w.users[DAVE].pk,
                                    mentor_id=w.users[CAROL].pk, score=80.0),
        ),
        Case(CORA, lambda w: {"mentor_id": w.quin.pk, "note": "Other program"}, keep=("mentor_id",), status="bad"),
    ],
    ("/api/v1/match-runs/{id}/publish/", "POST"): [Case(
        CORA, setup=lambda w: _accept_alice(w),
        changes={"MatchRun": {"status", "published_at", "published_by_id", *NOW}, "MatchProposal": {"mentorship_id"}},
        adds={"Mentorship", "Agreement"},
        check=lambda w, d: _all_rows_of(d, "Mentorship", "program_id", w.im.pk),
    )],
    ("/api/v1/match-runs/{id}/second-round/", "POST"): [Case(
        CORA, adds={"MatchRun", "MatchProposal"}, changes={"MatchRun": set()},
        check=lambda w, d: _has(d["MatchRun"]["added"][0], program_id=w.im.pk, created_by_id=w.users[CORA].pk),
        setup=lambda w: _publish(w),
    )],
    ("/api/v1/match-runs/{id}/cancel/", "POST"): [Case(
        CORA, lambda w: {"reason": "Wrong cohort"}, path_args=lambda w: f"/api/v1/match-runs/{w.ranking_run.pk}/cancel/",
        changes={"MatchRun": {"status", "finished_at", "error", *NOW}},
        check=lambda w, d: _has(_new(d, "MatchRun", w.ranking_run.pk), status="cancelled", program_id=w.im.pk),
    )],
    # Institution administration (Cora is made an administrator of im's institution first): the
    # institution and program in the URL, never in the body.
    ("/api/v1/institutions/{slug}/programs/", "POST"): [Case(
        CORA, lambda w: {"name": "Cardiology Fellowship", "specialty": w.im.specialty.slug},
        setup=lambda w: _make_admin(w, CORA), adds={"Program"}, keep=("slug",),
        check=lambda w, d: _has(_only(d, "Program"), institution_id=w.im.institution_id, name="Cardiology Fellowship"),
    )],
    ("/api/v1/programs/{slug}/settings/", "PATCH"): [Case(
        CORA, lambda w: {"name": "Internal Medicine (categorical)"}, setup=lambda w: _make_admin(w, CORA),
        changes={"Program": {"name"}}, keep=("slug",),
        check=lambda w, d: _has(_new(d, "Program", w.im.pk), slug=w.im.slug, institution_id=w.im.institution_id),
    )],
    ("/api/v1/programs/{slug}/coordinators/", "POST"): [Case(
        CORA, lambda w: {"email": w.users[DAVE].email}, setup=lambda w: _make_admin(w, CORA), adds={"Membership"},
        keep=("role",),  # a coordinator's membership: the role a tampered "role" would also name
        check=lambda w, d: _has(_only(d, "Membership"), user_id=w.users[DAVE].pk, program_id=w.im.pk, role="coordinator"),
    )],
    # The roster's bulk actions: the program in the URL; people of that program only.
    ("/api/v1/programs/{slug}/roster/invite/", "POST"): [Case(CORA, adds={"ProgramInvitation", "Notification"})],
    ("/api/v1/programs/{slug}/roster/reinvite/", "POST"): [Case(CORA)],
    ("/api/v1/programs/{slug}/roster/leave/", "POST"): [
        Case(
            CORA, lambda w: {"user_ids": [w.users[BOB].pk], "reason": "left"}, keep=("is_active",),
            removes={"Membership"}, adds={"Notification"},
            changes={"User": {"is_active"}, "MentorshipRequest": {"status", "resolved_at", "response_note", *NOW}},
            check=lambda w, d: _all_rows_of({"Membership": {"added": d.get("Membership", {}).get("removed", [])}},
                                            "Membership", "program_id", w.im.pk),
        ),
        # Someone of another program (Quintessa) is refused outright, and nobody is named.
        Case(CORA, lambda w: {"user_ids": [w.quin.pk], "reason": "left"}, status="bad"),
    ],
    # Discarding keeps the run; re-running makes a new one with the same settings and discards the old.
    ("/api/v1/match-runs/{id}/archive/", "POST"): [Case(
        CORA, lambda w: {"reason": "Out of date"},
        changes={"MatchRun": {"archived_at", "archived_by_id", *NOW}},
        check=lambda w, d: _has(_new(d, "MatchRun", w.run.pk), archived_by_id=w.users[CORA].pk, program_id=w.im.pk),
    )],
    ("/api/v1/match-runs/{id}/rerun/", "POST"): [Case(
        CORA, adds={"MatchRun", "MatchProposal"}, changes={"MatchRun": {"archived_at", "archived_by_id", *NOW}},
        check=lambda w, d: _has(d["MatchRun"]["added"][0], program_id=w.im.pk, created_by_id=w.users[CORA].pk,
                                rerun_of_id=w.run.pk),
    )],
    # The ranking window: only the run's own coordinators move it; the run in the URL is the one moved.
    ("/api/v1/match-runs/{id}/ranking-window/remind/", "POST"): [Case(
        CORA, path_args=lambda w: f"/api/v1/match-runs/{w.ranking_run.pk}/ranking-window/remind/",
        changes={"MatchRun": {"ranking_reminded_at", *NOW}}, adds={"Notification"},
        check=lambda w, d: _has(_new(d, "MatchRun", w.ranking_run.pk), program_id=w.im.pk),
    )],
    ("/api/v1/match-runs/{id}/ranking-window/extend/", "POST"): [Case(
        CORA, lambda w: {"ranking_deadline": (w.ranking_run.ranking_deadline + timedelta(days=3)).isoformat()},
        path_args=lambda w: f"/api/v1/match-runs/{w.ranking_run.pk}/ranking-window/extend/",
        changes={"MatchRun": {"ranking_deadline", *NOW}}, adds={"Notification"},
        check=lambda w, d: _has(_new(d, "MatchRun", w.ranking_run.pk), program_id=w.im.pk),
    )],
    ("/api/v1/match-runs/{id}/ranking-window/close/", "POST"): [Case(
        CORA, path_args=lambda w: f"/api/v1/match-runs/{w.ranking_run.pk}/ranking-window/close/",
        changes={"MatchRun": {"ranking_deadline", "status", "progress", "started_at", "finished_at", "attempts",
                              "claimed_by_task", "stats", "inputs", "error", *NOW}},
        adds={"MatchProposal", "Notification"},
        check=lambda w, d: _has(_new(d, "MatchRun", w.ranking_run.pk), program_id=w.im.pk),
    )],
    ("/api/v1/programs/{slug}/evaluator-roles/", "POST"): [
        Case(
            CORA, lambda w: {"user_id": w.users[CAROL].pk, "role": "ccc_member"}, keep=("role",), adds={"EvaluatorRole"},
            check=lambda w, d: _has(_only(d, "EvaluatorRole"), program_id=w.im.pk, user_id=w.users[CAROL].pk,
                                    created_by_id=w.users[CORA].pk),
        ),
        Case(CORA, lambda w: {"user_id": w.quin.pk, "role": "ccc_member"}, keep=("role",), status="bad"),
    ],
    ("/api/v1/programs/{slug}/evaluator-roles/{id}/remove/", "POST"): [Case(
        CORA, lambda w: {"reason": "Stepped down"}, removes={"EvaluatorRole"}, changes={"EvaluatorRole": {"removed_at", "removed_by_id", "removal_reason"}},
        check=lambda w, d: None,
    )],
    ("/api/v1/programs/{slug}/conflicts/", "POST"): [
        Case(
            CORA, lambda w: {"mentee_id": w.users[ALICE].pk, "mentor_id": w.users[DAVE].pk, "reason": "Spouses"},
            keep=("mentee_id", "mentor_id"), adds={"ConflictOfInterest"},
            check=lambda w, d: _has(_only(d, "ConflictOfInterest"), program_id=w.im.pk, created_by_id=w.users[CORA].pk),
        ),
        Case(CORA, lambda w: {"mentee_id": w.zeb.pk, "mentor_id": w.users[DAVE].pk, "reason": "Spouses"},
             keep=("mentee_id", "mentor_id"), status="bad"),
    ],
    ("/api/v1/programs/{slug}/conflicts/{id}/remove/", "POST"): [Case(
        CORA, lambda w: {"reason": "Recorded by mistake"}, removes={"ConflictOfInterest"},
        changes={"ConflictOfInterest": {"removed_at", "removed_by_id", "removal_reason"}}, check=lambda w, d: None,
    )],
    ("/api/v1/programs/{slug}/pairing-exceptions/", "POST"): [
        Case(
            CORA, lambda w: {"mentee_id": w.users[BOB].pk, "mentor_id": w.users[DAVE].pk, "reason": "Known"},
            keep=("mentee_id", "mentor_id"), adds={"PairingException"},
            check=lambda w, d: _has(_only(d, "PairingException"), program_id=w.im.pk, created_by_id=w.users[CORA].pk),
        ),
        Case(CORA, lambda w: {"mentee_id": w.users[BOB].pk, "mentor_id": w.quin.pk, "reason": "Known"},
             keep=("mentee_id", "mentor_id"), status="bad"),
    ],
    ("/api/v1/programs/{slug}/pairing-exceptions/{id}/remove/", "POST"): [Case(
        CORA, lambda w: {"reason": "No longer"}, removes={"PairingException"},
        changes={"PairingException": {"removed_at", "removed_by_id", "removal_reason"}}, check=lambda w, d: None,
    )],
    ("/api/v1/programs/{slug}/pairings/", "POST"): [
        Case(
            CORA, lambda w: {"mentee_id": w.users[BOB].pk, "mentor_id": w.users[DAVE].pk, "kind": "research", "reason": "Asked"},
            setup=_allow_bob_and_dave,
            keep=("mentee_id", "mentor_id", "source"), adds={"Mentorship", "Agreement"},
            changes={"MentorshipRequest": {"status", "responded_at", "mentorship_id", *NOW}},
            check=lambda w, d: _has(_only(d, "Mentorship"), program_id=w.im.pk, source="coordinator", status="active",
                                    mentee_id=w.users[BOB].pk, mentor_id=w.users[DAVE].pk),
        ),
        Case(CORA, lambda w: {"mentee_id": w.zeb.pk, "mentor_id": w.users[DAVE].pk, "kind": "research"},
             keep=("mentee_id", "mentor_id"), status="bad"),
    ],
    ("/api/v1/programs/{slug}/pairings/{id}/end/", "POST"): [Case(
        CORA, lambda w: {"reason": "Rotation abroad"},
        changes={"Mentorship": {"status", "ended_at", "ended_by_id", "end_reason", *NOW}, **CANCELS_MEETINGS},
        check=lambda w, d: _has(_new(d, "Mentorship", w.mentorship.pk), ended_by_id=w.users[CORA].pk, program_id=w.im.pk),
    )],
    ("/api/v1/programs/{slug}/pairings/{id}/reassign/", "POST"): [
        Case(
            CORA, lambda w: {"mentor_id": w.users[DAVE].pk, "reason": "Better fit"}, keep=("mentor_id", "source"),
            changes={"Mentorship": {"status", "ended_at", "ended_by_id", "end_reason", *NOW}, **CANCELS_MEETINGS}, adds={"Mentorship", "Agreement"},
            check=lambda w, d: _has(_only(d, "Mentorship"), program_id=w.im.pk, mentee_id=w.users[ALICE].pk,
                                    mentor_id=w.users[DAVE].pk, source="coordinator"),
        ),
        Case(CORA, lambda w: {"mentor_id": w.quin.pk, "reason": "Other program"}, keep=("mentor_id",), status="bad"),
    ],
}
# fmt: on


# --- Helpers for the cases' checks.


def _new(diff, table, pk):
    """The row ``pk`` of ``table`` after the request (it must have changed)."""
    changed = diff.get(table, {}).get("changed", {})
    assert pk in changed, f"{table} {pk} did not change"
    return changed[pk]["after"]


def _changed(diff, table, pk):
    return set(diff.get(table, {}).get("changed", {}).get(pk, {}).get("fields", ()))


def _has(row, **expected):
    wrong = {k: (row.get(k), v) for k, v in expected.items() if row.get(k) != v}
    assert not wrong, f"row {row.get('id')}: (got, expected) {wrong}"


def _all_rows_of(diff, table, column, value):
    entry = diff.get(table, {})
    rows = [
        *entry.get("added", []),
        *entry.get("removed", []),
        *(c["after"] for c in entry.get("changed", {}).values()),
    ]
    assert rows, f"nothing changed in {table}"
    assert all(r[column] == value for r in rows), f"{table}: a row not of {column}={value}: {rows}"


def _ranked_only_by(w, diff, role):
    assert {r["author_id"] for r in diff["MatchRanking"]["added"]} == {w.users[role].pk}
    assert {r["run_id"] for r in diff["MatchRanking"]["added"]} == {w.ranking_run.pk}
    assert MatchRanking.objects.filter(author=w.users[role]).count() == 2


def _end(w):
    from matching.services.mentorships import mentorship_end

    mentorship_end(mentorship=w.mentorship, actor=w.users[CAROL], completed=True, reason="Goals reached")


def _confirm_in_the_past(w):
    from matching.models import Meeting

    Meeting.objects.filter(pk=w.meeting.pk).update(status="confirmed", start=timezone.now() - timedelta(days=1))


def _accept_alice(w):
    # Alice–Carol is already active in the world: the run pairs them again once that one is over.
    from matching.models import Mentorship

    Mentorship.objects.filter(pk=w.mentorship.pk).update(status="completed", ended_at=timezone.now())
    MatchProposal.objects.filter(pk=w.proposal.pk).update(decision="accepted")


def _publish(w):
    from matching.match_runs.services import match_run_publish

    _accept_alice(w)
    match_run_publish(run=w.run, actor=w.users[CORA])


def _make_admin(w, role):
    InstitutionRole.objects.create(institution=w.im.institution, user=w.users[role])


# --- The machinery.


def _state():
    rows = snapshot()
    # Everything about a person that a tampered field could reach; not the password hash or last_seen.
    rows["User"] = list(
        User.objects.order_by("pk").values(
            "pk",
            "email",
            "first_name",
            "last_name",
            "time_zone",
            "is_active",
            "is_staff",
            "is_superuser",
            "date_joined",
        )
    )
    rows["Program"] = list(Program.objects.order_by("pk").values())
    return rows


def _diff(before, after):
    out = {}
    for table in before:
        b = {r.get("id", r.get("pk")): r for r in before[table]}
        a = {r.get("id", r.get("pk")): r for r in after[table]}
        changed = {
            pk: {"fields": sorted(k for k in a[pk] if a[pk][k] != b[pk][k]), "after": a[pk]}
            for pk in a.keys() & b.keys()
            if a[pk] != b[pk]
        }
        entry = {
            "added": [a[pk] for pk in sorted(a.keys() - b.keys())],
            "removed": [b[pk] for pk in sorted(b.keys() - a.keys())],
            "changed": changed,
        }
        if any(entry.values()):
            out[table] = entry
    return out


def _unexpected(diff, case):
    problems = []
    for table, entry in diff.items():
        if entry["added"] and table not in case.adds | SIDE_EFFECTS:
            problems.append(f"rows added to {table}: {entry['added']}")
        if entry["removed"] and table not in case.removes:
            problems.append(f"rows removed from {table}: {entry['removed']}")
        for pk, change in entry["changed"].items():
            extra = set(change["fields"]) - set(case.changes.get(table, ()))
            if extra:
                problems.append(f"{table} {pk} changed {sorted(extra)}")
    return problems


def _tampered_values_stored(diff, tamper):
    """Rows added or changed whose column holds a tampered value (``mentee`` checks ``mentee_id`` too)."""
    found = set()
    for table, entry in diff.items():
        if table in SIDE_EFFECTS:
            continue
        rows = [(r, set(r)) for r in entry["added"]] + [
            (c["after"], set(c["fields"])) for c in entry["changed"].values()
        ]
        for row, columns in rows:
            for key, value in tamper.items():
                for column in (key, f"{key}_id"):
                    if column in columns and column not in ("id", "pk") and row[column] == value:
                        found.add(f"{table} {row.get('id')}.{column} = {value!r}")
    return sorted(found)


def _send(world, method, url, role, data):
    # "If-Match: *" for the shared texts (World.api): a tampered field is the question here, not a version.
    return world.api(role, method, url, data)


CASE_IDS = [(path, method, i) for (path, method), cases in CASES.items() for i in range(len(cases))]


def test_every_writable_operation_has_a_case():
    writable = {key for key in api_operations() if key[1] in UNSAFE - {"DELETE"}}
    assert not writable - set(CASES), (
        f"Writable operations without a case in {__file__}: {sorted(writable - set(CASES))}"
    )
    assert not set(CASES) - writable, f"CASES names operations that no longer exist: {sorted(set(CASES) - writable)}"


@pytest.mark.parametrize("path,method,i", CASE_IDS, ids=str)
def test_privileged_fields_have_no_effect(world, path, method, i):
    case = CASES[(path, method)][i]
    if case.setup:
        case.setup(world)
    body = case.body(world)
    tamper = _tamper(world, case, body)
    url = case.path_args(world) if case.path_args else api_kwargs(path, world)
    before = _state()

    response = _send(world, method, url, case.role, {**tamper, **body})

    diff = _diff(before, _state())
    if case.status == "bad":
        assert response.status_code == 400, (
            f"{case.role} {method} {url}: {response.status_code} {response.content[:300]}"
        )
        assert not {t: e for t, e in diff.items() if t not in SIDE_EFFECTS}, f"a refused write changed {diff}"
        return
    assert 200 <= response.status_code < 300, (
        f"{case.role} {method} {url}: {response.status_code} {response.content[:300]}"
    )
    assert not _unexpected(diff, case), _unexpected(diff, case)
    assert not _tampered_values_stored(diff, tamper), _tampered_values_stored(diff, tamper)
    if case.check:
        case.check(world, diff)


def test_control_a_tampered_value_that_is_stored_is_caught(world):
    """The detector itself: a write that did store someone else's id is reported."""
    before = _state()
    MentorshipRequest.objects.filter(pk=world.request.pk).update(mentor=world.quin)
    diff = _diff(before, _state())

    assert _tampered_values_stored(diff, TAMPER(world)) == [
        f"MentorshipRequest {world.request.pk}.mentor_id = {world.quin.pk}"
    ]
    assert _unexpected(diff, Case(BOB)) == [f"MentorshipRequest {world.request.pk} changed ['mentor_id']"]


# --- Page forms: the same promise where people mostly write.

PAGE_CASES = {
    "accounts:account-edit": Case(
        ALICE,
        lambda w: {"first_name": "Alicia", "last_name": "Adams", "time_zone": w.users[ALICE].time_zone},
        changes={"User": {"first_name"}},
    ),
    "matching:request-create": Case(
        ALICE,
        lambda w: {"kind": "research", "message": "Hi"},
        adds={"MentorshipRequest"},
        check=lambda w, d: _has(
            _only(d, "MentorshipRequest"),
            mentee_id=w.users[ALICE].pk,
            mentor_id=w.users[DAVE].pk,
            program_id=w.im.pk,
            status="pending",
        ),
    ),
    "matching:checkin-create": Case(
        ALICE,
        lambda w: {"rating": "3", "comment": "Fine"},
        setup=lambda w: type(w.checkin).objects.filter(pk=w.checkin.pk).delete(),
        adds={"CheckIn"},
        check=lambda w, d: _has(_only(d, "CheckIn"), author_id=w.users[ALICE].pk, mentorship_id=w.mentorship.pk),
    ),
    "matching:action-item-create": Case(
        ALICE,
        lambda w: {"title": "Submit the abstract", "owner": w.users[ALICE].pk},
        adds={"ActionItem"},
        check=lambda w, d: _has(
            _only(d, "ActionItem"), created_by_id=w.users[ALICE].pk, mentorship_id=w.mentorship.pk, status="open"
        ),
    ),
    "matching:mentorship-end": Case(
        ALICE,
        lambda w: {"outcome": "completed", "reason": "Goals reached"},
        changes={
            "Mentorship": {"status", "ended_at", "ended_by_id", "end_reason", "rematch_requested", *NOW},
            **CANCELS_MEETINGS,
        },
        check=lambda w, d: _has(_new(d, "Mentorship", w.mentorship.pk), ended_by_id=w.users[ALICE].pk),
    ),
    "matching:resource-create": Case(
        CAROL,
        lambda w: {"title": "A paper", "url": "https://example.org/p"},
        adds={"Resource"},
        check=lambda w, d: _has(_only(d, "Resource"), shared_by_id=w.users[CAROL].pk, mentorship_id=w.mentorship.pk),
    ),
}

PAGE_KWARGS = {
    "accounts:account-edit": lambda w: {},
    "matching:request-create": lambda w: {"mentor_pk": w.users[DAVE].pk},
}


@pytest.mark.parametrize("name", sorted(PAGE_CASES), ids=str)
def test_page_form_ignores_privileged_fields(world, name):
    case = PAGE_CASES[name]
    if case.setup:
        case.setup(world)
    body = case.body(world)
    tamper = _tamper(world, case, body)
    kwargs = PAGE_KWARGS.get(name, lambda w: {"pk": w.mentorship.pk})(world)
    url = reverse(name, kwargs=kwargs)
    before = _state()

    response = world.client(case.role).post(url, {**tamper, **body})

    diff = _diff(before, _state())
    assert response.status_code == 302, f"{case.role} POST {url}: {response.status_code}"
    assert not _unexpected(diff, case), _unexpected(diff, case)
    assert not _tampered_values_stored(diff, tamper), _tampered_values_stored(diff, tamper)
    if case.check:
        case.check(world, diff)
