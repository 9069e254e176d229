"""The ranking window API: the run's coordinators follow who has submitted (never the lists),
remind, close now and extend; everyone else gets 404."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from matching.match_runs.ranking import ranking_submit
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


def _url(run, action=""):
    return f"/api/v1/match-runs/{run.pk}/ranking-window/" + (f"{action}/" if action else "")


def test_the_status_lists_who_has_submitted_without_their_lists(api_for, run, coordinator, resident, attending):
    ranking_submit(run=run, actor=resident, ordered_ids=[attending.pk])

    body = api_for(coordinator).get(_url(run)).json()

    assert (body["submitted"], body["total"], body["window_open"]) == (1, 4, True)
    alice = next(r for r in body["residents"] if r["id"] == resident.pk)
    assert alice["submitted_at"] is not None and set(alice) == {"id", "full_name", "submitted_at", "updated_at"}
    assert all(r["submitted_at"] is None for r in body["mentors"])


@pytest.mark.parametrize("who", ["other_coordinator", "resident", "attending", "outsider"])
def test_anyone_but_the_runs_coordinators_gets_404(api_for, run, request, who):
    client = api_for(request.getfixturevalue(who))
    assert client.get(_url(run)).status_code == 404
    for action in ("remind", "close", "extend"):
        assert client.post(_url(run, action), {"ranking_deadline": "2030-01-01T10:00:00Z"}).status_code == 404
    run.refresh_from_db()
    assert run.status == MatchRun.Status.QUEUED and run.ranking_reminded_at is None


def test_remind_sent_twice_reminds_once(api_for, run, coordinator):
    client = api_for(coordinator)
    assert client.post(_url(run, "remind")).json() == {"reminded": 4, "skipped": 0}
    assert client.post(_url(run, "remind")).json() == {"reminded": 0, "skipped": 4}
    assert Notification.objects.filter(event="match.ranking_reminder").count() == 4


def test_close_starts_the_run_and_a_second_close_is_a_conflict(
    api_for, run, coordinator, django_capture_on_commit_callbacks
):
    client = api_for(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(run, "close"))
    assert response.status_code == 200 and response.json()["ranking_window_open"] is False
    run.refresh_from_db()
    assert run.status == MatchRun.Status.SUCCEEDED  # enqueued on commit, run in process here
    again = client.post(_url(run, "close"))
    assert again.status_code == 409 and "The ranking window closed on" in again.json()["detail"]


def test_extend_refuses_year_9999_and_an_earlier_date(api_for, run, coordinator):
    client = api_for(coordinator)
    far = client.post(_url(run, "extend"), {"ranking_deadline": datetime(9999, 12, 31, 23, tzinfo=UTC).isoformat()})
    assert far.status_code == 400 and "ranking_deadline" in far.json()
    earlier = client.post(_url(run, "extend"), {"ranking_deadline": timezone.now().isoformat()})
    assert earlier.status_code == 400 and "ranking_deadline" in earlier.json()

    later = (run.ranking_deadline + timedelta(days=1)).replace(microsecond=0)
    response = client.post(_url(run, "extend"), {"ranking_deadline": later.isoformat()})
    assert response.status_code == 200
    run.refresh_from_db()
    assert run.ranking_deadline == later


def test_my_ranking_put_records_a_submission_with_a_receipt(api_for, run, resident, attending):
    response = api_for(resident).put(
        f"/api/v1/match-runs/{run.pk}/my-ranking/", {"ordered_ids": [attending.pk], "never_ids": []}, format="json"
    )
    assert response.status_code == 200
    assert RankingSubmission.objects.filter(run=run, author=resident, ranked=1).exists()
    assert Notification.objects.filter(user=resident, event="match.ranking_receipt").count() == 1
