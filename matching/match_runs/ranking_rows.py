"""What a ranker needs beside each name on the ranking page: who the person is (specialty,
subspecialty and rank of a mentor; PGY of a resident), how well the two fit (the
directory's score, ``matching.recommendations``, and its two strongest reasons), their
weekly time in common on the ranker's clock, and a link to the person's profile.

A constant number of queries, whatever the size of the cohort: the records are built in
bulk (``Related``, ``mentor_records``) and the engine scores each pair in memory.
"""

from collections import Counter
from dataclasses import dataclass, replace

from django.urls import reverse

from accounts.models import CareerStage, MenteeProfile, User

from .. import engine
from ..models import MatchRun
from ..recommendations import MENTEE_SETS, Related, clock_for, mentee_record, mentor_records, vocabulary
from ..selectors.directory import mentor_directory

TOP_REASONS = 2


@dataclass(frozen=True)
class RankRow:
    person: User
    description: str  # "Cardiology · Electrophysiology · Associate Professor", or "PGY-2"
    score: float | None  # 0–100, the directory's fit score; None without both profiles
    reasons: list[str]  # the strongest components' reasons, at most TOP_REASONS
    shared_time: str  # "2 h a week in common: Tue 6–8 pm your time", or "" when unknown
    profile_url: str  # "" when the ranker may not open that profile
    stage: CareerStage | None = None  # a resident's PGY year (the page's filter); None for mentors
    namesake: bool = False  # another row has the same name: the page adds the e-mail to tell them apart


def _pair_facts(pair: engine.PairScore) -> tuple[list[str], str]:
    by_points = sorted(
        (c for c in pair.components if c.points > 0 and c.name != "availability"), key=lambda c: -c.points
    )
    reasons = [c.reason[:1].upper() + c.reason[1:] for c in by_points[:TOP_REASONS]]
    shared = next((c.reason for c in pair.components if c.name == "availability"), "")
    return reasons, shared[:1].upper() + shared[1:]


def _ordered(rows: list[RankRow]) -> list[RankRow]:
    """Best fit first (no score last), then by name; people who share a name are marked (``namesake``)."""
    names = Counter(r.person.full_name.casefold() for r in rows)
    rows = [replace(r, namesake=True) if names[r.person.full_name.casefold()] > 1 else r for r in rows]
    return sorted(
        rows,
        key=lambda r: (
            r.score is None,
            -(r.score or 0),
            r.person.last_name.casefold(),
            r.person.first_name.casefold(),
            r.person.pk,
        ),
    )


def stages_of(rows: list[RankRow]) -> list[CareerStage]:
    """The career stages among ``rows``, in career order (the ranking page's PGY filter)."""
    return sorted({row.stage for row in rows if row.stage is not None}, key=lambda stage: (stage.order, stage.pk))


def rank_rows(run: MatchRun, user: User, *, as_mentee: bool) -> list[RankRow]:
    """The people ``user`` ranks in ``run``, each with what to rank them by, best fit first."""
    vocab = vocabulary()
    clock = clock_for(user)
    mentor_qs = mentor_directory()
    if as_mentee:
        people = list(run.mentors.all())
        profile = MenteeProfile.objects.select_related("user", "career_stage").filter(user=user).first()
        mentee = (
            mentee_record(
                profile, specialty_id=run.program.specialty_id, related=Related(MenteeProfile, MENTEE_SETS, [profile])
            )
            if profile
            else None
        )
        mentor_rows, records = mentor_records(mentor_qs.filter(user_id__in=run.mentors.values("pk")))
        info = {row.user_id: (row, record) for row, record in zip(mentor_rows, records, strict=True)}
        profile_url = {person.pk: reverse("matching:person", args=[person.pk]) for person in people}
        rows = []
        for person in people:
            row, record = info.get(person.pk, (None, None))
            description = ""
            score: float | None = None
            reasons: list[str] = []
            shared = ""
            if row is not None and record is not None:
                description = " · ".join(
                    part
                    for part in (
                        vocab.specialties.get(row.specialty_id, "") if row.specialty_id else "",
                        vocab.specialties.get(row.subspecialty_id, "") if row.subspecialty_id else "",
                        record.title,
                    )
                    if part
                )
                if mentee is not None:
                    pair = engine.explain_pair(mentee, record, vocabulary=vocab, clock=clock)
                    score = pair.score
                    reasons, shared = _pair_facts(pair)
            rows.append(RankRow(person, description, score, reasons, shared, profile_url[person.pk]))
        return _ordered(rows)

    people = list(run.mentees.all())
    mentor_rows, records = mentor_records(mentor_qs.filter(user_id=user.pk))
    own = records[0] if records else None
    profiles = list(
        MenteeProfile.objects.filter(user_id__in=[p.pk for p in people]).select_related("user", "career_stage")
    )
    related = Related(MenteeProfile, MENTEE_SETS, profiles)
    by_user = {p.user_id: p for p in profiles}
    rows = []
    for person in people:
        profile = by_user.get(person.pk)
        stage = profile.career_stage if profile is not None else None
        description = stage.name if stage is not None else ""
        score, reasons, shared = None, [], ""
        if profile is not None and own is not None:
            mentee_of_row = mentee_record(profile, specialty_id=run.program.specialty_id, related=related)
            # About the resident ("the resident's goals"), times on the mentor's clock.
            pair = engine.explain_pair(mentee_of_row, own, vocabulary=vocab, clock=clock, audience="coordinator")
            score = pair.score
            reasons, shared = _pair_facts(pair)
        # A resident's page opens to the mentors ranking them while the window is open
        # (matching.view_person_to_rank).
        rows.append(
            RankRow(person, description, score, reasons, shared, reverse("matching:person", args=[person.pk]), stage)
        )
    return _ordered(rows)
