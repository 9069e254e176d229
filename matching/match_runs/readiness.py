"""Readiness before a run: who would be in a cohort of one kind, and what would make the
match worse for them (no goals, never signed in, no availability, no spots, left out).

``program_readiness`` reads (a fixed number of queries, whatever the cohort's size);
``readiness_remind`` is the one state change: it nudges everyone in one group, at most
once a day per person, and re-sends invitations to invitees who never signed in."""

import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo
from typing import TYPE_CHECKING, Any, TypedDict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.invitations import users_reinvite
from accounts.models import AvailabilityWindow, Membership, MenteeProfile, MentorProfile, Program, User
from accounts.selectors import awaits_first_sign_in, has_signed_in
from audit.services import audit_log
from core.bounds import format_day
from core.guards import require_perm

from ..match_cohort import LEFT_OUT_MENTORED, LEFT_OUT_NO_PROFILE, left_out_reasons
from ..models import Kind, Mentorship, Notification
from ..notifications import notify_many
from ..selectors.mentor_spots import (
    CAPACITY_ZERO,
    FULL,
    NOT_ACCEPTING,
    OVER_CAPACITY,
    MentorSpots,
    program_mentor_spots,
)
from .selectors import CapacityShortfall, capacity_shortfall

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class ResidentFlags(TypedDict):
    has_goals: bool
    has_interests: bool


NO_GOALS = "no-goals"
NEVER_SIGNED_IN = "never-signed-in"
NO_AVAILABILITY = "no-availability"
MENTORS_FULL = "mentors-full"
LEFT_OUT = "left-out"
BOTH_ROLES = "both-roles"
KEPT_APART = "kept-apart"
GROUPS = (NO_GOALS, NEVER_SIGNED_IN, NO_AVAILABILITY, MENTORS_FULL, KEPT_APART, LEFT_OUT, BOTH_ROLES)
# Groups whose people can do something about it; for the others the choice is the coordinator's.
REMINDABLE = (NO_GOALS, NEVER_SIGNED_IN, NO_AVAILABILITY, MENTORS_FULL, LEFT_OUT)

NOTE_NO_PROFILE = "no mentee profile"


@dataclass
class Person:
    user: User
    stage: str  # PGY (residents) or rank/stage (mentors); "" if unknown
    note: str = ""  # why this person is in the group, in a few words
    is_mentee: bool = True
    reason: str = ""  # a mentor without a spot: the reason (selectors.mentor_spots)


@dataclass
class Group:
    key: str
    title: str
    why: str
    people: list[Person] = field(default_factory=list)
    remind_label: str = ""  # empty: no reminder for this group

    @property
    def count(self) -> int:
        return len(self.people)

    def remind_targets(self) -> list[Person]:
        if self.key == LEFT_OUT:  # only those without a mentee profile can do something about it
            return [p for p in self.people if p.note == NOTE_NO_PROFILE]
        return self.people if self.key in REMINDABLE else []


@dataclass
class Readiness:
    kind: str
    residents: list[Any]  # every resident of the program, with has_goals / has_interests
    mentors: list  # the program's mentors not kept apart (program_mentors rows, each with ``spots``)
    mentored_by: dict[int, User]  # resident id -> their active mentor of this kind
    cohort_residents: list[Any]  # the residents a run of the kind would match
    cohort_mentors: list
    groups: dict[str, Group]

    def __iter__(self) -> Iterator[Group]:
        return iter(self.groups.values())

    @property
    def open_spots(self) -> int:
        """The open spots of the mentors a run can offer (``MentorSpots.open``, as program health counts them)."""
        return sum(p.spots.open for p in self.cohort_mentors)

    @property
    def capacity(self) -> CapacityShortfall:
        """The residents a run would match against those spots: the start form's warning, before choosing."""
        return capacity_shortfall(len(self.cohort_residents), self.open_spots)


def _stage(user: User) -> str:
    profile = getattr(user, "mentee_profile", None)
    return profile.career_stage.code if profile is not None and profile.career_stage else ""


def _mentor_stage(profile: MentorProfile) -> str:
    if profile.academic_rank:
        return profile.academic_rank.name
    return profile.career_stage.code if profile.career_stage else ""


def program_residents(program: Program) -> "QuerySet[WithAnnotations[User, ResidentFlags]]":
    """The program's residents, each with ``has_goals`` and ``has_interests``, their profile
    and PGY joined (one query)."""
    profile = OuterRef("mentee_profile__pk")
    return (
        User.objects.filter(memberships__program=program, memberships__role=Membership.Role.RESIDENT)
        .select_related("mentee_profile__career_stage")
        .annotate(
            has_goals=Exists(MenteeProfile.goals.through.objects.filter(menteeprofile_id=profile)),
            has_interests=Exists(MenteeProfile.interests.through.objects.filter(menteeprofile_id=profile)),
        )
        .order_by("last_name", "first_name", "pk")
    )


def active_mentors_of_kind(mentee_ids: Iterable[int], kind: str) -> dict[int, User]:
    """{mentee id: mentor} for the active mentorships of ``kind`` of these mentees (one query)."""
    return {
        m.mentee_id: m.mentor
        for m in Mentorship.objects.filter(
            status=Mentorship.Status.ACTIVE, kind=kind, mentee_id__in=list(mentee_ids)
        ).select_related("mentor")
    }


def program_mentors(program: Program) -> QuerySet[Any]:
    """The program's mentors with their spots as ``selectors.mentor_spots`` counts them (program
    health reads the same), each with ``has_availability`` too (one query)."""
    return program_mentor_spots(program).annotate(
        has_availability=Exists(AvailabilityWindow.objects.filter(user_id=OuterRef("user_id")))
    )


def mentored_note(kind_label: str, mentor_name: str) -> str:
    """Why a resident with a mentor of the kind is left out, as the readiness page and the
    start form say it."""
    return f"already has a {kind_label} mentor: {mentor_name}"


def _left_out_note(user: User, reason: str, mentored_by: dict[int, User], kind_label: str) -> str:
    if reason == LEFT_OUT_MENTORED:
        return mentored_note(kind_label, mentored_by[user.pk].full_name)
    if reason == LEFT_OUT_NO_PROFILE:
        return "account deactivated" if not user.is_active else NOTE_NO_PROFILE
    return ""


def _sign_in_note(user: User) -> str:
    if not user.has_usable_password():
        if user.invited_at:
            return f"invited {format_day(timezone.localdate(user.invited_at))}, has not set a password"
        return "never invited"
    return "has a password but has never signed in"


def program_readiness(program: Program, kind: str) -> Readiness:
    """What a run of ``kind`` would start from: its possible cohort and the groups that need
    attention. Four queries, whatever the number of residents and mentors."""
    kind_label = Kind(kind).label.lower()
    residents = list(program_residents(program))
    mentored_by = active_mentors_of_kind([u.pk for u in residents], kind)
    reasons = left_out_reasons([u.pk for u in residents], kind, mentored=set(mentored_by))
    mentors = list(program_mentors(program))

    left_out, cohort_residents = [], []
    for user in residents:
        note = _left_out_note(user, reasons.get(user.pk, ""), mentored_by, kind_label)
        if note:
            left_out.append(Person(user, _stage(user), note))
        else:
            cohort_residents.append(user)
    for p in mentors:
        p.spots = MentorSpots.of(p)
    kept_apart = [p for p in mentors if p.spots.kept_apart]
    mentors = [p for p in mentors if not p.spots.kept_apart]
    cohort_mentors = [p for p in mentors if p.spots.open > 0]

    no_goals = []
    for user in cohort_residents:
        missing = [name for name, has in (("goals", user.has_goals), ("interests", user.has_interests)) if not has]
        if missing:
            no_goals.append(Person(user, _stage(user), "no " + " and no ".join(missing)))
    never = [Person(u, _stage(u), _sign_in_note(u)) for u in cohort_residents if not has_signed_in(u)]
    # A near-peer in both lists is one person who has not signed in: listed (and counted, and
    # reminded) once, as the resident.
    listed = {person.user.pk for person in never}
    never += [
        Person(p.user, _mentor_stage(p), _sign_in_note(p.user), is_mentee=False)
        for p in cohort_mentors
        if not has_signed_in(p.user) and p.user.pk not in listed
    ]
    no_availability = [
        Person(p.user, _mentor_stage(p), "no weekly free time", is_mentee=False)
        for p in cohort_mentors
        if not p.has_availability
    ]
    full = [
        Person(p.user, _mentor_stage(p), p.spots.reason_note, is_mentee=False, reason=p.spots.reason)
        for p in mentors
        if p.spots.open == 0
    ]
    # Only those the start form offers on both sides: a resident whose mentor profile is full
    # or closed is not in the mentor list, so nobody has a choice to make about them.
    mentor_by_user = {p.user_id: p for p in cohort_mentors}
    both = [
        Person(
            u,
            _stage(u),
            f"resident ({_stage(u) or 'PGY unknown'}) and mentor "
            f"({mentor_by_user[u.pk].spots.open} open spot{'s' if mentor_by_user[u.pk].spots.open != 1 else ''})",
        )
        for u in cohort_residents
        if u.pk in mentor_by_user
    ]

    groups = [
        Group(
            NO_GOALS,
            "Residents without goals or interests",
            "Goals and interests are what tell mentors apart. A resident with neither scores almost the same "
            "with every mentor, so who they get is close to a coin toss.",
            no_goals,
            "Remind them to add goals and interests",
        ),
        Group(
            NEVER_SIGNED_IN,
            "People who have never signed in",
            "Ranking and match news waits in the app, unseen, until they sign in. Invitees who have not set a "
            "password are e-mailed nothing but their invitation, which the reminder sends again; the others, "
            "who have a password, are e-mailed as everyone is, and get a reminder to sign in. (The dashboard's "
            '"haven\'t taken their account" counts only those without a password, across the whole roster.)',
            never,
            "Remind them to sign in",
        ),
        Group(
            NO_AVAILABILITY,
            "Mentors without weekly free time",
            "Shared free time counts in the score; with none entered, these mentors score lower with everyone "
            "and their mentees will struggle to find a time to meet.",
            no_availability,
            "Remind them to add their free time",
        ),
        Group(
            MENTORS_FULL,
            "Mentors not accepting or with no spot left",
            "They are not offered in the start form. If they can take another mentee, they can turn on "
            "“accepting new mentees” or raise their capacity on their profile.",
            full,
            "Ask them whether they can take a mentee",
        ),
        Group(
            KEPT_APART,
            "Kept apart from every resident: not offered as mentors",
            "They evaluate this program's residents, or a do-not-pair entry keeps them from each one "
            "(Conflicts of interest), so the start form leaves them out. A pairing exception on the Conflicts "
            "page allows an evaluator one pair.",
            [
                Person(p.user, _mentor_stage(p), p.spots.reason_note, is_mentee=False, reason=p.spots.reason)
                for p in kept_apart
            ],
        ),
        Group(
            LEFT_OUT,
            f"Residents left out of a {kind_label} run",
            f"A run leaves out residents who already have an active {kind_label} mentorship, whose account is "
            "deactivated or who have no mentee profile; they are not matched even if chosen.",
            left_out,
            "Remind those without a mentee profile to create one",
        ),
        Group(
            BOTH_ROLES,
            "Both a resident and a mentor",
            "Nobody can be both a resident and a mentor in one match: choose each of these people on one side "
            "only (the start form refuses anyone chosen on both).",
            both,
        ),
    ]
    return Readiness(
        kind=kind,
        residents=residents,
        mentors=mentors,
        mentored_by=mentored_by,
        cohort_residents=cohort_residents,
        cohort_mentors=cohort_mentors,
        groups={g.key: g for g in groups},
    )


# --- The reminder.

_MESSAGES = {
    NO_GOALS: (
        "accounts:mentee-profile-edit",
        "Add your goals and interests before the {program} match",
        "{program} is about to match residents with mentors. Your profile has no {missing} yet, so the match "
        "cannot tell which mentor suits you best. It takes two minutes.",
    ),
    NEVER_SIGNED_IN: (
        "matching:dashboard",
        "Sign in to MentorMatch before the {program} match",
        "{program} is about to match residents with mentors, and you will be asked to take part. Sign in once "
        "so you can follow it.",
    ),
    NO_AVAILABILITY: (
        "accounts:availability-edit",
        "Add your weekly free time before the {program} match",
        "{program} is about to match residents with mentors. Your profile has no weekly free time, so residents "
        "cannot be matched on shared time with you.",
    ),
    MENTORS_FULL: (
        "matching:mentor-profile-edit",
        "Could you take a mentee in the {program} match?",
        "{program} is about to match residents with mentors. {situation} If you can take another mentee, "
        "turn on “accepting new mentees” or raise your capacity on your profile.",
    ),
    LEFT_OUT: (
        "accounts:mentee-profile-edit",
        "Create your mentee profile before the {program} match",
        "{program} is about to match residents with mentors. Without a mentee profile you cannot be matched.",
    ),
}


# A mentor's reason, told to them (the coordinator reads ``REASON_LABELS``).
_SITUATIONS = {
    NOT_ACCEPTING: "You are not accepting new mentees.",
    CAPACITY_ZERO: "Your capacity is 0.",
    FULL: "You have as many mentees as your capacity.",
    OVER_CAPACITY: "You have more mentees than your capacity.",
}


@dataclass
class Reminded:
    notified: int = 0
    invited: int = 0
    already_today: int = 0

    @property
    def sent(self) -> int:
        return self.notified + self.invited


def program_zone(program: Program) -> tzinfo:
    """The program's zone: "a day" of reminders is the program's day."""
    try:
        return zoneinfo.ZoneInfo(program.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


@transaction.atomic
def readiness_remind(*, program: Program, actor: User, group: str, kind: str) -> Reminded:
    """Remind everyone in ``group`` of the readiness of a ``kind`` run, once a day per person:
    a second click the same day sends nothing new. Whoever has not signed in yet can open no
    link but their invitation's, so they get their invitation again instead, whatever the
    group (at most once a day, ``users_reinvite``). The bulk path, as a publish's: one insert
    of the notifications and one task per batch of e-mails, whatever the group's size."""
    require_perm(actor, "matching.manage_match_runs", program)
    if kind not in Kind.values:
        raise ValidationError("Choose a kind of mentorship.")
    if group not in REMINDABLE:
        raise ValidationError("There is nobody to remind in this group: the choice is yours.")
    targets = program_readiness(program, kind).groups[group].remind_targets()
    zone = program_zone(program)
    today = timezone.localdate(timezone=zone)
    start_of_today = datetime.combine(today, time.min, tzinfo=zone)
    invitees = [p.user.pk for p in targets if awaits_first_sign_in(p.user)]
    invited = users_reinvite(user_ids=invitees, invited_by=actor, not_since=start_of_today)
    url_name, title, body = _MESSAGES[group]
    url = reverse(url_name)
    notes = []
    for person in targets:
        if awaits_first_sign_in(person.user):
            continue
        words = {
            "program": program.name,
            "missing": person.note.removeprefix("no "),
            "situation": _SITUATIONS.get(person.reason, ""),
        }
        notes.append(
            {
                "event": "match.readiness_reminder",
                "user": person.user,
                "url": url,
                "title": title.format(**words),
                "body": body.format(**words),
                "dedup_key": f"readiness:{program.pk}:{group}:{person.user.pk}:{today.isoformat()}",
            }
        )
    # Those reminded today already are left out before the insert (``notify_many`` falls back
    # to one by one when a key exists: a second click must stay as quick as the first).
    done = set(
        Notification.objects.filter(dedup_key__in=[n["dedup_key"] for n in notes]).values_list("dedup_key", flat=True)
    )
    created = notify_many([n for n in notes if n["dedup_key"] not in done])
    result = Reminded(
        notified=len(created),
        invited=len(invited),
        already_today=len(notes) - len(created) + len(invitees) - len(invited),
    )
    audit_log(
        actor=actor,
        action="match_run.readiness_remind",
        obj=program,
        program=program,
        after={
            "group": group,
            "kind": kind,
            "notified": result.notified,
            "invited": result.invited,
            "already_reminded_today": result.already_today,
            # Who got a fresh invitation link (the roster's re-invite writes one entry each).
            **({"invited_users": invited} if invited else {}),
        },
    )
    return result
