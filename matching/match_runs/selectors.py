"""Reads of match runs: a person's own ranking, a run's proposals, its cohort, two runs compared."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from accounts.models import User
from core.guards import require_perm

from ..models import MatchProposal, MatchRanking, MatchRun

Status = MatchRun.Status


def rankings_for(run: MatchRun, user: User) -> QuerySet[MatchRanking]:
    """``user``'s own ranking in ``run`` (ranked first, best first; then "never"). Rankings
    are confidential: nobody reads another person's, coordinators included."""
    return (
        MatchRanking.objects.filter(run=run, author=user)
        .select_related("target")
        .order_by("never", "position", "target_id")
    )


def proposals_for(run: MatchRun) -> QuerySet[MatchProposal]:
    """A run's proposals for its review (coordinators only: they carry people's ranks)."""
    return run.proposals.select_related("mentee", "mentor", "override_mentor", "decided_by").order_by(
        "mentee__last_name", "mentee__first_name", "mentee_id"
    )


@dataclass(frozen=True)
class RunSummary:
    run: MatchRun
    mentees: int
    matched: int
    unmatched: int
    total_score: float
    average_score: float | None
    worst_score: float | None


@dataclass(frozen=True)
class ChangedPair:
    mentee: User
    mentor_a: User | None
    score_a: float | None
    mentor_b: User | None
    score_b: float | None


@dataclass(frozen=True)
class RunComparison:
    a: RunSummary
    b: RunSummary
    in_both: int  # residents in both cohorts
    changed: list[ChangedPair]  # of those, the ones proposed a different mentor (or matched in one run only)
    only_in_a: int
    only_in_b: int


def _summary(run: MatchRun, proposals: list[MatchProposal]) -> RunSummary:
    scores = sorted(p.score for p in proposals if p.mentor_id is not None and p.score is not None)
    matched = sum(1 for p in proposals if p.mentor_id is not None)
    total = round(sum(scores), 3)
    return RunSummary(
        run=run,
        mentees=len(proposals),
        matched=matched,
        unmatched=len(proposals) - matched,
        total_score=total,
        average_score=round(total / len(scores), 3) if scores else None,
        worst_score=scores[0] if scores else None,
    )


def match_run_compare(*, a: MatchRun, b: MatchRun, actor: User) -> RunComparison:
    """Two finished runs of one program side by side, as the engine proposed them (before
    any override): how many residents it would pair differently, and each run's numbers."""
    require_perm(actor, "matching.manage_match_runs", a)
    require_perm(actor, "matching.manage_match_runs", b)
    if a.pk == b.pk:
        raise ValidationError("Choose two different match runs to compare.")
    if a.program_id != b.program_id:
        raise ValidationError("Only runs of the same program can be compared.")
    if a.status != Status.SUCCEEDED or b.status != Status.SUCCEEDED:
        raise ValidationError("Both runs must have finished before they can be compared.")
    pa, pb = list(proposals_for(a)), list(proposals_for(b))
    by_mentee_b = {p.mentee_id: p for p in pb}
    changed: list[ChangedPair] = []
    in_both = 0
    for p in pa:
        q = by_mentee_b.get(p.mentee_id)
        if q is None:
            continue
        in_both += 1
        if p.mentor_id != q.mentor_id:
            changed.append(ChangedPair(p.mentee, p.mentor, p.score, q.mentor, q.score))
    return RunComparison(
        a=_summary(a, pa),
        b=_summary(b, pb),
        in_both=in_both,
        changed=changed,
        only_in_a=len(pa) - in_both,
        only_in_b=len(pb) - in_both,
    )


def cohort_members(run: MatchRun) -> list[tuple[User, bool]]:
    """(person, is_mentee) for everyone in the run's cohort."""
    mentees = [(u, True) for u in run.mentees.order_by("pk")]
    return mentees + [(u, False) for u in run.mentors.order_by("pk")]
