"""The Django side of scoring: profiles in, the engine's scores and reasons out.

The engine (matching/engine/) takes plain records; this module builds them from
profiles and windows, and keeps the engine free of Django.
"""

import gc
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import Subquery
from django.utils import timezone

from accounts.models import (
    AvailabilityWindow,
    CareerStage,
    Goal,
    Interest,
    Language,
    MeetingFormat,
    Membership,
    MentorProfile,
    Specialty,
)
from core.zones import current_offset_minutes

from . import engine
from .conflicts import exclusion_sets
from .models import Mentorship


class WeeklyWindow(NamedTuple):
    """An availability window's weekday and wall-clock times, as ``weekly_windows_utc`` reads them."""

    weekday: int
    start: time
    end: time


def weekly_windows_utc(windows, time_zone: str, *, today: date | None = None) -> list[tuple[int, int, int]]:
    """A person's weekly windows (local wall-clock) as UTC (weekday, start, end) minutes,
    taken on this week's dates so the offset is the one in force now (DST included)."""
    today = today or timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    result = []
    for window in windows:
        day = monday + timedelta(days=window.weekday)
        start_day, start = _utc_minutes(time_zone, day, window.start)
        _, end = _utc_minutes(time_zone, day, window.end)
        # A window that crosses midnight in UTC ends "before" it starts; the engine wraps it.
        result.append((start_day, start, end))
    return result


@lru_cache(maxsize=8192)
def _utc_minutes(time_zone: str, day: date, wall_clock: time) -> tuple[int, int]:
    """(UTC weekday, minute of the UTC day) of a wall-clock time on a day. Cached: a directory of
    thousands of mentors has only a few hundred distinct (zone, day, hour) combinations."""
    moment = datetime.combine(day, wall_clock, tzinfo=ZoneInfo(time_zone)).astimezone(ZoneInfo("UTC"))
    return moment.weekday(), moment.hour * 60 + moment.minute


def _program_specialty_id(user):
    membership = Membership.objects.filter(user=user, role=Membership.Role.RESIDENT).select_related("program").first()
    return membership.program.specialty_id if membership else None


def resident_programs(user) -> list:
    """The programs ``user`` is a resident of, by name: a resident of two programs (a combined
    Med–Peds resident, a transitional year) is recommended mentors for each."""
    return [
        m.program
        for m in Membership.objects.filter(user=user, role=Membership.Role.RESIDENT)
        .select_related("program")
        .order_by("program__name", "program_id")
    ]


MENTEE_SETS = ("subspecialty_interests", "goals", "interests", "languages", "meeting_formats")
MENTOR_SETS = ("expertise", "interests", "languages", "meeting_formats")


class Related:
    """Many-to-many ids and availability windows of many profiles, read in one query each
    (one per relation, one for all the windows): for a cohort of hundreds, building records
    from these is several times faster than ``prefetch_related``, which makes a queryset per
    profile and relation. ``mentee_record``/``mentor_record`` take it as ``related``."""

    def __init__(self, model, names, profiles=None, *, queryset=None):
        """For ``profiles`` (instances), or for the profiles of ``queryset`` without loading them.
        With a queryset, no ``IN`` list of thousands of ids (Django prepares it parameter by
        parameter): the windows are read with the queryset as a subquery, and the relations'
        through tables whole (at directory scale a third of the time of a subquery re-running
        the queryset's filters for each relation), so the sets may hold profiles beyond it."""
        if queryset is not None:
            profile_ids = None
            user_ids = Subquery(queryset.order_by().prefetch_related(None).values("user_id"))
        else:
            profile_ids, user_ids = [p.pk for p in profiles], [p.user_id for p in profiles]
        self.sets: dict[str, dict[int, set]] = {}
        for name in names:
            field = model._meta.get_field(name)
            source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
            by_profile: dict[int, set] = {}
            rows = field.remote_field.through.objects.all()
            if profile_ids is not None:
                rows = rows.filter(**{f"{source}_id__in": profile_ids})
            for owner, value in rows.values_list(f"{source}_id", f"{target}_id"):
                by_profile.setdefault(owner, set()).add(value)
            self.sets[name] = by_profile
        self.today = timezone.localdate()  # once, not once per profile: it reads the active time zone
        # Plain tuples, not model instances: a directory of thousands has tens of thousands of windows.
        self.windows: dict[int, list[WeeklyWindow]] = {}
        windows = AvailabilityWindow.objects.filter(user_id__in=user_ids).order_by("weekday", "start")
        for user_id, weekday, start, end in windows.values_list("user_id", "weekday", "start", "end"):
            self.windows.setdefault(user_id, []).append(WeeklyWindow(weekday, start, end))

    def ids(self, profile, name) -> set:
        return self.sets[name].get(profile.pk, set())

    def weekly_windows(self, user_id, time_zone: str) -> list[tuple[int, int, int]]:
        return weekly_windows_utc(self.windows.get(user_id, []), time_zone, today=self.today)


def _ids(profile, name, related) -> set:
    return related.ids(profile, name) if related else {x.pk for x in getattr(profile, name).all()}


def _windows(profile, related):
    user = profile.user
    if related:
        return related.weekly_windows(user.pk, user.time_zone)
    return weekly_windows_utc(user.availability.all(), user.time_zone)


def mentee_record(profile, *, specialty_id=None, related: Related | None = None) -> engine.MenteeRecord:
    """``specialty_id``: the resident's program specialty, when the caller knows it (a
    cohort of one program); otherwise it is looked up. ``related``: the profile's sets and
    windows read in bulk (``Related``); otherwise read through the profile."""
    user = profile.user
    return engine.MenteeRecord(
        id=user.pk,
        person_id=user.pk,
        specialty_id=specialty_id if specialty_id is not None else _program_specialty_id(user),
        subspecialty_interest_ids=_ids(profile, "subspecialty_interests", related),
        goal_ids=_ids(profile, "goals", related),
        interest_ids=_ids(profile, "interests", related),
        stage_order=profile.career_stage.order if profile.career_stage_id else None,
        language_ids=_ids(profile, "languages", related),
        format_ids=_ids(profile, "meeting_formats", related),
        weekly_windows=_windows(profile, related),
    )


def mentor_record(profile, *, related: Related | None = None) -> engine.MentorRecord:
    """From a profile of ``matching.selectors.directory.mentor_directory()`` (prefetched, annotated),
    or with ``related`` read in bulk."""
    user = profile.user
    active = getattr(profile, "active_mentee_count", None)
    if active is None:
        active = Mentorship.objects.filter(mentor=user, status=Mentorship.Status.ACTIVE).count()
    # Faculty sit past every training stage; near-peer mentors carry their own stage.
    stage = profile.career_stage.order if profile.career_stage_id else _FACULTY_STAGE
    title = _title(
        profile.academic_rank.name if profile.academic_rank_id else None,
        profile.career_stage.name if profile.career_stage_id else None,
    )
    return engine.MentorRecord(
        id=user.pk,
        person_id=user.pk,
        specialty_id=profile.specialty_id,
        subspecialty_id=profile.subspecialty_id,
        expertise_goal_ids=_ids(profile, "expertise", related),
        interest_ids=_ids(profile, "interests", related),
        stage_order=stage,
        language_ids=_ids(profile, "languages", related),
        format_ids=_ids(profile, "meeting_formats", related),
        weekly_windows=_windows(profile, related),
        capacity=profile.capacity,
        accepting=profile.accepting_mentees,
        active_count=active,
        title=title,
    )


def _title(rank_name: str | None, stage_name: str | None) -> str:
    """What a mentor is, as reasons name it: their academic rank, else their training stage
    (a near-peer), else faculty (an attending who gave no rank)."""
    return rank_name or stage_name or "Faculty"


class MentorRow(NamedTuple):
    """What scoring, ordering and naming need of one directory mentor, read as plain values:
    scoring a resident against thousands of mentors builds no model instances, and only the
    cards a page shows are loaded as profiles (``matching.selectors.directory.mentor_cards``)."""

    profile_id: int
    user_id: int
    first_name: str
    last_name: str
    time_zone: str
    specialty_id: int | None
    subspecialty_id: int | None
    stage_order: int | None
    capacity: int
    accepting: bool
    active_count: int
    rank_name: str | None
    stage_name: str | None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


# In MentorRow's order; ``active_mentee_count`` is annotated by ``mentor_directory()``.
_MENTOR_ROW_FIELDS = (
    "pk",
    "user_id",
    "user__first_name",
    "user__last_name",
    "user__time_zone",
    "specialty_id",
    "subspecialty_id",
    "career_stage__order",
    "capacity",
    "accepting_mentees",
    "active_mentee_count",
    "academic_rank__name",
    "career_stage__name",
)


def mentor_records(directory) -> tuple[list[MentorRow], list[engine.MentorRecord]]:
    """Rows and engine records, in the queryset's order, for every profile of ``directory``
    (``matching.selectors.directory.mentor_directory()``, filtered as the caller likes): one query for
    the rows, one per relation and one for the windows, whatever the number of mentors. The
    records equal ``mentor_record(profile)`` of the same profiles."""
    with _collector_paused():
        rows = [MentorRow._make(values) for values in directory.prefetch_related(None).values_list(*_MENTOR_ROW_FIELDS)]
        related = Related(MentorProfile, MENTOR_SETS, queryset=directory)
        return rows, _records_from_rows(rows, related)


@contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off for a bulk read: the rows, sets and records built
    are acyclic, so its passes over them free nothing, yet at 5,000 mentors the tens of
    thousands of new containers set off full collections that took a third of the request.
    Process-wide: a thread running meanwhile only collects later. Left off if it was off."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _records_from_rows(rows, related) -> list[engine.MentorRecord]:
    sets = [related.sets[name] for name in MENTOR_SETS]
    none: frozenset = frozenset()
    records = []
    for row in rows:
        expertise, interests, languages, formats = (by_profile.get(row.profile_id, none) for by_profile in sets)
        records.append(
            engine.MentorRecord(
                id=row.user_id,
                person_id=row.user_id,
                specialty_id=row.specialty_id,
                subspecialty_id=row.subspecialty_id,
                expertise_goal_ids=expertise,
                interest_ids=interests,
                stage_order=row.stage_order if row.stage_order is not None else _FACULTY_STAGE,
                language_ids=languages,
                format_ids=formats,
                weekly_windows=related.weekly_windows(row.user_id, row.time_zone),
                capacity=row.capacity,
                accepting=row.accepting,
                active_count=row.active_count,
                title=_title(row.rank_name, row.stage_name),
            )
        )
    return records


# Career-stage order given to an attending with no stage of their own: junior faculty (the
# CareerStage seed's order 9). The engine's career fit then favours attendings for senior
# residents a little more than for interns, for whom near-peer mentors two or three years
# ahead score highest: a modest (15 %) component, as the design intends.
_FACULTY_STAGE = 9


VOCABULARY_CACHE_KEY = "matching:vocabulary-names:2"


def vocabulary() -> engine.Vocabulary:
    """Names for the reasons ("both speak Spanish"). Vocabularies change only by migration
    or in the admin, so the names are cached for a few minutes."""

    def load():
        specialties = dict(Specialty.objects.values_list("pk", "name"))
        return engine.Vocabulary(
            specialties=specialties,
            subspecialties=specialties,
            goals=dict(Goal.objects.values_list("pk", "name")),
            interests=dict(Interest.objects.values_list("pk", "name")),
            languages=dict(Language.objects.values_list("pk", "name")),
            formats=dict(MeetingFormat.objects.values_list("pk", "name")),
            stages=dict(CareerStage.objects.values_list("order", "name")),
        )

    return cache.get_or_set(VOCABULARY_CACHE_KEY, load, timeout=300)


def scores_for(
    mentee: engine.MenteeRecord,
    mentors: list[engine.MentorRecord],
    *,
    require_shared_availability=False,
    exclusions=None,
):
    """{mentor user id: score 0–100} for one mentee, computed for all mentors at once.
    With ``require_shared_availability``, mentors with no weekly time in common get none;
    mentors in a conflict of interest with the mentee get none (``exclusions``, computed
    when not given)."""
    if not mentors:
        return {}
    cohort = engine.score_cohort(
        [mentee],
        mentors,
        exclusions=exclusions or exclusions_for(mentee, mentors),
        require_shared_availability=require_shared_availability,
    )
    return cohort.as_dict().get(mentee.id, {})


def exclusions_for(mentee: engine.MenteeRecord, mentors: list[engine.MentorRecord]) -> engine.Exclusions:
    """The conflicts of interest and evaluator roles between one mentee and these mentors.
    Read against every mentor and narrowed here: the mentee's few rows, not an ``IN`` list of
    the thousands of mentors a directory scores."""
    return exclusions_against(mentee, {m.id for m in mentors})


def exclusions_against(mentee: engine.MenteeRecord, mentor_ids: set) -> engine.Exclusions:
    """``exclusions_for`` the mentors of these ids."""
    sets = {
        kind: {pair for pair in pairs if pair[1] in mentor_ids}
        for kind, pairs in exclusion_sets([mentee.id], None).items()
    }
    # A current mentor (of any kind) is not recommended again.
    current = Mentorship.objects.filter(mentee_id=mentee.id, status=Mentorship.Status.ACTIVE)
    sets["already_paired"] = set(sets.get("already_paired", set())) | {
        pair for pair in current.values_list("mentee_id", "mentor_id") if pair[1] in mentor_ids
    }
    return engine.Exclusions(**sets)


def clock_for(user) -> engine.Clock:
    """``user``'s clock as the engine names times on it: their zone's offset now, "your time"."""
    return engine.Clock(offset_minutes=current_offset_minutes(user.time_zone), label="your time")


def explain(mentee_profile, mentor_profile, *, viewer=None, audience: str = "mentee") -> engine.PairScore:
    """One pair's score with a value, points and a reason for each component; times in
    common on ``viewer``'s clock (the mentee's by default). ``audience="coordinator"`` speaks
    about the resident ("the resident is PGY-1"): for a mentor reading a request, too."""
    return engine.explain_pair(
        mentee_record(mentee_profile),
        mentor_record(mentor_profile),
        vocabulary=vocabulary(),
        clock=clock_for(viewer or mentee_profile.user),
        audience=audience,
    )


def recommendations_for(
    mentee: engine.MenteeRecord,
    mentors: list[engine.MentorRecord],
    *,
    n: int = 5,
    exclusions=None,
    scores=None,
    clock: engine.Clock | None = None,
):
    """The best ``n`` mentors with an open spot and no conflict of interest, each with its reasons.

    ``scores``: the caller's ``scores_for`` this mentee and these mentors with the same
    exclusions (and without ``require_shared_availability``). The engine then scores again
    only the open mentors who can make the top ``n`` (ties at the cut included, as the
    engine breaks them by id): a pair's score does not depend on the other mentors."""
    if scores is not None:
        candidates = sorted((m for m in mentors if m.id in scores and m.open_spots > 0), key=lambda m: -scores[m.id])
        if len(candidates) > n:
            cut = scores[candidates[n - 1].id]
            candidates = [m for m in candidates if scores[m.id] >= cut]
        mentors = candidates
    return engine.recommend(
        mentee,
        mentors,
        n=n,
        vocabulary=vocabulary(),
        exclusions=exclusions or exclusions_for(mentee, mentors),
        clock=clock,
    )


COMPONENT_LABELS = {
    "specialty": "Specialty",
    "goals": "Goals",
    "interests": "Shared interests",
    "career": "Career stage",
    "availability": "Time in common",
    "language": "Language",
    "meeting_format": "Meeting format",
}


@dataclass(frozen=True)
class BreakdownRow:
    label: str
    reason: str
    points: float
    max_points: float


def breakdown_rows(pair: engine.PairScore) -> list[BreakdownRow]:
    """A pair's components as rows a person reads: what, why, points of how many."""
    return [
        BreakdownRow(
            COMPONENT_LABELS.get(c.name, c.name), c.reason[:1].upper() + c.reason[1:], c.points, 100 * c.weight
        )
        for c in pair.components
    ]


def breakdown_for(mentee_profile, mentor_profile, *, viewer=None, audience: str = "mentee") -> dict | None:
    """``{"score", "rows"}`` for the score-breakdown card, or None without both profiles."""
    if mentee_profile is None or mentor_profile is None:
        return None
    pair = explain(mentee_profile, mentor_profile, viewer=viewer, audience=audience)
    return {"score": pair.score, "rows": breakdown_rows(pair)}


def requester_fit(mentorship_request, viewer) -> dict | None:
    """For the mentor reading a request: how the requester fits them (``breakdown_for``'s
    ``{"score", "rows"}``), spoken about the resident, times in common on the mentor's clock.
    None for anyone else, or without both profiles."""
    if viewer.pk != mentorship_request.mentor_id:
        return None
    mentee = getattr(mentorship_request.mentee, "mentee_profile", None)
    mentor = getattr(mentorship_request.mentor, "mentor_profile", None)
    return breakdown_for(mentee, mentor, viewer=viewer, audience="coordinator")
