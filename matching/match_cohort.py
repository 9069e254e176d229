"""The Django side of a cohort match: a run's people, rankings and mentorships → engine input.

Profiles become records through ``matching.recommendations`` (the same records the
directory scores), so a pair's score in a run is the score the mentee saw there.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from accounts.models import MenteeProfile, MentorProfile

from . import engine
from .conflicts import exclusion_sets
from .models import MatchRanking, Mentorship
from .recommendations import MENTEE_SETS, MENTOR_SETS, Related, mentee_record, mentor_record
from .selectors.directory import mentor_directory


@dataclass
class Cohort:
    """Everything the engine needs for one run, plus what the proposals need to say."""

    mentees: list  # engine.MenteeRecord, for the mentees who take part
    mentors: list  # engine.MentorRecord (capacity and active count: open spots = capacity − active)
    exclusions: engine.Exclusions
    mentee_rankings: dict = field(default_factory=dict)  # mentee id -> [mentor ids], best first
    mentor_rankings: dict = field(default_factory=dict)  # mentor id -> [mentee ids], best first
    never: set = field(default_factory=set)  # (mentee id, mentor id), whoever said it
    left_out: dict = field(default_factory=dict)  # mentee id -> why they are not matched in this run
    names: dict = field(default_factory=dict)  # user id -> full name


# Why a resident is not matched in a run of a kind, checked in this order.
LEFT_OUT_MENTORED = "already has an active mentorship of this kind"
LEFT_OUT_NO_PROFILE = "has no active mentee profile"


def left_out_reasons(mentee_ids: Iterable[int], kind: str, *, mentored: set[int] | None = None) -> dict[int, str]:
    """{mentee id: why} for those of ``mentee_ids`` a run of ``kind`` leaves out: the one rule
    of who is not in a cohort. A resident who already has an active mentor of the kind is
    neither put in a run (``match_run_create`` drops them, so no ranking window asks them to
    rank) nor matched by it (``load_cohort``, should they get one while it waits); nor is one
    deactivated or without a mentee profile. Two queries; one if the caller passes
    ``mentored``, the ids among them with an active mentorship of ``kind``."""
    mentee_ids = set(mentee_ids)
    if mentored is None:
        mentored = set(
            Mentorship.objects.filter(status=Mentorship.Status.ACTIVE, kind=kind, mentee_id__in=mentee_ids).values_list(
                "mentee_id", flat=True
            )
        )
    reasons = dict.fromkeys(mentored & mentee_ids, LEFT_OUT_MENTORED)
    with_profile = set(
        MenteeProfile.objects.filter(user_id__in=mentee_ids - reasons.keys(), user__is_active=True).values_list(
            "user_id", flat=True
        )
    )
    for pk in mentee_ids - reasons.keys() - with_profile:
        reasons[pk] = LEFT_OUT_NO_PROFILE
    return reasons


def load_cohort(run) -> Cohort:
    """Records for ``run``'s cohort, minus the mentees ``left_out_reasons`` leaves out; mentors
    carry their open spots; rankings as submitted (None = did not rank)."""
    mentee_ids = set(run.mentees.values_list("pk", flat=True))
    mentor_ids = set(run.mentors.values_list("pk", flat=True))
    active = Mentorship.objects.filter(status=Mentorship.Status.ACTIVE)

    mentored = set(active.filter(mentee_id__in=mentee_ids, kind=run.kind).values_list("mentee_id", flat=True))
    left_out = dict.fromkeys(mentored, LEFT_OUT_MENTORED)
    mentee_profiles = list(
        MenteeProfile.objects.filter(user_id__in=mentee_ids - left_out.keys(), user__is_active=True)
        .select_related("user", "career_stage")
        .order_by("pk")
    )
    related = Related(MenteeProfile, MENTEE_SETS, mentee_profiles)
    # Every mentee of a run is a resident of its program: one specialty, no lookup each.
    mentees = [mentee_record(p, specialty_id=run.program.specialty_id, related=related) for p in mentee_profiles]
    # ``left_out_reasons``'s second rule, read from the profiles loaded here anyway.
    for pk in mentee_ids - left_out.keys() - {m.id for m in mentees}:
        left_out[pk] = LEFT_OUT_NO_PROFILE
    mentor_profiles = list(mentor_directory().filter(user_id__in=mentor_ids).prefetch_related(None))
    related = Related(MentorProfile, MENTOR_SETS, mentor_profiles)
    mentors = [mentor_record(p, related=related) for p in mentor_profiles]

    # A pair with an active mentorship of any kind cannot start another one.
    already_paired = set(
        active.filter(mentee_id__in=mentee_ids, mentor_id__in=mentor_ids).values_list("mentee_id", "mentor_id")
    )

    mentee_rankings: dict = {}
    mentor_rankings: dict = {}
    never: set = set()
    rankings = MatchRanking.objects.filter(run=run).order_by("author_id", "never", "position")
    for author_id, target_id, is_never in rankings.values_list("author_id", "target_id", "never"):
        author_is_mentee = author_id in mentee_ids
        if is_never:
            never.add((author_id, target_id) if author_is_mentee else (target_id, author_id))
        else:
            (mentee_rankings if author_is_mentee else mentor_rankings).setdefault(author_id, []).append(target_id)

    names = dict(
        (pk, f"{first} {last}".strip())
        for pk, first, last in run.mentees.model.objects.filter(pk__in=mentee_ids | mentor_ids).values_list(
            "pk", "first_name", "last_name"
        )
    )
    return Cohort(
        mentees=mentees,
        mentors=mentors,
        exclusions=engine.Exclusions(already_paired=already_paired, **exclusion_sets(mentee_ids, mentor_ids)),
        mentee_rankings=mentee_rankings,
        mentor_rankings=mentor_rankings,
        never=never,
        left_out=left_out,
        names=names,
    )
