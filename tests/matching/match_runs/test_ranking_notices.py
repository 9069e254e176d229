"""What rankers are told around the ranking window's end: the receipt of a first list and
of an update, and the notice that the window closed (early, by a coordinator, or at the
deadline), each in the recipient's own time zone.

Alice and Bob (residents) rank Carol and Dave (mentors); Cora coordinates."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from matching.match_runs import execution
from matching.match_runs.ranking import ranking_submit, ranking_window_close
from matching.match_runs.services import match_run_create
from matching.models import MatchRun, Notification, RankingSubmission

pytestmark = pytest.mark.django_db


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


def _receipts(user):
    return Notification.objects.filter(event="match.ranking_receipt", user=user).order_by("pk")


# --- Receipts.


def test_the_first_receipt_is_a_submission_and_the_second_an_update_of_it(
    run, resident, attending, other_attending, mailoutbox, django_capture_on_commit_callbacks
):
    resident.time_zone = "Asia/Tokyo"
    resident.save(update_fields=["time_zone"])
    first_at = datetime(2026, 12, 4, 22, 30, tzinfo=UTC)  # Sat 5 Dec 07:30 in Tokyo
    with django_capture_on_commit_callbacks(execute=True):
        ranking_submit(run=run, actor=resident, ordered_ids=[attending.pk])
    RankingSubmission.objects.filter(run=run, author=resident).update(updated_at=first_at)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        ranking_submit(run=run, actor=resident, ordered_ids=[other_attending.pk, attending.pk])

    first, second = _receipts(resident)
    assert first.title.startswith("Your ranking for") and "updated" not in first.title + first.body
    assert second.title.startswith("Your updated ranking for")
    # The update names the version it replaces, on the resident's clock.
    assert "Your updated list, received on" in second.body
    assert "replaces the one you submitted on Sat 5 Dec 2026, 07:30 JST" in second.body
    assert "2 mentors ranked, 0 marked “never”" in second.body
    (mail,) = mailoutbox
    assert "updated" in mail.subject and "replaces the one you submitted on" in mail.body


def test_the_page_says_a_second_list_replaces_the_first(client_for, run, resident, attending, other_attending):
    client = client_for(resident)
    url = f"/match-runs/{run.pk}/rank/"
    first = client.post(url, {f"rank_{attending.pk}": "1"}, follow=True).content.decode()
    assert "Your list is submitted" in first and "replaces" not in first
    second = client.post(url, {f"rank_{other_attending.pk}": "1"}, follow=True).content.decode()
    assert "Your updated list is saved" in second and "replaces the one you submitted" in second


# --- The window closes.


def _closed_notes():
    return Notification.objects.filter(event="match.ranking_closed")


def test_an_early_close_tells_every_ranker_in_their_zone_and_how_results_come(
    run,
    coordinator,
    resident,
    other_resident,
    attending,
    other_attending,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    resident.time_zone = "Europe/Paris"
    resident.save(update_fields=["time_zone"])
    planned = datetime(2026, 12, 20, 17, 0, tzinfo=UTC)
    MatchRun.objects.filter(pk=run.pk).update(ranking_deadline=planned)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        ranking_window_close(run=run, actor=coordinator)

    notes = {n.user_id: n for n in _closed_notes()}
    assert set(notes) == {resident.pk, other_resident.pk, attending.pk, other_attending.pk}
    alice, carol = notes[resident.pk], notes[attending.pk]
    assert "results after the coordinator publishes" in alice.title
    assert "before the planned deadline (Sun 20 Dec 2026, 18:00 CET)" in alice.body  # Paris
    assert "before the planned deadline (Sun 20 Dec 2026, 12:00 EST)" in carol.body  # New York
    assert "you are told your mentor then" in alice.body
    assert "you are told the residents you will mentor then" in carol.body
    assert alice.url == f"/match-runs/{run.pk}/rank/"
    # By e-mail too, to each of them.
    closed_mail = [m for m in mailoutbox if "Ranking closed" in m.subject]
    assert sorted(m.to[0] for m in closed_mail) == sorted(
        u.email for u in (resident, other_resident, attending, other_attending)
    )


def test_the_deadline_passing_tells_every_ranker_once_when_the_run_starts(
    run, resident, other_resident, attending, other_attending, django_capture_on_commit_callbacks
):
    deadline = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    MatchRun.objects.filter(pk=run.pk).update(ranking_deadline=deadline)

    with django_capture_on_commit_callbacks(execute=True):
        execution.match_runs_sweep()  # the periodic sweep enqueues the run; it is claimed and computed
    run.refresh_from_db()
    assert run.status == MatchRun.Status.SUCCEEDED

    notes = {n.user_id: n for n in _closed_notes()}
    assert set(notes) == {resident.pk, other_resident.pk, attending.pk, other_attending.pk}
    assert "It closed on Tue 1 Dec 2026, 10:00 EST." in notes[resident.pk].body
    assert "before the planned deadline" not in notes[resident.pk].body
    # A second delivery of the run (a redelivered message, the next sweep) tells nobody again.
    execution.match_run_execute(run.pk)
    execution.match_runs_sweep()
    assert _closed_notes().count() == 4


def test_an_early_close_is_not_announced_again_when_the_run_starts(
    run, coordinator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ranking_window_close(run=run, actor=coordinator)  # the run starts on commit (in process here)
    run.refresh_from_db()
    assert run.status == MatchRun.Status.SUCCEEDED
    assert _closed_notes().count() == 4
    assert all("before the planned deadline" in n.body for n in _closed_notes())


def test_a_run_without_a_window_announces_no_close(
    coordinator, program, resident, attending, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = match_run_create(
            program=program,
            actor=coordinator,
            kind="career",
            algorithm="stable",
            mentee_ids=[resident.pk],
            mentor_ids=[attending.pk],
        )
    assert MatchRun.objects.get(pk=run.pk).status == MatchRun.Status.SUCCEEDED
    assert not _closed_notes().exists()
