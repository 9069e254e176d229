"""The directory's mentors, prepared for scoring once and kept across requests.

Scoring a resident against every mentor needs every mentor's features; reading them (rows, four
vocabularies' id pairs, the windows) and building the engine's records costs most of a directory
request at thousands of mentors. ``directory_mentors()`` keeps them, with the engine's arrays
(``engine.prepare_mentors``), in the cache under a stamp that changes whenever anything they are
built from does:

- a **generation** in the cache, bumped by ``mentors_changed()`` when a mentor's profile, its
  vocabularies, a window, a mentorship, a mentor's name, zone or active flag, or a rank or stage
  changes (the receivers below, connected in ``MatchingConfig.ready``). It is bumped at once and
  again on commit: a request that rebuilt between the two read the rows as they were before the
  commit, and the second bump retires what it stored;
- a **database stamp**, one query of cheap aggregates (the profiles' count, largest id, latest
  ``updated_at``, capacity and accepting sums; the active mentorships' count and id sum; the
  windows' largest id): it sees most writes no signal reports (bulk inserts, ``QuerySet.update``
  of a profile or a mentorship) and a cache that outlived its database (a re-created test or
  benchmark database). Not seen: a roster import renaming mentors or moving their time zone in
  bulk (``bulk_update``), which shows in ranking and name order within ``TIMEOUT``;
- the week (windows are converted to UTC with this week's offsets) and the engine's format.

Writes commit in their services (no ``ATOMIC_REQUESTS``), so mentors are never prepared from rows
a later rollback takes back, which no bump would retire.

Capacity is never shown stale: the cards a page shows are read fresh (``mentor_cards``), and the
recommended mentors' open spots are checked again on the request path (the directory's cards,
``open_now`` for the API); the cached arrays may be seconds old for ranking only.
"""

import dataclasses
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from itertools import repeat

import numpy
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import CharField, IntegerField, TimeField, Value
from django.utils import timezone
from redis.exceptions import RedisError

from accounts.models import (
    AcademicRank,
    AvailabilityWindow,
    CareerStage,
    Goal,
    Language,
    MeetingFormat,
    MenteeProfile,
    MentorProfile,
    Specialty,
    User,
)

from . import engine, recommendations
from .engine import prepared as engine_prepared
from .models import Mentorship
from .recommendations import MENTEE_SETS, MENTOR_SETS, MentorRow, WeeklyWindow
from .selectors.directory import forget_filter_choices, mentor_directory

logger = logging.getLogger(__name__)

GENERATION_KEY = "matching:directory-mentors:generation"
_KEY = "matching:directory-mentors:{}"
# A backstop only: every change the app makes moves the stamp. Long enough that a quiet evening
# rebuilds rarely.
TIMEOUT = 60 * 60
_LAYOUT = 1  # bumped whenever DirectoryMentors changes shape
SPARE = 3  # recommendations explained beyond those asked for, in case spots were taken meanwhile


@dataclass(frozen=True, eq=False)
class DirectoryMentors:
    """Every mentor of ``mentor_directory()``: their rows in its order (by name) and the engine's
    prepared arrays; picklable. ``key`` is the stamp they were built under."""

    key: str
    rows: tuple[MentorRow, ...]
    prepared: engine.PreparedMentors

    @cached_property
    def profile_ids(self) -> dict[int, int]:
        """{user id: profile id}."""
        return {r.user_id: r.profile_id for r in self.rows}

    @cached_property
    def _name_places(self) -> dict[int, int]:
        """{user id: place in (last name, first name, profile id) order, as Python compares them}."""
        by_name = sorted(self.rows, key=lambda r: (r.last_name, r.first_name, r.profile_id))
        return {r.user_id: place for place, r in enumerate(by_name)}

    def by_score(self, rows: list[MentorRow], scores: dict) -> list[MentorRow]:
        """``rows`` sorted best score first (none counts as 0), then by last name, first name and
        profile id: ``sorted(rows, key=lambda r: (-(scores.get(r.user_id) or 0), r.last_name,
        r.first_name, r.profile_id))``, with the comparisons in numpy (a key tuple per mentor cost
        several milliseconds at 5,000)."""
        ids = [r.user_id for r in rows]
        # A score is a number (0.0 counts as none would); a mentor without one counts as 0.
        score = numpy.fromiter(map(scores.get, ids, repeat(0.0)), dtype=numpy.float64, count=len(ids))
        place = numpy.fromiter(map(self._name_places.__getitem__, ids), dtype=numpy.int64, count=len(ids))
        return [rows[k] for k in numpy.lexsort((place, -score)).tolist()]

    def rows_for(self, *, exclude_user_id: int, user_ids: set | None = None) -> list[MentorRow]:
        """The rows, in the directory's order, but ``exclude_user_id``'s, and only ``user_ids`` when given."""
        if user_ids is None:
            return [r for r in self.rows if r.user_id != exclude_user_id]
        return [r for r in self.rows if r.user_id in user_ids and r.user_id != exclude_user_id]


# The last prepared mentors this process used: a hit costs no unpickling of megabytes.
_memo: DirectoryMentors | None = None


def directory_mentors() -> DirectoryMentors:
    """The directory's mentors, prepared, from this process, the cache, or built (seven queries)."""
    global _memo
    generation = _generation()
    key = _KEY.format(_stamp_digest(generation))
    if generation is not None and _memo is not None and _memo.key == key:
        return _memo
    found = cache.get(key) if generation is not None else None
    if isinstance(found, DirectoryMentors) and found.key == key:
        _memo = found
        return found
    rows, records = recommendations.mentor_records(mentor_directory())
    built = DirectoryMentors(key=key, rows=tuple(rows), prepared=engine.prepare_mentors(records))
    if generation is not None:  # without a cache, nothing could tell this copy is stale
        cache.set(key, built, TIMEOUT)
        _memo = built
    return built


def _stamp_digest(generation) -> str:
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    parts = (_LAYOUT, getattr(engine_prepared, "FORMAT", None), generation, monday.isoformat(), _database_stamp())
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def _database_stamp() -> tuple:
    """One query of aggregates that move with the directory's data, whoever wrote it."""
    q = connection.ops.quote_name
    profile, window, mentorship = (m._meta.db_table for m in (MentorProfile, AvailabilityWindow, Mentorship))
    # One derived table per table (each read once), joined into one row. The vocabularies' through
    # tables and the users are left to their signals (m2m_changed, post_save): nothing writes them
    # in bulk but seeding, which creates profiles too.
    tables = [
        f"SELECT COUNT(*) AS a, MAX(id) AS b, MAX(updated_at) AS c, SUM(capacity) AS d, "
        f"SUM(CASE WHEN accepting_mentees THEN id ELSE 0 END) AS e FROM {q(profile)}",
        f"SELECT COUNT(*) AS a, SUM(id) AS b FROM {q(mentorship)} WHERE status = %s",
        # The largest id only (an index's last entry): counting every resident's windows too would
        # cost more than the rest; replacing a mentor's windows inserts new ones.
        f"SELECT MAX(id) AS a FROM {q(window)}",
    ]
    sql = "SELECT * FROM " + ", ".join(f"({select}) AS t{k}" for k, select in enumerate(tables))
    with connection.cursor() as cursor:
        cursor.execute(sql, [Mentorship.Status.ACTIVE])
        return tuple(cursor.fetchone())


def _generation():
    """The generation counter, started at a random value when missing (evicted, or never set), so
    that a restarted count never meets an entry stored under an earlier one. None without a cache."""
    try:
        found = cache.get(GENERATION_KEY)
        if found is None:
            cache.add(GENERATION_KEY, secrets.randbits(48), None)
            found = cache.get(GENERATION_KEY)
        return found
    except (RedisError, OSError):
        return None


def _bump() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # missing: any fresh value retires what was stored
        cache.set(GENERATION_KEY, secrets.randbits(48), None)
    except (RedisError, OSError):
        logger.warning("Could not mark the directory's mentors as changed", exc_info=True)


def forget() -> None:
    """Retire whatever is kept, in this process and in the cache (tests start from a clean slate)."""
    global _memo
    _memo = None
    _bump()


def mentors_changed() -> None:
    """Something the directory's mentors are built from changed: now (a reader in this transaction
    must not reuse what it built before this change), and again on commit, once per transaction
    however many changes it holds (publishing a thousand pairings)."""
    _bump()
    if not (connection.in_atomic_block and any(func is _bump for _, func, _ in connection.run_on_commit)):
        transaction.on_commit(_bump)


# --- Scoring one resident against them.


def mentee_records(profile: MenteeProfile, programs) -> list[engine.MenteeRecord]:
    """``recommendations.mentee_record(profile, specialty_id=program.specialty_id)`` for each of
    ``programs`` (the resident's, ``recommendations.resident_programs``; one record without a
    specialty when there are none), equal field by field, in one query: the profile's five sets
    and its weekly windows as one UNION ALL. ``profile`` comes with its user and career stage."""
    null_int, null_time = Value(None, output_field=IntegerField()), Value(None, output_field=TimeField())
    # The windows first: PostgreSQL types each column of a UNION by its first rows' types, and the
    # sets' NULLs (untyped) would make the weekday and times text.
    windows = AvailabilityWindow.objects.filter(user_id=profile.user_id).order_by()
    parts = [windows.values_list(Value("", output_field=CharField()), "pk", "weekday", "start", "end")]
    for name in MENTEE_SETS:
        field = MenteeProfile._meta.get_field(name)
        source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
        parts.append(
            field.remote_field.through.objects.filter(**{f"{source}_id": profile.pk})
            .order_by()
            .values_list(Value(name, output_field=CharField()), f"{target}_id", null_int, null_time, null_time)
        )
    sets: dict[str, set] = {name: set() for name in MENTEE_SETS}
    found = []
    for name, pk, weekday, start, end in parts[0].union(*parts[1:], all=True):
        if name:
            sets[name].add(pk)
        else:
            found.append((weekday, start, pk, end))
    found.sort()  # as ``user.availability.all()`` orders them: by weekday and start
    user = profile.user
    record = engine.MenteeRecord(
        id=user.pk,
        person_id=user.pk,
        specialty_id=programs[0].specialty_id if programs else None,
        subspecialty_interest_ids=sets["subspecialty_interests"],
        goal_ids=sets["goals"],
        interest_ids=sets["interests"],
        stage_order=profile.career_stage.order if profile.career_stage_id else None,
        language_ids=sets["languages"],
        format_ids=sets["meeting_formats"],
        weekly_windows=recommendations.weekly_windows_utc(
            [WeeklyWindow(weekday, start, end) for weekday, start, _pk, end in found], user.time_zone
        ),
    )
    return [record] + [dataclasses.replace(record, specialty_id=p.specialty_id) for p in programs[1:]]


def exclusions(mentee: engine.MenteeRecord, mentors: DirectoryMentors) -> engine.Exclusions:
    return recommendations.exclusions_against(mentee, set(mentors.prepared.mentor_ids))


def scores(
    mentee: engine.MenteeRecord, mentors: DirectoryMentors, *, exclusions, require_shared_availability=False
) -> dict:
    """What ``recommendations.scores_for`` gives over every directory mentor, in one vectorised call."""
    return engine.scores_prepared(
        mentee, mentors.prepared, exclusions=exclusions, require_shared_availability=require_shared_availability
    )


def recommend(
    mentee: engine.MenteeRecord, mentors: DirectoryMentors, *, n: int, exclusions, clock=None
) -> list[engine.PairScore]:
    """The best mentors with an open spot and something in common with the mentee (the specialty, a
    goal or an interest: a stranger who merely shares a language is no recommendation), as the
    arrays last saw them, best first, with reasons:
    ``n`` and three more, for the caller to keep the first ``n`` whose spot is still open now (read
    fresh: ``open_now``, or the page's cards). The arrays are stale only while a change commits."""
    return engine.recommend_prepared(
        mentee,
        mentors.prepared,
        n=n + SPARE,
        vocabulary=recommendations.vocabulary(),
        exclusions=exclusions,
        require_common_ground=True,
        clock=clock,
    )


def open_now(mentor_ids) -> dict[int, tuple[str, str]]:
    """{user id: (first name, last name)} of those of ``mentor_ids`` in the directory now, accepting
    and with a spot free: one query, read fresh on the request path."""
    return {
        user_id: (first, last)
        for user_id, first, last in mentor_directory()
        .filter(user_id__in=list(mentor_ids), accepting_mentees=True, open_spots__gt=0)
        .order_by()
        .prefetch_related(None)
        .values_list("user_id", "user__first_name", "user__last_name")
    }


# --- What moves the generation.


_USER_FIELDS = {"first_name", "last_name", "time_zone", "is_active"}
_MENTORSHIP_FIELDS = {"status", "mentor", "mentor_id"}


def _is_mentor(user_id) -> bool:
    return MentorProfile.objects.filter(user_id=user_id).exists()


def profile_changed(sender, **kwargs):
    mentors_changed()


def window_changed(sender, instance, **kwargs):
    # Residents edit their windows too; only a mentor's moves the directory.
    if _is_mentor(instance.user_id):
        mentors_changed()


def user_changed(sender, instance, update_fields=None, created=False, **kwargs):
    if created or (update_fields is not None and not (set(update_fields) & _USER_FIELDS)):
        return  # a new user has no mentor profile yet; a login stamps last_login only
    if _is_mentor(instance.pk):
        mentors_changed()


def mentorship_changed(sender, update_fields=None, **kwargs):
    if update_fields is not None and not (set(update_fields) & _MENTORSHIP_FIELDS):
        return  # a check-in prompt, a thank-you note: no spot moves
    mentors_changed()


def relation_changed(sender, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        mentors_changed()


def anything_changed(sender, **kwargs):
    mentors_changed()


def vocabulary_changed(sender, **kwargs):
    # The directory's filter lists them: now, and again on commit (a request between the two
    # could have cached the lists as they were).
    forget_filter_choices()
    transaction.on_commit(forget_filter_choices)


def connect() -> None:
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from accounts.leaving import members_leaving

    uid = "matching.directory_mentors."
    for signal in (post_save, post_delete):
        name = signal is post_save and "save" or "delete"
        signal.connect(profile_changed, sender=MentorProfile, dispatch_uid=f"{uid}profile.{name}")
        signal.connect(window_changed, sender=AvailabilityWindow, dispatch_uid=f"{uid}window.{name}")
        signal.connect(mentorship_changed, sender=Mentorship, dispatch_uid=f"{uid}mentorship.{name}")
        for model in (AcademicRank, CareerStage):  # titles name them; stage order scores career
            signal.connect(anything_changed, sender=model, dispatch_uid=f"{uid}{model.__name__}.{name}")
        for model in (Specialty, Goal, Language, MeetingFormat):  # the filter form's lists
            signal.connect(vocabulary_changed, sender=model, dispatch_uid=f"{uid}{model.__name__}.{name}")
    post_save.connect(user_changed, sender=User, dispatch_uid=f"{uid}user.save")
    for name in MENTOR_SETS:
        through = MentorProfile._meta.get_field(name).remote_field.through
        m2m_changed.connect(relation_changed, sender=through, dispatch_uid=f"{uid}{name}")
    # Leaving deactivates accounts with an UPDATE; it commits with the leaving.
    members_leaving.connect(anything_changed, dispatch_uid=f"{uid}leaving")
