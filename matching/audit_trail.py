"""The audit trail as coordinators read it: ``audit_search`` (the program's entries, filtered),
``describe_objects`` and ``describe_changes`` (what an entry is about, in words), shared by the
audit page, its CSV export and the API.

The model and its writer are the ``audit`` app, which every app logs to; this reader stays in
matching because naming an entry's object (a meeting, a proposal, a conflict) needs matching's
models.
"""

import json
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import CharField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.urls import reverse

from audit.actions import ACTION_GROUPS, ACTION_LABELS, SYSTEM, SYSTEM_NAME, action_label
from audit.models import AuditEntry
from core.bounds import format_instant
from core.search import search_terms

# --- Search.


def _people_named(word: str):
    from accounts.models import User

    # A word has no space, so it is in "first last" exactly when it is in one of the two.
    return User.objects.filter(
        Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
    ).values("pk")


def _compiled(queryset) -> RawSQL:
    """``queryset`` as SQL, compiled once: a subquery used in many places of a search is
    otherwise copied and resolved again at each, which cost more than running the search."""
    return RawSQL(*queryset.query.sql_with_params())


def _objects_about(word: str) -> Q:
    """Entries whose object involves a person matching ``word``: "Alice" finds her requests,
    mentorships, meetings, goals, proposals and conflicts."""
    people = _compiled(_people_named(word))
    condition = Q()
    for object_type, (model, paths) in _object_people().items():
        involving = Q()
        for path in paths:
            involving |= Q(**{f"{path}__in": people})
        ids = model.objects.filter(involving).annotate(_sid=Cast("pk", CharField())).values("_sid")
        condition |= Q(object_type=object_type, object_id__in=_compiled(ids))
    return condition


def _object_people():
    from accounts.models import Membership

    from .models import (
        ActionItem,
        Agreement,
        CheckIn,
        ConflictOfInterest,
        EvaluatorRole,
        Introduction,
        MatchProposal,
        Meeting,
        Mentorship,
        MentorshipRequest,
        PairingException,
        Resource,
    )

    pair = ["mentorship__mentee", "mentorship__mentor"]
    return {
        "mentorship": (Mentorship, ["mentee", "mentor"]),
        "mentorshiprequest": (MentorshipRequest, ["mentee", "mentor"]),
        "meeting": (Meeting, pair),
        "agreement": (Agreement, pair),
        "actionitem": (ActionItem, pair),
        "resource": (Resource, pair),
        "introduction": (Introduction, [*pair, "colleague"]),
        "checkin": (CheckIn, pair),
        "matchproposal": (MatchProposal, ["mentee", "mentor", "override_mentor"]),
        "conflictofinterest": (ConflictOfInterest, ["mentee", "mentor"]),
        "pairingexception": (PairingException, ["mentee", "mentor"]),
        "evaluatorrole": (EvaluatorRole, ["user"]),
        "membership": (Membership, ["user"]),
    }


def _stem(word: str) -> str:
    """``word`` without an English ending, so that "override" finds "Overrode" and
    "match_proposal.overridden", and "declined" finds "Declined" and "request.decline": the
    actions' labels and codes say one form of each verb, people type another."""
    lowered = word.lower()
    for ending in ("ing", "ed", "es", "e", "s"):
        if lowered.endswith(ending) and len(lowered) - len(ending) >= 4:
            return lowered[: -len(ending)]
    return lowered


def _word_matches(word: str) -> Q:
    stem = _stem(word)
    # "Overrode": a past tense that drops the stem's last letters as well.
    short = stem[:-2] if len(stem) >= 7 else stem
    labelled = [code for code, label in ACTION_LABELS.items() if short in label.lower()]
    condition = (
        Q(action__icontains=stem)
        | Q(action__in=labelled)
        | Q(reason__icontains=word)
        | Q(actor__first_name__icontains=word)
        | Q(actor__last_name__icontains=word)
        | Q(actor__email__icontains=word)
        | Q(object_type__icontains=word)
        | _objects_about(word)
    )
    number = word.lstrip("#")
    if number.isdigit():
        condition |= Q(object_id=number)
    return condition


def day_bounds(day: date, tz_name: str) -> datetime:
    """The first instant of ``day`` in the time zone ``tz_name``."""
    try:
        tz = zoneinfo.ZoneInfo(tz_name)
    except (KeyError, ValueError, zoneinfo.ZoneInfoNotFoundError):
        tz = UTC
    return datetime.combine(day, time.min, tzinfo=tz)


def audit_search(
    program,
    *,
    q: str = "",
    group: str = "",
    actor: str | int | None = "",
    date_from: date | None = None,
    date_to: date | None = None,
    time_zone: str = "UTC",
) -> QuerySet[AuditEntry]:
    """``program``'s entries, newest first, narrowed by free text (every word must match the
    action, its label, the reason, the actor or the people the object involves), an action
    group, an actor (a user id, or ``SYSTEM`` for automatic changes) and a date range, both
    ends included, read as days in ``time_zone``. The caller has checked that the user
    coordinates ``program``: only its entries are ever returned."""
    entries = AuditEntry.objects.filter(program=program).select_related("actor")
    for word in search_terms(q):
        entries = entries.filter(_word_matches(word))
    if group in ACTION_GROUPS:
        prefixes = Q()
        for prefix in ACTION_GROUPS[group][1]:
            prefixes |= Q(action__startswith=prefix)
        entries = entries.filter(prefixes)
    if actor == SYSTEM:
        entries = entries.filter(actor__isnull=True)
    elif actor not in (None, ""):
        entries = entries.filter(actor_id=actor)
    if date_from is not None:
        entries = entries.filter(created_at__gte=day_bounds(date_from, time_zone))
    if date_to is not None:
        entries = entries.filter(created_at__lt=day_bounds(date_to + timedelta(days=1), time_zone))
    return entries.order_by("-created_at", "-id")


def audit_actors(program):
    """The people who appear as actors in ``program``'s trail (for the actor filter)."""
    from accounts.models import User

    return User.objects.filter(
        pk__in=AuditEntry.objects.filter(program=program, actor__isnull=False).values("actor_id")
    ).order_by("last_name", "first_name", "pk")


# --- What an entry is about, in words.


@dataclass(frozen=True)
class ObjectRef:
    label: str
    url: str = ""  # empty when the object is gone or belongs to another program


def _pair(m) -> str:
    return f"{m.mentor.full_name} & {m.mentee.full_name}"


def _describers(program):
    """object_type → (queryset, program id of an object, label, url). Links are given only for
    objects of ``program``, which the viewer coordinates: exactly what its pages let them open."""
    from accounts.models import Membership, RosterImport

    from .models import (
        ActionItem,
        Agreement,
        CheckIn,
        ConflictOfInterest,
        EvaluatorRole,
        Introduction,
        MatchProposal,
        MatchRun,
        Meeting,
        Mentorship,
        MentorshipRequest,
        PairingException,
        Resource,
    )

    in_pair = ("mentorship__mentee", "mentorship__mentor")
    conflicts_url = reverse("matching:conflicts", args=[program.slug])

    def own_program(obj):
        return obj.program_id

    def via_mentorship(obj):
        return obj.mentorship.program_id

    return {
        "mentorship": (
            Mentorship.objects.select_related("mentee", "mentor"),
            own_program,
            lambda o: f"{o.get_kind_display()} mentorship: {_pair(o)}",
            lambda o: o.get_absolute_url(),
        ),
        "mentorshiprequest": (
            MentorshipRequest.objects.select_related("mentee", "mentor"),
            own_program,
            lambda o: f"Request from {o.mentee.full_name} to {o.mentor.full_name}",
            lambda o: o.get_absolute_url(),
        ),
        "meeting": (
            Meeting.objects.select_related("mentorship", *in_pair),
            via_mentorship,
            lambda o: f"Meeting: {_pair(o.mentorship)}",
            lambda o: reverse("matching:meeting-detail", args=[o.pk]),
        ),
        "agreement": (
            Agreement.objects.select_related("mentorship", *in_pair),
            via_mentorship,
            lambda o: f"Agreement: {_pair(o.mentorship)}",
            lambda o: o.mentorship.get_absolute_url() + "#agreement",
        ),
        "actionitem": (
            ActionItem.objects.select_related("mentorship", *in_pair),
            via_mentorship,
            lambda o: f"Goal “{o.title}”: {_pair(o.mentorship)}",
            lambda o: o.mentorship.get_absolute_url() + "#plan",
        ),
        "resource": (
            Resource.objects.select_related("mentorship", *in_pair),
            via_mentorship,
            lambda o: f"Resource “{o.title}”: {_pair(o.mentorship)}",
            lambda o: o.mentorship.get_absolute_url() + "#resources",
        ),
        "introduction": (
            Introduction.objects.select_related("mentorship", "colleague", "mentorship__mentee"),
            via_mentorship,
            lambda o: f"Introduction of {o.mentorship.mentee.full_name} to {o.colleague.full_name}",
            lambda o: o.mentorship.get_absolute_url(),
        ),
        # What a check-in said is confidential: the label names the pair only.
        "checkin": (
            CheckIn.objects.select_related("mentorship", *in_pair).defer("rating", "comment"),
            via_mentorship,
            lambda o: f"Check-in: {_pair(o.mentorship)}",
            lambda o: o.mentorship.get_absolute_url(),
        ),
        "matchrun": (
            MatchRun.objects.all(),
            own_program,
            lambda o: f"{o.get_kind_display()} match run #{o.pk}",
            lambda o: o.get_absolute_url(),
        ),
        "matchproposal": (
            MatchProposal.objects.select_related("run", "mentee"),
            lambda o: o.run.program_id,
            lambda o: f"Proposal for {o.mentee.full_name} (match run #{o.run_id})",
            lambda o: f"{o.run.get_absolute_url()}#proposal-{o.pk}",
        ),
        "evaluatorrole": (
            EvaluatorRole.objects.select_related("user"),
            own_program,
            lambda o: f"{o.user.full_name}: {o.get_role_display().lower()}",
            lambda o: conflicts_url,
        ),
        "conflictofinterest": (
            ConflictOfInterest.objects.select_related("mentee", "mentor"),
            own_program,
            lambda o: f"Do not pair {o.mentee.full_name} with {o.mentor.full_name}",
            lambda o: conflicts_url,
        ),
        "pairingexception": (
            PairingException.objects.select_related("mentee", "mentor"),
            own_program,
            lambda o: f"{o.mentor.full_name} may mentor {o.mentee.full_name}",
            lambda o: conflicts_url,
        ),
        "rosterimport": (
            RosterImport.objects.all(),
            own_program,
            lambda o: f"Roster file {o.filename}",
            lambda o: reverse("accounts:roster-import-preview", args=[program.slug, o.pk]),
        ),
        "membership": (
            Membership.objects.select_related("user"),
            own_program,
            lambda o: f"{o.user.full_name} ({o.get_role_display().lower()})",
            lambda o: reverse("matching:person", args=[o.user_id]),
        ),
    }


GONE_LABELS = {
    "evaluatorrole": "Evaluator role",
    "conflictofinterest": "Conflict of interest",
    "pairingexception": "Pairing exception",
    "mentorshiprequest": "Request",
    "matchrun": "Match run",
    "matchproposal": "Proposal",
    "actionitem": "Goal",
    "rosterimport": "Roster file",
    "checkin": "Check-in",
}


def describe_objects(entries, *, program) -> dict[int, ObjectRef]:
    """entry id → what it is about. One query per kind of object on the page, however many
    entries there are. An object since removed (a withdrawn conflict) is named by its id."""
    describers = _describers(program)
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        if entry.object_type in describers and entry.object_id.isdigit():
            wanted.setdefault(entry.object_type, set()).add(int(entry.object_id))
    found = {}
    for object_type, ids in wanted.items():
        queryset, program_of, label, url = describers[object_type]
        for obj in queryset.filter(pk__in=ids):
            found[(object_type, str(obj.pk))] = ObjectRef(
                label=label(obj), url=url(obj) if program_of(obj) == program.pk else ""
            )
    # The program itself (invitations sent, reminders): the trail is the program's, so its name
    # is known without a query.
    found[("program", str(program.pk))] = ObjectRef(label=program.name)
    refs = {}
    for entry in entries:
        ref = found.get((entry.object_type, entry.object_id))
        if ref is None:
            name = GONE_LABELS.get(entry.object_type, entry.object_type.replace("_", " ").capitalize())
            gone = " (removed)" if entry.object_type in describers else ""
            ref = ObjectRef(label=f"{name} #{entry.object_id}{gone}")
        refs[entry.pk] = ref
    return refs


# Keys of before/after that hold a person's id.
PERSON_KEYS = {"mentee", "mentor", "user", "colleague", "owner"}
_ISO_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")
_CODE = re.compile(r"^[a-z]+(_[a-z]+)+$")
VALUE_MAX = 80


@dataclass(frozen=True)
class Change:
    field: str
    before: str | None  # None: the field is not in "before" (a creation, or an addition)
    after: str | None  # None: not in "after" (a removal)


def person_names(entries) -> dict[int, str]:
    """Names of the people ``entries`` mention by id in before/after, in one query."""
    from accounts.models import User

    ids = set()
    for entry in entries:
        for data in (entry.before, entry.after):
            for key in PERSON_KEYS & set(data or {}):
                if isinstance(data[key], int):
                    ids.add(data[key])
    if not ids:
        return {}
    return {u.pk: u.full_name for u in User.objects.filter(pk__in=ids).only("first_name", "last_name")}


def _show(key, value, names, tz) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key in PERSON_KEYS and isinstance(value, int):
        return names.get(value, f"person #{value}")
    if key == "mentorship" and isinstance(value, int):
        return f"mentorship #{value}"
    if isinstance(value, list):
        return ", ".join(_show(key, v, names, tz) for v in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    text = str(value)
    if _ISO_INSTANT.match(text):
        try:
            # A time written before the bounds (year 9999) fits no clock east of UTC: shown as stored.
            return format_instant(datetime.fromisoformat(text), tz)
        except ValueError:
            pass
    if _CODE.match(text):
        text = text.replace("_", " ")
    return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"


def describe_changes(entry, *, names: dict[int, str], tz=UTC) -> list[Change]:
    """``entry``'s before → after, field by field, readable: people by name, instants in ``tz``.
    A field with the same value before and after (a snapshot's unchanged part) is left out."""
    before, after = entry.before or {}, entry.after or {}
    changes = []
    for key in [*before, *(k for k in after if k not in before)]:
        if key in before and key in after and before[key] == after[key]:
            continue
        changes.append(
            Change(
                field=key.replace("_", " "),
                before=_show(key, before[key], names, tz) if key in before else None,
                after=_show(key, after[key], names, tz) if key in after else None,
            )
        )
    return changes


def changes_text(changes: list[Change]) -> str:
    parts = []
    for c in changes:
        if c.before is None:
            parts.append(f"{c.field}: {c.after}")
        elif c.after is None:
            parts.append(f"{c.field}: {c.before} (removed)")
        else:
            parts.append(f"{c.field}: {c.before} → {c.after}")
    return "; ".join(parts)


# --- Export.

EXPORT_COLUMNS = [
    "When (UTC)",
    "Who",
    "Who (e-mail)",
    "Action",
    "What",
    "Object type",
    "Object id",
    "On what",
    "Change",
    "Before (JSON)",
    "After (JSON)",
    "Reason",
]


def utc_iso(when: datetime) -> str:
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def audit_export_rows(entries: QuerySet[AuditEntry], *, program, chunk_size: int = 500):
    """The CSV's header and rows (not yet escaped) for exactly ``entries``: times in UTC,
    ISO 8601; a chunk of entries is described with one query per kind of object."""
    yield list(EXPORT_COLUMNS)
    chunk = []
    for entry in entries.iterator(chunk_size=chunk_size):
        chunk.append(entry)
        if len(chunk) == chunk_size:
            yield from _export_chunk(chunk, program)
            chunk = []
    if chunk:
        yield from _export_chunk(chunk, program)


def _export_chunk(entries, program):
    refs = describe_objects(entries, program=program)
    names = person_names(entries)
    for e in entries:
        yield [
            utc_iso(e.created_at),
            e.actor.full_name if e.actor else SYSTEM_NAME,
            e.actor.email if e.actor else "",
            e.action,
            action_label(e.action),
            e.object_type,
            e.object_id,
            refs[e.pk].label,
            changes_text(describe_changes(e, names=names, tz=UTC)),
            json.dumps(e.before or {}, sort_keys=True, ensure_ascii=False),
            json.dumps(e.after or {}, sort_keys=True, ensure_ascii=False),
            e.reason,
        ]
