"""What the app benchmarks (``app_bench``, ``page_bench``) share: the check that they run against
PostgreSQL and a Redis database of their own, the throwaway database they work in, and the parts
of seeding a program that do not depend on the bench (vocabularies, people and memberships,
profiles' goals/interests/languages/formats, weekly availability).

Seeding draws from the caller's ``random.Random`` in the order the caller calls these, so a
bench's data stays a function of its seed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import time as clock

TEST_SUITE_REDIS_DB = 15
# Rows per INSERT, within PostgreSQL's 65,535 parameters a statement. The app bench's program
# fits in one INSERT per table, as before these were shared; the page bench's 20,000 residents do not.
BATCH_SIZE = 10_000
USER_BATCH_SIZE = 2_000  # a user row has many columns


def require_services(
    prog: str, *, example_database: str, example_redis_db: int, make_target: str, problems: Sequence[str] = ()
) -> None:
    """Exit with what is missing unless DATABASE_URL is PostgreSQL and REDIS_URL is Redis, but not
    the test suite's database there. ``problems`` are the bench's own, reported first."""
    database, redis = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    problems = list(problems)
    if not database.startswith(("postgres://", "postgresql://")):
        problems.append("DATABASE_URL must point at PostgreSQL (postgres://…)")
    if not redis.startswith("redis://"):
        problems.append("REDIS_URL must point at Redis (redis://…)")
    elif redis.rstrip("/").rsplit("/", 1)[-1] == str(TEST_SUITE_REDIS_DB):
        problems.append(
            f"REDIS_URL uses database {TEST_SUITE_REDIS_DB}, the test suite's: use another, e.g. /{example_redis_db}"
        )
    if problems:
        sys.exit(
            f"{prog}: " + "; ".join(problems) + ".\n"
            f"  e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/{example_database} "
            f"REDIS_URL=redis://127.0.0.1:6379/{example_redis_db} "
            f".venv/bin/python -m benchmarks.{prog}   (or: make {make_target})"
        )


def database_url(name: str) -> str:
    """The database ``name`` on the configured server, for a subprocess (worker, web server)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    return "postgres://{user}{password}@{host}:{port}/{name}".format(
        user=db["USER"] or "postgres",
        password=f":{db['PASSWORD']}" if db["PASSWORD"] else "",
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        name=name,
    )


def stop_process(proc: subprocess.Popen, *, timeout: float) -> None:
    """SIGTERM, so a worker or server finishes what it holds; SIGKILL if it has not within ``timeout``."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def throwaway_database() -> Iterator[str]:
    """``test_<name>`` by Django's test-database machinery, created and migrated fresh and dropped
    on the way out, so the database DATABASE_URL names is never touched. Yields its name."""
    from django.core.cache import cache
    from django.db import connection

    from matching.recommendations import VOCABULARY_CACHE_KEY

    original_name = connection.settings_dict["NAME"]
    print(f"Creating and migrating the throwaway database test_{original_name}…", file=sys.stderr, flush=True)
    try:
        name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        # Vocabulary ids are new in a new database: forget names cached by an earlier run (only that key).
        cache.delete(VOCABULARY_CACHE_KEY)
        yield name
    finally:
        cache.delete(VOCABULARY_CACHE_KEY)
        if connection.settings_dict["NAME"] != original_name:  # the throwaway database was made
            connection.close()
            connection.creation.destroy_test_db(original_name, verbosity=0)


# ---------------------------------------------------------------------------------------------
# Seeding


@dataclass
class Vocabulary:
    internal_medicine: object
    goals: list
    interests: list
    languages: list
    english: object
    formats: list
    stages: dict  # by code: "PGY-1", …
    ranks: list


def load_vocabulary() -> Vocabulary:
    """The vocabularies the migrations seed, read once."""
    from accounts.models import AcademicRank, CareerStage, Goal, Interest, Language, MeetingFormat, Specialty

    languages = list(Language.objects.all())
    return Vocabulary(
        internal_medicine=Specialty.objects.get(slug="internal-medicine"),
        goals=list(Goal.objects.all()),
        interests=list(Interest.objects.all()),
        languages=languages,
        english=next(lang for lang in languages if lang.code == "en"),
        formats=list(MeetingFormat.objects.all()),
        stages={s.code: s for s in CareerStage.objects.all()},
        ranks=list(AcademicRank.objects.all()),
    )


def seed_people(
    people: Sequence[tuple[str, int, object]],
    *,
    last_name: Callable[[int], str],
    password: Callable[[str, int], str],
) -> list:
    """Users ``{role}{k}@bench.example`` for ``people`` rows (role, k, program), role ∈ coordinator |
    resident | mentor, each with a membership of that program (mentors as faculty). The users, in order."""
    from accounts.models import Membership, User

    users = User.objects.bulk_create(
        (
            User(
                email=f"{role}{k}@bench.example",
                **User.identity_fields(f"{role}{k}@bench.example"),
                first_name=role.title(),
                last_name=last_name(k),
                time_zone="America/New_York",
                password=password(role, k),
            )
            for role, k, _ in people
        ),
        batch_size=USER_BATCH_SIZE,
    )
    role_of = {"coordinator": Membership.Role.COORDINATOR, "resident": Membership.Role.RESIDENT}
    Membership.objects.bulk_create(
        (
            Membership(user=user, program=program, role=role_of.get(role, Membership.Role.FACULTY))
            for user, (role, _, program) in zip(users, people, strict=True)
        ),
        batch_size=5_000,
    )
    return users


def seed_profile_details(
    rng: random.Random, vocabulary: Vocabulary, mentee_profiles: list, mentor_profiles: list, *, subspecialties: list
) -> None:
    """Goals, interests, subspecialty interests (from ``subspecialties``), languages (English and
    perhaps one more) and meeting formats for every profile: the many-to-many rows, bulk-inserted."""
    from accounts.models import MenteeProfile, MentorProfile

    v = vocabulary

    def some(items, low, high):
        return rng.sample(items, rng.randint(low, min(high, len(items))))

    def m2m(model, field_name, rows):
        field = model._meta.get_field(field_name)
        through = field.remote_field.through
        source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
        through.objects.bulk_create((through(**{source: p, target: obj}) for p, obj in rows), batch_size=BATCH_SIZE)

    for model, profiles, field_name, choose in [
        (MenteeProfile, mentee_profiles, "goals", lambda: some(v.goals, 1, 4)),
        (MenteeProfile, mentee_profiles, "interests", lambda: some(v.interests, 0, 5)),
        (MenteeProfile, mentee_profiles, "subspecialty_interests", lambda: some(subspecialties, 0, 2)),
        (MenteeProfile, mentee_profiles, "languages", lambda: [v.english, *some(v.languages, 0, 1)]),
        (MenteeProfile, mentee_profiles, "meeting_formats", lambda: some(v.formats, 1, len(v.formats))),
        (MentorProfile, mentor_profiles, "expertise", lambda: some(v.goals, 1, 5)),
        (MentorProfile, mentor_profiles, "interests", lambda: some(v.interests, 0, 5)),
        (MentorProfile, mentor_profiles, "languages", lambda: [v.english, *some(v.languages, 0, 1)]),
        (MentorProfile, mentor_profiles, "meeting_formats", lambda: some(v.formats, 1, len(v.formats))),
    ]:
        m2m(model, field_name, [(profile, obj) for profile in profiles for obj in set(choose())])


def seed_availability(rng: random.Random, users: list) -> int:
    """One to four weekly windows of one to three hours, between 7:00 and 23:00, for each user.
    How many windows were made."""
    from accounts.models import AvailabilityWindow

    windows = []
    for user in users:
        for weekday in rng.sample(range(7), rng.randint(1, 4)):
            start = rng.randrange(7, 20)
            windows.append(
                AvailabilityWindow(
                    user=user, weekday=weekday, start=clock(start), end=clock(min(start + rng.randint(1, 3), 23))
                )
            )
    AvailabilityWindow.objects.bulk_create(windows, batch_size=BATCH_SIZE)
    return len(windows)
