"""Reads of match runs: a person's own ranking, a run's proposals, its cohort, two runs compared."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db.models import Case, Count, Exists, F, FloatField, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.models import Program, User
from core.guards import require_perm
from core.search import search_terms, word_matches

from .. import engine
from ..models import MatchProposal, MatchRanking, MatchRun, Mentorship, RankingSubmission
from .freshness import run_changes

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


# Where an overridden proposal keeps the pair the override makes, scored as the run scored its own
# pairs (``services._decide``, ``execution.pair_explanation``): {"mentor": id, "score": with the run's
# weights, "fit": with the standard ones, "components": [...]}, as the proposal's own explanation.
OVERRIDE_FIT = "override_fit"


def override_fit(proposal: MatchProposal) -> dict | None:
    """The pair an override made, scored (``OVERRIDE_FIT``); None unless the proposal is
    overridden, and for an override made before overrides were scored."""
    if proposal.decision != MatchProposal.Decision.OVERRIDDEN:
        return None
    scored = (proposal.explanation or {}).get(OVERRIDE_FIT)
    return scored if isinstance(scored, dict) and _number(scored.get("score")) is not None else None


# Where a proposal rejected to give its mentor's spot to an override keeps the overridden
# proposal's id (``services.proposal_override``, ``make_room="displace:…"``): nobody rejected
# the pair, so the review and the CSV say "Displaced" (``decision_label``), and by whom.
DISPLACED_BY = "displaced_by"
DISPLACED = "Displaced"


def displaced_by(proposal: MatchProposal) -> int | None:
    """The id of the proposal whose override took this one's spot (``DISPLACED_BY``), while it
    stays rejected; None otherwise."""
    if proposal.decision != MatchProposal.Decision.REJECTED:
        return None
    pk = (proposal.explanation or {}).get(DISPLACED_BY)
    return pk if isinstance(pk, int) and not isinstance(pk, bool) else None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def row_score(proposal: MatchProposal) -> float | None:
    """The score, with the run's weights, of the pair a review row shows: the override's pair
    once overridden (``override_fit``), else the proposed pair's (None: nobody proposed). The
    Low badge, the "Low score" filter, the score sort and the summary's bands go by it
    (``row_score_sql`` is the same rule for the database)."""
    if (scored := override_fit(proposal)) is not None:
        return _number(scored["score"])
    return proposal.score if proposal.mentor_id is not None else None


def row_score_sql() -> Case:
    """``row_score`` as an expression (a proposal nobody was proposed for has no score)."""
    return Case(
        When(
            Q(decision=MatchProposal.Decision.OVERRIDDEN) & Q(explanation__override_fit__has_key="score"),
            then=Cast(KT(f"explanation__{OVERRIDE_FIT}__score"), FloatField()),
        ),
        default=F("score"),
        output_field=FloatField(),
    )


def row_fit(proposal: MatchProposal, *, standard: bool) -> float | None:
    """``fit_score`` of the pair a review row shows: the override's pair once overridden."""
    if (scored := override_fit(proposal)) is not None:
        return _number(scored.get("fit"))
    return fit_score(proposal, standard=standard)


# A matched pair scoring below this (out of 100) is shown under "Low score": with the default
# weights it means the pair shares little more than a language or a meeting format.
LOW_SCORE = 40


def rounded(score: float, places: int = 0) -> Decimal:
    """The one rounding of scores and fits wherever they are shown (review, override form, compare
    page, CSV): to ``places`` decimals, halves up, on the number as written (59.25 is 59.3, 39.5 is
    40), as Django's ``floatformat`` does; Python's ``round`` and ``f"{x:.1f}"`` would give 59.2."""
    return Decimal(repr(float(score))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def score_text(score: float | None, places: int = 0) -> str:
    """``rounded`` as text ("" for no score): the templates' ``|score`` filter and the CSV."""
    return "" if score is None else str(rounded(score, places))


def shown_score(score: float) -> int:
    """A score as the review shows it: a whole number out of 100 (``rounded``: 39.5 shows as 40)."""
    return int(rounded(score))


def is_low_score(score: float | None) -> bool:
    """The one "low" rule, on the number shown: a pair shown at 40 is not low, one shown at 39
    is. The review's badge, its "Low score" filter (``low_score_q``) and its summary use it,
    each on the row's score (``row_score``)."""
    return score is not None and shown_score(score) < LOW_SCORE


def low_score_q() -> Q:
    """``is_low_score`` as a filter on the ``row_score`` alias (``row_score_sql``): shown below
    ``LOW_SCORE`` is stored below it less a half."""
    return Q(row_score__lt=LOW_SCORE - 0.5)


PAGE_SIZE = 50
Decision = MatchProposal.Decision
SHOW = {
    "all": "All",
    "unmatched": "Unmatched",
    "pending": "Waiting for a decision",
    "without": "Without a mentor if published now",
    "accepted": "Accepted",
    "overridden": "Overridden",
    # A displaced pair is rejected too (its row says "Displaced"): the summary's count is of both.
    "rejected": "Rejected or displaced",
    "low": f"Low score (below {LOW_SCORE:g})",
}
# "decision" is the default: the pairs waiting for a decision first, then everyone by name.
SORTS = {
    "decision": "Waiting for a decision first",
    "name": "Name",
    "score": "Score, lowest first",
    "rank": "Choice obtained",
}


# A proposal nobody accepted, overrode or rejected before its run was published: publishing left it
# out (its resident was told they have no mentor from the match), so it no longer waits for anything.
NOT_DECIDED = "Not decided before publishing"


def decision_label(proposal: MatchProposal, *, published: bool) -> str:
    """The decision as the review page and the CSV say it: ``MatchProposal.decision_label``, except
    that once the run is published a proposed pair still "pending" is ``NOT_DECIDED``, and a pair
    rejected to make room for an override is ``DISPLACED``."""
    if published and proposal.decision == Decision.PENDING and proposal.mentor_id is not None:
        return NOT_DECIDED
    if displaced_by(proposal) is not None:
        return DISPLACED
    return proposal.decision_label


def show_choices(*, published: bool) -> list[tuple[str, str]]:
    """The review's "Show" filter: once published, nothing waits for a decision any more, and who
    is without a mentor is no longer "if published now" but what publishing did."""
    renamed = {"pending": NOT_DECIDED, "without": "Without a mentor from this match"} if published else {}
    return [(k, renamed.get(k, v)) for k, v in SHOW.items()]


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
        qs = qs.alias(row_score=row_score_sql()).filter(low_score_q())
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
        # The weakest pairs first, to look at (an override by the pair it makes, as its row shows
        # it); the unmatched (no score) after them.
        qs = qs.alias(row_score=row_score_sql()).order_by(F("row_score").asc(nulls_last=True), *by_name)
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


# How a run with proposals still waiting for a decision is published (the ``waiting`` of the publish
# form, ``views.match_runs.ACCEPT_WAITING``/``LEAVE_WAITING``): accept them first, or leave them out.
PUBLISH_ACCEPTING, PUBLISH_DECIDED_ONLY = "accept", "leave"


@dataclass(frozen=True)
class PublishOutcome:
    """What one way of publishing does: the pairings it starts and the residents it tells they have
    no mentor from this match. ``waiting`` is the form's value ("" when nothing waits: one way)."""

    waiting: str
    publishes: int
    left_without: int


@dataclass(frozen=True)
class PublishedPairs:
    """What a published run achieved: the pairs publishing started (accepted or overridden), by the
    choice each resident got and by score, and the proposed pairs it did not publish."""

    pairs: int
    rank_distribution: list[tuple[int, int]]  # (choice obtained, residents who ranked), accepted pairs
    matched_by_score: int  # accepted, the resident did not rank
    chosen_by_override: int  # overridden: the coordinator chose the mentor
    score_distribution: list[tuple[str, int]]  # by ``row_score``, as the review's bands
    scored: int
    not_decided: int  # proposed pairs still pending when published: not published
    rejected: int  # proposed pairs rejected: not published

    @property
    def not_published(self) -> int:
        return self.not_decided + self.rejected

    @property
    def score_peak(self) -> int:
        return max((n for _, n in self.score_distribution), default=0) or 1


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
    # ("40–50", n) over the pairs publishing would make (accepted, overridden, pending with a
    # mentor; not rejected or displaced), by the score each row shows (``row_score``): a proposed
    # pair's, an override's pair's once overridden. ``scored`` pairs; ``worst_score`` the lowest.
    score_distribution: list[tuple[str, int]]
    low_score: int  # rows shown low, rejected ones too: the "Low score" filter's count
    scored: int = 0
    worst_score: float | None = None
    mentor_load: list[MentorLoad] = field(default_factory=list)
    published: bool = False
    # Once published, what publishing started (``PublishedPairs``); None before.
    published_pairs: PublishedPairs | None = None

    @property
    def matched(self) -> int:
        """Residents with a mentor from this match as it stands (the runs list shows the same,
        ``matched_counts``)."""
        return _matched(published=self.published, pending=self.pending, will_pair=self.will_pair)

    @property
    def unmatched(self) -> int:
        return self.proposals - self.matched

    @property
    def left_anyway(self) -> int:
        """Residents publishing leaves without a mentor whatever becomes of the proposals still
        waiting: no mentor proposed (and none chosen), or rejected."""
        return self.left_without - self.pending

    @property
    def publish_outcomes(self) -> list[PublishOutcome]:
        """Every way this run can be published now, with what each does: the publish panel's
        counts all come from here. With proposals waiting, accepting them pairs them too (only the
        rejected and those with no mentor are left without); publishing only the decided leaves the
        waiting ones without a mentor as well. Nothing to publish: none."""
        if self.published or not self.will_pair:
            return []
        if not self.pending:
            return [PublishOutcome("", self.will_pair, self.left_without)]
        return [
            PublishOutcome(PUBLISH_DECIDED_ONLY, self.will_pair, self.left_without),
            PublishOutcome(PUBLISH_ACCEPTING, self.will_pair + self.pending, self.left_anyway),
        ]

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
        run.proposals.values_list(
            "mentee_id", "mentor_id", "override_mentor_id", "decision", "rank_obtained", row_score_sql()
        )
    )
    rankers = set(MatchRanking.objects.filter(run=run).order_by().values_list("author_id", flat=True).distinct())
    decisions = {d: 0 for d in Decision.values}
    pending_unmatched = 0
    ranks: dict[int, int] = {}
    by_score = 0
    buckets = [0] * 10
    low = 0
    scores: list[float] = []
    proposed: dict[int, int] = {}
    holding: dict[int, int] = {}
    paired: dict[int, int] = {}
    # What publishing started (read only once the run is published): ``PublishedPairs``.
    pub_ranks: dict[int, int] = {}
    pub_by_score = pub_overridden = pub_not_decided = pub_rejected = 0
    pub_buckets = [0] * 10
    for mentee_id, mentor_id, override_id, decision, rank, score in rows:
        decisions[decision] += 1
        if decision == Decision.OVERRIDDEN:
            pub_overridden += 1
        elif decision == Decision.ACCEPTED:
            if mentee_id in rankers and rank:
                pub_ranks[rank] = pub_ranks.get(rank, 0) + 1
            else:
                pub_by_score += 1
        elif mentor_id is not None:
            if decision == Decision.PENDING:
                pub_not_decided += 1
            else:
                pub_rejected += 1
        if score is not None and decision in (Decision.ACCEPTED, Decision.OVERRIDDEN):
            pub_buckets[min(shown_score(score) // 10, 9)] += 1
        if mentor_id is None and decision == Decision.PENDING:
            pending_unmatched += 1
        if mentor_id is not None:
            proposed[mentor_id] = proposed.get(mentor_id, 0) + 1
            if mentee_id in rankers and rank:
                ranks[rank] = ranks.get(rank, 0) + 1
            else:
                by_score += 1
        if score is not None:
            # The "Low score" filter lists every row shown low, a rejected one too.
            low += is_low_score(score)
            if decision != Decision.REJECTED:
                # The pairs publishing would make (accepted, overridden, or pending with a mentor):
                # a rejected or displaced pair is not one. Banded as shown: 40 is in 40–50.
                buckets[min(shown_score(score) // 10, 9)] += 1
                scores.append(score)
        final = override_id if decision == Decision.OVERRIDDEN else mentor_id
        if final is not None and decision != Decision.REJECTED:
            holding[final] = holding.get(final, 0) + 1
            if decision in (Decision.ACCEPTED, Decision.OVERRIDDEN):
                paired[final] = paired.get(final, 0) + 1
    # Plain rows, not model instances (a run of 1,000 has as many mentors): id, name, capacity
    # (None without a mentor profile).
    mentors = list(
        run.mentors.order_by("last_name", "first_name", "pk").values_list(
            "pk", "first_name", "last_name", "mentor_profile__capacity"
        )
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
        status=Mentorship.Status.ACTIVE,
        mentor_id__in=run.mentors.values("pk"),  # a subquery, not 1,000 ids
    ).values_list("mentor_id", "mentee_id"):
        if (mentee_id, mentor_id) not in published:
            active[mentor_id] = active.get(mentor_id, 0) + 1
    load = []
    for pk, first_name, last_name, capacity in mentors:
        capacity = capacity or 0
        extra = run.extra_spots_for(pk)
        load.append(
            MentorLoad(
                mentor_id=pk,
                name=f"{first_name} {last_name}".strip(),  # User.full_name
                capacity=capacity,
                active=active.get(pk, 0),
                extra=extra,
                spots=max(capacity - active.get(pk, 0), 0) + extra,
                proposed=proposed.get(pk, 0),
                holding=holding.get(pk, 0),
                will_pair=paired.get(pk, 0),
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
        scored=len(scores),
        worst_score=min(scores, default=None),
        mentor_load=load,
        published=run.is_published,
        published_pairs=PublishedPairs(
            pairs=will_pair,
            rank_distribution=sorted(pub_ranks.items()),
            matched_by_score=pub_by_score,
            chosen_by_override=pub_overridden,
            score_distribution=[(f"{10 * i}–{10 * i + 10}", n) for i, n in enumerate(pub_buckets)],
            scored=sum(pub_buckets),
            not_decided=pub_not_decided,
            rejected=pub_rejected,
        )
        if run.is_published
        else None,
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
    # Of the residents counted, those paired by publishing the run (accepted or overridden);
    # None while the run is not published. ``matched`` is what the engine proposed.
    published: int | None = None


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
        # Equal as the page shows them (``rounded``), so "Same score" never sits beside two different numbers.
        return (
            self.score_a is not None
            and self.score_b is not None
            and rounded(self.score_a, 1) == rounded(self.score_b, 1)
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
    # Said where the coordinator reads the difference when the runs did not use the same ranked
    # lists (``rankings_difference``): "" when they did, or neither used any.
    rankings: str = ""
    a_rankings: "RankingsUsed | None" = None
    b_rankings: "RankingsUsed | None" = None

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
    paired = (Decision.ACCEPTED, Decision.OVERRIDDEN)
    return RunSummary(
        published=sum(1 for p in proposals if p.decision in paired) if run.is_published else None,
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
    used = rankings_used_by([a, b])
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
        rankings=rankings_difference(used[a.pk], used[b.pk]),
        a_rankings=used[a.pk],
        b_rankings=used[b.pk],
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
    """{resident id: the runs of ``program`` that hold them and wait for review}: computed, neither
    published nor discarded, and not out of date (``freshness.run_changes``). Starting another run
    over them is allowed, but publishing both would give each resident two proposals to act on. An
    out-of-date run is left out: it can no longer be published, only re-run or discarded, so it
    holds nobody. One query, then the freshness check of each run found (a program has few open)."""
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
    runs = {run.pk: run for found in held.values() for run in found}
    stale = {pk for pk, run in runs.items() if run_changes(run)}
    if not stale:
        return held
    return {user_id: kept for user_id, found in held.items() if (kept := [run for run in found if run.pk not in stale])}


def cohort_members(run: MatchRun) -> list[tuple[User, bool]]:
    """(person, is_mentee) for everyone in the run's cohort."""
    mentees = [(u, True) for u in run.mentees.order_by("pk")]
    return mentees + [(u, False) for u in run.mentors.order_by("pk")]


# --- Ranked lists: the ones a run used, and the closed windows a new run may reuse.


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class RankingsUsed:
    """Whose ranked lists a run uses (only that they submitted one, never the lists): the
    residents and mentors of its cohort with a submission, and the run whose ranking window
    collected them (``collected_for``: the run itself, the run it reused them from, or None
    when it used none). ``dropped_lists``/``dropped_entries``: of lists reused from another
    run, those of people not in this cohort, and entries ranking someone not in it."""

    run_id: int
    collected_for: int | None
    residents: int
    mentors: int
    dropped_lists: int = 0
    dropped_entries: int = 0
    # (author id, entries in their list): two runs used the same lists when these and
    # ``collected_for`` are the same. Never what the lists say.
    lists: frozenset[tuple[int, int]] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.residents or self.mentors)

    def same_lists_as(self, other: "RankingsUsed") -> bool:
        return (self.collected_for, self.lists) == (other.collected_for, other.lists)

    @property
    def reused(self) -> bool:
        return bool(self) and self.collected_for not in (None, self.run_id)

    @property
    def counts(self) -> str:
        """ "4 residents and 2 mentors" """
        return f"{_plural(self.residents, 'resident')} and {_plural(self.mentors, 'mentor')}"

    @property
    def whose(self) -> str:
        """ "the ranked lists of 4 residents and 2 mentors", or "no ranked list" """
        return f"the ranked lists of {self.counts}" if self else "no ranked list"

    @property
    def dropped(self) -> str:
        """What reusing the lists left out, as a sentence ("" when nothing)."""
        parts = []
        if self.dropped_lists:
            parts.append(
                f"{_plural(self.dropped_lists, 'list')} of people not in this match "
                f"{'was' if self.dropped_lists == 1 else 'were'} left out"
            )
        if self.dropped_entries:
            parts.append(
                f"{_plural(self.dropped_entries, 'choice')} of people no longer in it "
                f"{'was' if self.dropped_entries == 1 else 'were'} taken off the lists kept"
            )
        if not parts:
            return ""
        text = "; ".join(parts) + "."
        return text[:1].upper() + text[1:]


def _submitters(run_ids: Iterable[int]) -> dict[int, dict[int, tuple[bool, int]]]:
    """{run id: {author id: (is a resident of that run, entries in their list)}}, one query."""
    in_mentees = MatchRun.mentees.through.objects.filter(matchrun_id=OuterRef("run_id"), user_id=OuterRef("author_id"))
    found: dict[int, dict[int, tuple[bool, int]]] = {pk: {} for pk in run_ids}
    for run_id, author_id, as_mentee, ranked, never in (
        RankingSubmission.objects.filter(run_id__in=list(found))
        .annotate(as_mentee=Exists(in_mentees))
        .values_list("run_id", "author_id", "as_mentee", "ranked", "never")
    ):
        found[run_id][author_id] = (as_mentee, ranked + never)
    return found


def _collected_for(run: MatchRun) -> int | None:
    if run.rankings_from_id:
        return run.rankings_from_id
    return run.pk if run.ranking_deadline is not None else None


def rankings_used_by(runs: Iterable[MatchRun]) -> dict[int, RankingsUsed]:
    """``RankingsUsed`` of each run: one query, none when no run can have used any."""
    runs = list(runs)
    # Only a run with a window of its own, or one that reused another's lists (a re-run did before
    # runs recorded ``rankings_from``), can have any: the others need no query.
    may_have = [run for run in runs if run.ranking_deadline or run.rankings_from_id or run.rerun_of_id]
    origins = {run.rankings_from_id for run in may_have if run.rankings_from_id}
    found = _submitters({run.pk for run in may_have} | origins) if may_have else {}
    used = {}
    for run in runs:
        mine = found.get(run.pk, {})
        collected_for = _collected_for(run) if mine else None
        dropped_lists = dropped_entries = 0
        if run.rankings_from_id and mine:
            collected = found[run.rankings_from_id]
            dropped_lists = len(collected.keys() - mine.keys())
            dropped_entries = sum(max(collected[a][1] - n, 0) for a, (_, n) in mine.items() if a in collected)
        used[run.pk] = RankingsUsed(
            run_id=run.pk,
            collected_for=collected_for,
            residents=sum(1 for as_mentee, _ in mine.values() if as_mentee),
            mentors=sum(1 for as_mentee, _ in mine.values() if not as_mentee),
            dropped_lists=dropped_lists,
            dropped_entries=dropped_entries,
            lists=frozenset((author, n) for author, (_, n) in mine.items()),
        )
    return used


def rankings_used(run: MatchRun) -> RankingsUsed:
    return rankings_used_by([run])[run.pk]


def rankings_difference(a: RankingsUsed, b: RankingsUsed) -> str:
    """What the comparison says when two runs did not use the same ranked lists ("" when they
    did, or neither used any): a difference between them may come from the lists, not the settings."""
    if a.same_lists_as(b):
        return ""

    def used(x: RankingsUsed) -> str:
        if not x:
            return f"match #{x.run_id} used none (scores only)"
        source = f" collected for match #{x.collected_for}" if x.reused else ""
        return f"match #{x.run_id} used {x.whose}{source}"

    first, second = used(a), used(b)
    return f"{first[:1].upper()}{first[1:]}; {second}."


@dataclass(frozen=True)
class RankingSource:
    """A run whose ranking window has closed, with the lists its cohort submitted: a new run
    of the program may use them instead of asking again (``services.match_run_create``).
    ``matchable_*``: those who submitted and can be matched now (the start form offers them,
    and a resident has no mentor of the run's kind yet)."""

    run: MatchRun
    residents: frozenset[int]  # who submitted
    mentors: frozenset[int]
    matchable_residents: frozenset[int] = frozenset()
    matchable_mentors: frozenset[int] = frozenset()

    @property
    def label(self) -> str:
        """ "… match #1 (career): 2 of 3 residents and 1 of 1 mentor who ranked can still be matched" """
        parts = [
            f"{len(matchable)} of {_plural(len(submitted), word)}"
            for matchable, submitted, word in (
                (self.matchable_residents, self.residents, "resident"),
                (self.matchable_mentors, self.mentors, "mentor"),
            )
            if submitted
        ]
        return (
            f"Use the ranked lists collected for match #{self.run.pk} ({self.run.get_kind_display().lower()}): "
            f"{' and '.join(parts)} who ranked can still be matched"
        )

    def covering(self, mentee_ids: Iterable[int], mentor_ids: Iterable[int]) -> tuple[int, int]:
        """(residents, mentors) among those given who submitted a list in this window."""
        return len(self.residents & set(mentee_ids)), len(self.mentors & set(mentor_ids))


RANKING_SOURCES_SHOWN = 3
# Closed windows looked at for those: the latest ones whose rankers have all moved on are passed over.
RANKING_SOURCES_READ = 10


def ranking_sources(
    program: Program,
    *,
    mentee_ids: Iterable[int],
    mentor_ids: Iterable[int],
    now: datetime | None = None,
) -> list[RankingSource]:
    """The latest runs of ``program`` whose ranking window has closed and whose lists a new run
    can use (three queries): not one called off, whose rankers were told their lists would not be
    used, and only if someone who submitted can be matched now: one of ``mentee_ids`` (the
    residents the start form offers) without an active mentor of the run's kind, or one of
    ``mentor_ids`` (the mentors it offers, who have an open spot). Lists nobody chosen can use
    would only be refused (``services.match_run_create``)."""
    runs = list(
        MatchRun.objects.filter(program=program, ranking_deadline__lte=now or timezone.now())
        .exclude(status=Status.CANCELLED)
        .filter(Exists(RankingSubmission.objects.filter(run_id=OuterRef("pk"))))
        .order_by("-ranking_deadline", "-pk")[:RANKING_SOURCES_READ]
    )
    found = _submitters(run.pk for run in runs)
    mentee_ids, mentor_ids = set(mentee_ids), set(mentor_ids)
    offered_rankers = mentee_ids & {
        a for authors in found.values() for a, (is_mentee, _) in authors.items() if is_mentee
    }
    mentored: set[tuple[int, str]] = set()  # (resident, kind): a run of that kind leaves them out
    if offered_rankers:
        mentored = set(
            Mentorship.objects.filter(
                status=Mentorship.Status.ACTIVE, mentee_id__in=offered_rankers, kind__in={r.kind for r in runs}
            ).values_list("mentee_id", "kind")
        )
    sources = []
    for run in runs:
        residents = frozenset(a for a, (as_mentee, _) in found[run.pk].items() if as_mentee)
        mentors = frozenset(a for a, (as_mentee, _) in found[run.pk].items() if not as_mentee)
        source = RankingSource(
            run=run,
            residents=residents,
            mentors=mentors,
            matchable_residents=frozenset(a for a in residents & mentee_ids if (a, run.kind) not in mentored),
            matchable_mentors=mentors & mentor_ids,
        )
        if source.matchable_residents or source.matchable_mentors:
            sources.append(source)
    return sources[:RANKING_SOURCES_SHOWN]
