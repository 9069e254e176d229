"""Reads of match runs: a person's own ranking, a run's proposals, its cohort, two runs compared."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When

from accounts.models import Program, User
from core.guards import require_perm
from core.search import search_terms, word_matches

from .. import engine
from ..models import MatchProposal, MatchRanking, MatchRun, Mentorship

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
    """A run's proposals for its review (coordinators only: they carry people's ranks).
    ``ranked``: whether the resident submitted a ranking (a rank obtained means something then)."""
    return (
        run.proposals.select_related(
            "mentee", "mentee__mentee_profile__career_stage", "mentor", "override_mentor", "decided_by"
        )
        .annotate(
            ranked=Exists(MatchRanking.objects.filter(run_id=OuterRef("run_id"), author_id=OuterRef("mentee_id")))
        )
        .order_by("mentee__last_name", "mentee__first_name", "mentee_id")
    )


# --- Scores: a run's own, and the fit everyone else sees.


def standard_weights(run: MatchRun) -> bool:
    """Whether ``run`` weighed the components as the directory, the recommendations and the
    ranking page do (the engine's defaults): its scores are then the fit people see there."""
    weights = engine.Weights.from_mapping(run.weights or {})
    return weights.normalised() == engine.Weights().normalised()


def fit_score(proposal: MatchProposal, *, standard: bool) -> float | None:
    """The proposed pair's fit out of 100 as the resident and the mentor see it elsewhere ("Fit
    81/100" on the ranking page, and in the directory): the standard weights. A run with
    its own weights records it beside its score (``execution._proposals``); one computed before it
    did has it only if its weights were the standard ones (``standard``, ``standard_weights``)."""
    if proposal.mentor_id is None:
        return None
    fit = (proposal.explanation or {}).get("fit")
    if isinstance(fit, int | float) and not isinstance(fit, bool):
        return float(fit)
    return proposal.score if standard else None


# A matched pair scoring below this (out of 100) is shown under "Low score": with the default
# weights it means the pair shares little more than a language or a meeting format.
LOW_SCORE = 40


def shown_score(score: float) -> int:
    """A score as the review shows it: a whole number out of 100, halves rounded up, as the
    templates' ``floatformat:0`` does (39.5 shows as 40)."""
    return int(Decimal(repr(float(score))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def is_low_score(score: float | None) -> bool:
    """The one "low" rule, on the number shown: a pair shown at 40 is not low, one shown at 39
    is. The review's badge, its "Low score" filter (``low_score_q``) and its summary use it."""
    return score is not None and shown_score(score) < LOW_SCORE


def low_score_q() -> Q:
    """``is_low_score`` as a filter: shown below ``LOW_SCORE`` is stored below it less a half."""
    return Q(score__lt=LOW_SCORE - 0.5)


PAGE_SIZE = 50
Decision = MatchProposal.Decision
SHOW = {
    "all": "All",
    "unmatched": "Unmatched",
    "pending": "Waiting for a decision",
    "without": "Without a mentor if published now",
    "accepted": "Accepted",
    "overridden": "Overridden",
    "rejected": "Rejected",
    "low": f"Low score (below {LOW_SCORE:g})",
}
# "decision" is the default: the pairs waiting for a decision first, then everyone by name.
SORTS = {
    "decision": "Waiting for a decision first",
    "name": "Name",
    "score": "Score, lowest first",
    "rank": "Choice obtained",
}


def holding_spot(mentor_id: int) -> Q:
    """The proposals of a run that take one of ``mentor_id``'s spots in it: proposed to them and
    still pending or accepted, or overridden onto them (``review_summary`` counts the same)."""
    return Q(decision__in=[Decision.PENDING, Decision.ACCEPTED], mentor_id=mentor_id) | Q(
        decision=Decision.OVERRIDDEN, override_mentor_id=mentor_id
    )


def review_proposals(
    run: MatchRun, *, show: str = "all", mentor_id: int | None = None, q: str = "", sort: str = "decision"
) -> QuerySet[MatchProposal]:
    """The review list, filtered (``SHOW``), by mentor (proposed or overridden onto), by a name or
    e-mail fragment, and sorted (``SORTS``; ties by name, then id, so pages are stable). Each
    filter lists exactly whom its ``review_summary`` count counts (tests/matching/match_runs/
    test_review_counts.py holds them together)."""
    qs = proposals_for(run)
    paired = [Decision.ACCEPTED, Decision.OVERRIDDEN]
    if show == "unmatched":
        # ``ReviewSummary.unmatched``: nobody holds a mentor for them as the match stands, so a
        # resident displaced by an override (rejected) is here too, and a pending proposed pair is
        # not (it holds its mentor's spot until published, see ``_matched``).
        qs = qs.exclude(decision__in=paired)
        if not run.is_published:
            qs = qs.exclude(decision=Decision.PENDING, mentor__isnull=False)
    elif show == "without":
        # ``ReviewSummary.left_without``: everyone publishing would not pair.
        qs = qs.exclude(decision__in=paired)
    elif show == Decision.PENDING:
        # What the summary counts as waiting for a decision: a proposed pair not yet decided (the
        # unmatched have nothing to accept: they are under "Unmatched").
        qs = qs.filter(decision=Decision.PENDING, mentor__isnull=False)
    elif show in (Decision.ACCEPTED, Decision.OVERRIDDEN, Decision.REJECTED):
        qs = qs.filter(decision=show)
    elif show == "low":
        qs = qs.filter(low_score_q(), mentor__isnull=False)
    if mentor_id:
        qs = qs.filter(Q(mentor_id=mentor_id) | Q(decision=Decision.OVERRIDDEN, override_mentor_id=mentor_id))
    for word in search_terms(q)[:4]:
        # "nunez" finds Núñez (core/search.py folds case and accents on both sides).
        qs = qs.filter(word_matches(word, ["mentee__first_name", "mentee__last_name", "mentee__email"]))
    by_name = ("mentee__last_name", "mentee__first_name", "mentee_id")
    if sort == "decision":
        waiting = Q(decision=Decision.PENDING, mentor__isnull=False)
        qs = qs.alias(
            waiting_first=Case(When(waiting, then=Value(0)), default=Value(1), output_field=IntegerField())
        ).order_by("waiting_first", *by_name)
    elif sort == "score":
        # The weakest proposed pairs first, to look at; the unmatched (no score) after them.
        qs = qs.order_by(F("score").asc(nulls_last=True), *by_name)
    elif sort == "rank":
        # A choice obtained exists only for a resident proposed a mentor who ranked (as
        # ``review_summary`` counts it): the engine also fills ``rank_obtained`` by score order for
        # the others, which is nobody's choice. Real choices first, best first; then the rest.
        qs = qs.alias(
            choice=Case(
                When(ranked=True, mentor__isnull=False, rank_obtained__gt=0, then=F("rank_obtained")),
                default=Value(None),
                output_field=IntegerField(),
            )
        ).order_by(F("choice").asc(nulls_last=True), *by_name)
    else:
        qs = qs.order_by(*by_name)
    return qs


@dataclass(frozen=True)
class MentorLoad:
    mentor_id: int
    name: str
    capacity: int
    active: int  # active mentorships now, outside this run
    extra: int  # spots added for this run only
    spots: int  # max(capacity − active, 0) + extra
    proposed: int  # the engine's proposals to this mentor
    holding: int  # proposals taking one of their spots now: pending or accepted to them, overridden onto them
    will_pair: int  # of those, accepted or overridden: publishing pairs them

    @property
    def over(self) -> bool:
        return self.holding > self.spots


@dataclass(frozen=True)
class ReviewSummary:
    """Every count the review page, its API and its CSV show, from one read of the proposals."""

    proposals: int
    proposed_matched: int
    proposed_unmatched: int
    pending: int  # proposed a mentor, no decision yet
    pending_unmatched: int  # no mentor proposed, no decision yet
    accepted: int
    overridden: int
    rejected: int
    will_pair: int  # accepted + overridden
    left_without: int  # proposals − will_pair
    rankers: int  # residents who submitted a ranking
    rank_distribution: list[tuple[int, int]]  # (choice obtained, residents who ranked), proposed matches
    matched_by_score: int  # proposed a mentor, but did not rank
    score_distribution: list[tuple[str, int]]  # ("40–50", n) over proposed matches
    low_score: int
    mentor_load: list[MentorLoad] = field(default_factory=list)
    published: bool = False

    @property
    def matched(self) -> int:
        """Residents with a mentor from this match as it stands (the runs list shows the same,
        ``matched_counts``)."""
        return _matched(published=self.published, pending=self.pending, will_pair=self.will_pair)

    @property
    def unmatched(self) -> int:
        return self.proposals - self.matched

    @property
    def score_peak(self) -> int:
        """The largest score band: the bars' full length."""
        return max((n for _, n in self.score_distribution), default=0) or 1

    @property
    def over_capacity(self) -> list[MentorLoad]:
        return [row for row in self.mentor_load if row.over]


def review_summary(run: MatchRun) -> ReviewSummary:
    """Counted from the stored proposals as they stand (4 queries): proposals, who ranked, the
    cohort's mentors with their capacity, their active mentorships."""
    rows = list(
        run.proposals.values_list("mentee_id", "mentor_id", "override_mentor_id", "decision", "score", "rank_obtained")
    )
    rankers = set(MatchRanking.objects.filter(run=run).order_by().values_list("author_id", flat=True).distinct())
    decisions = {d: 0 for d in Decision.values}
    pending_unmatched = 0
    ranks: dict[int, int] = {}
    by_score = 0
    buckets = [0] * 10
    low = 0
    proposed: dict[int, int] = {}
    holding: dict[int, int] = {}
    paired: dict[int, int] = {}
    for mentee_id, mentor_id, override_id, decision, score, rank in rows:
        decisions[decision] += 1
        if mentor_id is None and decision == Decision.PENDING:
            pending_unmatched += 1
        if mentor_id is not None:
            proposed[mentor_id] = proposed.get(mentor_id, 0) + 1
            if mentee_id in rankers and rank:
                ranks[rank] = ranks.get(rank, 0) + 1
            else:
                by_score += 1
            if score is not None:
                # Banded as shown: a pair shown at 40 is in 40–50, not in 30–40.
                buckets[min(shown_score(score) // 10, 9)] += 1
                low += is_low_score(score)
        final = override_id if decision == Decision.OVERRIDDEN else mentor_id
        if final is not None and decision != Decision.REJECTED:
            holding[final] = holding.get(final, 0) + 1
            if decision in (Decision.ACCEPTED, Decision.OVERRIDDEN):
                paired[final] = paired.get(final, 0) + 1
    mentors = list(
        run.mentors.select_related("mentor_profile")
        .order_by("last_name", "first_name", "pk")
        .only("pk", "first_name", "last_name", "mentor_profile__capacity")
    )
    # Once published, the run's own pairs are active mentorships: they hold the spots they were
    # given, so they are not counted again as mentorships that were there before.
    published = (
        {
            (mentee_id, override_id if decision == Decision.OVERRIDDEN else mentor_id)
            for mentee_id, mentor_id, override_id, decision, _, _ in rows
            if decision in (Decision.ACCEPTED, Decision.OVERRIDDEN)
        }
        if run.is_published
        else set()
    )
    active: dict[int, int] = {}
    for mentor_id, mentee_id in Mentorship.objects.filter(
        status=Mentorship.Status.ACTIVE, mentor_id__in=[m.pk for m in mentors]
    ).values_list("mentor_id", "mentee_id"):
        if (mentee_id, mentor_id) not in published:
            active[mentor_id] = active.get(mentor_id, 0) + 1
    load = []
    for m in mentors:
        capacity = m.mentor_profile.capacity if hasattr(m, "mentor_profile") else 0
        extra = run.extra_spots_for(m.pk)
        load.append(
            MentorLoad(
                mentor_id=m.pk,
                name=m.full_name,
                capacity=capacity,
                active=active.get(m.pk, 0),
                extra=extra,
                spots=max(capacity - active.get(m.pk, 0), 0) + extra,
                proposed=proposed.get(m.pk, 0),
                holding=holding.get(m.pk, 0),
                will_pair=paired.get(m.pk, 0),
            )
        )
    matched = sum(proposed.values())
    will_pair = decisions[Decision.ACCEPTED] + decisions[Decision.OVERRIDDEN]
    return ReviewSummary(
        proposals=len(rows),
        proposed_matched=matched,
        proposed_unmatched=len(rows) - matched,
        pending=decisions[Decision.PENDING] - pending_unmatched,
        pending_unmatched=pending_unmatched,
        accepted=decisions[Decision.ACCEPTED],
        overridden=decisions[Decision.OVERRIDDEN],
        rejected=decisions[Decision.REJECTED],
        will_pair=will_pair,
        left_without=len(rows) - will_pair,
        rankers=len(rankers),
        rank_distribution=sorted(ranks.items()),
        matched_by_score=by_score,
        score_distribution=[(f"{10 * i}–{10 * i + 10}", n) for i, n in enumerate(buckets)],
        low_score=low,
        mentor_load=load,
        published=run.is_published,
    )


def _matched(*, published: bool, pending: int, will_pair: int) -> int:
    """Who has a mentor from a run: once published, those it paired (accepted or overridden);
    before, also those still pending with a proposed mentor, who hold that mentor's spot. A
    rejected proposal, or one no mentor was proposed for and nobody overrode, is unmatched."""
    return will_pair if published else pending + will_pair


@dataclass(frozen=True)
class MatchedCount:
    matched: int
    unmatched: int


def matched_counts(runs: Iterable[MatchRun]) -> dict[int, MatchedCount]:
    """{run id: matched and unmatched as ``review_summary(run)`` counts them}, for the finished
    runs among ``runs``, in one query (the runs list: no summary per run)."""
    published = {run.pk: run.is_published for run in runs if run.status == Status.SUCCEEDED}
    rows = (
        MatchProposal.objects.filter(run_id__in=list(published))
        .order_by()
        .values("run_id")
        .annotate(
            total=Count("pk"),
            pending=Count("pk", filter=Q(decision=Decision.PENDING, mentor__isnull=False)),
            will_pair=Count("pk", filter=Q(decision__in=[Decision.ACCEPTED, Decision.OVERRIDDEN])),
        )
    )
    counts = {pk: MatchedCount(0, 0) for pk in published}
    for row in rows:
        matched = _matched(published=published[row["run_id"]], pending=row["pending"], will_pair=row["will_pair"])
        counts[row["run_id"]] = MatchedCount(matched, row["total"] - matched)
    return counts


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

    @property
    def same_score(self) -> bool:
        """A different mentor of equal fit: the engine broke the tie by id (see ``TIE_BREAK``)."""
        return (
            self.score_a is not None and self.score_b is not None and round(self.score_a, 1) == round(self.score_b, 1)
        )


@dataclass(frozen=True)
class RunComparison:
    """Two runs side by side. ``a``/``b`` count each run's whole cohort; when the cohorts differ
    (183 residents against 91) their averages are of different people, so the page leads with
    ``a_in_both``/``b_in_both``: the same figures over the residents both runs contain."""

    a: RunSummary
    b: RunSummary
    in_both: int  # residents in both cohorts
    changed: list[ChangedPair]  # of those, the ones proposed a different mentor (or matched in one run only)
    only_in_a: int
    only_in_b: int
    a_in_both: RunSummary  # run a, over the residents in both cohorts only
    b_in_both: RunSummary

    @property
    def same_cohort(self) -> bool:
        return not (self.only_in_a or self.only_in_b)

    @property
    def same_score(self) -> int:
        return sum(1 for pair in self.changed if pair.same_score)


# How the engine breaks ties (``matching/engine``): among mentors a resident scores equally, the one
# with the lower user id comes first in the resident's list (the earlier account); in best-overall-fit
# mode, among equally good matchings, lower-id residents are preferred. Two runs whose cohorts differ
# by one person can therefore give a resident a different mentor of exactly the same score.
TIE_BREAK = (
    "When two mentors fit a resident equally well (the same score), the engine picks the one whose account "
    "was created first; two runs can then give a resident a different mentor of equal fit."
)


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
    both: set[int] = set()
    for p in pa:
        q = by_mentee_b.get(p.mentee_id)
        if q is None:
            continue
        both.add(p.mentee_id)
        if p.mentor_id != q.mentor_id:
            changed.append(ChangedPair(p.mentee, p.mentor, p.score, q.mentor, q.score))
    return RunComparison(
        a=_summary(a, pa),
        b=_summary(b, pb),
        in_both=len(both),
        changed=changed,
        only_in_a=len(pa) - len(both),
        only_in_b=len(pb) - len(both),
        a_in_both=_summary(a, [p for p in pa if p.mentee_id in both]),
        b_in_both=_summary(b, [p for p in pb if p.mentee_id in both]),
    )


# --- Before a run starts: notices on the start form, none of them blocking.


@dataclass(frozen=True)
class CapacityShortfall:
    """More residents to match than the chosen mentors have open spots: allowed (the rest are told
    they were not matched, and a second round can follow), but the coordinator should know."""

    residents: int
    spots: int

    @property
    def unmatched(self) -> int:
        return max(self.residents - self.spots, 0)

    def __bool__(self) -> bool:
        return self.unmatched > 0

    def __str__(self) -> str:
        r, s, u = self.residents, self.spots, self.unmatched
        return (
            f"{r} resident{'s' if r != 1 else ''}, {s} open spot{'s' if s != 1 else ''}: {u} will be unmatched "
            "unless you add mentors or raise capacity."
        )


def capacity_shortfall(residents: int, spots: int) -> CapacityShortfall:
    """``residents`` to match (the chosen, less those a mentor of the run's kind already leaves
    out) against the chosen mentors' open ``spots``; static/js/cohort.js says the same live."""
    return CapacityShortfall(residents=residents, spots=spots)


def runs_awaiting_review(program: Program, mentee_ids: Iterable[int]) -> dict[int, list[MatchRun]]:
    """{resident id: the runs of ``program`` that hold them and wait for review} (one query):
    computed, neither published nor discarded. Starting another run over them is allowed, but
    publishing both would give each resident two proposals to act on."""
    through = MatchRun.mentees.through
    held: dict[int, list[MatchRun]] = {}
    for row in (
        through.objects.filter(
            user_id__in=list(mentee_ids),
            matchrun__program=program,
            matchrun__status=Status.SUCCEEDED,
            matchrun__published_at__isnull=True,
            matchrun__archived_at__isnull=True,
        )
        .select_related("matchrun")
        .order_by("matchrun_id")
    ):
        held.setdefault(row.user_id, []).append(row.matchrun)
    return held


def cohort_members(run: MatchRun) -> list[tuple[User, bool]]:
    """(person, is_mentee) for everyone in the run's cohort."""
    mentees = [(u, True) for u in run.mentees.order_by("pk")]
    return mentees + [(u, False) for u in run.mentors.order_by("pk")]
