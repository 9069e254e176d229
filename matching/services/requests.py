from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Program, User
from audit.services import audit_log
from core.bounds import format_day
from core.locking import locked

from ..capacity import Load, full_refusal_for_mentor
from ..conflicts import block_message, pairing_block
from ..models import Kind, Mentorship, MentorshipRequest, Message
from ..notifications import notify
from ..selectors.directory import active_mentee_count
from ..selectors.requests import pair_mentorship, request_programs
from .mentorships import lock_mentor_profile, mentorship_create
from .messages import message_post

Status = MentorshipRequest.Status


def request_program(*, mentee: User, mentor: User, program: Program | None = None) -> Program:
    """The program a request (and the mentorship it may become) belongs to, chosen
    explicitly, never by the order of memberships: ``program`` when given (one of
    ``request_programs``), else the only one of them. Anything still ambiguous is a
    question for the mentee."""
    choices = request_programs(mentee=mentee, mentor=mentor)
    if program is not None:
        if not choices.filter(pk=program.pk).exists():
            raise ValidationError({"program": "Choose one of the programs you and this mentor share."})
        return program
    candidates = list(choices[:2])
    if not candidates:
        raise ValidationError("Only residents on a program's roster can request a mentor.")
    if len(candidates) == 1:
        return candidates[0]
    raise ValidationError(
        {"program": "You and this mentor are in more than one program together: choose the one this request is for."}
    )


# Locks, in ``core.locking``'s order: the resident's user row (their requests queue there,
# so the pending cap holds under double submits), the mentor's profile row, the request row.
# ``profiles.mentor_profile_update`` holds the profile lock while it turns "accepting" off and closes
# the pending requests, so a request created meanwhile cannot slip past both the flag and the
# closing; accept takes the profile before the request row, as the profile update does.


def _locked_request(request: MentorshipRequest) -> MentorshipRequest:
    # The request row only (``locked`` locks no joined rows): capacity is guarded by the
    # explicit lock on the mentor's profile, not by the mentor's user row.
    return locked(MentorshipRequest.objects.select_related("mentee", "mentor")).get(pk=request.pk)


@transaction.atomic
def request_create(
    *, mentee: User, mentor: User, kind: str, message: str, program: Program | None = None
) -> MentorshipRequest:
    """A resident asks ``mentor`` to mentor them, within ``program`` (see ``request_program``)."""
    if not mentee.has_perm("matching.request_mentor", mentor):
        raise PermissionDenied
    if kind not in Kind.values:
        raise ValidationError({"kind": "Choose a kind of mentorship."})
    if not message.strip():
        raise ValidationError({"message": "Write a short message: who you are and what you hope for."})
    locked(User.objects).get(pk=mentee.pk)
    program = request_program(mentee=mentee, mentor=mentor, program=program)
    profile = lock_mentor_profile(mentor)
    if not profile.accepting_mentees:
        raise ValidationError(f"{mentor.full_name} is not accepting new mentees right now.")
    if active_mentee_count(mentor) >= profile.capacity:
        raise ValidationError(f"{mentor.full_name} has no open spot right now.")
    pending = MentorshipRequest.objects.filter(mentee=mentee, status=Status.PENDING)
    if pending.filter(mentor=mentor).exists():
        raise ValidationError(f"You already have a pending request to {mentor.full_name}.")
    limit = settings.MENTORMATCH["MAX_PENDING_REQUESTS"]
    if pending.count() >= limit:
        raise ValidationError(
            f"You have {limit} pending requests, the most at once. Withdraw one or wait for an answer."
        )
    block = pairing_block(mentee, mentor)
    if block:
        raise ValidationError(block_message(block, mentee, mentor))
    active = Mentorship.objects.filter(mentee=mentee, status=Mentorship.Status.ACTIVE)
    if active.filter(mentor=mentor).exists():
        raise ValidationError(f"{mentor.full_name} is already your mentor.")
    if active.filter(kind=kind).exists():
        raise ValidationError({"kind": f"You already have an active {Kind(kind).label.lower()} mentor."})
    try:
        with transaction.atomic():
            request = MentorshipRequest.objects.create(
                mentee=mentee, mentor=mentor, program=program, kind=kind, message=message.strip()
            )
    except IntegrityError as exc:
        raise ValidationError(f"You already have a pending request to {mentor.full_name}.") from exc
    audit_log(actor=mentee, action="request.create", obj=request, after={"status": request.status, "kind": kind})
    notify(
        event="request.new",
        user=mentor,
        url=request.get_absolute_url(),
        title=f"{mentee.full_name} asked you to be their {Kind(kind).label.lower()} mentor",
        body=request.message,
        dedup_key=f"request:{request.pk}:new",
    )
    return request


def _resolve(request: MentorshipRequest, *, actor: User, status: str, note: str = "", action: str) -> None:
    before = {"status": request.status}
    request.status = status
    request.response_note = note.strip()
    request.resolved_at = timezone.now()
    request.save(update_fields=["status", "response_note", "resolved_at", "mentorship"])
    audit_log(
        actor=actor, action=action, obj=request, before=before, after={"status": status}, reason=request.response_note
    )


@transaction.atomic
def request_accept(*, request: MentorshipRequest, actor: User, note: str = "") -> Mentorship:
    """The mentor accepts: the mentorship starts, within capacity, or a clear error.

    The resident's row is locked first (``core.locking``: a user above profiles and requests):
    two mentors accepting the same resident's requests at once then run one after the other,
    and the second finds its request closed by the first (``requests_close_for_paired``)
    rather than left pending behind a lock the first skipped. ``no_key``: the writes that name
    the resident (a withdraw's audit entry, a notification) need not wait for it, and so
    cannot close a cycle with the request lock taken below."""
    locked(User.objects, no_key=True).get(pk=request.mentee_id)
    profile = lock_mentor_profile(request.mentor)
    request = _locked_request(request)
    if not actor.has_perm("matching.respond_to_request", request):
        raise PermissionDenied
    if not request.can_accept():
        raise ValidationError(f"This request is already {request.get_status_display().lower()}.")
    paired = pair_mentorship(request)
    if paired is not None:
        raise ValidationError(
            f"You and {request.mentee.full_name} are already paired: a {paired.get_kind_display().lower()} "
            f"mentorship since {format_day(timezone.localtime(paired.started_at, ZoneInfo(actor.time_zone)).date())}. This request can't be accepted too; "
            "decline it with a note, or write to them in that mentorship."
        )
    if actor.pk == request.mentor_id:
        # Said to the mentor in the second person; ``mentorship_create`` checks again (under the
        # same lock) and speaks of the mentor to anyone else accepting for them.
        load = Load(taken=active_mentee_count(request.mentor), capacity=profile.capacity)
        if load.is_full:
            raise ValidationError(full_refusal_for_mentor(load))
    mentorship = mentorship_create(
        mentee=request.mentee,
        mentor=request.mentor,
        program=request.program,
        kind=request.kind,
        source=Mentorship.Source.REQUEST,
        actor=actor,
    )
    request.mentorship = mentorship
    _resolve(request, actor=actor, status=Status.ACCEPTED, note=note, action="request.accept")
    if request.response_note:
        # The mentor's first words in the mentorship: its conversation's first message after
        # the request's (the note also stays on the request). Not through ``message_post``:
        # the acceptance's own notification below already quotes it.
        Message.objects.create(
            mentorship=mentorship,
            author=request.mentor,
            body=request.response_note,
            created_at=request.resolved_at or timezone.now(),  # set by _resolve: the moment it was accepted
        )
    requests_close_for_paired(pairs=[(request.mentee_id, request.kind)], actor=actor)
    notify(
        event="request.accepted",
        user=request.mentee,
        url=mentorship.get_absolute_url(),
        title=f"{request.mentor.full_name} accepted your request",
        body=request.response_note,
        dedup_key=f"request:{request.pk}:accepted",
    )
    return mentorship


@transaction.atomic
def request_decline(*, request: MentorshipRequest, actor: User, note: str = "") -> MentorshipRequest:
    request = _locked_request(request)
    if not actor.has_perm("matching.respond_to_request", request):
        raise PermissionDenied
    if not request.can_decline():
        raise ValidationError(f"This request is already {request.get_status_display().lower()}.")
    _resolve(request, actor=actor, status=Status.DECLINED, note=note, action="request.decline")
    notify(
        event="request.declined",
        user=request.mentee,
        url=request.get_absolute_url(),
        title=f"{request.mentor.full_name} can't take you on right now",
        body=request.response_note or "Other mentors are in the directory; your request count is free again.",
        dedup_key=f"request:{request.pk}:declined",
    )
    return request


@transaction.atomic
def request_withdraw(*, request: MentorshipRequest, actor: User) -> MentorshipRequest:
    request = _locked_request(request)
    if not actor.has_perm("matching.withdraw_request", request):
        raise PermissionDenied
    if not request.can_withdraw():
        raise ValidationError(f"This request is already {request.get_status_display().lower()}.")
    _resolve(request, actor=actor, status=Status.WITHDRAWN, action="request.withdraw")
    return request


# The one-question flow came before the conversation. Its calls stay (old API clients, a page
# left open) as thin wrappers: one question, one answer, kept in the request's old fields for
# those clients, and each also a message in the request's thread, which notifies.


@transaction.atomic
def request_ask_question(*, request: MentorshipRequest, actor: User, question: str) -> MentorshipRequest:
    request = _locked_request(request)
    if not actor.has_perm("matching.respond_to_request", request):
        raise PermissionDenied
    if not request.can_ask_question():
        raise ValidationError("You can ask one question while the request is pending.")
    if not question.strip():
        raise ValidationError({"question": "Write your question."})
    try:
        message = message_post(thread=request, author=actor, body=question)
    except ValidationError as exc:
        raise _renamed(exc, "question") from exc
    request.question = message.body
    request.question_asked_at = message.created_at
    request.save(update_fields=["question", "question_asked_at"])
    audit_log(actor=actor, action="request.question", obj=request)
    return request


@transaction.atomic
def request_answer(*, request: MentorshipRequest, actor: User, answer: str) -> MentorshipRequest:
    request = _locked_request(request)
    if not actor.has_perm("matching.withdraw_request", request):
        raise PermissionDenied
    if not request.can_answer():
        raise ValidationError("There is no open question to answer.")
    if not answer.strip():
        raise ValidationError({"answer": "Write your answer."})
    try:
        message = message_post(thread=request, author=actor, body=answer)
    except ValidationError as exc:
        raise _renamed(exc, "answer") from exc
    request.answer = message.body
    request.answered_at = message.created_at
    request.save(update_fields=["answer", "answered_at"])
    audit_log(actor=actor, action="request.answer", obj=request)
    return request


def _renamed(exc: ValidationError, field: str) -> ValidationError:
    """A message's ``body`` error as the old call's field."""
    if hasattr(exc, "error_dict") and "body" in exc.error_dict:
        return ValidationError({field: exc.error_dict["body"]})
    return exc


def request_close_locked(
    *, request: MentorshipRequest, actor: User, note: str, title: str = "", body: str = ""
) -> None:
    """Close ``request``, pending and already locked by the caller (who checked who may close
    it): it stops counting against the resident's pending requests; ``note`` is the reason on
    the request and in the audit entry. With ``title`` the resident is told (``body`` says
    why); without, nobody is: the resident is the one leaving, and the request leaves the
    mentor's queue quietly."""
    _resolve(request, actor=actor, status=Status.CLOSED, action="request.close", note=note)
    if not title:
        return
    notify(
        event="request.closed",
        user=request.mentee,
        url=request.get_absolute_url(),
        title=title,
        body=f"{body} It no longer counts against your pending requests; other mentors are waiting in the directory.",
        dedup_key=f"request:{request.pk}:closed",
    )


@transaction.atomic
def requests_close_for_paired(*, pairs: Iterable[tuple[int, str]], actor: User) -> int:
    """Residents who now have a mentor of a kind ((mentee id, kind) pairs: a request accepted, a
    coordinator's pairing, a published match) can have no other request of that kind accepted:
    one mentor of each kind. Their pending ones close, saying why, and leave each mentor's queue;
    the mentor is told. Rows another transaction holds are skipped, not waited for: it is acting
    on them already (``mentorship_create`` refuses a second mentor of the kind), and two accepts
    for one resident cannot deadlock here. Returns how many closed."""
    by_kind: dict[str, set[int]] = {}
    for mentee_id, kind in pairs:
        by_kind.setdefault(kind, set()).add(mentee_id)
    if not by_kind:
        return 0
    which = Q(pk__in=[])
    for kind, mentee_ids in by_kind.items():
        which |= Q(kind=kind, mentee_id__in=mentee_ids)
    pending = list(
        locked(MentorshipRequest.objects.filter(which, status=Status.PENDING), skip_locked=True)
        .select_related("mentee", "mentor")
        .order_by("pk")
    )
    for request in pending:
        label = Kind(request.kind).label.lower()
        request_close_locked(request=request, actor=actor, note=f"{request.mentee.full_name} now has a {label} mentor.")
        notify(
            event="request.closed",
            user=request.mentor,
            url=request.get_absolute_url(),
            title=f"{request.mentee.full_name} found a {label} mentor: their request to you is closed",
            body="Nothing to do: it has left your requests.",
            dedup_key=f"request:{request.pk}:closed-paired",
        )
    return len(pending)


def requests_close_for_mentor(*, mentor: User, actor: User) -> int:
    """The mentor stopped accepting mentees: resolve their pending requests, not orphan them."""
    pending = list(locked(MentorshipRequest.objects.filter(mentor=mentor, status=Status.PENDING)))
    for request in pending:
        request_close_locked(
            request=request,
            actor=actor,
            note=f"{mentor.full_name} has stopped accepting new mentees for now.",
            title=f"{mentor.full_name} is no longer accepting mentees",
            body="Your request was closed.",
        )
    return len(pending)


def requests_close_blocked(*, pairs: Iterable[tuple[int, int]], actor: User) -> int:
    """Close the pending requests between pairs that may no longer be paired (a conflict of
    interest or an evaluator role was just recorded). The resident is told only that the
    pairing is not available. Call inside the transaction that recorded the block."""
    if not pairs:
        return 0
    between = Q()
    for mentee_id, mentor_id in pairs:
        between |= Q(mentee_id=mentee_id, mentor_id=mentor_id)
    pending = list(locked(MentorshipRequest.objects.filter(between, status=Status.PENDING).select_related("mentor")))
    for request in pending:
        request_close_locked(
            request=request,
            actor=actor,
            note="This pairing is not available. Your coordinator can tell you more.",
            title=f"Your request to {request.mentor.full_name} was closed",
            body="This pairing is not available.",
        )
    return len(pending)


def requests_expire(*, now: datetime | None = None) -> int:
    """Periodic: expire requests unanswered past their deadline. Each is claimed with a
    conditional UPDATE, so two overlapping runs expire (and notify) once."""
    now = now or timezone.now()
    expired = 0
    for pk in MentorshipRequest.objects.filter(status=Status.PENDING, expires_at__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            if not MentorshipRequest.objects.filter(pk=pk, status=Status.PENDING).update(
                status=Status.EXPIRED, resolved_at=now
            ):
                continue
            request = MentorshipRequest.objects.select_related("mentee", "mentor").get(pk=pk)
            audit_log(
                actor=None,
                action="request.expire",
                obj=request,
                before={"status": "pending"},
                after={"status": "expired"},
            )
            notify(
                event="request.expired",
                user=request.mentee,
                url=request.get_absolute_url(),
                title=f"Your request to {request.mentor.full_name} expired",
                body="There was no answer in time. It no longer counts against your pending requests.",
                dedup_key=f"request:{pk}:expired",
            )
            expired += 1
    return expired


def requests_remind(*, now: datetime | None = None, before_expiry: timedelta = timedelta(days=3)) -> int:
    """Periodic: remind mentors of requests that expire within ``before_expiry``, once each."""
    now = now or timezone.now()
    reminded = 0
    due = MentorshipRequest.objects.filter(
        status=Status.PENDING, reminded_at__isnull=True, expires_at__gt=now, expires_at__lte=now + before_expiry
    ).values_list("pk", flat=True)
    for pk in due:
        with transaction.atomic():
            if not MentorshipRequest.objects.filter(pk=pk, reminded_at__isnull=True).update(reminded_at=now):
                continue
            request = MentorshipRequest.objects.select_related("mentee", "mentor").get(pk=pk)
            # The day in the mentor's zone: the task runs in the server's.
            expires = timezone.localtime(request.expires_at, ZoneInfo(request.mentor.time_zone))
            notify(
                event="request.reminder",
                user=request.mentor,
                url=request.get_absolute_url(),
                title=f"{request.mentee.full_name} is waiting for your answer",
                body=f"The request expires on {format_day(expires.date())}.",
                dedup_key=f"request:{pk}:reminder",
            )
            reminded += 1
    return reminded
