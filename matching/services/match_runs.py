"""Cohort match runs: create, rank, execute (the task's work), review, publish, second round, sweep.

The run row is the outbox. ``match_run_create`` commits a QUEUED run and enqueues
``run_match`` on commit; the task claims the row with a conditional UPDATE that counts
``attempts``. A message redelivered after its worker was killed (acks_late) carries the
same task id and takes the claim over; any other delivery finds nothing to do. After
``MATCH_RUN_MAX_ATTEMPTS`` claims the run fails instead of being tried again. The sweeper
enqueues again the runs whose message was lost, including runs whose worker died with
its message, within the same bound. The engine is pure: this
module loads the cohort (``matching.match_cohort``), calls it, and stores what it says.
"""

import logging
import time
from dataclasses import asdict, dataclass
from datetime import timedelta

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst

from accounts.models import Membership, MentorProfile, User
from accounts.rules import person_named
from accounts.selectors import mentor_directory
from core.outbox import enqueue_on_commit, task_named

from .. import engine
from ..audit import audit_log
from ..bounds import SCHEDULED
from ..match_cohort import load_cohort
from ..models import Kind, MatchProposal, MatchRanking, MatchRun, Mentorship
from ..notifications import notify
from ..recommendations import COMPONENT_LABELS, vocabulary
from ..scheduling import format_in_zone
from .mentorships import active_mentee_count, mentorship_create

logger = logging.getLogger(__name__)

Status = MatchRun.Status
Decision = MatchProposal.Decision

# Enqueued by name: services never import the tasks that call them.
RUN_MATCH = "matching.tasks.run_match"
# A queued run older than this whose task has not claimed it was lost between commit and broker.
LOST_AFTER = timedelta(minutes=2)
# Claims of one run, all deliveries counted: worker deaths, database-error retries, sweeps.
# ``run_match`` retries database errors ``MATCH_RUN_MAX_ATTEMPTS - 1`` times to agree.
MATCH_RUN_MAX_ATTEMPTS = 3
WORKER_STOPPED = (
    f"The worker stopped {MATCH_RUN_MAX_ATTEMPTS} times while computing this match, so it was not tried again; "
    "start it again."
)


def _require(actor, perm, obj):
    if not actor.has_perm(perm, obj):
        raise PermissionDenied


# --- Reads.


def rankings_for(run: MatchRun, user) -> QuerySet[MatchRanking]:
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


def _summary(run, proposals) -> RunSummary:
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


def match_run_compare(*, a: MatchRun, b: MatchRun, actor) -> RunComparison:
    """Two finished runs of one program side by side, as the engine proposed them (before
    any override): how many residents it would pair differently, and each run's numbers."""
    _require(actor, "matching.manage_match_runs", a)
    _require(actor, "matching.manage_match_runs", b)
    if a.pk == b.pk:
        raise ValidationError("Choose two different match runs to compare.")
    if a.program_id != b.program_id:
        raise ValidationError("Only runs of the same program can be compared.")
    if a.status != Status.SUCCEEDED or b.status != Status.SUCCEEDED:
        raise ValidationError("Both runs must have finished before they can be compared.")
    pa, pb = list(proposals_for(a)), list(proposals_for(b))
    by_mentee_b = {p.mentee_id: p for p in pb}
    changed, in_both = [], 0
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


# --- Create, rank.


def _weights(weights) -> dict:
    try:
        return asdict(engine.Weights.from_mapping(weights or {}))
    except (TypeError, ValueError) as exc:
        raise ValidationError({"weights": str(exc)}) from exc


def _cohort_ids(program, mentee_ids, mentor_ids) -> tuple[list[int], list[int]]:
    mentee_ids, mentor_ids = sorted(set(mentee_ids)), sorted(set(mentor_ids))
    errors = {}
    if not mentee_ids:
        errors["mentee_ids"] = "Choose at least one resident."
    if not mentor_ids:
        errors["mentor_ids"] = "Choose at least one mentor."
    if set(mentee_ids) & set(mentor_ids):
        errors["mentor_ids"] = "Nobody can be both a resident and a mentor in one match."
    residents = set(
        User.objects.filter(
            pk__in=mentee_ids,
            mentee_profile__isnull=False,
            memberships__program=program,
            memberships__role=Membership.Role.RESIDENT,
        ).values_list("pk", flat=True)
    )
    if set(mentee_ids) - residents:
        errors.setdefault("mentee_ids", "Choose residents of this program who have a mentee profile.")
    mentors = set(
        User.objects.filter(pk__in=mentor_ids, mentor_profile__isnull=False, memberships__program=program).values_list(
            "pk", flat=True
        )
    )
    if set(mentor_ids) - mentors:
        errors.setdefault("mentor_ids", "Choose members of this program who have a mentor profile.")
    if errors:
        raise ValidationError(errors)
    return mentee_ids, mentor_ids


def _create(
    *, program, actor, kind, algorithm, mentee_ids, mentor_ids, weights, ranking_deadline, parent=None
) -> MatchRun:
    if kind not in Kind.values:
        raise ValidationError({"kind": "Choose a kind of mentorship."})
    if algorithm not in MatchRun.Algorithm.values:
        raise ValidationError({"algorithm": "Choose stable or optimal."})
    if ranking_deadline is not None and ranking_deadline <= timezone.now():
        raise ValidationError({"ranking_deadline": "The ranking deadline must be in the future."})
    SCHEDULED.check_instant(ranking_deadline, zone=actor.time_zone, field="ranking_deadline")
    weights = _weights(weights)
    mentee_ids, mentor_ids = _cohort_ids(program, mentee_ids, mentor_ids)
    run = MatchRun.objects.create(
        program=program,
        kind=kind,
        algorithm=algorithm,
        weights=weights,
        created_by=actor,
        ranking_deadline=ranking_deadline,
        parent=parent,
        round=parent.round + 1 if parent else 1,
    )
    run.mentees.set(mentee_ids)
    run.mentors.set(mentor_ids)
    audit_log(
        actor=actor,
        action="match_run.create",
        obj=run,
        after={
            "kind": kind,
            "algorithm": algorithm,
            "mentees": len(mentee_ids),
            "mentors": len(mentor_ids),
            "round": run.round,
            "ranking_deadline": ranking_deadline.isoformat() if ranking_deadline else None,
        },
    )
    if ranking_deadline is None:
        # If the broker is unreachable the run stays queued and the sweeper enqueues it.
        enqueue_on_commit(RUN_MATCH, run.pk)
    else:
        # With a ranking window the run waits: the sweeper enqueues it once the deadline has passed.
        _notify_ranking_window(run)
    return run


def _cohort_members(run) -> list[tuple[User, bool]]:
    """(person, is_mentee) for everyone in the run's cohort."""
    mentees = [(u, True) for u in run.mentees.order_by("pk")]
    return mentees + [(u, False) for u in run.mentors.order_by("pk")]


def _notify_ranking_window(run) -> None:
    url = reverse("matching:match-run-rank", args=[run.pk])
    kind = run.get_kind_display().lower()
    for person, is_mentee in _cohort_members(run):
        others = "mentors" if is_mentee else "residents"
        notify(
            event="match.ranking_open",
            user=person,
            url=url,
            title=f"Rank your possible {kind} {others} by {format_in_zone(run.ranking_deadline, person)}",
            body=(
                f"{run.program.name} is matching {kind} mentors and you are in the cohort. You may rank the "
                f"{others} you would like to be paired with, and mark anyone you should never be paired with, "
                "until the deadline. Your ranking is confidential: only you see it. If you do not rank, you are "
                "matched by fit score."
            ),
            dedup_key=f"match_run:{run.pk}:ranking_open:{person.pk}",
        )


@transaction.atomic
def match_run_create(
    *, program, actor, kind, algorithm, mentee_ids, mentor_ids, weights=None, ranking_deadline=None
) -> MatchRun:
    """A QUEUED run for ``program``'s cohort. It starts once committed, or, with a
    ``ranking_deadline``, after cohort members have had until then to rank each other."""
    _require(actor, "matching.manage_match_runs", MatchRun(program=program))
    return _create(
        program=program,
        actor=actor,
        kind=kind,
        algorithm=algorithm,
        mentee_ids=mentee_ids,
        mentor_ids=mentor_ids,
        weights=weights,
        ranking_deadline=ranking_deadline,
    )


@transaction.atomic
def ranking_submit(*, run, actor, ordered_ids, never_ids=()) -> list[MatchRanking]:
    """Replace ``actor``'s ranking in ``run``: ``ordered_ids`` best first (residents rank
    mentors, mentors rank residents), ``never_ids`` never to be paired. Anyone left out
    of both comes after the ranked ones, in score order (``complete_rankings``)."""
    run = MatchRun.objects.select_for_update().get(pk=run.pk)  # the claim waits for this
    _require(actor, "matching.rank_in_run", run)
    ordered, never = list(ordered_ids), list(never_ids)
    if len(set(ordered)) != len(ordered) or len(set(never)) != len(never) or set(ordered) & set(never):
        raise ValidationError("List each person once: either ranked or never.")
    as_mentee = run.mentees.filter(pk=actor.pk).exists()
    others = set((run.mentors if as_mentee else run.mentees).values_list("pk", flat=True))
    if (set(ordered) | set(never)) - others:
        raise ValidationError(f"Rank only the {'mentors' if as_mentee else 'residents'} in this match.")
    MatchRanking.objects.filter(run=run, author=actor).delete()
    rankings = MatchRanking.objects.bulk_create(
        [MatchRanking(run=run, author=actor, target_id=pk, position=i) for i, pk in enumerate(ordered, 1)]
        + [MatchRanking(run=run, author=actor, target_id=pk, never=True) for pk in never]
    )
    # Counts only: the list itself is confidential, even in the audit trail.
    audit_log(actor=actor, action="match_ranking.submit", obj=run, after={"ranked": len(ordered), "never": len(never)})
    return rankings


# --- Execute: what the task calls.


def match_run_execute(run_id: int, *, task_id: str = "", final_attempt: bool = True) -> str:
    """Claim the run and compute it. Returns what happened: "succeeded", "failed",
    "not_queued" (another delivery has it, or it is finished), "waiting" (ranking window
    still open) or "busy" (another run of the program is running; the sweeper retries).

    ``task_id`` is the Celery task id of this delivery: a RUNNING run claimed by the same
    id was left by a worker that died, and this delivery takes it over. Each claim counts
    one attempt; a claim beyond ``MATCH_RUN_MAX_ATTEMPTS`` fails the run instead.

    Raises OperationalError (transient database trouble) for Celery to retry; on the final
    attempt (``final_attempt``, or the last one the bound allows) the run is marked failed
    first, otherwise it goes back to QUEUED.
    """
    now = timezone.now()
    if MatchRun.objects.filter(pk=run_id, status=Status.QUEUED, ranking_deadline__gt=now).exists():
        return "waiting"
    try:
        attempt = _claim(run_id, task_id=task_id, now=now)
    except IntegrityError:  # match_run_one_running_per_program
        return "busy"
    if attempt is None:
        return "not_queued"
    if attempt > MATCH_RUN_MAX_ATTEMPTS:
        return "failed"
    try:
        return _compute(run_id, attempt)
    except OperationalError as exc:
        final = final_attempt or attempt >= MATCH_RUN_MAX_ATTEMPTS
        logger.warning("Match run %s: database error (attempt %s, final: %s): %s", run_id, attempt, final, exc)
        if final:
            _fail(run_id, attempt, f"The database was unavailable while running this match ({exc}); start it again.")
        else:
            _set(
                run_id,
                attempt,
                status=Status.QUEUED,
                started_at=None,
                progress=0,
                error="Retrying after a database error.",
            )
        raise
    except SoftTimeLimitExceeded:
        _fail(run_id, attempt, "This match took longer than the time limit and was stopped.")
        return "failed"
    except (engine.InstanceError, ValueError) as exc:
        _fail(run_id, attempt, f"The match could not be computed: {exc}")
        return "failed"
    except Exception as exc:
        logger.exception("Match run %s failed", run_id)
        _fail(run_id, attempt, f"The match failed unexpectedly ({type(exc).__name__}: {exc}).")
        return "failed"


@transaction.atomic
def _claim(run_id, *, task_id, now) -> int | None:
    """The attempt number this delivery now holds, or None if the run is not its to take.
    A claim beyond the bound fails the run (and returns that number) rather than taking it."""
    claimable = Q(status=Status.QUEUED) & (Q(ranking_deadline__isnull=True) | Q(ranking_deadline__lte=now))
    if task_id:
        claimable |= Q(status=Status.RUNNING, claimed_by_task=task_id)
    runs = MatchRun.objects.filter(claimable, pk=run_id)
    if runs.filter(attempts__lt=MATCH_RUN_MAX_ATTEMPTS).update(
        status=Status.RUNNING,
        attempts=F("attempts") + 1,
        claimed_by_task=task_id,
        started_at=now,
        finished_at=None,
        progress=0,
        error="",
    ):
        return MatchRun.objects.values_list("attempts", flat=True).get(pk=run_id)
    if runs.update(status=Status.FAILED, finished_at=now, error=WORKER_STOPPED):
        _failed(run_id, WORKER_STOPPED)
        return MATCH_RUN_MAX_ATTEMPTS + 1
    return None


def _set(run_id, attempt, **fields) -> int:
    """One short UPDATE of the RUNNING run, committed on its own (the progress bar reads it),
    made only while ``attempt`` still holds the claim: a superseded attempt writes nothing."""
    try:
        return MatchRun.objects.filter(pk=run_id, status=Status.RUNNING, attempts=attempt).update(**fields)
    except OperationalError:
        logger.warning("Match run %s: could not record %s", run_id, fields, exc_info=True)
        return 0


def _fail(run_id, attempt, error: str) -> None:
    if _set(run_id, attempt, status=Status.FAILED, finished_at=timezone.now(), error=error):
        try:
            with transaction.atomic():
                _failed(run_id, error)
        except OperationalError:
            logger.warning("Match run %s: could not record its failure", run_id, exc_info=True)


def _compute(run_id: int, attempt: int) -> str:
    seconds = {}
    clock = time.perf_counter()

    def lap(name):
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = round(now - clock, 4)
        clock = now

    run = MatchRun.objects.select_related("program").get(pk=run_id)
    cohort = load_cohort(run)
    lap("load")
    _set(run_id, attempt, progress=10)

    weights = engine.Weights.from_mapping(run.weights or {})
    scores = engine.score_cohort(cohort.mentees, cohort.mentors, weights=weights, exclusions=cohort.exclusions)
    lap("score")
    _set(run_id, attempt, progress=40)

    mentee_rankings, mentor_rankings = complete_rankings(cohort, scores.as_dict())
    instance = engine.build_instance(
        scores, cohort.mentors, mentee_rankings=mentee_rankings, mentor_rankings=mentor_rankings, never=cohort.never
    )
    result = engine.solve(instance, run.algorithm)
    why = {
        audience: engine.why_not_unmatched(instance, result, names=cohort.names, audience=audience)
        for audience in ("coordinator", "mentee")
    }
    lap("solve")
    _set(run_id, attempt, progress=80)

    proposals = _proposals(run, cohort, result, why, weights)
    stats = _stats(cohort, result)
    with transaction.atomic():
        # Replaces whatever an earlier attempt wrote; this transaction is the only writer of
        # proposals, so none survive partially from an attempt whose worker died.
        MatchProposal.objects.filter(run_id=run_id).delete()
        MatchProposal.objects.bulk_create(proposals)
        lap("write")
        stats["seconds"] = seconds
        done = MatchRun.objects.filter(pk=run_id, status=Status.RUNNING, attempts=attempt).update(
            status=Status.SUCCEEDED, progress=100, finished_at=timezone.now(), stats=stats, error=""
        )
        if not done:  # cancelled, failed or taken over by a later attempt meanwhile; that verdict stands
            transaction.set_rollback(True)
            return "not_queued"
        audit_log(
            actor=None,
            action="match_run.succeed",
            obj=run,
            after={"matched": stats["matched"], "unmatched": stats["unmatched"]},
        )
        _finished(run_id)
    return "succeeded"


def complete_rankings(cohort, score_map) -> tuple[dict, dict]:
    """Each submitted ranking, followed by the people its author left blank, best fit first:
    on the ranking page a blank means "no preference", not "never" (that is the "never" box).
    Authors who did not rank at all stay absent: the engine takes score order for them."""

    def complete(ranked, scored):
        listed = set(ranked)
        return list(ranked) + sorted((x for x in scored if x not in listed), key=lambda x: (-scored[x], x))

    by_mentor: dict = {}
    for mentee_id, row in score_map.items():
        for mentor_id, score in row.items():
            by_mentor.setdefault(mentor_id, {})[mentee_id] = score
    return (
        {i: complete(ranked, score_map.get(i, {})) for i, ranked in cohort.mentee_rankings.items()},
        {j: complete(ranked, by_mentor.get(j, {})) for j, ranked in cohort.mentor_rankings.items()},
    )


def _proposals(run, cohort, result, why, weights) -> list[MatchProposal]:
    mentees = {r.id: r for r in cohort.mentees}
    mentors = {r.id: r for r in cohort.mentors}
    vocab = vocabulary()
    proposals = []
    for mentee_id, mentor_id in result.assignment.items():
        if mentor_id is None:
            proposals.append(
                MatchProposal(
                    run=run,
                    mentee_id=mentee_id,
                    why_not=why["coordinator"].get(mentee_id, ""),
                    why_not_for_mentee=why["mentee"].get(mentee_id, ""),
                )
            )
            continue
        # Only coordinators see proposals: reasons speak about the resident, not to them.
        pair = engine.explain_pair(
            mentees[mentee_id], mentors[mentor_id], weights=weights, vocabulary=vocab, audience="coordinator"
        )
        mentor_list = cohort.mentor_rankings.get(mentor_id)
        proposals.append(
            MatchProposal(
                run=run,
                mentee_id=mentee_id,
                mentor_id=mentor_id,
                score=result.scores.get(mentee_id, pair.score),
                rank_obtained=result.ranks.get(mentee_id),
                mentor_rank=mentor_list.index(mentee_id) + 1 if mentor_list and mentee_id in mentor_list else None,
                explanation={
                    "score": pair.score,
                    "components": [
                        {
                            "name": c.name,
                            "label": COMPONENT_LABELS.get(c.name, c.name),
                            "value": c.value,
                            "points": c.points,
                            "max_points": round(100 * c.weight, 3),
                            "reason": c.reason,
                        }
                        for c in pair.components
                    ],
                },
            )
        )
    return proposals


def _stats(cohort, result) -> dict:
    s = result.stats
    return {
        "mentees": len(cohort.mentees),
        "mentors": len(cohort.mentors),
        "matched": s.matched,
        "unmatched": s.unmatched,
        "total_score": s.total_score,
        "worst_score": s.worst_score,
        "blocking_pairs": s.blocking_pairs,
        "rank_distribution": {str(place): count for place, count in s.rank_distribution.items()},
        "score_distribution": s.score_distribution,
        "mentor_load": {str(m): {"assigned": a, "capacity": c} for m, (a, c) in s.mentor_load.items()},
        "left_out": {str(pk): reason for pk, reason in cohort.left_out.items()},
    }


# --- Review and publish.


def _locked_run(run) -> MatchRun:
    # of=("self",): lock the run only, not its program row as well.
    return MatchRun.objects.select_for_update(of=("self",)).select_related("program").get(pk=run.pk)


def _check_spot(run, mentor, proposal) -> None:
    """``mentor`` must have a spot for one more mentee, counting the mentorships active now
    and the proposals of this run already accepted for them (the run row is locked)."""
    profile = MentorProfile.objects.filter(user=mentor).first()
    if profile is None:
        raise ValidationError({"mentor": f"{mentor.full_name} has no mentor profile."})
    open_spots = max(profile.capacity - active_mentee_count(mentor), 0)
    given = (
        run.proposals.exclude(pk=proposal.pk)
        .filter(Q(decision=Decision.ACCEPTED, mentor=mentor) | Q(decision=Decision.OVERRIDDEN, override_mentor=mentor))
        .count()
    )
    if given >= open_spots:
        raise ValidationError(
            {"mentor": f"{mentor.full_name} has no spot left in this match ({given} of {open_spots} open spots given)."}
        )


def _decide(proposal, actor, decision, note, override_mentor=None) -> MatchProposal:
    before = {"decision": proposal.decision, "mentor": proposal.final_mentor_id}
    proposal.decision = decision
    proposal.override_mentor = override_mentor
    proposal.decision_note = note
    proposal.decided_by = actor
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["decision", "override_mentor", "decision_note", "decided_by", "decided_at"])
    audit_log(
        actor=actor,
        action=f"match_proposal.{decision}",
        obj=proposal,
        program=proposal.run.program,
        before=before,
        after={"decision": decision, "mentor": proposal.final_mentor_id},
        reason=note,
    )
    return proposal


def _locked_proposal(proposal, actor):
    run = _locked_run(proposal.run)  # decisions of one run queue here, and behind a publish
    _require(actor, "matching.manage_match_runs", run)
    if not run.can_review():
        raise ValidationError("This match is not finished, or already published: its proposals cannot change.")
    proposal = MatchProposal.objects.select_related("mentee", "mentor").get(pk=proposal.pk, run=run)
    proposal.run = run
    return run, proposal


@transaction.atomic
def proposal_decide(*, proposal, actor, decision, note="") -> MatchProposal:
    """Accept or reject the engine's proposal (accepting needs a spot left with its mentor)."""
    run, proposal = _locked_proposal(proposal, actor)
    if decision == Decision.ACCEPTED:
        if proposal.mentor is None:
            raise ValidationError("This resident was not matched: choose a mentor with an override.")
        _check_spot(run, proposal.mentor, proposal)
    elif decision != Decision.REJECTED:
        raise ValidationError({"decision": "Accept or reject the proposal."})
    return _decide(proposal, actor, decision, note.strip())


@transaction.atomic
def proposal_override(*, proposal, actor, mentor, note) -> MatchProposal:
    """Pair the proposal's mentee with ``mentor`` instead (a cohort mentor with a spot left), with a reason."""
    run, proposal = _locked_proposal(proposal, actor)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Say briefly why you are changing this pairing."})
    if not run.mentors.filter(pk=mentor.pk).exists():
        # Whoever this is, they are not in the coordinator's cohort: not named (issue 11).
        raise ValidationError({"mentor": f"{capfirst(person_named(actor, mentor))} is not a mentor in this match."})
    if mentor.pk == proposal.mentor_id:
        raise ValidationError({"mentor": f"{mentor.full_name} is the proposed mentor: accept the proposal instead."})
    _check_spot(run, mentor, proposal)
    return _decide(proposal, actor, Decision.OVERRIDDEN, note, override_mentor=mentor)


@transaction.atomic
def match_run_accept_pending(*, run, actor) -> tuple[list[MatchProposal], list[tuple[MatchProposal, str]]]:
    """Accept every proposal still waiting for a decision, each within its mentor's spots:
    (accepted, [(refused, why)]). The pending ones are read under the run's lock, so a
    decision or override another coordinator made meanwhile is left as they made it."""
    run = _locked_run(run)
    _require(actor, "matching.manage_match_runs", run)
    if not run.can_review():
        raise ValidationError("This match is not finished, or already published: its proposals cannot change.")
    accepted, refused = [], []
    pending = run.proposals.filter(decision=Decision.PENDING, mentor__isnull=False).select_related("mentee", "mentor")
    for proposal in pending:
        proposal.run = run
        try:
            _check_spot(run, proposal.mentor, proposal)
        except ValidationError as exc:
            refused.append((proposal, " ".join(exc.messages)))
        else:
            accepted.append(_decide(proposal, actor, Decision.ACCEPTED, ""))
    return accepted, refused


@transaction.atomic
def match_run_publish(*, run, actor) -> list[Mentorship]:
    """Start a mentorship for every accepted or overridden proposal, all or none: if one
    pair no longer fits (a spot was taken since), nothing is published and the error names
    the pair. Then notify both people of each pair, and each resident left without a
    mentor (with the engine's reason, spoken to them). A run is published once."""
    run = _locked_run(run)
    _require(actor, "matching.manage_match_runs", run)
    if run.is_published:
        raise ValidationError("This match has already been published.")
    if not run.can_publish():
        raise ValidationError("Only a finished match can be published.")
    proposals = list(
        run.proposals.filter(decision__in=[Decision.ACCEPTED, Decision.OVERRIDDEN]).select_related(
            "mentee", "mentor", "override_mentor"
        )
    )
    if not proposals:
        raise ValidationError("Accept or override at least one proposal before publishing.")
    # One lock order for mentor profiles, so a concurrent publish or accept cannot deadlock with this one.
    proposals.sort(key=lambda p: (p.final_mentor_id, p.mentee_id))
    started = []
    for p in proposals:
        try:
            mentorship = mentorship_create(
                mentee=p.mentee,
                mentor=p.final_mentor,
                program=run.program,
                kind=run.kind,
                source=Mentorship.Source.MATCH_RUN,
                actor=actor,
            )
        except ValidationError as exc:
            raise ValidationError(
                f"{p.mentee.full_name} and {p.final_mentor.full_name} cannot be paired: {' '.join(exc.messages)} "
                "Nothing was published; change this pairing and publish again."
            ) from exc
        started.append(mentorship)
    run.published_at, run.published_by = timezone.now(), actor
    run.save(update_fields=["published_at", "published_by"])
    audit_log(actor=actor, action="match_run.publish", obj=run, after={"mentorships": len(started)})
    kind = run.get_kind_display().lower()
    for m in started:
        url = m.get_absolute_url()
        notify(
            event="match.published",
            user=m.mentee,
            url=url,
            title=f"Your {kind} mentor is {m.mentor.full_name}",
            dedup_key=f"match_run:{run.pk}:mentorship:{m.pk}:mentee",
        )
        notify(
            event="match.published",
            user=m.mentor,
            url=url,
            title=f"You are now {m.mentee.full_name}'s {kind} mentor",
            dedup_key=f"match_run:{run.pk}:mentorship:{m.pk}:mentor",
        )
    directory = reverse("accounts:mentor-directory")
    for p in run.proposals.exclude(decision__in=[Decision.ACCEPTED, Decision.OVERRIDDEN]).select_related("mentee"):
        reason = p.why_not_for_mentee if p.mentor_id is None and p.why_not_for_mentee else ""
        notify(
            event="match.unmatched",
            user=p.mentee,
            url=directory,
            title=f"No {kind} mentor from this match yet",
            body=(f"Why: {reason}. " if reason else "")
            + "Your coordinator may run a second round, and you can find a mentor and send a request yourself.",
            dedup_key=f"match_run:{run.pk}:unmatched:{p.mentee_id}",
        )
    return started


@transaction.atomic
def match_run_second_round(*, run, actor) -> MatchRun:
    """A new QUEUED run over the residents of a published run who still have no mentor of
    its kind, and its mentors who still have a spot. Published pairs are left alone."""
    run = _locked_run(run)
    _require(actor, "matching.manage_match_runs", run)
    if not run.can_start_second_round():
        raise ValidationError("Publish this match before starting a second round.")
    # Under the run's lock: two coordinators (or a double click) cannot start two rounds
    # over the same residents. One that failed, was cancelled or is published is done.
    if run.next_rounds.exclude(status__in=[Status.FAILED, Status.CANCELLED]).filter(published_at__isnull=True).exists():
        raise ValidationError("A second round of this match is already under way: publish or cancel it first.")
    cohort = list(run.mentees.values_list("pk", flat=True))
    paired = set(
        Mentorship.objects.filter(status=Mentorship.Status.ACTIVE, kind=run.kind, mentee_id__in=cohort).values_list(
            "mentee_id", flat=True
        )
    )
    mentee_ids = [pk for pk in cohort if pk not in paired]
    if not mentee_ids:
        raise ValidationError("Every resident of this match has a mentor.")
    mentor_ids = list(
        mentor_directory()
        .filter(user_id__in=run.mentors.values("pk"), accepting_mentees=True, open_spots__gt=0)
        .values_list("user_id", flat=True)
    )
    if not mentor_ids:
        raise ValidationError("No mentor of this match has a spot left.")
    return _create(
        program=run.program,
        actor=actor,
        kind=run.kind,
        algorithm=run.algorithm,
        mentee_ids=mentee_ids,
        mentor_ids=mentor_ids,
        weights=run.weights,
        ranking_deadline=None,
        parent=run,
    )


CANCELLABLE = (Status.QUEUED, Status.RUNNING)


@transaction.atomic
def match_run_cancel(*, run, actor, reason="") -> MatchRun:
    """Stop a run that is waiting for rankings, queued or running. A task already computing
    it finds the run no longer RUNNING and throws its result away; nothing was proposed yet.
    Cohort members invited to rank are told the match was called off."""
    run = _locked_run(run)
    _require(actor, "matching.manage_match_runs", run)
    if run.status not in CANCELLABLE:
        raise ValidationError("Only a match that is waiting or running can be cancelled.")
    before = {"status": run.status}
    was_ranking = run.ranking_deadline is not None and run.status == Status.QUEUED
    run.status, run.finished_at = Status.CANCELLED, timezone.now()
    run.error = f"Cancelled by {actor.full_name}." + (f" {reason.strip()}" if reason.strip() else "")
    run.save(update_fields=["status", "finished_at", "error"])
    audit_log(actor=actor, action="match_run.cancel", obj=run, before=before, after={"status": run.status}, reason=reason)
    if before["status"] == Status.RUNNING:
        _start_next_queued(run.program_id)
    if was_ranking:
        kind = run.get_kind_display().lower()
        for person, _ in _cohort_members(run):
            notify(
                event="match.cancelled",
                user=person,
                url=reverse("accounts:dashboard"),
                title=f"The {kind} mentorship match of {run.program.name} was called off",
                body="Your ranking for it will not be used. You do not need to do anything.",
                dedup_key=f"match_run:{run.pk}:cancelled:{person.pk}",
            )
    return run


def _failed(run_id: int, reason: str) -> None:
    """After the run was marked FAILED: the audit entry, then as for any ending."""
    audit_log(actor=None, action="match_run.fail", obj=MatchRun.objects.get(pk=run_id), reason=reason)
    _finished(run_id)


def _finished(run_id: int) -> None:
    """A run ended (succeeded or failed): tell its coordinator, and free its program's slot."""
    _notify_finished(run_id)
    _start_next_queued(MatchRun.objects.values_list("program_id", flat=True).get(pk=run_id))


def _start_next_queued(program_id: int) -> None:
    """Enqueue, on commit, the oldest run of the program that a delivery found "busy" behind the
    one that just ended, rather than leave it to the sweeper's next pass (up to 5 minutes)."""
    waiting = (
        MatchRun.objects.filter(program_id=program_id, status=Status.QUEUED)
        .filter(Q(ranking_deadline__isnull=True) | Q(ranking_deadline__lte=timezone.now()))
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if waiting is not None:
        enqueue_on_commit(RUN_MATCH, waiting)


def _notify_finished(run_id: int) -> None:
    """Tell whoever started the run (or, if they are gone, the program's coordinators) that it ended."""
    run = MatchRun.objects.select_related("program", "created_by").get(pk=run_id)
    people = [run.created_by] if run.created_by and run.created_by.is_active else list(
        User.objects.filter(
            memberships__program=run.program, memberships__role=Membership.Role.COORDINATOR, is_active=True
        ).distinct()
    )
    kind = run.get_kind_display().lower()
    if run.status == Status.SUCCEEDED:
        title = f"Your {kind} match for {run.program.name} is ready to review"
        body = f"{run.stats.get('matched', 0)} matched, {run.stats.get('unmatched', 0)} unmatched. Nobody is told until you publish."
    else:
        title = f"Your {kind} match for {run.program.name} failed"
        body = run.error
    for person in people:
        notify(
            event=f"match_run.{run.status}",
            user=person,
            url=run.get_absolute_url(),
            title=title,
            body=body,
            dedup_key=f"match_run:{run.pk}:{run.status}:{person.pk}",
        )


# --- Periodic.


def match_runs_sweep(*, now=None) -> dict:
    """Enqueue again the runs still QUEUED after ``LOST_AFTER`` (or whose ranking window
    has closed). A run RUNNING for longer than the task's hard time limit lost its worker
    and its message with it: it goes back to QUEUED and is enqueued again while it has
    attempts left, and fails otherwise. The task's claim makes a second enqueue harmless."""
    now = now or timezone.now()
    due = MatchRun.objects.filter(status=Status.QUEUED).filter(
        Q(ranking_deadline__isnull=True, created_at__lte=now - LOST_AFTER) | Q(ranking_deadline__lte=now)
    )
    requeued = 0
    for pk in list(due.values_list("pk", flat=True)):
        task_named(RUN_MATCH).delay(pk)
        requeued += 1

    cutoff = now - timedelta(seconds=current_app.conf.task_time_limit)
    stale = MatchRun.objects.filter(status=Status.RUNNING, started_at__lt=cutoff)
    failed = 0
    for pk in list(stale.values_list("pk", flat=True)):
        with transaction.atomic():
            # The claim's task id is cleared: the dead worker's message, should the broker
            # still restore it, then competes for the QUEUED run like any other delivery.
            if stale.filter(pk=pk, attempts__lt=MATCH_RUN_MAX_ATTEMPTS).update(
                status=Status.QUEUED, started_at=None, progress=0, claimed_by_task="",
                error="Restarted after the worker stopped.",
            ):
                enqueue_on_commit(RUN_MATCH, pk)
                requeued += 1
            elif stale.filter(pk=pk).update(status=Status.FAILED, finished_at=now, error=WORKER_STOPPED):
                _failed(pk, WORKER_STOPPED)
                failed += 1
    return {"requeued": requeued, "failed": failed}
