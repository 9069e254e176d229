"""The worker's side of a match run: claim, compute, fail, sweep, and the tasks that call them.

The run row is the outbox. ``services.match_run_create`` commits a QUEUED run and enqueues
``run_match`` on commit; the task claims the row with a conditional UPDATE that counts
``attempts``. A message redelivered after its worker was killed (acks_late) carries the
same task id and takes the claim over; any other delivery finds nothing to do. After
``MATCH_RUN_MAX_ATTEMPTS`` claims the run fails instead of being tried again. The sweeper
enqueues again the runs whose message was lost, including runs whose worker died with
its message, within the same bound. The engine is pure: this module loads the cohort
(``matching.match_cohort``), calls it, and stores what it says.

The tasks keep the names they were registered under in ``matching/tasks.py``, so messages
already queued and the beat schedule (``config/celery.py``) still find them; the worker
imports this module through the Celery app's ``include``.
"""

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Membership, MenteeProfile, User
from audit.services import audit_log
from core.outbox import enqueue_on_commit, task_named

from .. import engine
from ..match_cohort import Cohort, load_cohort
from ..models import MatchProposal, MatchRun
from ..notifications import notify
from ..recommendations import COMPONENT_LABELS, mentee_record, mentor_record, mentor_records, vocabulary
from ..selectors.directory import mentor_directory
from .freshness import fingerprint
from .ranking_notices import notify_ranking_closed

logger = logging.getLogger(__name__)

Status = MatchRun.Status

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
def _claim(run_id: int, *, task_id: str, now: datetime) -> int | None:
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
        run = MatchRun.objects.select_related("program").get(pk=run_id)
        if run.ranking_deadline is not None:
            # The window's deadline has passed and the run starts: everyone who could rank is
            # told, once (a coordinator's early close told them already; the dedup key holds).
            notify_ranking_closed(run)
        return run.attempts
    if runs.update(status=Status.FAILED, finished_at=now, error=WORKER_STOPPED):
        _failed(run_id, WORKER_STOPPED)
        return MATCH_RUN_MAX_ATTEMPTS + 1
    return None


def _set(run_id: int, attempt: int, **fields: Any) -> int:
    """One short UPDATE of the RUNNING run, committed on its own (the progress bar reads it),
    made only while ``attempt`` still holds the claim: a superseded attempt writes nothing."""
    try:
        return MatchRun.objects.filter(pk=run_id, status=Status.RUNNING, attempts=attempt).update(**fields)
    except OperationalError:
        logger.warning("Match run %s: could not record %s", run_id, fields, exc_info=True)
        return 0


def _fail(run_id: int, attempt: int, error: str) -> None:
    if _set(run_id, attempt, status=Status.FAILED, finished_at=timezone.now(), error=error):
        try:
            with transaction.atomic():
                _failed(run_id, error)
        except OperationalError:
            logger.warning("Match run %s: could not record its failure", run_id, exc_info=True)


def _compute(run_id: int, attempt: int) -> str:
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = round(now - clock, 4)
        clock = now

    run = MatchRun.objects.select_related("program").get(pk=run_id)
    # Read before the cohort: whatever changes after this moment makes the run out of date.
    inputs = fingerprint(run)
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
            status=Status.SUCCEEDED,
            progress=100,
            finished_at=timezone.now(),
            stats=stats,
            error="",
            inputs=inputs,
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


def complete_rankings(
    cohort: Cohort, score_map: dict[Any, dict[Any, float]]
) -> tuple[dict[Any, list[Any]], dict[Any, list[Any]]]:
    """Each submitted ranking, followed by the people its author left blank, best fit first:
    on the ranking page a blank means "no preference", not "never" (that is the "never" box).
    Authors who did not rank at all stay absent: the engine takes score order for them."""

    def complete(ranked: list[Any], scored: dict[Any, float]) -> list[Any]:
        listed = set(ranked)
        return list(ranked) + sorted((x for x in scored if x not in listed), key=lambda x: (-scored[x], x))

    by_mentor: dict[Any, dict[Any, float]] = {}
    for mentee_id, row in score_map.items():
        for mentor_id, score in row.items():
            by_mentor.setdefault(mentor_id, {})[mentee_id] = score
    return (
        {i: complete(ranked, score_map.get(i, {})) for i, ranked in cohort.mentee_rankings.items()},
        {j: complete(ranked, by_mentor.get(j, {})) for j, ranked in cohort.mentor_rankings.items()},
    )


def _proposals(
    run: MatchRun,
    cohort: Cohort,
    result: engine.MatchResult,
    why: dict[str, dict[Any, str]],
    weights: engine.Weights,
) -> list[MatchProposal]:
    mentees = {r.id: r for r in cohort.mentees}
    mentors = {r.id: r for r in cohort.mentors}
    vocab = vocabulary()
    # The fit residents and mentors see elsewhere (directory, ranking page) uses the standard weights;
    # a run with its own scores every pair a second time with them, for the review to show both.
    standard = weights.normalised() == engine.Weights().normalised()
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
        pair, explanation = _explain(mentees[mentee_id], mentors[mentor_id], weights, vocab, standard=standard)
        mentor_list = cohort.mentor_rankings.get(mentor_id)
        proposals.append(
            MatchProposal(
                run=run,
                mentee_id=mentee_id,
                mentor_id=mentor_id,
                score=result.scores.get(mentee_id, pair.score),
                rank_obtained=result.ranks.get(mentee_id),
                mentor_rank=mentor_list.index(mentee_id) + 1 if mentor_list and mentee_id in mentor_list else None,
                explanation=explanation,
            )
        )
    return proposals


def _explain(
    mentee: engine.MenteeRecord,
    mentor: engine.MentorRecord,
    weights: engine.Weights,
    vocab: engine.Vocabulary,
    *,
    standard: bool,
) -> tuple[engine.PairScore, dict[str, Any]]:
    """A pair scored with the run's ``weights``, and what a proposal stores of it: that score,
    the fit everyone else sees (the standard weights; the same number when ``standard``), the
    components with their reasons."""
    # Only coordinators see proposals: reasons speak about the resident, not to them.
    pair = engine.explain_pair(mentee, mentor, weights=weights, vocabulary=vocab, audience="coordinator")
    fit = pair.score if standard else engine.explain_pair(mentee, mentor).score
    return pair, {
        "score": pair.score,
        "fit": fit,
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
    }


def pair_explanation(run: MatchRun, mentee: User, mentor: User) -> dict[str, Any] | None:
    """``mentee`` and ``mentor`` scored as ``run`` scored its proposed pairs (its weights, the same
    records and engine, ``_explain``), for a pair the run did not propose (an override); None if
    either has no active profile any more. What they are now: a run out of date cannot be
    overridden (``services._refuse_if_stale``), so that is what the run read."""
    mentee_profile = (
        MenteeProfile.objects.filter(user=mentee, user__is_active=True).select_related("user", "career_stage").first()
    )
    mentor_profile = mentor_directory().filter(user=mentor).first()
    if mentee_profile is None or mentor_profile is None:
        return None
    weights = engine.Weights.from_mapping(run.weights or {})
    _, explanation = _explain(
        mentee_record(mentee_profile, specialty_id=run.program.specialty_id),
        mentor_record(mentor_profile),
        weights,
        vocabulary(),
        standard=weights.normalised() == engine.Weights().normalised(),
    )
    return explanation


def mentee_scores(run: MatchRun, mentee: User, mentor_ids: list[int]) -> dict[int, float]:
    """{mentor id: score} of ``mentee`` with each of ``mentor_ids`` (the run's mentors), scored as
    ``pair_explanation`` scores one pair (the run's weights, the same records), in one engine
    call and a fixed number of queries however many mentors: the override form's choices. Empty
    if the resident has no active profile any more; a mentor without one has no score."""
    mentee_profile = (
        MenteeProfile.objects.filter(user=mentee, user__is_active=True).select_related("user", "career_stage").first()
    )
    if mentee_profile is None or not mentor_ids:
        return {}
    _, mentors = mentor_records(mentor_directory().filter(user_id__in=mentor_ids))
    scores = engine.score_cohort(
        [mentee_record(mentee_profile, specialty_id=run.program.specialty_id)],
        mentors,
        weights=engine.Weights.from_mapping(run.weights or {}),
    )
    # The records' ids are user ids (ints); the engine types them as any hashable.
    return {k: v for k, v in scores.as_dict().get(mentee.pk, {}).items() if isinstance(k, int)}


def _stats(cohort: Cohort, result: engine.MatchResult) -> dict[str, Any]:
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


def _failed(run_id: int, reason: str) -> None:
    """After the run was marked FAILED: the audit entry, then as for any ending."""
    audit_log(actor=None, action="match_run.fail", obj=MatchRun.objects.get(pk=run_id), reason=reason)
    _finished(run_id)


def _finished(run_id: int) -> None:
    """A run ended (succeeded or failed): tell its coordinator, and free its program's slot."""
    _notify_finished(run_id)
    start_next_queued(MatchRun.objects.values_list("program_id", flat=True).get(pk=run_id))


def start_next_queued(program_id: int) -> None:
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
    people = (
        [run.created_by]
        if run.created_by and run.created_by.is_active
        else list(
            User.objects.filter(
                memberships__program=run.program, memberships__role=Membership.Role.COORDINATOR, is_active=True
            ).distinct()
        )
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


def match_runs_sweep(*, now: datetime | None = None) -> dict[str, int]:
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
                status=Status.QUEUED,
                started_at=None,
                progress=0,
                claimed_by_task="",
                error="Restarted after the worker stopped.",
            ):
                enqueue_on_commit(RUN_MATCH, pk)
                requeued += 1
            elif stale.filter(pk=pk).update(status=Status.FAILED, finished_at=now, error=WORKER_STOPPED):
                _failed(pk, WORKER_STOPPED)
                failed += 1
    return {"requeued": requeued, "failed": failed}
