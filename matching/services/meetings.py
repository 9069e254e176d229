"""Meetings: propose 1–3 times, the other person confirms one; reschedule, cancel,
mark held, shared notes.

Every change locks the meeting (or, to propose, the mentorship), checks the guard
and who is asking, saves the changed fields, writes the audit entry and notifies
the other person once the transaction commits. Notifications that change the
calendar carry the meeting, so their e-mail carries the iTIP invitation (matching/ics.py
says which method each change sends and when SEQUENCE grows); the person who acted gets
the same version too, as a notification already read. Dedup keys include the SEQUENCE:
each reschedule is news.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEntry
from audit.services import audit_log
from core.bounds import SCHEDULED
from core.concurrency import check_version
from core.locking import locked

from ..ics import itip_method
from ..models import Meeting, MeetingSlot, Mentorship
from ..notifications import notify
from ..scheduling import format_in_zone, meeting_url

Status = Meeting.Status
MAX_SLOTS = 3


def _is_aware(when: object) -> bool:
    return isinstance(when, datetime) and timezone.is_aware(when)


def _utc_minute(when: datetime) -> datetime:
    """Raises OverflowError for a time with no UTC instant (late on 31 December 9999 west of UTC)."""
    return when.astimezone(UTC).replace(second=0, microsecond=0)


def _clean_slots(slots: Iterable[datetime] | None, *, actor: User) -> list[datetime]:
    """1–3 distinct future times within ``bounds.SCHEDULED``, in UTC to the minute, in order."""
    slots = list(slots or [])
    for slot in slots:
        if not _is_aware(slot):
            raise ValidationError({"slots": "Give each time with its time zone."})
        # Before converting: a time past the bounds may have no UTC instant at all.
        SCHEDULED.check_instant(slot, zone=actor.time_zone, field="slots")
    slots = [_utc_minute(slot) for slot in slots]
    if not slots:
        raise ValidationError({"slots": "Propose at least one time."})
    if len(slots) > MAX_SLOTS:
        raise ValidationError({"slots": f"Propose at most {MAX_SLOTS} times."})
    if len(set(slots)) != len(slots):
        raise ValidationError({"slots": "Propose different times."})
    now = timezone.now()
    past = [slot for slot in slots if slot <= now]
    if past:
        raise ValidationError({"slots": f"{format_in_zone(past[0], actor)} has already passed."})
    return sorted(slots)


def _locked(meeting: Meeting) -> Meeting:
    return locked(Meeting.objects.select_related("mentorship__mentee", "mentorship__mentor")).get(pk=meeting.pk)


def _check_party(actor: User, obj: Meeting | Mentorship) -> None:
    if not actor.has_perm("matching.work_in_mentorship", obj):
        raise PermissionDenied


def _check_active(mentorship: Mentorship) -> None:
    if not mentorship.is_active:
        raise ValidationError("This mentorship has ended, so its meetings can no longer be planned.")


def _snapshot(meeting: Meeting) -> dict[str, Any]:
    return {
        "status": meeting.status,
        "start": meeting.start.isoformat() if meeting.start else None,
        "sequence": meeting.sequence,
    }


def _audit(
    meeting: Meeting,
    *,
    actor: User,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> None:
    audit_log(
        actor=actor,
        action=action,
        obj=meeting,
        program=meeting.mentorship.program,
        before=before,
        after=after if after is not None else _snapshot(meeting),
        reason=reason,
    )


def _notify_other(
    meeting: Meeting,
    *,
    actor: User,
    event: str,
    title: str,
    body: str = "",
    invite: bool = True,
    actor_title: str | None = None,
) -> None:
    """Tell the other person. With ``invite``, and when the change has a calendar part
    (``ics.itip_method``), ``actor`` gets the same iTIP version too (both calendars must
    hold every version), as a notification already read titled ``actor_title``."""
    other = meeting.mentorship.other_party(actor)
    notify(
        event=f"meeting.{event}",
        user=other,
        url=meeting_url(meeting),
        title=title,
        body=body,
        dedup_key=f"meeting:{meeting.pk}:{event}:{meeting.sequence}",
        meeting=meeting if invite else None,
    )
    if invite and itip_method(meeting, event=f"meeting.{event}") is not None:
        notify(
            event=f"meeting.{event}",
            user=actor,
            url=meeting_url(meeting),
            title=actor_title or f"For your calendar: {title}",
            body=body,
            dedup_key=f"meeting:{meeting.pk}:{event}:{meeting.sequence}:copy",
            meeting=meeting,
            read=True,
        )


def _times_for(meeting: Meeting, slots: list[datetime], user: User) -> str:
    """The proposed times, one a line, each ending in punctuation: the body reads right in an
    e-mail, in the notifications list (lines kept) and in a digest (lines run together)."""
    times = [format_in_zone(slot, user) for slot in slots]
    lead = "One time proposed:" if len(times) == 1 else f"Pick one of {len(times)} times:"
    return "\n".join(
        [lead, ";\n".join(times) + ".", f"{meeting.duration_minutes} minutes, {meeting.get_format_display().lower()}."]
    )


def _replace_slots(meeting: Meeting, slots: list[datetime]) -> None:
    meeting.slots.all().delete()
    MeetingSlot.objects.bulk_create([MeetingSlot(meeting=meeting, start=slot) for slot in slots])


@transaction.atomic
def meeting_propose(
    *,
    mentorship: Mentorship,
    actor: User,
    slots: Iterable[datetime] | None,
    duration_minutes: int = 30,
    format: str = Meeting.Format.VIDEO,
    location: str = "",
    video_url: str = "",
) -> Meeting:
    """Propose 1–3 times to the other person in ``mentorship``."""
    mentorship = locked(Mentorship.objects.select_related("mentee", "mentor", "program")).get(pk=mentorship.pk)
    _check_party(actor, mentorship)
    _check_active(mentorship)
    slots = _clean_slots(slots, actor=actor)
    meeting = Meeting(
        mentorship=mentorship,
        proposed_by=actor,
        duration_minutes=duration_minutes,
        format=format,
        location=(location or "").strip(),
        video_url=(video_url or "").strip(),
    )
    meeting.full_clean(exclude=["uid", "start", "notes"])
    meeting.save()
    _replace_slots(meeting, slots)
    _audit(
        meeting,
        actor=actor,
        action="meeting.propose",
        after={**_snapshot(meeting), "slots": [s.isoformat() for s in slots]},
    )
    other = mentorship.other_party(actor)
    _notify_other(
        meeting,
        actor=actor,
        event="proposed",
        title=f"{actor.full_name} proposed a meeting: please pick a time",
        body=_times_for(meeting, slots, other),
        actor_title=f"You proposed a meeting to {other.full_name}",
    )
    return meeting


@transaction.atomic
def meeting_confirm(*, meeting: Meeting, actor: User, start: datetime) -> Meeting:
    """The other person (not the proposer) picks one of the proposed times."""
    meeting = _locked(meeting)
    _check_party(actor, meeting)
    if not meeting.can_confirm():
        raise ValidationError(f"This meeting is already {meeting.get_status_display().lower()}.")
    _check_active(meeting.mentorship)
    if actor.pk == meeting.proposed_by_id:
        other = meeting.mentorship.other_party(actor)
        raise ValidationError(f"Only {other.full_name} can confirm: you proposed these times.")
    if not _is_aware(start):
        raise ValidationError({"start": "Choose one of the proposed times."})
    try:
        start = _utc_minute(start)
    except OverflowError:  # no UTC instant, so none of the proposed times
        raise ValidationError({"start": "Choose one of the proposed times."}) from None
    if start not in {slot.start for slot in meeting.slots.all()}:
        raise ValidationError({"start": "Choose one of the proposed times."})
    if start <= timezone.now():
        raise ValidationError({"start": "That time has passed: propose new times instead."})
    # A time proposed before the bounds existed (year 9999) is not confirmed either.
    SCHEDULED.check_instant(start, zone=actor.time_zone, field="start")
    before = _snapshot(meeting)
    meeting.status = Status.CONFIRMED
    meeting.start = start
    # Calendars may hold the proposal (a single time by e-mail, or the first one from the
    # downloaded file) as tentative: the confirmed version must win over it.
    meeting.sequence += 1
    meeting.save(update_fields=["status", "start", "sequence", "updated_at"])
    _audit(meeting, actor=actor, action="meeting.confirm", before=before)
    proposer = meeting.mentorship.other_party(actor)
    _notify_other(
        meeting,
        actor=actor,
        event="confirmed",
        title=f"{actor.full_name} confirmed your meeting for {format_in_zone(start, proposer)}",
        # Read in the app as well as in the e-mail (which carries the invitation): no "this e-mail".
        body="Add it to your calendar from the meeting page.",
        actor_title=f"You confirmed your meeting with {proposer.full_name} for {format_in_zone(start, actor)}",
    )
    return meeting


@transaction.atomic
def meeting_reschedule(*, meeting: Meeting, actor: User, slots: Iterable[datetime] | None) -> Meeting:
    """Propose new times for a proposed or confirmed meeting: it goes back to
    proposed, ``actor`` becomes the proposer and the invitation's SEQUENCE grows."""
    meeting = _locked(meeting)
    _check_party(actor, meeting)
    if not meeting.can_reschedule():
        raise ValidationError(f"A {meeting.get_status_display().lower()} meeting cannot be rescheduled.")
    _check_active(meeting.mentorship)
    slots = _clean_slots(slots, actor=actor)
    before = _snapshot(meeting)
    meeting.status = Status.PROPOSED
    meeting.start = None
    meeting.proposed_by = actor
    meeting.sequence += 1
    # The new time earns its own reminder (the reminder scan skips reminded meetings).
    meeting.reminded_at = None
    meeting.save(update_fields=["status", "start", "proposed_by", "sequence", "reminded_at", "updated_at"])
    _replace_slots(meeting, slots)
    _audit(
        meeting,
        actor=actor,
        action="meeting.reschedule",
        before=before,
        after={**_snapshot(meeting), "slots": [s.isoformat() for s in slots]},
    )
    other = meeting.mentorship.other_party(actor)
    _notify_other(
        meeting,
        actor=actor,
        event="rescheduled",
        title=f"{actor.full_name} proposed new times for your meeting",
        body=_times_for(meeting, slots, other),
        actor_title=f"You proposed new times to {other.full_name}",
    )
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, actor: User, reason: str = "") -> Meeting:
    """Cancel a proposed or confirmed meeting; the e-mail carries the calendar CANCEL.
    Allowed after the mentorship ended: ending it cancels its future meetings."""
    meeting = _locked(meeting)
    _check_party(actor, meeting)
    return _cancel(meeting, actor=actor, reason=reason)


@transaction.atomic
def meeting_cancel_as_mentorship_ends(*, meeting: Meeting, actor: User) -> Meeting:
    """Cancel a future meeting of a mentorship that is ending. Only for
    ``mentorships.mentorship_close_locked``, whose callers checked that ``actor`` may end
    it: one of the pair, or a coordinator of its program (then both people are told)."""
    return _cancel(_locked(meeting), actor=actor, reason="The mentorship ended.")


def _cancel(meeting: Meeting, *, actor: User, reason: str | None) -> Meeting:
    if not meeting.can_cancel():
        raise ValidationError(f"This meeting is already {meeting.get_status_display().lower()}.")
    reason = (reason or "").strip()
    if len(reason) > 2000:
        raise ValidationError({"reason": "Keep the reason under 2,000 characters."})
    before = _snapshot(meeting)
    meeting.status = Status.CANCELLED
    meeting.cancelled_by = actor
    meeting.sequence += 1
    meeting.save(update_fields=["status", "cancelled_by", "sequence", "updated_at"])
    _audit(meeting, actor=actor, action="meeting.cancel", before=before, reason=reason)
    mentorship = meeting.mentorship
    if actor.pk in (mentorship.mentee_id, mentorship.mentor_id):
        other = mentorship.other_party(actor)
        when = f" of {format_in_zone(meeting.start, other)}" if meeting.start else ""
        _notify_other(
            meeting,
            actor=actor,
            event="cancelled",
            title=f"{actor.full_name} cancelled your meeting{when}",
            body=reason,
            actor_title=f"You cancelled your meeting with {other.full_name}",
        )
        return meeting
    # A coordinator: neither person cancelled it, so both get the calendar CANCEL.
    for person in (mentorship.mentee, mentorship.mentor):
        when = f" of {format_in_zone(meeting.start, person)}" if meeting.start else ""
        notify(
            event="meeting.cancelled",
            user=person,
            url=meeting_url(meeting),
            title=f"{actor.full_name} cancelled your meeting{when}",
            body=reason,
            dedup_key=f"meeting:{meeting.pk}:cancelled:{meeting.sequence}:{person.pk}",
            meeting=meeting,
        )
    return meeting


@transaction.atomic
def meeting_mark_held(*, meeting: Meeting, actor: User) -> Meeting:
    meeting = _locked(meeting)
    _check_party(actor, meeting)
    if not meeting.can_mark_held():
        if meeting.status == Status.CONFIRMED:
            raise ValidationError("You can mark the meeting as held once it has started.")
        raise ValidationError("Only a confirmed meeting can be marked as held.")
    before = _snapshot(meeting)
    meeting.status = Status.HELD
    meeting.save(update_fields=["status", "updated_at"])
    _audit(meeting, actor=actor, action="meeting.held", before=before)
    _notify_other(
        meeting,
        actor=actor,
        event="held",
        invite=False,
        title=f"{actor.full_name} marked your meeting as held: add your notes",
    )
    return meeting


def can_take_notes(meeting: Meeting) -> bool:
    """Shared notes belong to a meeting that took place: held, or confirmed and started."""
    return meeting.status == Status.HELD or (
        meeting.status == Status.CONFIRMED and meeting.start is not None and meeting.start <= timezone.now()
    )


def _last_to(meeting: Meeting, action: str) -> User | None:
    """Who last did ``action`` to ``meeting`` (the audit trail knows): named in a conflict."""
    entry = (
        AuditEntry.objects.filter(object_type="meeting", object_id=str(meeting.pk), action=action)
        .exclude(actor=None)
        .select_related("actor")
        .first()
    )
    return entry.actor if entry else None


@transaction.atomic
def meeting_update_notes(*, meeting: Meeting, actor: User, notes: str | None, version: int | None = None) -> Meeting:
    """Replace the pair's shared notes. A save started from an older ``version`` than the
    meeting's raises ``EditConflict`` (core/concurrency.py): the other person's notes are
    never overwritten unseen."""
    meeting = _locked(meeting)
    _check_party(actor, meeting)
    if not can_take_notes(meeting):
        raise ValidationError("Notes can be added once the meeting has taken place.")
    notes = (notes or "").strip()
    limit = Meeting._meta.get_field("notes").max_length
    assert limit is not None  # the field declares one
    if len(notes) > limit:
        raise ValidationError({"notes": f"Keep the notes under {limit:,} characters."})
    if notes == meeting.notes:
        return meeting
    check_version(meeting, version, editor=lambda: _last_to(meeting, "meeting.notes"), actor=actor)
    before = {"notes_length": len(meeting.notes)}
    meeting.notes = notes
    meeting.version += 1
    meeting.save(update_fields=["notes", "version", "updated_at"])
    # The notes themselves stay out of the audit trail: they are the pair's.
    _audit(meeting, actor=actor, action="meeting.notes", before=before, after={"notes_length": len(notes)})
    if notes:
        # Once per sequence: the first notes are news, later edits are not.
        _notify_other(
            meeting, actor=actor, event="notes", invite=False, title=f"{actor.full_name} shared notes from your meeting"
        )
    return meeting


@transaction.atomic
def meeting_update_details(
    *,
    meeting: Meeting,
    actor: User,
    location: str | None = None,
    video_url: str | None = None,
    version: int | None = None,
) -> Meeting:
    """Either person adds or changes the place or video link of a proposed or confirmed
    meeting (often "not given yet" when it was proposed). The invitation changes with it:
    its SEQUENCE grows and the other person gets the new version. ``None`` leaves a field as
    it is; a stale ``version`` raises ``EditConflict``."""
    meeting = _locked(meeting)
    _check_party(actor, meeting)
    if meeting.status not in (Status.PROPOSED, Status.CONFIRMED):
        raise ValidationError(
            f"This meeting is {meeting.get_status_display().lower()}: its details are kept as they were."
        )
    _check_active(meeting.mentorship)
    given = {"location": location, "video_url": video_url}
    wanted = {name: (value or "").strip() for name, value in given.items() if value is not None}
    changed = {name: value for name, value in wanted.items() if getattr(meeting, name) != value}
    if not changed:
        return meeting
    check_version(meeting, version, editor=lambda: _last_to(meeting, "meeting.details"), actor=actor)
    before = {name: getattr(meeting, name) for name in changed}
    for name, value in changed.items():
        setattr(meeting, name, value)
    if changed.get("video_url"):
        try:
            URLValidator(schemes=["http", "https"])(changed["video_url"])
        except ValidationError:
            raise ValidationError(
                {"video_url": "Enter a full web address starting with https:// or http://."}
            ) from None
    meeting.full_clean(exclude=[f.name for f in Meeting._meta.fields if f.name not in changed], validate_unique=False)
    meeting.version += 1
    meeting.sequence += 1  # the invitation's place changed: calendars take the new version
    meeting.save(update_fields=[*changed, "version", "sequence", "updated_at"])
    _audit(
        meeting, actor=actor, action="meeting.details", before=before, after={**changed, "sequence": meeting.sequence}
    )
    place = " and ".join(
        {"location": "the place", "video_url": "the video link"}[name]
        for name in ("location", "video_url")
        if name in changed
    )
    _notify_other(
        meeting,
        actor=actor,
        event="details",
        title=f"{actor.full_name} updated {place} of your meeting",
        body="\n".join(filter(None, [meeting.location, meeting.video_url])),
    )
    return meeting
