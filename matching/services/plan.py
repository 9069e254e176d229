"""State changes inside a mentorship: the agreement, the action plan, shared resources,
introductions to colleagues and confidential check-ins.

Each function locks the mentorship row first, so two edits from the pair (or a double
submit) queue rather than interleave; then asks the rules, checks the mentorship is
still active, validates, saves only what changed, writes the audit entry, and notifies
the other person where they wait on it. Ending a mentorship and the thank-you note
live in ``services.mentorships``.

The texts both people edit (the agreement, goals, resources) are versioned
(``core/concurrency.py``): an edit names the ``version`` it started from and, if the row
has moved on meanwhile, is refused with ``EditConflict`` rather than saved over the other
person's change. ``version=None`` (a task, a fixture) skips the comparison.
"""

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone

from accounts.models import MentorProfile, User
from audit.models import AuditEntry
from audit.services import audit_log
from core.bounds import PLANNED_DAY, format_day
from core.concurrency import check_version
from core.guards import require_perm
from core.locking import locked

from ..models import ActionItem, Agreement, CheckIn, Introduction, Kind, Mentorship, Resource
from ..notifications import notify
from .mentorships import mentorship_create

AGREEMENT_FIELDS = ("cadence", "preferred_channel", "expectations", "first_goals")
ACTION_ITEM_FIELDS = ("title", "due_date", "owner", "status")
RESOURCE_FIELDS = ("title", "url", "note")
INTRODUCTION_RESPONSES = ("meeting", "mentorship", "decline")


def _locked_mentorship(mentorship: Mentorship) -> Mentorship:
    return locked(Mentorship.objects.select_related("mentee", "mentor", "program")).get(pk=mentorship.pk)


def _require_active(mentorship: Mentorship) -> None:
    if not mentorship.is_active:
        raise ValidationError(
            f"This mentorship is {mentorship.get_status_display().lower()}; its page is kept read-only."
        )


def _stamp() -> str:
    # For notifications that may repeat (each edit is its own event).
    return f"{timezone.now():%Y%m%d%H%M%S%f}"


def _unknown_fields(fields: Iterable[str], allowed: Iterable[str]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"Unexpected fields: {', '.join(sorted(unknown))}")


def last_editor(obj: Model) -> User | None:
    """Who last changed ``obj``, from the audit trail: named to whoever finds their save
    refused because of that change."""
    entry = (
        AuditEntry.objects.filter(object_type=obj._meta.model_name or "", object_id=str(obj.pk))
        .exclude(actor=None)
        .select_related("actor")
        .first()
    )
    return entry.actor if entry else None


def _full_clean(obj: Model, fields: Iterable[str]) -> None:
    """Model validation of the given fields only (choices, lengths, URL format). A TextField's
    max_length is not one of its validators, so it is checked here: a 100,000-character note
    from a caller that skipped the form is refused, not stored."""
    fields = set(fields)
    for field in obj._meta.fields:
        value = getattr(obj, field.attname, None)
        if field.name in fields and field.max_length and isinstance(value, str) and len(value) > field.max_length:
            raise ValidationError({field.name: f"Keep it under {field.max_length:,} characters."})
    exclude = [f.name for f in obj._meta.fields if f.name not in fields]
    obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)


# --- The agreement.


@transaction.atomic
def agreement_update(*, mentorship: Mentorship, actor: User, version: int | None = None, **fields: Any) -> Agreement:
    """Either party edits the agreement: cadence, preferred channel, expectations, first goals.
    A save from an older ``version`` than the agreement's raises ``EditConflict``."""
    _unknown_fields(fields, AGREEMENT_FIELDS)
    mentorship = _locked_mentorship(mentorship)
    require_perm(actor, "matching.work_in_mentorship", mentorship)
    _require_active(mentorship)
    # A mentorship started before agreements existed (or by a fixture) gets one now.
    agreement, _ = locked(Agreement.objects).get_or_create(mentorship=mentorship)
    for name in ("preferred_channel", "expectations", "first_goals"):
        if name in fields:
            fields[name] = (fields[name] or "").strip()
    changed = {name: value for name, value in fields.items() if getattr(agreement, name) != value}
    if not changed and agreement.updated_by_id is not None:
        # Nothing of the other person's would be overwritten: no conflict to report.
        return agreement
    # A first save that keeps the defaults still agrees to them ("every month" is now agreed).
    check_version(agreement, version, editor=lambda: agreement.updated_by, actor=actor)
    before = {name: getattr(agreement, name) for name in changed}
    for name, value in changed.items():
        setattr(agreement, name, value)
    _full_clean(agreement, changed)
    agreement.updated_by = actor
    agreement.version += 1
    agreement.save(update_fields=[*changed, "updated_by", "updated_at", "version"])
    audit_log(
        actor=actor,
        action="agreement.update",
        obj=agreement,
        program=mentorship.program,
        before=before,
        after=changed,
    )
    notify(
        event="agreement.updated",
        user=mentorship.other_party(actor),
        url=mentorship.get_absolute_url(),
        title=f"{actor.full_name} updated your mentorship agreement",
        dedup_key=f"agreement:{agreement.pk}:updated:{_stamp()}",
    )
    return agreement


# --- The action plan.


def _check_owner(mentorship: Mentorship, owner: User | None) -> None:
    if owner is None or owner.pk not in (mentorship.mentee_id, mentorship.mentor_id):
        raise ValidationError({"owner": "A goal belongs to the mentee or the mentor."})


@transaction.atomic
def action_item_create(
    *, mentorship: Mentorship, actor: User, title: str, due_date: date | None = None, owner: User
) -> ActionItem:
    """Add a goal to the pair's action plan."""
    mentorship = _locked_mentorship(mentorship)
    require_perm(actor, "matching.work_in_mentorship", mentorship)
    _require_active(mentorship)
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "Say what the goal is."})
    _check_owner(mentorship, owner)
    PLANNED_DAY.check_day(due_date, zone=actor.time_zone, field="due_date")
    item = ActionItem(mentorship=mentorship, title=title, due_date=due_date, owner=owner, created_by=actor)
    _full_clean(item, ["title", "due_date"])
    item.save()
    audit_log(
        actor=actor,
        action="action_item.create",
        obj=item,
        program=mentorship.program,
        after={"title": title, "due_date": due_date.isoformat() if due_date else None, "owner": owner.pk},
    )
    if owner.pk != actor.pk:
        notify(
            event="action_item.assigned",
            user=owner,
            url=mentorship.get_absolute_url(),
            title=f"{actor.full_name} added a goal for you: {title}",
            body=f"Due {format_day(due_date)}." if due_date else "",
            dedup_key=f"action_item:{item.pk}:assigned:{owner.pk}",
        )
    return item


def _jsonable(value: object) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return getattr(value, "pk", value)


@transaction.atomic
def action_item_update(
    *, item: ActionItem, actor: User, version: int | None = None, undo: bool = False, **fields: Any
) -> ActionItem:
    """Change a goal's title, due date, owner or status. Moving to done stamps
    ``completed_at``; moving anywhere else clears it. ``undo`` marks the audit entry of a
    status put back after a mistaken click (the page's "Undo")."""
    _unknown_fields(fields, ACTION_ITEM_FIELDS)
    mentorship = _locked_mentorship(item.mentorship)
    item = locked(ActionItem.objects.select_related("owner")).get(pk=item.pk)
    require_perm(actor, "matching.work_in_mentorship", mentorship)
    _require_active(mentorship)
    if "title" in fields:
        fields["title"] = (fields["title"] or "").strip()
        if not fields["title"]:
            raise ValidationError({"title": "Say what the goal is."})
    if "owner" in fields:
        _check_owner(mentorship, fields["owner"])
    if "status" in fields and fields["status"] not in ActionItem.Status.values:
        raise ValidationError({"status": "Choose open, in progress, done or dropped."})
    changed = {name: value for name, value in fields.items() if getattr(item, name) != value}
    if not changed:
        return item
    check_version(item, version, editor=lambda: last_editor(item), actor=actor)
    # Only a new due date: a goal long overdue can still be marked done.
    if "due_date" in changed:
        PLANNED_DAY.check_day(changed["due_date"], zone=actor.time_zone, field="due_date")
    before = {name: _jsonable(getattr(item, name)) for name in changed}
    for name, value in changed.items():
        setattr(item, name, value)
    _full_clean(item, ["title", "due_date"])
    update_fields = [*changed, "version", "updated_at"]
    if "status" in changed:
        item.completed_at = timezone.now() if item.status == ActionItem.Status.DONE else None
        update_fields.append("completed_at")
    item.version += 1
    item.save(update_fields=update_fields)
    audit_log(
        actor=actor,
        action="action_item.undo" if undo else "action_item.update",
        obj=item,
        program=mentorship.program,
        before=before,
        after={name: _jsonable(value) for name, value in changed.items()},
        reason="Undone: the status was changed by mistake." if undo else "",
    )
    other = mentorship.other_party(actor)
    if changed.get("status") == ActionItem.Status.DONE:
        notify(
            event="action_item.done",
            user=other,
            url=mentorship.get_absolute_url(),
            title=f"{actor.full_name} marked a goal done: {item.title}",
            dedup_key=f"action_item:{item.pk}:done:{_stamp()}",
        )
    elif "owner" in changed and item.owner_id == other.pk:
        notify(
            event="action_item.assigned",
            user=other,
            url=mentorship.get_absolute_url(),
            title=f"{actor.full_name} handed you a goal: {item.title}",
            dedup_key=f"action_item:{item.pk}:assigned:{other.pk}:{_stamp()}",
        )
    return item


@transaction.atomic
def action_item_delete(*, item: ActionItem, actor: User, version: int | None = None) -> None:
    """Remove a goal from the plan: whoever added it or owns it (``matching.delete_action_item``).
    The audit entry keeps what it said."""
    mentorship = _locked_mentorship(item.mentorship)
    item = locked(ActionItem.objects.select_related("owner", "mentorship")).get(pk=item.pk)
    require_perm(actor, "matching.delete_action_item", item)
    _require_active(mentorship)
    check_version(item, version, editor=lambda: last_editor(item), actor=actor)
    snapshot = {
        "title": item.title,
        "due_date": _jsonable(item.due_date),
        "owner": item.owner_id,
        "status": item.status,
        "created_by": item.created_by_id,
    }
    audit_log(actor=actor, action="action_item.delete", obj=item, program=mentorship.program, before=snapshot)
    other = mentorship.other_party(actor)
    if item.owner_id == other.pk:
        notify(
            event="action_item.deleted",
            user=other,
            url=mentorship.get_absolute_url(),
            title=f"{actor.full_name} removed a goal of yours: {item.title}",
            dedup_key=f"action_item:{item.pk}:deleted",
        )
    item.delete()


# --- Resources.


def _clean_resource(title: str, url: str, note: str) -> tuple[str, str, str]:
    title, url, note = (title or "").strip(), (url or "").strip(), (note or "").strip()
    errors = {}
    if not title:
        errors["title"] = "Give the link a title."
    if not url:
        errors["url"] = "Paste the link."
    else:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            errors["url"] = "Enter a full web address starting with https:// or http://."
    if errors:
        raise ValidationError(errors)
    return title, url, note


@transaction.atomic
def resource_share(*, mentorship: Mentorship, actor: User, title: str, url: str, note: str = "") -> Resource:
    """The mentor shares a link (an article, a course, a fellowship, an opportunity)."""
    mentorship = _locked_mentorship(mentorship)
    require_perm(actor, "matching.share_resource", mentorship)
    _require_active(mentorship)
    title, url, note = _clean_resource(title, url, note)
    resource = Resource(mentorship=mentorship, shared_by=actor, title=title, url=url, note=note)
    _full_clean(resource, ["title", "url", "note"])
    resource.save()
    audit_log(
        actor=actor,
        action="resource.share",
        obj=resource,
        program=mentorship.program,
        after={"title": title, "url": url},
    )
    notify(
        event="resource.shared",
        user=mentorship.mentee,
        url=mentorship.get_absolute_url(),
        title=f"{actor.full_name} shared a resource: {title}",
        body=note,
        dedup_key=f"resource:{resource.pk}:shared",
    )
    return resource


@transaction.atomic
def resource_update(*, resource: Resource, actor: User, version: int | None = None, **fields: Any) -> Resource:
    """The person who shared a link corrects its title, address or note."""
    _unknown_fields(fields, RESOURCE_FIELDS)
    mentorship = _locked_mentorship(resource.mentorship)
    # Every change to a resource holds its mentorship's lock: this read is fresh and stays so.
    resource = Resource.objects.select_related("shared_by", "mentorship").get(pk=resource.pk)
    require_perm(actor, "matching.change_resource", resource)
    _require_active(mentorship)
    merged = {name: fields.get(name, getattr(resource, name)) for name in RESOURCE_FIELDS}
    title, url, note = _clean_resource(merged["title"], merged["url"], merged["note"])
    cleaned = {"title": title, "url": url, "note": note}
    changed = {name: value for name, value in cleaned.items() if getattr(resource, name) != value}
    if not changed:
        return resource
    check_version(resource, version, editor=lambda: last_editor(resource), actor=actor)
    before = {name: getattr(resource, name) for name in changed}
    for name, value in changed.items():
        setattr(resource, name, value)
    _full_clean(resource, changed)
    resource.version += 1
    resource.save(update_fields=[*changed, "version", "updated_at"])
    audit_log(
        actor=actor,
        action="resource.update",
        obj=resource,
        program=mentorship.program,
        before={k: v for k, v in before.items() if k != "note"},
        after={k: v for k, v in changed.items() if k != "note"},
    )
    return resource


@transaction.atomic
def resource_delete(*, resource: Resource, actor: User, version: int | None = None) -> None:
    """The person who shared a link takes it back. The audit entry keeps its title and address."""
    mentorship = _locked_mentorship(resource.mentorship)
    # Every change to a resource holds its mentorship's lock: this read is fresh and stays so.
    resource = Resource.objects.select_related("shared_by", "mentorship").get(pk=resource.pk)
    require_perm(actor, "matching.change_resource", resource)
    _require_active(mentorship)
    check_version(resource, version, editor=lambda: last_editor(resource), actor=actor)
    audit_log(
        actor=actor,
        action="resource.delete",
        obj=resource,
        program=mentorship.program,
        before={"title": resource.title, "url": resource.url},
    )
    resource.delete()


# --- Introductions.


@transaction.atomic
def introduction_create(
    *, mentorship: Mentorship, actor: User, colleague: User | None, note: str, kind: str
) -> Introduction:
    """The mentor introduces their mentee to a colleague from the directory."""
    mentorship = _locked_mentorship(mentorship)
    require_perm(actor, "matching.introduce", mentorship)
    _require_active(mentorship)
    if colleague is None or colleague.pk in (mentorship.mentee_id, mentorship.mentor_id):
        raise ValidationError({"colleague": "Introduce your mentee to someone else: a colleague in the directory."})
    if not colleague.is_active or not MentorProfile.objects.filter(user=colleague).exists():
        raise ValidationError({"colleague": f"{colleague.full_name} is not a mentor in the directory."})
    if kind not in Kind.values:
        raise ValidationError({"kind": "Choose the kind of mentorship you have in mind."})
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Write a line or two: why these two should meet."})
    if Mentorship.objects.filter(mentee=mentorship.mentee, mentor=colleague, status=Mentorship.Status.ACTIVE).exists():
        raise ValidationError({"colleague": f"{colleague.full_name} already mentors {mentorship.mentee.full_name}."})
    pending = Introduction.objects.filter(
        mentorship=mentorship, colleague=colleague, status=Introduction.Status.PENDING
    )
    if pending.exists():
        raise ValidationError(
            {"colleague": f"An introduction to {colleague.full_name} is already waiting for an answer."}
        )
    try:
        with transaction.atomic():
            introduction = Introduction.objects.create(mentorship=mentorship, colleague=colleague, note=note, kind=kind)
    except IntegrityError as exc:  # the partial unique constraint, under a race
        raise ValidationError(
            {"colleague": f"An introduction to {colleague.full_name} is already waiting for an answer."}
        ) from exc
    audit_log(
        actor=actor,
        action="introduction.create",
        obj=introduction,
        program=mentorship.program,
        after={"colleague": colleague.pk, "kind": kind},
    )
    notify(
        event="introduction.new",
        user=colleague,
        url=reverse("matching:introductions"),
        title=f"{actor.full_name} would like to introduce you to {mentorship.mentee.full_name}",
        body=note,
        dedup_key=f"introduction:{introduction.pk}:new",
    )
    notify(
        event="introduction.made",
        user=mentorship.mentee,
        url=mentorship.get_absolute_url(),
        title=f"{actor.full_name} introduced you to {colleague.full_name}",
        body=f"{colleague.full_name} will answer in MentorMatch; we'll let you know.",
        dedup_key=f"introduction:{introduction.pk}:made",
    )
    return introduction


@transaction.atomic
def introduction_respond(*, introduction: Introduction, actor: User, response: str, note: str = "") -> Introduction:
    """The colleague answers: a meeting, a mentorship of the proposed kind, or a polite no.

    "mentorship" starts one through ``mentorship_create`` (capacity and one-per-kind
    rules apply and surface as ValidationError). "meeting" records the yes and sends both
    people each other's details: a Meeting row needs a mentorship, so the first meeting
    is arranged between them directly.
    """
    found = Introduction.objects.select_related("mentorship").get(pk=introduction.pk)
    mentorship = _locked_mentorship(found.mentorship)
    introduction = locked(Introduction.objects.select_related("colleague")).get(pk=introduction.pk)
    # No rule in matching/rules.py names the introduced colleague yet; this is that rule.
    if not actor.has_perm("matching.respond_to_introduction", introduction):
        raise PermissionDenied
    if introduction.status != Introduction.Status.PENDING:
        raise ValidationError(f"You already answered this introduction ({introduction.get_status_display().lower()}).")
    if not mentorship.is_active:
        raise ValidationError("This introduction lapsed: the mentorship that made it has ended.")
    if response not in INTRODUCTION_RESPONSES:
        raise ValidationError({"response": "Choose a meeting, a mentorship, or decline."})
    note = (note or "").strip()
    mentee, mentor, colleague = mentorship.mentee, mentorship.mentor, introduction.colleague
    new_mentorship = None
    if response == "mentorship":
        new_mentorship = mentorship_create(
            mentee=mentee,
            mentor=colleague,
            program=mentorship.program,
            kind=introduction.kind,
            source=Mentorship.Source.INTRODUCTION,
            actor=actor,
        )
        status = Introduction.Status.ACCEPTED_MENTORSHIP
    elif response == "meeting":
        status = Introduction.Status.ACCEPTED_MEETING
    else:
        status = Introduction.Status.DECLINED
    before = {"status": introduction.status}
    introduction.status = status
    introduction.response_note = note
    introduction.resolved_at = timezone.now()
    introduction.save(update_fields=["status", "response_note", "resolved_at"])
    audit_log(
        actor=actor,
        action=f"introduction.{response}",
        obj=introduction,
        program=mentorship.program,
        before=before,
        after={"status": status, "mentorship": getattr(new_mentorship, "pk", None)},
        reason=note,
    )

    key = f"introduction:{introduction.pk}"
    if response == "mentorship":
        assert new_mentorship is not None  # started above
        kind = Kind(introduction.kind).label.lower()
        notify(
            event="introduction.accepted",
            user=mentee,
            url=new_mentorship.get_absolute_url(),
            title=f"{colleague.full_name} will be your {kind} mentor",
            body=note,
            dedup_key=f"{key}:accepted:mentee",
        )
        notify(
            event="introduction.accepted",
            user=mentor,
            url=mentorship.get_absolute_url(),
            title=f"{colleague.full_name} took on {mentee.full_name} as a {kind} mentee",
            body=note,
            dedup_key=f"{key}:accepted:mentor",
        )
    elif response == "meeting":
        suggestion = (
            "MentorMatch schedules meetings inside a mentorship, so please arrange this first "
            "conversation directly by e-mail."
        )
        notify(
            event="introduction.meeting",
            user=mentee,
            url=mentorship.get_absolute_url(),
            title=f"{colleague.full_name} would be glad to meet you",
            body="\n\n".join(
                filter(
                    None, [note, f"Write to {colleague.full_name} at {colleague.email} to propose a time.", suggestion]
                )
            ),
            dedup_key=f"{key}:meeting:mentee",
        )
        notify(
            event="introduction.meeting",
            user=colleague,
            url=reverse("matching:introductions"),
            title=f"You offered to meet {mentee.full_name}",
            body=f"{mentee.full_name} can be reached at {mentee.email}. {suggestion}",
            dedup_key=f"{key}:meeting:colleague",
        )
        notify(
            event="introduction.meeting",
            user=mentor,
            url=mentorship.get_absolute_url(),
            title=f"{colleague.full_name} offered to meet {mentee.full_name}",
            body=note,
            dedup_key=f"{key}:meeting:mentor",
        )
    else:
        for person, who in ((mentor, "mentor"), (mentee, "mentee")):
            notify(
                event="introduction.declined",
                user=person,
                url=mentorship.get_absolute_url(),
                title=f"{colleague.full_name} can't take this introduction on right now",
                body=note or "Thank you for thinking of them.",
                dedup_key=f"{key}:declined:{who}",
            )
    return introduction


# --- Check-ins.


def checkin_month_start(user: User | AnonymousUser, now: datetime | None = None) -> datetime:
    """The first instant of the current calendar month in ``user``'s time zone: one
    check-in per person per month counts from here."""
    now = now or timezone.now()
    try:
        tz = ZoneInfo(getattr(user, "time_zone", "") or timezone.get_current_timezone_name())
    except (KeyError, ValueError):
        tz = timezone.get_current_timezone()
    local = now.astimezone(tz)
    return datetime.combine(local.date().replace(day=1), time.min, tzinfo=tz)


@transaction.atomic
def checkin_submit(*, mentorship: Mentorship, actor: User, rating: int, comment: str = "") -> CheckIn:
    """A party's monthly check-in: 1–5 and an optional comment.

    Confidential to the program's coordinators: nobody is notified, and the audit
    entry records that a check-in happened, not what it said.
    """
    mentorship = _locked_mentorship(mentorship)
    require_perm(actor, "matching.check_in", mentorship)
    _require_active(mentorship)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError({"rating": "Choose a rating from 1 (poorly) to 5 (very well)."})
    now = timezone.now()
    # The mentorship row is locked, so a double submit sees the first check-in here.
    if CheckIn.objects.filter(
        mentorship=mentorship, author=actor, created_at__gte=checkin_month_start(actor, now)
    ).exists():
        raise ValidationError("You have already checked in this month. The next check-in opens on the 1st.")
    checkin = CheckIn(
        mentorship=mentorship, author=actor, rating=rating, comment=(comment or "").strip(), created_at=now
    )
    _full_clean(checkin, ["rating", "comment"])
    checkin.save()
    audit_log(actor=actor, action="checkin.submit", obj=checkin, program=mentorship.program)
    return checkin
