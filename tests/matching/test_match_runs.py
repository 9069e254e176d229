"""Cohort match runs: create → the task computes proposals → coordinators review and publish.

The cohort: six residents of the program (Alice, Bob and four more), each with one goal,
and three mentors whose expertise covers two goals each: Carol (research, teaching;
2 spots), Dave (leadership, clinical skills; 2 spots) and Erin (career planning,
wellness; 1 spot). Five spots for six residents, so one resident is left unmatched.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from accounts.models import Goal, Membership
from audit.models import AuditEntry
from matching import engine
from matching.match_runs import execution
from matching.match_runs.execution import WORKER_STOPPED, match_runs_sweep
from matching.match_runs.selectors import match_run_compare, rankings_for
from matching.match_runs.services import (
    match_run_cancel,
    match_run_create,
    match_run_publish,
    match_run_second_round,
    proposal_decide,
    proposal_override,
    ranking_submit,
)
from matching.models import MatchProposal, MatchRanking, MatchRun, Mentorship, Notification
from matching.tasks import run_match
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory

pytestmark = pytest.mark.django_db

Status = MatchRun.Status
Decision = MatchProposal.Decision


@pytest.fixture
def cohort(program, resident, other_resident, attending, other_attending):
    goals = {g.slug: g for g in Goal.objects.all()}
    erin = UserFactory(first_name="Erin", last_name="Evans")
    MembershipFactory(user=erin, program=program, role=Membership.Role.FACULTY)
    MentorProfileFactory(user=erin, capacity=1)
    attending.mentor_profile.expertise.set([goals["research"], goals["teaching"]])
    other_attending.mentor_profile.expertise.set([goals["leadership"], goals["clinical-skills"]])
    erin.mentor_profile.expertise.set([goals["career-planning"], goals["wellness-and-worklife-balance"]])

    residents = [resident, other_resident]
    for first in ["Femi", "Gita", "Hugo", "Ines"]:
        user = UserFactory(first_name=first, last_name="Resident")
        MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
        MenteeProfileFactory(user=user)
        residents.append(user)
    wanted = [
        "research",
        "teaching",
        "leadership",
        "clinical-skills",
        "career-planning",
        "wellness-and-worklife-balance",
    ]
    for user, slug in zip(residents, wanted, strict=True):
        user.mentee_profile.goals.set([goals[slug]])
    return residents, [attending, other_attending, erin]


def _create(coordinator, program, residents, mentors, **kwargs):
    kwargs.setdefault("kind", "career")
    kwargs.setdefault("algorithm", "stable")
    return match_run_create(
        program=program,
        actor=coordinator,
        mentee_ids=[r.pk for r in residents],
        mentor_ids=[m.pk for m in mentors],
        **kwargs,
    )


@pytest.fixture
def start_run(coordinator, program, cohort, django_capture_on_commit_callbacks):
    """``start_run(**options)``: create a run for the cohort; its on-commit task runs in-process."""

    def start(**kwargs):
        residents, mentors = cohort
        with django_capture_on_commit_callbacks(execute=True):
            run = _create(coordinator, program, residents, mentors, **kwargs)
        run.refresh_from_db()
        return run

    return start


def _assignment(run):
    return {p.mentee_id: p.final_mentor_id for p in run.proposals.all()}


def _accept_all(run, coordinator):
    for proposal in run.proposals.exclude(mentor=None):
        proposal_decide(proposal=proposal, actor=coordinator, decision=Decision.ACCEPTED)


# --- Running a match.


def test_a_run_proposes_a_mentor_or_a_reason_for_every_resident(start_run, cohort):
    residents, mentors = cohort
    run = start_run()

    assert run.status == Status.SUCCEEDED and run.progress == 100 and run.error == ""
    assert run.started_at <= run.finished_at
    proposals = list(run.proposals.all())
    assert sorted(p.mentee_id for p in proposals) == sorted(r.pk for r in residents)
    capacity = {m.pk: m.mentor_profile.capacity for m in mentors}
    for mentor_id, spots in capacity.items():
        assert sum(p.mentor_id == mentor_id for p in proposals) <= spots
    matched = [p for p in proposals if p.mentor_id]
    unmatched = [p for p in proposals if not p.mentor_id]
    assert len(matched) == 5 and len(unmatched) == 1
    for p in matched:
        assert p.score is not None and p.rank_obtained >= 1
        assert {c["name"] for c in p.explanation["components"]} == set(engine.COMPONENTS)
        assert all(c["reason"] for c in p.explanation["components"])
    # The review speaks about the resident; the resident is told in their own words once published.
    assert unmatched[0].why_not.startswith("every mentor the resident could be paired with filled their spots")
    assert unmatched[0].why_not_for_mentee.startswith("every mentor you could be paired with filled their spots")
    goals = [c["reason"] for p in matched for c in p.explanation["components"] if c["name"] == "goals"]
    assert goals and all(reason.startswith("1 of the resident's 1 goals") for reason in goals), goals
    assert run.stats["matched"] == 5 and run.stats["unmatched"] == 1
    assert run.stats["blocking_pairs"] == 0
    assert run.stats["mentor_load"][str(mentors[2].pk)] == {"assigned": 1, "capacity": 1}
    assert set(run.stats["seconds"]) == {"load", "score", "solve", "write"}


def test_the_goal_each_mentor_covers_decides_the_pairs(start_run, cohort):
    (alice, bob, femi, gita, hugo, ines), (carol, dave, erin) = cohort
    assignment = _assignment(start_run())
    assert assignment[alice.pk] == carol.pk and assignment[bob.pk] == carol.pk
    assert assignment[femi.pk] == dave.pk and assignment[gita.pk] == dave.pk
    # Erin's one spot: Hugo and Ines fit her equally, and ties go to the lower id.
    assert assignment[hugo.pk] == erin.pk and assignment[ines.pk] is None


def test_optimal_mode_matches_as_many_as_there_are_spots(start_run):
    run = start_run(algorithm="optimal")
    assert run.status == Status.SUCCEEDED
    assert run.stats["matched"] == 5 and run.stats["worst_score"] is not None


def test_a_second_delivery_of_the_task_does_nothing(coordinator, program, cohort):
    run = _create(coordinator, program, *cohort)  # on-commit callbacks do not run here: the task is ours to call

    assert run_match(run.pk) == "succeeded"
    first = list(MatchProposal.objects.filter(run=run).values_list("pk", "mentee_id", "mentor_id"))
    assert run_match(run.pk) == "not_queued"

    assert list(MatchProposal.objects.filter(run=run).values_list("pk", "mentee_id", "mentor_id")) == first
    assert len(first) == 6


def test_a_failure_is_recorded_with_its_reason(coordinator, program, cohort, monkeypatch):
    def broken(instance, mode):
        raise ValueError("mentor 'x': negative capacity -1")

    monkeypatch.setattr(engine, "solve", broken)
    run = _create(coordinator, program, *cohort)

    assert run_match(run.pk) == "failed"

    run.refresh_from_db()
    assert run.status == Status.FAILED and run.finished_at is not None
    assert run.error == "The match could not be computed: mentor 'x': negative capacity -1"
    assert not run.proposals.exists()


def test_database_errors_are_retried_then_the_run_stays_failed(coordinator, program, cohort, monkeypatch):
    def flaky(instance, mode):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(engine, "solve", flaky)
    run = _create(coordinator, program, *cohort)
    # Each retry claims the run again, so the retries run out exactly when its attempts do.
    assert OperationalError in run_match.autoretry_for
    assert run_match.max_retries == execution.MATCH_RUN_MAX_ATTEMPTS - 1 == 2

    # An attempt with retries left puts the run back in the queue for the retry to claim …
    with pytest.raises(OperationalError):
        execution.match_run_execute(run.pk, final_attempt=False)
    run.refresh_from_db()
    assert run.status == Status.QUEUED and run.attempts == 1

    # … and the task's last retry leaves it failed with the reason.
    with pytest.raises(OperationalError):
        run_match.apply(args=[run.pk], retries=run_match.max_retries, throw=True)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert "database was unavailable" in run.error and "server closed the connection" in run.error


def test_a_run_waits_while_another_of_the_program_is_running(coordinator, program, cohort):
    MatchRun.objects.create(program=program, status=Status.RUNNING, started_at=timezone.now())
    run = _create(coordinator, program, *cohort)

    assert run_match(run.pk) == "busy"
    run.refresh_from_db()
    assert run.status == Status.QUEUED


@pytest.mark.parametrize("ending", ["fails", "is_cancelled"])
def test_a_run_found_busy_starts_as_soon_as_the_running_one_ends(
    ending, coordinator, program, cohort, django_capture_on_commit_callbacks
):
    running = MatchRun.objects.create(
        program=program, status=Status.RUNNING, started_at=timezone.now(), attempts=1, claimed_by_task="task-1"
    )
    waiting = _create(coordinator, program, *cohort)  # its on-commit delivery is not run here
    assert run_match(waiting.pk) == "busy"

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        if ending == "fails":
            execution._fail(running.pk, 1, "The engine gave up.")
        else:
            match_run_cancel(run=running, actor=coordinator)

    assert callbacks, "the end of the running run enqueues the waiting one"
    waiting.refresh_from_db()
    assert waiting.status == Status.SUCCEEDED and waiting.attempts == 1


def test_the_database_refuses_a_second_running_run_for_a_program(program, other_program):
    MatchRun.objects.create(program=program, status=Status.RUNNING)
    MatchRun.objects.create(program=other_program, status=Status.RUNNING)  # another program: fine
    MatchRun.objects.create(program=program, status=Status.QUEUED)  # queued beside it: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        MatchRun.objects.create(program=program, status=Status.RUNNING)


def test_residents_already_paired_for_the_kind_are_left_out(start_run, cohort, program):
    (alice, *_), (carol, dave, _erin) = cohort
    MentorshipFactory(mentee=alice, mentor=dave, program=program, kind="career")

    run = start_run()

    assert not run.proposals.filter(mentee=alice).exists()
    assert run.proposals.count() == 5
    assert run.stats["left_out"] == {str(alice.pk): "already has an active mentorship of this kind"}
    # Dave's active mentorship takes one of his two spots.
    assert run.stats["mentor_load"][str(dave.pk)]["capacity"] == 1


def test_weights_are_checked(coordinator, program, cohort):
    with pytest.raises(ValidationError) as exc:
        _create(coordinator, program, *cohort, weights={"goals": -1})
    assert "weights" in exc.value.message_dict


# --- Rankings.


@pytest.fixture
def ranking_run(coordinator, program, cohort):
    return _create(coordinator, program, *cohort, ranking_deadline=timezone.now() + timedelta(days=3))


def _close_window_and_run(run):
    MatchRun.objects.filter(pk=run.pk).update(ranking_deadline=timezone.now() - timedelta(seconds=1))
    assert run_match(run.pk) == "succeeded"
    run.refresh_from_db()
    return run


def test_a_run_with_a_ranking_window_waits_for_the_deadline(ranking_run):
    assert run_match(ranking_run.pk) == "waiting"
    ranking_run.refresh_from_db()
    assert ranking_run.status == Status.QUEUED


def test_a_resident_gets_the_mentor_they_ranked_first_when_the_mentor_accepts_them(ranking_run, cohort):
    (alice, *_), (carol, dave, erin) = cohort
    # By score Alice (research) would get Carol; she ranks Erin first, and Erin ranks her.
    ranking_submit(run=ranking_run, actor=alice, ordered_ids=[erin.pk, carol.pk], never_ids=[dave.pk])
    ranking_submit(run=ranking_run, actor=erin, ordered_ids=[alice.pk])

    run = _close_window_and_run(ranking_run)

    proposal = run.proposals.get(mentee=alice)
    assert proposal.mentor_id == erin.pk and proposal.rank_obtained == 1 and proposal.mentor_rank == 1
    assert run.stats["blocking_pairs"] == 0


def test_a_blank_means_no_preference_not_never(ranking_run, cohort):
    (alice, *_, ines), (carol, _dave, erin) = cohort
    # Alice numbers only Erin; Erin's one spot goes to Ines, whom she ranks first.
    ranking_submit(run=ranking_run, actor=alice, ordered_ids=[erin.pk])
    ranking_submit(run=ranking_run, actor=erin, ordered_ids=[ines.pk, alice.pk])

    run = _close_window_and_run(ranking_run)

    # Alice left the others blank, so she falls through to her best fit among them (research: Carol).
    proposal = run.proposals.get(mentee=alice)
    assert proposal.mentor_id == carol.pk and proposal.rank_obtained == 2
    assert proposal.mentor_rank is None  # Carol did not rank anyone
    assert run.proposals.get(mentee=ines).mentor_id == erin.pk
    assert run.stats["blocking_pairs"] == 0


def test_completed_rankings_put_the_blanks_after_the_ranked_in_fit_order():
    from types import SimpleNamespace

    cohort = SimpleNamespace(mentee_rankings={1: [12]}, mentor_rankings={12: [2]})
    scores = {1: {11: 50.0, 12: 10.0, 13: 70.0}, 2: {12: 30.0}, 3: {12: 90.0}}

    mentees, mentors = execution.complete_rankings(cohort, scores)

    assert mentees == {1: [12, 13, 11]}
    assert mentors == {12: [2, 3, 1]}


def test_never_keeps_a_pair_apart_whichever_side_says_it(ranking_run, cohort):
    (alice, bob, *_), (carol, _dave, _erin) = cohort
    ranking_submit(run=ranking_run, actor=alice, ordered_ids=[], never_ids=[carol.pk])
    ranking_submit(run=ranking_run, actor=carol, ordered_ids=[], never_ids=[bob.pk])

    run = _close_window_and_run(ranking_run)

    assert run.proposals.get(mentee=alice).mentor_id != carol.pk
    assert run.proposals.get(mentee=bob).mentor_id != carol.pk


def test_rankings_are_visible_only_to_their_author(ranking_run, cohort, coordinator):
    (alice, bob, *_), (carol, dave, erin) = cohort
    ranking_submit(run=ranking_run, actor=alice, ordered_ids=[erin.pk, carol.pk], never_ids=[dave.pk])

    assert [(r.target_id, r.position, r.never) for r in rankings_for(ranking_run, alice)] == [
        (erin.pk, 1, False),
        (carol.pk, 2, False),
        (dave.pk, None, True),
    ]
    assert not rankings_for(ranking_run, bob).exists()
    assert not rankings_for(ranking_run, coordinator).exists()


def test_a_new_submission_replaces_the_old_one(ranking_run, cohort):
    (alice, *_), (carol, dave, erin) = cohort
    ranking_submit(run=ranking_run, actor=alice, ordered_ids=[erin.pk, carol.pk])
    ranking_submit(run=ranking_run, actor=alice, ordered_ids=[dave.pk])
    assert [r.target_id for r in rankings_for(ranking_run, alice)] == [dave.pk]


def test_only_cohort_members_rank_and_only_while_the_window_is_open(ranking_run, cohort, coordinator, outsider):
    (alice, *_), (carol, *_) = cohort
    for stranger in (coordinator, outsider):
        with pytest.raises(PermissionDenied):
            ranking_submit(run=ranking_run, actor=stranger, ordered_ids=[carol.pk])
    with pytest.raises(ValidationError):  # residents rank mentors, not each other
        ranking_submit(run=ranking_run, actor=alice, ordered_ids=[cohort[0][1].pk])
    MatchRun.objects.filter(pk=ranking_run.pk).update(ranking_deadline=timezone.now() - timedelta(seconds=1))
    ranking_run.refresh_from_db()
    with pytest.raises(PermissionDenied):
        ranking_submit(run=ranking_run, actor=alice, ordered_ids=[carol.pk])
    assert not MatchRanking.objects.exists()


# --- Who may do what.


def test_only_the_programs_coordinators_create_override_and_publish(
    start_run, cohort, program, other_coordinator, resident
):
    residents, mentors = cohort
    for actor in (other_coordinator, resident):
        with pytest.raises(PermissionDenied):
            _create(actor, program, residents, mentors)
    run = start_run()
    proposal = run.proposals.exclude(mentor=None).first()
    with pytest.raises(PermissionDenied):
        proposal_override(proposal=proposal, actor=other_coordinator, mentor=mentors[1], note="Better fit")
    with pytest.raises(PermissionDenied):
        proposal_decide(proposal=proposal, actor=other_coordinator, decision=Decision.ACCEPTED)
    with pytest.raises(PermissionDenied):
        match_run_publish(run=run, actor=other_coordinator)
    assert not other_coordinator.has_perm("matching.manage_match_runs", run)


# --- Review: overrides.


def test_an_override_needs_a_reason(start_run, cohort, coordinator):
    _residents, (carol, dave, erin) = cohort
    run = start_run()
    proposal = run.proposals.get(mentor=None)
    with pytest.raises(ValidationError) as exc:
        proposal_override(proposal=proposal, actor=coordinator, mentor=dave, note="  ")
    assert "note" in exc.value.message_dict


def test_an_override_respects_the_mentors_spots_in_this_run(start_run, cohort, coordinator):
    (*_, hugo, ines), (carol, dave, erin) = cohort
    run = start_run()
    _accept_all(run, coordinator)  # Erin's one spot is Hugo's
    unmatched = run.proposals.get(mentee=ines)

    with pytest.raises(ValidationError) as exc:
        proposal_override(proposal=unmatched, actor=coordinator, mentor=erin, note="Asked for Erin")
    assert "no spot left" in exc.value.messages[0]

    # Carol has two spots, both accepted; freeing one by rejecting makes room.
    proposal_decide(proposal=run.proposals.filter(mentor=carol).first(), actor=coordinator, decision=Decision.REJECTED)
    overridden = proposal_override(proposal=unmatched, actor=coordinator, mentor=carol, note="Asked for Carol")
    assert overridden.decision == Decision.OVERRIDDEN and overridden.final_mentor_id == carol.pk
    assert overridden.decided_by == coordinator and overridden.decision_note == "Asked for Carol"


def test_an_override_must_pick_a_mentor_of_the_cohort(start_run, coordinator, program):
    run = start_run()
    stranger = UserFactory()
    MembershipFactory(user=stranger, program=program, role=Membership.Role.FACULTY)
    MentorProfileFactory(user=stranger)
    with pytest.raises(ValidationError):
        proposal_override(proposal=run.proposals.first(), actor=coordinator, mentor=stranger, note="Why not")


# --- Publishing.


def test_publishing_starts_the_accepted_mentorships_once(start_run, cohort, coordinator):
    (alice, *_), (carol, *_) = cohort
    run = start_run()
    _accept_all(run, coordinator)

    started = match_run_publish(run=run, actor=coordinator)

    assert len(started) == 5
    mentorships = Mentorship.objects.filter(source=Mentorship.Source.MATCH_RUN, kind="career")
    assert mentorships.count() == 5
    assert mentorships.filter(mentee=alice, mentor=carol).exists()
    assert Notification.objects.filter(event="match.published", user=alice).count() == 1
    assert Notification.objects.filter(event="match.published", user=carol).count() == 2
    # Ines, left without a mentor, hears it too, with the engine's reason spoken to her.
    (unmatched,) = Notification.objects.filter(event="match.unmatched")
    assert unmatched.user == cohort[0][5] and unmatched.url == "/mentors/"
    assert unmatched.body.startswith("Why: every mentor you could be paired with filled their spots")
    run.refresh_from_db()
    assert run.published_by == coordinator and run.published_at is not None

    with pytest.raises(ValidationError, match="already been published"):
        match_run_publish(run=run, actor=coordinator)
    assert mentorships.count() == 5


def test_publishing_rolls_back_entirely_when_one_pair_no_longer_fits(start_run, cohort, coordinator, program, outsider):
    (*_, hugo, _ines), (_carol, _dave, erin) = cohort
    run = start_run()
    _accept_all(run, coordinator)
    # Since the run, Erin took a mentee on her own: her one spot is gone.
    MentorshipFactory(mentee=outsider, mentor=erin, program=program)

    with pytest.raises(ValidationError) as exc:
        match_run_publish(run=run, actor=coordinator)

    assert f"{hugo.full_name} and {erin.full_name} cannot be paired" in exc.value.messages[0]
    assert not Mentorship.objects.filter(source=Mentorship.Source.MATCH_RUN).exists()
    assert not Notification.objects.filter(event="match.published").exists()
    run.refresh_from_db()
    assert run.published_at is None


def test_a_second_round_covers_only_the_residents_still_unmatched(
    start_run, cohort, coordinator, django_capture_on_commit_callbacks
):
    (alice, *_, ines), (carol, dave, erin) = cohort
    run = start_run()
    _accept_all(run, coordinator)
    # Alice's pairing is rejected; she goes into the second round with Ines, who was unmatched.
    proposal_decide(
        proposal=run.proposals.get(mentee=alice), actor=coordinator, decision=Decision.REJECTED, note="Conflict"
    )
    match_run_publish(run=run, actor=coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        second = match_run_second_round(run=run, actor=coordinator)
    second.refresh_from_db()

    assert second.round == 2 and second.parent == run
    assert set(second.mentees.values_list("pk", flat=True)) == {alice.pk, ines.pk}
    assert set(second.mentors.values_list("pk", flat=True)) == {carol.pk}  # Dave and Erin are full
    assert second.status == Status.SUCCEEDED
    assert second.stats["matched"] == 1 and second.stats["blocking_pairs"] == 0


def test_a_second_round_is_refused_while_another_is_under_way(start_run, cohort, coordinator):
    (alice, *_), _ = cohort
    run = start_run()
    _accept_all(run, coordinator)
    proposal_decide(
        proposal=run.proposals.get(mentee=alice), actor=coordinator, decision=Decision.REJECTED, note="Conflict"
    )
    match_run_publish(run=run, actor=coordinator)
    first = match_run_second_round(run=run, actor=coordinator)

    with pytest.raises(ValidationError, match="already under way"):
        match_run_second_round(run=run, actor=coordinator)
    assert run.next_rounds.count() == 1

    # Once that round is cancelled, another may start.
    MatchRun.objects.filter(pk=first.pk).update(status=Status.CANCELLED)
    assert match_run_second_round(run=run, actor=coordinator).parent == run


# --- The sweeper.


def test_the_sweeper_enqueues_a_run_lost_between_commit_and_broker(coordinator, program, cohort):
    run = _create(coordinator, program, *cohort)  # its on-commit task never ran

    assert match_runs_sweep(now=run.created_at + timedelta(minutes=1)) == {"requeued": 0, "failed": 0}
    assert match_runs_sweep(now=run.created_at + timedelta(minutes=3)) == {"requeued": 1, "failed": 0}

    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED and run.proposals.count() == 6


def test_the_sweeper_starts_a_run_once_its_ranking_window_closes(ranking_run):
    assert match_runs_sweep(now=timezone.now() + timedelta(days=1))["requeued"] == 0
    MatchRun.objects.filter(pk=ranking_run.pk).update(ranking_deadline=timezone.now() - timedelta(seconds=1))
    assert match_runs_sweep()["requeued"] == 1
    ranking_run.refresh_from_db()
    assert ranking_run.status == Status.SUCCEEDED


def test_the_sweeper_fails_a_run_whose_worker_stopped_on_its_last_attempt(program):
    now = timezone.now()
    stale = MatchRun.objects.create(
        program=program,
        status=Status.RUNNING,
        started_at=now - timedelta(minutes=7),
        attempts=execution.MATCH_RUN_MAX_ATTEMPTS,
        claimed_by_task="task-1",
    )
    fresh_program_run = MatchRun.objects.create(program=program, status=Status.SUCCEEDED)

    assert match_runs_sweep(now=now) == {"requeued": 0, "failed": 1}

    stale.refresh_from_db()
    assert stale.status == Status.FAILED and stale.error == WORKER_STOPPED
    fresh_program_run.refresh_from_db()
    assert fresh_program_run.status == Status.SUCCEEDED


def test_the_sweeper_leaves_a_run_that_is_still_within_the_time_limit(program):
    now = timezone.now()
    running = MatchRun.objects.create(program=program, status=Status.RUNNING, started_at=now - timedelta(minutes=2))
    assert match_runs_sweep(now=now)["failed"] == 0
    running.refresh_from_db()
    assert running.status == Status.RUNNING


def test_the_beat_schedule_sweeps_match_runs():
    from config.celery import app

    assert app.conf.beat_schedule["sweep-match-runs"]["task"] == "matching.tasks.sweep_match_runs"
    assert execution.LOST_AFTER == timedelta(minutes=2)


def test_loading_a_cohort_costs_the_same_queries_for_more_residents(coordinator, program, cohort):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from matching.match_cohort import load_cohort

    residents, mentors = cohort

    def queries_for(people):
        run = _create(coordinator, program, people, mentors)
        with CaptureQueriesContext(connection) as ctx:
            cohort_records = load_cohort(run)
        MatchRun.objects.filter(pk=run.pk).update(status=MatchRun.Status.CANCELLED)
        return len(ctx.captured_queries), cohort_records

    few, _ = queries_for(residents[:2])
    many, records = queries_for(residents)
    # Mentees, mentors, their vocabularies and windows, rankings and names are each read
    # once for the whole cohort, never once per person.
    assert many == few
    assert {m.specialty_id for m in records.mentees} == {program.specialty_id}


def test_a_cohort_read_in_bulk_gives_the_records_the_directory_scores(coordinator, program, cohort):
    """load_cohort reads relations in bulk (recommendations.Related); the records must be the
    very ones the directory builds profile by profile, so a score in a run is the score seen there."""
    from datetime import time

    from accounts.models import AvailabilityWindow, Interest, Language, MeetingFormat, Specialty
    from matching.match_cohort import load_cohort
    from matching.recommendations import mentee_record, mentor_record
    from matching.selectors import mentor_directory

    residents, mentors = cohort
    languages, formats = list(Language.objects.all()[:3]), list(MeetingFormat.objects.all())
    interests, subspecialties = (
        list(Interest.objects.all()[:4]),
        list(Specialty.objects.filter(parent__isnull=False)[:3]),
    )
    for k, person in enumerate(residents + mentors):
        profile = getattr(person, "mentee_profile", None) or person.mentor_profile
        profile.languages.set(languages[: 1 + k % 3])
        profile.meeting_formats.set(formats[k % len(formats) :])
        profile.interests.set(interests[k % 4 :])
        if hasattr(profile, "subspecialty_interests"):
            profile.subspecialty_interests.set(subspecialties[: k % 3])
        AvailabilityWindow.objects.create(user=person, weekday=k % 7, start=time(17 + k % 3), end=time(20))
    residents[0].time_zone = "Asia/Tokyo"
    residents[0].save()

    run = _create(coordinator, program, residents, mentors)
    records = load_cohort(run)

    one_by_one = sorted(
        (mentee_record(u.mentee_profile, specialty_id=program.specialty_id) for u in residents), key=lambda r: r.id
    )
    assert sorted(records.mentees, key=lambda r: r.id) == one_by_one
    directory = [mentor_record(p) for p in mentor_directory().filter(user__in=mentors)]
    assert sorted(records.mentors, key=lambda r: r.id) == sorted(directory, key=lambda r: r.id)
    assert any(r.weekly_windows for r in records.mentees) and any(r.language_ids for r in records.mentors)


# --- Telling people: the ranking window, the end of a run.


def test_opening_a_ranking_window_invites_every_cohort_member_once(ranking_run, cohort):
    residents, mentors = cohort
    invited = Notification.objects.filter(event="match.ranking_open")

    assert sorted(invited.values_list("user_id", flat=True)) == sorted(u.pk for u in residents + mentors)
    alice_note = invited.get(user=residents[0])
    assert alice_note.url == f"/match-runs/{ranking_run.pk}/rank/"
    assert "Rank your possible career mentors by" in alice_note.title
    assert "confidential" in alice_note.body
    assert "Rank your possible career residents by" in invited.get(user=mentors[0]).title


def test_a_run_without_a_ranking_window_invites_nobody(start_run):
    start_run()
    assert not Notification.objects.filter(event="match.ranking_open").exists()


def test_the_coordinator_who_started_a_run_hears_when_it_is_ready(start_run, coordinator):
    run = start_run()

    note = Notification.objects.get(event="match_run.succeeded")
    assert note.user == coordinator
    assert note.url == run.get_absolute_url()
    assert "ready to review" in note.title and "5 matched, 1 unmatched" in note.body
    # Nobody else hears of an unpublished run.
    assert Notification.objects.exclude(user=coordinator).count() == 0


def test_the_coordinator_hears_when_a_run_fails_with_the_reason(coordinator, program, cohort, monkeypatch):
    monkeypatch.setattr(engine, "solve", lambda instance, mode: (_ for _ in ()).throw(ValueError("bad capacity")))
    run = _create(coordinator, program, *cohort)
    run_match(run.pk)
    run_match(run.pk)  # a second delivery tells nobody again

    note = Notification.objects.get(event="match_run.failed")
    assert note.user == coordinator and "failed" in note.title
    assert note.body == "The match could not be computed: bad capacity"


def test_a_run_whose_worker_stopped_is_reported_to_the_programs_coordinators(program, coordinator):
    MatchRun.objects.create(
        program=program,
        status=Status.RUNNING,
        started_at=timezone.now() - timedelta(minutes=7),
        attempts=execution.MATCH_RUN_MAX_ATTEMPTS,
    )

    match_runs_sweep()

    note = Notification.objects.get(event="match_run.failed")
    assert note.user == coordinator and note.body == WORKER_STOPPED


# --- Cancelling.


def test_a_queued_run_cancelled_is_never_computed(coordinator, program, cohort):
    run = _create(coordinator, program, *cohort)

    match_run_cancel(run=run, actor=coordinator, reason="Wrong cohort")

    assert run_match(run.pk) == "not_queued"
    run.refresh_from_db()
    assert run.status == Status.CANCELLED and run.finished_at is not None
    assert run.error == f"Cancelled by {coordinator.full_name}. Wrong cohort"
    assert not run.proposals.exists()
    assert AuditEntry.objects.filter(
        action="match_run.cancel", object_id=str(run.pk), actor=coordinator, reason="Wrong cohort"
    ).exists()


def test_a_run_cancelled_while_computing_throws_its_result_away(coordinator, program, cohort, monkeypatch):
    run = _create(coordinator, program, *cohort)
    real_solve = engine.solve

    def cancel_meanwhile(instance, mode):
        match_run_cancel(run=run, actor=coordinator)
        return real_solve(instance, mode)

    monkeypatch.setattr(engine, "solve", cancel_meanwhile)

    assert run_match(run.pk) == "not_queued"
    run.refresh_from_db()
    assert run.status == Status.CANCELLED and not run.proposals.exists()
    assert not Notification.objects.filter(event__startswith="match_run.").exists()
    # The program may run another match at once.
    monkeypatch.undo()
    assert run_match(_create(coordinator, program, *cohort).pk) == "succeeded"


def test_cancelling_a_ranking_window_tells_the_cohort_and_closes_ranking(ranking_run, cohort, coordinator):
    (alice, *_), (carol, *_) = cohort

    match_run_cancel(run=ranking_run, actor=coordinator)

    assert Notification.objects.filter(event="match.cancelled").count() == 9
    with pytest.raises(PermissionDenied):
        ranking_submit(run=ranking_run, actor=alice, ordered_ids=[carol.pk])


def test_only_waiting_or_running_runs_of_ones_own_program_can_be_cancelled(
    start_run, coordinator, other_coordinator, program, cohort
):
    finished = start_run()
    with pytest.raises(ValidationError, match="Only a match that is waiting or running"):
        match_run_cancel(run=finished, actor=coordinator)

    queued = _create(coordinator, program, *cohort)
    with pytest.raises(PermissionDenied):
        match_run_cancel(run=queued, actor=other_coordinator)
    queued.refresh_from_db()
    assert queued.status == Status.QUEUED


# --- Comparing two runs.


def test_comparing_stable_and_optimal_counts_the_residents_paired_differently(start_run, coordinator):
    stable, optimal = start_run(), start_run(algorithm="optimal")
    a = {p.mentee_id: p for p in stable.proposals.all()}
    b = {p.mentee_id: p for p in optimal.proposals.all()}

    c = match_run_compare(a=stable, b=optimal, actor=coordinator)

    different = sorted(pk for pk in a if a[pk].mentor_id != b[pk].mentor_id)
    assert sorted(row.mentee.pk for row in c.changed) == different
    assert c.in_both == 6 and c.only_in_a == c.only_in_b == 0
    assert (c.a.matched, c.b.matched) == (stable.stats["matched"], optimal.stats["matched"])
    assert c.a.worst_score == stable.stats["worst_score"] and c.b.worst_score == optimal.stats["worst_score"]
    assert c.b.average_score == pytest.approx(optimal.stats["total_score"] / optimal.stats["matched"], abs=1e-3)


def test_a_different_mentor_is_counted_and_an_identical_run_has_none(start_run, coordinator, cohort):
    (alice, *_), _mentors = cohort
    first, again = start_run(), start_run()
    assert match_run_compare(a=first, b=again, actor=coordinator).changed == []

    again.proposals.filter(mentee=alice).update(mentor=None, score=None)
    c = match_run_compare(a=first, b=again, actor=coordinator)
    assert [(row.mentee, row.mentor_b) for row in c.changed] == [(alice, None)]
    assert c.b.matched == c.a.matched - 1


def test_only_finished_runs_of_one_program_are_compared(start_run, coordinator, program, cohort, other_program):
    finished = start_run()
    queued = _create(coordinator, program, *cohort)
    with pytest.raises(ValidationError, match="Both runs must have finished"):
        match_run_compare(a=finished, b=queued, actor=coordinator)
    with pytest.raises(ValidationError, match="two different"):
        match_run_compare(a=finished, b=finished, actor=coordinator)
    elsewhere = MatchRun.objects.create(program=other_program, status=Status.SUCCEEDED)
    with pytest.raises(PermissionDenied):
        match_run_compare(a=finished, b=elsewhere, actor=coordinator)
