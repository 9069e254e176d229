"""Coordinator actions on cohort match runs: create, rank, review (decide, override,
accept the rest), publish, second round, cancel. Each locks the run first (``core.locking``),
so a run's decisions and its publish queue behind one another. Computing a run is the
worker's (``execution``); reads are in ``selectors``."""

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst

from accounts.models import Membership, MentorProfile, Program, User
from accounts.rules import person_named
from audit.services import audit_log
from core.bounds import SCHEDULED
from core.guards import require_perm
from core.locking import locked
from core.outbox import enqueue_on_commit

from .. import engine
from ..conflicts import block_message_for_coordinators, blocked_pairs, pairing_block
from ..match_cohort import left_out_reasons
from ..models import Kind, MatchProposal, MatchRanking, MatchRun, Mentorship, RankingSubmission
from ..notifications import notify, notify_many
from ..selectors.directory import active_mentee_count, mentor_directory
from ..services.mentorships import PairRefused, mentorships_create_many
from ..services.requests import requests_close_for_paired
from .execution import RUN_MATCH, pair_explanation, start_next_queued
from .freshness import run_changes, stale_message
from .ranking_notices import notify_ranking_window
from .selectors import DISPLACED_BY, OVERRIDE_FIT, cohort_members, holding_spot

Status = MatchRun.Status
Decision = MatchProposal.Decision


def _weights(weights: dict[str, float] | None) -> dict[str, Any]:
    try:
        return asdict(engine.Weights.from_mapping(weights or {}))
    except (TypeError, ValueError) as exc:
        raise ValidationError({"weights": str(exc)}) from exc


def _cohort_ids(program: Program, mentee_ids: Iterable[int], mentor_ids: Iterable[int]) -> tuple[list[int], list[int]]:
    mentee_ids, mentor_ids = sorted(set(mentee_ids)), sorted(set(mentor_ids))
    errors = {}
    if not mentee_ids:
        errors["mentee_ids"] = "Choose at least one resident."
    if not mentor_ids:
        errors["mentor_ids"] = "Choose at least one mentor."
    if both := set(mentee_ids) & set(mentor_ids):
        names = sorted(User.objects.filter(pk__in=both).values_list("first_name", "last_name", "email"))
        shown = [f"{first} {last}".strip() or email for first, last, email in names[:5]]
        more = f" and {len(names) - 5} more" if len(names) > 5 else ""
        errors["mentor_ids"] = (
            f"Nobody can be both a resident and a mentor in one match: {', '.join(shown)}{more} "
            f"{'is' if len(names) == 1 else 'are'} in both lists."
        )
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
    *,
    program: Program,
    actor: User,
    kind: str,
    algorithm: str,
    mentee_ids: Iterable[int],
    mentor_ids: Iterable[int],
    weights: dict[str, float] | None,
    ranking_deadline: datetime | None,
    parent: MatchRun | None = None,
    rerun_of: MatchRun | None = None,
    rankings_source: MatchRun | None = None,
) -> MatchRun:
    """The run, its cohort, and (``rankings_source``) the ranked lists it reuses from an earlier
    run, all in one audit entry."""
    if kind not in Kind.values:
        raise ValidationError({"kind": "Choose a kind of mentorship."})
    if algorithm not in MatchRun.Algorithm.values:
        raise ValidationError({"algorithm": "Choose stable or optimal."})
    if ranking_deadline is not None and ranking_deadline <= timezone.now():
        raise ValidationError({"ranking_deadline": "The ranking deadline must be in the future."})
    SCHEDULED.check_instant(ranking_deadline, zone=actor.time_zone, field="ranking_deadline")
    checked_weights = _weights(weights)
    mentee_ids, mentor_ids = _cohort_ids(program, mentee_ids, mentor_ids)
    # Not in the cohort at all: no ranking window asks them to rank, nobody proposes for them.
    left_out = left_out_reasons(mentee_ids, kind)
    mentee_ids = [pk for pk in mentee_ids if pk not in left_out]
    if not mentee_ids:
        raise ValidationError(
            {"mentee_ids": f"Every resident you chose already has an active {Kind(kind).label.lower()} mentor."}
        )
    run = MatchRun.objects.create(
        program=program,
        kind=kind,
        algorithm=algorithm,
        weights=checked_weights,
        created_by=actor,
        ranking_deadline=ranking_deadline,
        parent=parent,
        round=parent.round + 1 if parent else 1,
        rerun_of=rerun_of,
    )
    run.mentees.set(mentee_ids)
    run.mentors.set(mentor_ids)
    carried = _carry_rankings(run, rankings_source, mentee_ids=set(mentee_ids), mentor_ids=set(mentor_ids))
    audit_log(
        actor=actor,
        action="match_run.create",
        obj=run,
        after={
            "kind": kind,
            "algorithm": algorithm,
            "mentees": len(mentee_ids),
            "left_out": len(left_out),
            "mentors": len(mentor_ids),
            "round": run.round,
            "rerun_of": rerun_of.pk if rerun_of else None,
            "ranking_deadline": ranking_deadline.isoformat() if ranking_deadline else None,
            # Counts only: the lists themselves are confidential, even in the audit trail.
            **({"rankings": carried} if carried else {}),
        },
    )
    if ranking_deadline is None:
        # If the broker is unreachable the run stays queued and the sweeper enqueues it.
        enqueue_on_commit(RUN_MATCH, run.pk)
    else:
        # With a ranking window the run waits: the sweeper enqueues it once the deadline has passed.
        notify_ranking_window(run)
    return run


def _carry_rankings(
    run: MatchRun, source: MatchRun | None, *, mentee_ids: set[int], mentor_ids: set[int]
) -> dict[str, int] | None:
    """Copy into ``run`` the ranked lists ``source`` used, as far as they concern ``run``'s
    cohort: the lists of its residents and mentors, each without the people no longer on the
    other side of it (positions closed up, so "1st choice" stays the first still there). Lists
    of people not in the cohort are dropped. ``run.rankings_from`` names the run whose window
    collected them. Returns the counts for the audit entry (None: nothing to carry)."""
    if source is None:
        return None
    entries: dict[int, list[tuple[int, bool]]] = {}
    for author_id, target_id, is_never in source.rankings.order_by(
        "author_id", "never", "position", "target_id"
    ).values_list("author_id", "target_id", "never"):
        entries.setdefault(author_id, []).append((target_id, is_never))
    submissions = list(source.ranking_submissions.all())
    authors = {s.author_id for s in submissions} | entries.keys()
    if not authors:
        return None
    kept = authors & (mentee_ids | mentor_ids)
    rows: list[MatchRanking] = []
    counts: dict[int, tuple[int, int]] = {}
    dropped_entries = 0
    for author_id in sorted(kept):
        others = mentor_ids if author_id in mentee_ids else mentee_ids
        ranked = nevers = 0
        for target_id, is_never in entries.get(author_id, []):
            if target_id not in others:
                dropped_entries += 1
            elif is_never:
                nevers += 1
                rows.append(MatchRanking(run=run, author_id=author_id, target_id=target_id, never=True))
            else:
                ranked += 1
                rows.append(MatchRanking(run=run, author_id=author_id, target_id=target_id, position=ranked))
        counts[author_id] = (ranked, nevers)
    MatchRanking.objects.bulk_create(rows)
    RankingSubmission.objects.bulk_create(
        RankingSubmission(
            run=run,
            author_id=s.author_id,
            submitted_at=s.submitted_at,
            updated_at=s.updated_at,
            ranked=counts[s.author_id][0],
            never=counts[s.author_id][1],
        )
        for s in submissions
        if s.author_id in kept
    )
    if kept:
        run.rankings_from_id = source.rankings_from_id or source.pk
        run.save(update_fields=["rankings_from"])
    return {
        "collected_for": source.rankings_from_id or source.pk,
        "copied_from": source.pk,
        "residents": len(kept & mentee_ids),
        "mentors": len(kept & mentor_ids),
        "lists_dropped": len(authors - kept),
        "entries_dropped": dropped_entries,
    }


def _check_ranking_source(source: MatchRun, *, program: Program, kind: str, ranking_deadline: datetime | None) -> None:
    """``source``'s lists may be used by a new run of ``program`` and ``kind`` (the start form)."""
    if source.program_id != program.pk:
        raise ValidationError({"rankings_from": "Choose ranked lists collected in this program."})
    if ranking_deadline is not None:
        raise ValidationError(
            {
                "rankings_from": f"You chose to use the lists collected for match #{source.pk} and to open a new "
                "ranking window: leave the deadline empty to use them, or choose not to use them."
            }
        )
    if source.ranking_deadline is None or source.ranking_deadline > timezone.now():
        raise ValidationError(
            {"rankings_from": f"Match #{source.pk} has no closed ranking window: its lists cannot be used yet."}
        )
    if source.status == Status.CANCELLED:
        raise ValidationError(
            {
                "rankings_from": f"Match #{source.pk} was called off, and the people who ranked for it were told "
                "their lists would not be used."
            }
        )
    if source.kind != kind:
        raise ValidationError(
            {
                "rankings_from": f"The lists of match #{source.pk} rank {source.get_kind_display().lower()} mentors, "
                f"not {Kind(kind).label.lower()} mentors."
            }
        )


@transaction.atomic
def match_run_create(
    *,
    program: Program,
    actor: User,
    kind: str,
    algorithm: str,
    mentee_ids: Iterable[int],
    mentor_ids: Iterable[int],
    weights: dict[str, float] | None = None,
    ranking_deadline: datetime | None = None,
    rankings_from: MatchRun | None = None,
) -> MatchRun:
    """A QUEUED run for ``program``'s cohort. It starts once committed, or, with a
    ``ranking_deadline``, after cohort members have had until then to rank each other.

    ``rankings_from``: an earlier run of the program whose ranking window has closed; the new
    run starts at once with the lists its cohort submitted there (``_carry_rankings``), instead
    of asking again. At least one of the people chosen must have submitted one."""
    require_perm(actor, "matching.manage_match_runs", MatchRun(program=program))
    if rankings_from is not None:
        _check_ranking_source(rankings_from, program=program, kind=kind, ranking_deadline=ranking_deadline)
    run = _create(
        program=program,
        actor=actor,
        kind=kind,
        algorithm=algorithm,
        mentee_ids=mentee_ids,
        mentor_ids=mentor_ids,
        weights=weights,
        ranking_deadline=ranking_deadline,
        rankings_source=rankings_from,
    )
    if rankings_from is not None and run.rankings_from_id is None:
        raise ValidationError(
            {
                "rankings_from": f"Nobody you chose submitted a ranked list for match #{rankings_from.pk}: "
                "choose not to use its lists, or choose the people who ranked."
            }
        )
    return run


def _locked_run(run: MatchRun) -> MatchRun:
    return locked(MatchRun.objects.select_related("program")).get(pk=run.pk)


def _spots(run: MatchRun, mentor: User, proposal: MatchProposal) -> tuple[int, list[MatchProposal]]:
    """(spots ``mentor`` has in this run, the other proposals holding one), the run row locked:
    capacity − active mentorships + the run's extra spots for them."""
    profile = MentorProfile.objects.filter(user=mentor).first()
    if profile is None:
        raise ValidationError({"mentor": f"{mentor.full_name} has no mentor profile."})
    spots = max(profile.capacity - active_mentee_count(mentor), 0) + run.extra_spots_for(mentor.pk)
    holders = list(
        run.proposals.exclude(pk=proposal.pk)
        .filter(holding_spot(mentor.pk))
        .select_related("mentee")
        .order_by("mentee__last_name", "mentee__first_name", "pk")
    )
    return spots, holders


def _full_sentence(mentor: User, spots: int, holders: list[MatchProposal]) -> str:
    names = ", ".join(p.mentee.full_name for p in holders[:4]) + (
        f" and {len(holders) - 4} more" if len(holders) > 4 else ""
    )
    return (
        f"{mentor.full_name} has no spot left in this match "
        f"({len(holders)} of {spots} spot{'s' if spots != 1 else ''} taken{': ' + names if names else ''})."
    )


def _check_spot(run: MatchRun, mentor: User, proposal: MatchProposal) -> None:
    """``mentor`` must have a spot for ``proposal``'s mentee besides the other proposals holding one."""
    spots, holders = _spots(run, mentor, proposal)
    if len(holders) >= spots:
        raise ValidationError({"mentor": _full_sentence(mentor, spots, holders)})


def _refuse_if_stale(run: MatchRun) -> None:
    if changes := run_changes(run):
        raise ValidationError(stale_message(changes), code="stale")


def _decide(
    proposal: MatchProposal,
    actor: User,
    decision: str,
    note: str,
    override_mentor: User | None = None,
    override_fit: dict[str, Any] | None = None,
    displaced_by: MatchProposal | None = None,
) -> MatchProposal:
    before = {"decision": proposal.decision, "mentor": proposal.final_mentor_id}
    proposal.decision = decision
    proposal.override_mentor = override_mentor
    proposal.decision_note = note
    proposal.decided_by = actor
    proposal.decided_at = timezone.now()
    # The pair an override makes, scored as the run scored its own (``selectors.override_fit``
    # reads it); any other decision leaves the proposed pair, so an earlier override's goes.
    # Likewise a rejection made to give the spot to another proposal (``DISPLACED_BY``, the review
    # says "Displaced"): any later decision is the coordinator's own, so the marker goes.
    explanation = {k: v for k, v in (proposal.explanation or {}).items() if k not in (OVERRIDE_FIT, DISPLACED_BY)}
    if override_mentor is not None and override_fit is not None:
        explanation[OVERRIDE_FIT] = {"mentor": override_mentor.pk, **override_fit}
    if displaced_by is not None:
        explanation[DISPLACED_BY] = displaced_by.pk
    proposal.explanation = explanation
    proposal.save(
        update_fields=["decision", "override_mentor", "decision_note", "decided_by", "decided_at", "explanation"]
    )
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


def _not_reviewable(run: MatchRun) -> ValidationError:
    if run.is_archived:
        return ValidationError("This match was discarded: its proposals cannot change.")
    return ValidationError("This match is not finished, or already published: its proposals cannot change.")


def _locked_proposal(
    proposal: MatchProposal, actor: User, *, allow_stale: bool = False
) -> tuple[MatchRun, MatchProposal]:
    """The run locked (decisions of one run queue here, and behind a publish), checked, and
    the proposal read under that lock. Only rejecting is allowed in an out-of-date run."""
    run = _locked_run(proposal.run)
    require_perm(actor, "matching.manage_match_runs", run)
    if not run.can_review():
        raise _not_reviewable(run)
    if not allow_stale:
        _refuse_if_stale(run)
    proposal = MatchProposal.objects.select_related("mentee", "mentor").get(pk=proposal.pk, run=run)
    proposal.run = run
    return run, proposal


@transaction.atomic
def proposal_decide(*, proposal: MatchProposal, actor: User, decision: str, note: str = "") -> MatchProposal:
    """Accept or reject the engine's proposal (accepting needs a spot left with its mentor)."""
    run, proposal = _locked_proposal(proposal, actor, allow_stale=decision == Decision.REJECTED)
    if decision == Decision.ACCEPTED:
        if proposal.mentor is None:
            raise ValidationError("This resident was not matched: choose a mentor with an override.")
        _check_spot(run, proposal.mentor, proposal)
    elif decision != Decision.REJECTED:
        raise ValidationError({"decision": "Accept or reject the proposal."})
    return _decide(proposal, actor, decision, note.strip())


MAKE_ROOM_RAISE = "raise"
MAKE_ROOM_DISPLACE = "displace:"


@transaction.atomic
def proposal_override(
    *, proposal: MatchProposal, actor: User, mentor: User, note: str | None, make_room: str = ""
) -> MatchProposal:
    """Pair the proposal's mentee with ``mentor`` instead (a cohort mentor), with a reason.

    If ``mentor`` has no spot left in this run, the coordinator chooses how to make room:
    ``make_room="raise"`` gives the mentor one more spot for this run only (``run.extra_spots``,
    honoured by publish), ``"displace:<proposal id>"`` rejects that other proposal holding one of
    the mentor's spots (its resident is left without a mentor, and the note says why). Without a
    choice the refusal (on ``make_room``) says so."""
    run, proposal = _locked_proposal(proposal, actor)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Say briefly why you are changing this pairing."})
    if not run.mentors.filter(pk=mentor.pk).exists():
        # Whoever this is, they are not in the coordinator's cohort: not named (issue 11).
        raise ValidationError({"mentor": f"{capfirst(person_named(actor, mentor))} is not a mentor in this match."})
    if mentor.pk == proposal.mentor_id:
        raise ValidationError({"mentor": f"{mentor.full_name} is the proposed mentor: accept the proposal instead."})
    if block := pairing_block(proposal.mentee, mentor):
        raise ValidationError({"mentor": block_message_for_coordinators(block, proposal.mentee, mentor)})
    make_room = (make_room or "").strip()
    spots, holders = _spots(run, mentor, proposal)
    if len(holders) >= spots:
        if make_room == MAKE_ROOM_RAISE:
            before = run.extra_spots_for(mentor.pk)
            run.extra_spots = {**(run.extra_spots or {}), str(mentor.pk): before + 1}
            run.save(update_fields=["extra_spots"])
            audit_log(
                actor=actor,
                action="match_run.extra_spot",
                obj=run,
                before={"mentor": mentor.pk, "extra_spots": before},
                after={"mentor": mentor.pk, "extra_spots": before + 1},
                reason=note,
            )
        elif make_room.startswith(MAKE_ROOM_DISPLACE):
            wanted = make_room.removeprefix(MAKE_ROOM_DISPLACE)
            displaced = next((p for p in holders if str(p.pk) == wanted), None)
            if displaced is None:
                raise ValidationError(
                    {"make_room": f"Choose one of the residents holding {mentor.full_name}'s spots in this match."}
                )
            displaced.run = run
            _decide(
                displaced,
                actor,
                Decision.REJECTED,
                f"Displaced: {mentor.full_name}'s spot in this match went to {proposal.mentee.full_name}. {note}",
                displaced_by=proposal,
            )
        elif make_room:
            raise ValidationError({"make_room": "Choose to give one more spot, or whom to displace."})
        else:
            raise ValidationError(
                {
                    "make_room": ValidationError(
                        _full_sentence(mentor, spots, holders)
                        + f" Give {mentor.full_name} one more spot for this match, or displace one of these residents.",
                        code="no_spot",
                    )
                }
            )
    return _decide(
        proposal,
        actor,
        Decision.OVERRIDDEN,
        note,
        override_mentor=mentor,
        override_fit=pair_explanation(run, proposal.mentee, mentor),
    )


@transaction.atomic
def match_run_accept_pending(
    *, run: MatchRun, actor: User
) -> tuple[list[MatchProposal], list[tuple[MatchProposal, str]]]:
    """Accept every proposal still waiting for a decision, each within its mentor's spots:
    (accepted, [(refused, why)]). The pending ones are read under the run's lock, so a
    decision or override another coordinator made meanwhile is left as they made it."""
    run = _locked_run(run)
    require_perm(actor, "matching.manage_match_runs", run)
    if not run.can_review():
        raise _not_reviewable(run)
    _refuse_if_stale(run)
    return _accept_pending(run, actor)


def _accept_pending(run: MatchRun, actor: User) -> tuple[list[MatchProposal], list[tuple[MatchProposal, str]]]:
    """``match_run_accept_pending`` once the run is locked and checked (publish uses it too)."""
    accepted: list[MatchProposal] = []
    refused: list[tuple[MatchProposal, str]] = []
    pending = run.proposals.filter(decision=Decision.PENDING, mentor__isnull=False).select_related("mentee", "mentor")
    for proposal in pending:
        proposal.run = run
        assert proposal.mentor is not None  # pending excludes the unmatched
        try:
            _check_spot(run, proposal.mentor, proposal)
        except ValidationError as exc:
            refused.append((proposal, " ".join(exc.messages)))
        else:
            accepted.append(_decide(proposal, actor, Decision.ACCEPTED, ""))
    return accepted, refused


@transaction.atomic
def match_run_publish(*, run: MatchRun, actor: User, accept_waiting: bool = False) -> list[Mentorship]:
    """Start a mentorship for every accepted or overridden proposal, all or none: if one
    pair no longer fits (a spot was taken since), nothing is published and the error names
    the pair. Then notify both people of each pair, and each resident left without a
    mentor (with the engine's reason, spoken to them). A run is published once.

    Proposals still waiting for a decision are not published: their residents are told they
    have no mentor from this match, and the run shows them as not decided before publishing.
    ``accept_waiting`` accepts them first (as ``match_run_accept_pending``), under the same lock
    and all or none: if one of them no longer has its mentor's spot, nothing is accepted or published."""
    run = _locked_run(run)
    require_perm(actor, "matching.manage_match_runs", run)
    if run.is_published:
        raise ValidationError("This match has already been published.")
    if run.is_archived:
        raise ValidationError("This match was discarded: it cannot be published.")
    if not run.can_publish():
        raise ValidationError("Only a finished match can be published.")
    _refuse_if_stale(run)
    if accept_waiting:
        _, refused = _accept_pending(run, actor)
        if refused:
            raise ValidationError(
                [f"{p.mentee.full_name}: {why}" for p, why in refused]
                + ["Nothing was accepted or published: decide these first, or publish only the decided pairings."]
            )
    not_decided = run.proposals.filter(decision=Decision.PENDING, mentor__isnull=False).count()
    proposals = list(
        run.proposals.filter(decision__in=[Decision.ACCEPTED, Decision.OVERRIDDEN]).select_related(
            "mentee", "mentor", "override_mentor"
        )
    )
    if not proposals:
        raise ValidationError("Accept or override at least one proposal before publishing.")
    # Mentor profiles by user id (``core.locking``), so a concurrent publish or accept cannot deadlock with this one.
    proposals.sort(key=lambda p: (p.final_mentor_id, p.mentee_id))
    # Kept-apart pairs first, in one read, said once in the coordinator's words.
    blocked = blocked_pairs({p.mentee_id for p in proposals}, {p.final_mentor_id for p in proposals})
    for p in proposals:
        if block := blocked.get((p.mentee_id, p.final_mentor_id)):
            raise ValidationError(
                f"{block_message_for_coordinators(block, p.mentee, p.final_mentor)} Nothing was published."
            )
    # All pairs checked and started at once (a thousand in a large program), as
    # ``mentorship_create`` would one by one, in the order above.
    try:
        started = mentorships_create_many(
            pairs=[(p.mentee, p.final_mentor, run.extra_spots_for(p.final_mentor_id)) for p in proposals],
            program=run.program,
            kind=run.kind,
            source=Mentorship.Source.MATCH_RUN,
            actor=actor,
        )
    except PairRefused as exc:
        # The refusal already names the pair (or the mentor); say it once, then what to do.
        raise ValidationError(
            f"{' '.join(exc.messages)} Nothing was published; change {proposals[exc.index].mentee.full_name}'s "
            "pairing and publish again."
        ) from exc
    # Each paired resident's other requests of this kind can no longer be accepted: they close.
    requests_close_for_paired(pairs=[(m.mentee_id, run.kind) for m in started], actor=actor)
    run.published_at, run.published_by = timezone.now(), actor
    run.save(update_fields=["published_at", "published_by"])
    audit_log(
        actor=actor,
        action="match_run.publish",
        obj=run,
        after={"mentorships": len(started), "not_decided": not_decided},
    )
    kind = run.get_kind_display().lower()
    notes = []
    for m in started:
        url = m.get_absolute_url()
        notes.append(
            {
                "event": "match.published",
                "user": m.mentee,
                "url": url,
                "title": f"Your {kind} mentor is {m.mentor.full_name}",
                "dedup_key": f"match_run:{run.pk}:mentorship:{m.pk}:mentee",
            }
        )
        notes.append(
            {
                "event": "match.published",
                "user": m.mentor,
                "url": url,
                "title": f"You are now {m.mentee.full_name}'s {kind} mentor",
                "dedup_key": f"match_run:{run.pk}:mentorship:{m.pk}:mentor",
            }
        )
    directory = reverse("matching:mentor-directory")
    for p in run.proposals.exclude(decision__in=[Decision.ACCEPTED, Decision.OVERRIDDEN]).select_related("mentee"):
        reason = p.why_not_for_mentee if p.mentor_id is None and p.why_not_for_mentee else ""
        notes.append(
            {
                "event": "match.unmatched",
                "user": p.mentee,
                "url": directory,
                "title": f"No {kind} mentor from this match yet",
                "body": (f"Why: {reason}. " if reason else "")
                + "Your coordinator may run a second round, and you can find a mentor and send a request yourself.",
                "dedup_key": f"match_run:{run.pk}:unmatched:{p.mentee_id}",
            }
        )
    notify_many(notes)
    return started


def _second_round_cohort(run: MatchRun) -> tuple[list[int], list[int]]:
    """The residents of published ``run`` still without a mentor of its kind, and its mentors
    who still have a spot; a ValidationError saying why there can be no second round now."""
    if not run.can_start_second_round():
        raise ValidationError("Publish this match before starting a second round.")
    # One that failed, was cancelled or is published is done.
    if run.next_rounds.exclude(status__in=[Status.FAILED, Status.CANCELLED]).filter(published_at__isnull=True).exists():
        raise ValidationError("A second round of this match is already under way: publish or cancel it first.")
    cohort = list(run.mentees.values_list("pk", flat=True))
    left_out = left_out_reasons(cohort, run.kind)
    mentee_ids = [pk for pk in cohort if pk not in left_out]
    if not mentee_ids:
        raise ValidationError("Every resident of this match has a mentor.")
    mentor_ids = list(
        mentor_directory()
        .filter(user_id__in=run.mentors.values("pk"), accepting_mentees=True, open_spots__gt=0)
        .values_list("user_id", flat=True)
    )
    if not mentor_ids:
        raise ValidationError("No mentor of this match has a spot left.")
    return mentee_ids, mentor_ids


def second_round_refusal(run: MatchRun) -> str:
    """Why a second round of ``run`` cannot start now, or "": the run's page shows it beside a
    disabled button rather than refusing after the click. The same checks as
    ``match_run_second_round``, which makes them again under the run's lock."""
    try:
        _second_round_cohort(run)
    except ValidationError as exc:
        return " ".join(exc.messages)
    return ""


@transaction.atomic
def match_run_second_round(*, run: MatchRun, actor: User) -> MatchRun:
    """A new QUEUED run over the residents of a published run who still have no mentor of
    its kind, and its mentors who still have a spot. Published pairs are left alone."""
    run = _locked_run(run)
    require_perm(actor, "matching.manage_match_runs", run)
    # Under the run's lock: two coordinators (or a double click) cannot start two rounds
    # over the same residents.
    mentee_ids, mentor_ids = _second_round_cohort(run)
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
def match_run_cancel(*, run: MatchRun, actor: User, reason: str = "") -> MatchRun:
    """Stop a run that is waiting for rankings, queued or running. A task already computing
    it finds the run no longer RUNNING and throws its result away; nothing was proposed yet.
    Cohort members invited to rank are told the match was called off."""
    run = _locked_run(run)
    require_perm(actor, "matching.manage_match_runs", run)
    if run.status not in CANCELLABLE:
        raise ValidationError("Only a match that is waiting or running can be cancelled.")
    before = {"status": run.status}
    was_ranking = run.ranking_deadline is not None and run.status == Status.QUEUED
    run.status, run.finished_at = Status.CANCELLED, timezone.now()
    run.error = f"Cancelled by {actor.full_name}." + (f" {reason.strip()}" if reason.strip() else "")
    run.save(update_fields=["status", "finished_at", "error"])
    audit_log(
        actor=actor, action="match_run.cancel", obj=run, before=before, after={"status": run.status}, reason=reason
    )
    if before["status"] == Status.RUNNING:
        start_next_queued(run.program_id)
    if was_ranking:
        kind = run.get_kind_display().lower()
        for person, _ in cohort_members(run):
            notify(
                event="match.cancelled",
                user=person,
                url=reverse("matching:dashboard"),
                title=f"The {kind} mentorship match of {run.program.name} was called off",
                body="Your ranking for it will not be used. You do not need to do anything.",
                dedup_key=f"match_run:{run.pk}:cancelled:{person.pk}",
            )
    return run


@transaction.atomic
def match_run_rerun(*, run: MatchRun, actor: User) -> MatchRun:
    """The same match again, as the program is now: a new QUEUED run with ``run``'s kind,
    algorithm, weights and cohort, minus the residents who have a mentor of its kind since,
    and the ranked lists ``run`` used (``_carry_rankings``; no new ranking window). ``run`` itself is
    discarded (archived), so a second click finds it done and starts nothing."""
    run = _locked_run(run)
    require_perm(actor, "matching.manage_match_runs", run)
    if run.is_archived:
        again = run.reruns.order_by("-pk").values_list("pk", flat=True).first()
        raise ValidationError("This match was discarded" + (f"; it was re-run as match #{again}." if again else "."))
    if run.is_published:
        raise ValidationError("A published match cannot be re-run: start a second round for the unmatched instead.")
    if not run.can_rerun():
        raise ValidationError("This match has not finished yet: wait for it, or cancel it.")
    cohort = list(run.mentees.values_list("pk", flat=True))
    paired = set(
        Mentorship.objects.filter(status=Mentorship.Status.ACTIVE, kind=run.kind, mentee_id__in=cohort).values_list(
            "mentee_id", flat=True
        )
    )
    # People who left the program or lost their profile since are left out rather than refused.
    mentee_ids = set(
        User.objects.filter(
            pk__in=[pk for pk in cohort if pk not in paired],
            mentee_profile__isnull=False,
            memberships__program=run.program,
            memberships__role=Membership.Role.RESIDENT,
        ).values_list("pk", flat=True)
    )
    mentor_ids = set(
        User.objects.filter(
            pk__in=run.mentors.values("pk"), mentor_profile__isnull=False, memberships__program=run.program
        ).values_list("pk", flat=True)
    )
    if not mentee_ids:
        raise ValidationError(f"Every resident of this match now has a {run.get_kind_display().lower()} mentor.")
    if not mentor_ids:
        raise ValidationError("No mentor of this match is still a mentor of the program.")
    new = _create(
        program=run.program,
        actor=actor,
        kind=run.kind,
        algorithm=run.algorithm,
        mentee_ids=mentee_ids,
        mentor_ids=mentor_ids,
        weights=run.weights,
        ranking_deadline=None,
        parent=run.parent,
        rerun_of=run,
        # The lists ``run`` used, whether its own window collected them or it reused them in turn.
        rankings_source=run if run.ranking_deadline or run.rankings_from_id or run.rerun_of_id else None,
    )
    _archive(run, actor, reason=f"Re-run as match #{new.pk}.")
    return new


def _archive(run: MatchRun, actor: User, reason: str) -> None:
    run.archived_at, run.archived_by = timezone.now(), actor
    run.save(update_fields=["archived_at", "archived_by"])
    audit_log(actor=actor, action="match_run.archive", obj=run, after={"archived": True}, reason=reason)


@transaction.atomic
def match_run_archive(*, run: MatchRun, actor: User, reason: str = "") -> MatchRun:
    """Discard a run nobody will publish: it stays, read-only, with its audit trail, out of the
    default list. A run waiting or running is cancelled first; a published one stays. Twice is once."""
    run = _locked_run(run)
    require_perm(actor, "matching.manage_match_runs", run)
    if run.is_archived:
        return run
    if run.is_published:
        raise ValidationError("A published match cannot be discarded: its mentorships have started.")
    if not run.can_archive():
        raise ValidationError("A match that is waiting or running cannot be discarded: cancel it first.")
    _archive(run, actor, reason=(reason or "").strip()[:500])
    return run
