from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.models import MentorProfile, Program, User
from audit.services import audit_log, audit_log_many
from core.locking import locked

from ..conflicts import block_message, pairing_block
from ..models import Agreement, Kind, Meeting, Mentorship
from ..notifications import notify
from ..selectors.directory import active_mentee_count


def lock_mentor_profile(mentor: User) -> MentorProfile:
    """Lock the mentor's profile row: every capacity check for this mentor queues here,
    so two accepts cannot both see the last free spot (``core.locking`` has the order)."""
    profile = locked(MentorProfile.objects.filter(user=mentor)).first()
    if profile is None:
        raise ValidationError(f"{mentor.full_name} has no mentor profile.")
    return profile


@transaction.atomic
def mentorship_create(
    *,
    mentee: User,
    mentor: User,
    program: Program,
    kind: str,
    source: str,
    actor: User,
    check_accepting: bool = False,
    reason: str = "",
    extra: int = 0,
) -> Mentorship:
    """Start a mentorship within the mentor's capacity. ``reason`` (a coordinator's, when
    they pair people directly) goes into the audit entry. ``extra``: spots a coordinator
    gave this mentor beyond their capacity, for one match run (``MatchRun.extra_spots``).

    Raises ValidationError when the mentor is full, the pair has a conflict of interest
    (``matching.conflicts``), or the pair (or the mentee's mentorship of this kind) is
    already active.
    """
    if mentee.pk == mentor.pk:
        raise ValidationError("Nobody can mentor themselves.")
    block = pairing_block(mentee, mentor)
    if block:
        raise ValidationError(block_message(block, mentee, mentor))
    profile = lock_mentor_profile(mentor)
    if check_accepting and not profile.accepting_mentees:
        raise ValidationError(f"{mentor.full_name} is not accepting new mentees.")
    taken = active_mentee_count(mentor)
    if taken >= profile.capacity + max(extra, 0):
        raise ValidationError(f"{mentor.full_name} has no open spot left ({taken} of {profile.capacity} taken).")
    active = Mentorship.objects.filter(mentee=mentee, status=Mentorship.Status.ACTIVE)
    if active.filter(mentor=mentor).exists():
        raise ValidationError(f"{mentee.full_name} and {mentor.full_name} already have an active mentorship.")
    if active.filter(kind=kind).exists():
        label = Kind(kind).label.lower()
        raise ValidationError(f"{mentee.full_name} already has an active {label} mentor.")
    try:
        # A savepoint: if a concurrent insert wins the unique constraint, say so plainly.
        with transaction.atomic():
            mentorship = Mentorship.objects.create(
                mentee=mentee, mentor=mentor, program=program, kind=kind, source=source
            )
    except IntegrityError as exc:
        raise ValidationError("This mentorship was just started by someone else.") from exc
    Agreement.objects.create(mentorship=mentorship)
    audit_log(
        actor=actor, action="mentorship.start", obj=mentorship, after={"kind": kind, "source": source}, reason=reason
    )
    return mentorship


class PairRefused(ValidationError):
    """``mentorships_create_many`` refused the pair at ``index``; the message is
    ``mentorship_create``'s for that pair."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


def mentorships_create_many(
    *, pairs: list[tuple[User, User, int]], program: Program, kind: str, source: str, actor: User
) -> list[Mentorship]:
    """``mentorship_create`` for many (mentee, mentor, extra spots) pairs at once, all or none:
    the same checks, in order, pair by pair, and the same rows (mentorship, agreement, audit
    entry). A match run's publish starts a thousand: one at a time that was ~13 queries each.
    Here the mentors' profiles are locked in one query (by user id, ``core.locking``), their
    spots and the people's active mentorships read once; each mentorship is still one INSERT
    (its signals fire as a single start's do), then the agreements and entries one INSERT each.
    The caller checks kept-apart pairs first (``blocked_pairs``, in one read). Raises
    PairRefused for the first pair that does not fit; the caller's transaction then rolls back."""
    mentor_ids = sorted({mentor.pk for _mentee, mentor, _extra in pairs})
    mentee_ids = {mentee.pk for mentee, _mentor, _extra in pairs}
    profiles = {p.user_id: p for p in locked(MentorProfile.objects.filter(user_id__in=mentor_ids).order_by("user_id"))}
    active = Mentorship.objects.filter(status=Mentorship.Status.ACTIVE)
    taken = dict(
        active.filter(mentor_id__in=mentor_ids)
        .order_by()
        .values("mentor_id")
        .annotate(n=Count("pk"))
        .values_list("mentor_id", "n")
    )
    current = list(active.filter(mentee_id__in=mentee_ids).values_list("mentee_id", "mentor_id", "kind"))
    paired = {(mentee_id, mentor_id) for mentee_id, mentor_id, _kind in current}
    has_kind = {(mentee_id, k) for mentee_id, _mentor_id, k in current}
    label = Kind(kind).label.lower()
    for index, (mentee, mentor, extra) in enumerate(pairs):
        profile = profiles.get(mentor.pk)
        n = taken.get(mentor.pk, 0)
        if mentee.pk == mentor.pk:
            refusal = "Nobody can mentor themselves."
        elif profile is None:
            refusal = f"{mentor.full_name} has no mentor profile."
        elif n >= profile.capacity + max(extra, 0):
            refusal = f"{mentor.full_name} has no open spot left ({n} of {profile.capacity} taken)."
        elif (mentee.pk, mentor.pk) in paired:
            refusal = f"{mentee.full_name} and {mentor.full_name} already have an active mentorship."
        elif (mentee.pk, kind) in has_kind:
            refusal = f"{mentee.full_name} already has an active {label} mentor."
        else:
            refusal = ""
        if refusal:
            raise PairRefused(refusal, index)
        taken[mentor.pk] = n + 1
        paired.add((mentee.pk, mentor.pk))
        has_kind.add((mentee.pk, kind))
    started = []
    for index, (mentee, mentor, _extra) in enumerate(pairs):
        try:
            started.append(
                Mentorship.objects.create(mentee=mentee, mentor=mentor, program=program, kind=kind, source=source)
            )
        except IntegrityError as exc:  # the transaction is aborted: the caller's rolls back
            raise PairRefused("This mentorship was just started by someone else.", index) from exc
    Agreement.objects.bulk_create(Agreement(mentorship=m) for m in started)
    audit_log_many(actor=actor, action="mentorship.start", objs=started, after={"kind": kind, "source": source})
    return started


def _future_meetings(mentorship: Mentorship) -> QuerySet[Meeting]:
    return mentorship.meetings.filter(status__in=[Meeting.Status.PROPOSED, Meeting.Status.CONFIRMED]).exclude(
        start__lt=timezone.now()
    )


def mentorship_close_locked(
    *,
    mentorship: Mentorship,
    actor: User,
    reason: str,
    told: str | None = None,
    completed: bool = False,
    rematch: bool = False,
) -> Mentorship:
    """End (or complete) ``mentorship``, already locked and active, for ``actor``: status, who
    and why, its future meetings cancelled with their invitations, the audit entry.

    ``reason`` goes into the audit entry; ``told``, when given, is the end reason the pair
    read on the mentorship's page and through the API (a coordinator's reason is theirs to
    keep: the pair read a neutral sentence). Without it the pair read ``reason``.

    No permission check and no notification: the caller (``mentorship_end`` for the pair,
    ``pairings.pairing_end`` for a coordinator, the roster's leaving receiver) checked who
    may end it and tells whoever should hear of it.
    """
    before = {"status": mentorship.status}
    mentorship.status = Mentorship.Status.COMPLETED if completed else Mentorship.Status.ENDED
    mentorship.ended_at = timezone.now()
    mentorship.ended_by = actor
    mentorship.end_reason = reason if told is None else told
    mentorship.rematch_requested = rematch
    mentorship.save(update_fields=["status", "ended_at", "ended_by", "end_reason", "rematch_requested"])

    from .meetings import meeting_cancel_as_mentorship_ends

    for meeting in _future_meetings(mentorship):
        meeting_cancel_as_mentorship_ends(meeting=meeting, actor=actor)

    audit_log(
        actor=actor,
        action="mentorship.complete" if completed else "mentorship.end",
        obj=mentorship,
        before=before,
        after={"status": mentorship.status, "rematch_requested": mentorship.rematch_requested},
        reason=reason,
    )
    return mentorship


@transaction.atomic
def mentorship_end(
    *, mentorship: Mentorship, actor: User, reason: str, completed: bool, rematch: bool = False
) -> Mentorship:
    """End (or complete) a mentorship. Future meetings are cancelled, with their invitations."""
    mentorship = locked(Mentorship.objects).get(pk=mentorship.pk)
    if not actor.has_perm("matching.work_in_mentorship", mentorship):
        raise PermissionDenied
    if not mentorship.can_end():
        raise ValidationError("This mentorship has already ended.")
    if not reason.strip():
        raise ValidationError({"reason": "Please say briefly why the mentorship is ending."})
    mentorship_close_locked(
        mentorship=mentorship,
        actor=actor,
        reason=reason.strip(),
        completed=completed,
        rematch=rematch and actor.pk == mentorship.mentee_id,
    )
    other = mentorship.other_party(actor)
    verb = "completed" if completed else "ended"
    notify(
        event="mentorship.ended",
        user=other,
        url=mentorship.get_absolute_url(),
        title=f"{actor.full_name} {verb} your mentorship",
        body=mentorship.end_reason,
        dedup_key=f"mentorship:{mentorship.pk}:ended",
    )
    return mentorship


@transaction.atomic
def mentorship_leave_thank_you(*, mentorship: Mentorship, actor: User, note: str) -> Mentorship:
    mentorship = locked(Mentorship.objects).get(pk=mentorship.pk)
    if not actor.has_perm("matching.leave_thank_you", mentorship):
        raise PermissionDenied
    if not note.strip():
        raise ValidationError({"note": "Write a few words of thanks."})
    mentorship.thank_you_note = note.strip()
    mentorship.save(update_fields=["thank_you_note"])
    audit_log(actor=actor, action="mentorship.thank_you", obj=mentorship)
    notify(
        event="mentorship.thank_you",
        user=mentorship.mentor,
        url=mentorship.get_absolute_url(),
        title=f"{actor.full_name} left you a thank-you note",
        body=mentorship.thank_you_note,
        dedup_key=f"mentorship:{mentorship.pk}:thanks:{timezone.now():%Y%m%d%H%M%S}",
    )
    return mentorship
