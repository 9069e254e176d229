"""The ranking window's services: submit (with a receipt), remind, close now, extend.

Alice and Bob (residents) rank Carol and Dave (mentors) until the deadline; Cora
coordinates the program; Oscar coordinates another one."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import AuditEntry
from matching.match_runs.ranking import (
    REMIND_AGAIN_AFTER,
    ranking_submit,
    ranking_window_close,
    ranking_window_extend,
    ranking_window_remind_waiting,
    ranking_window_status,
    reminder_plan,
)
from matching.match_runs.services import match_run_create
from matching.models import MatchRanking, MatchRun, Notification, RankingSubmission

pytestmark = pytest.mark.django_db

Status = MatchRun.Status


@pytest.fixture
def run(coordinator, program, resident, other_resident, attending, other_attending):
    return match_run_create(
        program=program,
        actor=coordinator,
        kind="career",
        algorithm="stable",
        mentee_ids=[resident.pk, other_resident.pk],
        mentor_ids=[attending.pk, other_attending.pk],
        ranking_deadline=timezone.now() + timedelta(days=3),
    )


def _notes(event, user=None):
    notes = Notification.objects.filter(event=event)
    return notes.filter(user=user) if user else notes


# --- Submitting.


def test_a_submission_is_recorded_with_counts_and_a_receipt(
    run, resident, attending, other_attending, mailoutbox, django_capture_on_commit_callbacks
):
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ranking_submit(run=run, actor=resident, ordered_ids=[attending.pk], never_ids=[other_attending.pk])

    submission = RankingSubmission.objects.get(run=run, author=resident)
    assert (submission.ranked, submission.never) == (1, 1)
    receipt = _notes("match.ranking_receipt", resident).get()
    assert "1 mentor ranked, 1 marked “never”" in receipt.body
    # Counts only: nobody's name is in the receipt, and the privacy text says what coordinators see.
    assert attending.last_name not in receipt.body and other_attending.last_name not in receipt.body
    assert "never see your list itself" in receipt.body
    assert AuditEntry.objects.filter(action="match_ranking.submit", object_id=str(run.pk)).count() == 1
    # E-mailed too (people hear right away unless they chose the daily digest).
    (mail,) = [m for m in mailoutbox if "is submitted" in m.subject]
    assert mail.to == [resident.email] and attending.last_name not in mail.body


def test_an_empty_list_is_a_submission(run, resident):
    ranking_submit(run=run, actor=resident, ordered_ids=[], never_ids=[])

    assert RankingSubmission.objects.filter(run=run, author=resident, ranked=0, never=0).exists()
    assert ranking_window_status(run).residents_submitted[0].person == resident


def test_the_same_list_sent_twice_sends_one_receipt_and_a_change_sends_another(
    run, resident, attending, other_attending
):
    ranking_submit(run=run, actor=resident, ordered_ids=[attending.pk, other_attending.pk])
    first = RankingSubmission.objects.get(run=run, author=resident)
    ranking_submit(run=run, actor=resident, ordered_ids=[attending.pk, other_attending.pk])  # a double click

    assert _notes("match.ranking_receipt", resident).count() == 1
    assert RankingSubmission.objects.get(run=run, author=resident).updated_at == first.updated_at

    ranking_submit(run=run, actor=resident, ordered_ids=[other_attending.pk, attending.pk])
    updated = RankingSubmission.objects.get(run=run, author=resident)
    assert updated.submitted_at == first.submitted_at and updated.updated_at > first.updated_at
    assert _notes("match.ranking_receipt", resident).count() == 2
    assert list(
        MatchRanking.objects.filter(run=run, author=resident).order_by("position").values_list("target_id", flat=True)
    ) == [
        other_attending.pk,
        attending.pk,
    ]


def test_nobody_submits_after_the_window_closed(run, resident, attending):
    MatchRun.objects.filter(pk=run.pk).update(ranking_deadline=timezone.now() - timedelta(seconds=1))
    with pytest.raises(PermissionDenied):
        ranking_submit(run=run, actor=resident, ordered_ids=[attending.pk])
    assert not RankingSubmission.objects.exists()


# --- Who has submitted.


def test_the_status_splits_residents_and_mentors_and_never_shows_lists(
    run, resident, other_resident, attending, other_attending, django_assert_num_queries
):
    ranking_submit(run=run, actor=resident, ordered_ids=[attending.pk])
    ranking_submit(run=run, actor=other_attending, ordered_ids=[])

    with django_assert_num_queries(3):  # submissions, residents, mentors
        status = ranking_window_status(run)
        assert [r.person for r in status.residents_submitted] == [resident]
        assert [r.person for r in status.residents_waiting] == [other_resident]
        assert [r.person for r in status.mentors_submitted] == [other_attending]
        assert [r.person for r in status.mentors_waiting] == [attending]
    assert (status.submitted_count, status.total) == (2, 4)
    assert not hasattr(status.residents_submitted[0], "ranked_ids")


# --- Remind.


def test_remind_tells_only_those_who_have_not_submitted_once_even_on_a_double_click(
    run, coordinator, resident, other_resident, attending, other_attending
):
    ranking_submit(run=run, actor=resident, ordered_ids=[attending.pk])

    assert ranking_window_remind_waiting(run=run, actor=coordinator).reminded == 3
    assert ranking_window_remind_waiting(run=run, actor=coordinator).reminded == 0  # the second click

    reminded = sorted(_notes("match.ranking_reminder").values_list("user_id", flat=True))
    assert reminded == sorted([other_resident.pk, attending.pk, other_attending.pk])
    titles = dict(_notes("match.ranking_reminder").values_list("user_id", "title"))
    match = f"the {run.program.name} {run.get_kind_display().lower()} match by "
    assert titles[other_resident.pk].startswith(f"Reminder: rank the mentors for {match}")
    assert titles[attending.pk].startswith(f"Reminder: rank the residents for {match}")
    run.refresh_from_db()
    assert run.ranking_reminded_at is not None
    assert AuditEntry.objects.filter(action="match_run.ranking_remind").count() == 1


def test_a_later_reminder_skips_those_reminded_in_the_last_day_and_counts_them(
    run, coordinator, resident, other_resident, attending, other_attending
):
    ranking_window_remind_waiting(run=run, actor=coordinator)
    # Alice's reminder is from yesterday; the others' from two hours ago.
    earlier = timezone.now()
    _notes("match.ranking_reminder").update(created_at=earlier - timedelta(hours=2))
    _notes("match.ranking_reminder", resident).update(created_at=earlier - REMIND_AGAIN_AFTER - timedelta(minutes=1))

    run.refresh_from_db()
    plan = reminder_plan(run)
    assert [r.person for r in plan.to_remind] == [resident]
    assert {r.person for r in plan.recently_reminded} == {other_resident, attending, other_attending}
    assert plan.next_possible_at is not None and plan.next_possible_at > earlier + timedelta(hours=21)

    outcome = ranking_window_remind_waiting(run=run, actor=coordinator)

    assert (outcome.reminded, outcome.skipped) == (1, 3)
    assert _notes("match.ranking_reminder", resident).count() == 2
    assert _notes("match.ranking_reminder", other_resident).count() == 1
    entry = AuditEntry.objects.filter(action="match_run.ranking_remind").latest("pk")
    assert (entry.after["reminded"], entry.after["skipped"]) == (1, 3)


def test_when_everyone_waiting_was_reminded_recently_nothing_is_sent_or_logged(run, coordinator):
    ranking_window_remind_waiting(run=run, actor=coordinator)
    MatchRun.objects.filter(pk=run.pk).update(ranking_reminded_at=timezone.now() - timedelta(hours=2))

    outcome = ranking_window_remind_waiting(run=run, actor=coordinator)

    assert (outcome.reminded, outcome.skipped) == (0, 4)
    assert _notes("match.ranking_reminder").count() == 4
    assert AuditEntry.objects.filter(action="match_run.ranking_remind").count() == 1


def test_a_reminder_for_another_run_does_not_count(run, coordinator, program, resident, other_resident, attending):
    other = match_run_create(
        program=program,
        actor=coordinator,
        kind="research",
        algorithm="stable",
        mentee_ids=[resident.pk, other_resident.pk],
        mentor_ids=[attending.pk],
        ranking_deadline=timezone.now() + timedelta(days=3),
    )
    ranking_window_remind_waiting(run=other, actor=coordinator)
    MatchRun.objects.filter(pk=run.pk).update(ranking_reminded_at=timezone.now())  # so the plan reads the reminders
    run.refresh_from_db()

    assert len(reminder_plan(run).to_remind) == 4


def test_reminders_go_on_the_bulk_path_one_batch_task(run, coordinator, monkeypatch):
    queued = []
    monkeypatch.setattr("matching.notifications.enqueue_on_commit", lambda task, *args: queued.append((task, args)))
    ranking_window_remind_waiting(run=run, actor=coordinator)

    ids = set(_notes("match.ranking_reminder").values_list("pk", flat=True))
    assert [task for task, _ in queued] == ["matching.tasks.send_notification_emails"]
    assert set(queued[0][1][0]) == ids and len(ids) == 4


def test_nobody_to_remind_is_said_plainly(run, coordinator, resident, other_resident, attending, other_attending):
    for person in (resident, other_resident, attending, other_attending):
        ranking_submit(run=run, actor=person, ordered_ids=[])
    with pytest.raises(ValidationError, match="Everyone in this match has submitted"):
        ranking_window_remind_waiting(run=run, actor=coordinator)


# --- Who may act.


@pytest.mark.parametrize("who", ["other_coordinator", "resident", "attending", "outsider"])
def test_only_the_runs_coordinators_follow_the_window(run, request, who):
    person = request.getfixturevalue(who)
    later = run.ranking_deadline + timedelta(days=1)
    with pytest.raises(PermissionDenied):
        ranking_window_remind_waiting(run=run, actor=person)
    with pytest.raises(PermissionDenied):
        ranking_window_close(run=run, actor=person)
    with pytest.raises(PermissionDenied):
        ranking_window_extend(run=run, actor=person, deadline=later)
    run.refresh_from_db()
    assert run.ranking_reminded_at is None and run.ranking_deadline < later
    assert run.status == Status.QUEUED
    assert not _notes("match.ranking_reminder").exists()


# --- Close now.


def test_closing_now_starts_the_run_and_tells_the_cohort(
    run, coordinator, resident, attending, django_capture_on_commit_callbacks
):
    ranking_submit(run=run, actor=resident, ordered_ids=[attending.pk])
    planned = run.ranking_deadline

    with django_capture_on_commit_callbacks(execute=True) as enqueued:
        ranking_window_close(run=run, actor=coordinator)
    assert enqueued  # the run is enqueued once committed
    with pytest.raises(ValidationError, match="The ranking window closed on"):  # a second click
        ranking_window_close(run=run, actor=coordinator)

    run.refresh_from_db()
    # Tasks run in process here: the run has started and finished.
    assert run.status == Status.SUCCEEDED
    assert run.ranking_deadline < planned
    assert _notes("match.ranking_closed").count() == 4
    entry = AuditEntry.objects.get(action="match_run.ranking_close")
    assert entry.before["ranking_deadline"] == planned.isoformat()


def test_a_closed_window_cannot_be_closed_reminded_or_extended(run, coordinator):
    MatchRun.objects.filter(pk=run.pk).update(ranking_deadline=timezone.now() - timedelta(minutes=1))
    for act in (
        lambda: ranking_window_close(run=run, actor=coordinator),
        lambda: ranking_window_remind_waiting(run=run, actor=coordinator),
        lambda: ranking_window_extend(run=run, actor=coordinator, deadline=timezone.now() + timedelta(days=2)),
    ):
        with pytest.raises(ValidationError, match="The ranking window closed on"):
            act()


def test_a_run_without_a_window_has_nothing_to_close(coordinator, program, resident, attending):
    run = match_run_create(
        program=program,
        actor=coordinator,
        kind="career",
        algorithm="stable",
        mentee_ids=[resident.pk],
        mentor_ids=[attending.pk],
    )
    with pytest.raises(ValidationError, match="no ranking window"):
        ranking_window_close(run=run, actor=coordinator)


# --- Extend.


def test_extending_moves_the_deadline_and_tells_everyone_the_new_date(run, coordinator, resident):
    later = (run.ranking_deadline + timedelta(days=2)).replace(microsecond=0)
    ranking_window_extend(run=run, actor=coordinator, deadline=later)

    run.refresh_from_db()
    assert run.ranking_deadline == later and run.ranking_window_open()
    told = _notes("match.ranking_extended")
    assert told.count() == 4
    assert str(later.astimezone(UTC).year) in told.get(user=resident).title
    assert AuditEntry.objects.filter(action="match_run.ranking_extend").count() == 1


@pytest.mark.parametrize(
    "when",
    [
        pytest.param(lambda run: timezone.now() - timedelta(hours=1), id="in-the-past"),
        pytest.param(lambda run: run.ranking_deadline - timedelta(hours=1), id="earlier-than-now-planned"),
        pytest.param(lambda run: datetime(9999, 12, 31, 23, 0, tzinfo=UTC), id="year-9999"),
        pytest.param(lambda run: timezone.now() + timedelta(days=3 * 365), id="three-years-ahead"),
    ],
)
def test_an_absurd_new_deadline_is_refused(run, coordinator, when):
    planned = run.ranking_deadline
    with pytest.raises(ValidationError) as exc:
        ranking_window_extend(run=run, actor=coordinator, deadline=when(run))
    assert "ranking_deadline" in exc.value.message_dict
    run.refresh_from_db()
    assert run.ranking_deadline == planned
    assert not _notes("match.ranking_extended").exists()
