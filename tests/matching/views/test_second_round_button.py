"""The published run's "Second round for the unmatched": offered only when a second round can
start, otherwise greyed out with the reason beside it (never a refusal after the click).

The cohort (tests/matching/conftest.py): six residents, Carol (2 spots), Dave (2) and Erin (1):
five spots for six, so a published run leaves one resident without a mentor."""

import pytest
from django.urls import reverse

from matching.match_runs.services import match_run_accept_pending, match_run_publish, second_round_refusal
from matching.models import MatchRun
from tests.matching.support import _create

pytestmark = pytest.mark.django_db

BUTTON = "Second round for the unmatched"


@pytest.fixture
def published(coordinator, program, cohort, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = _create(coordinator, program, *cohort)
    run.refresh_from_db()
    match_run_accept_pending(run=run, actor=coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        match_run_publish(run=run, actor=coordinator)
    run.refresh_from_db()
    return run


def _second_round_part(client, run):
    body = client.get(reverse("matching:match-run-detail", args=[run.pk])).content.decode()
    return body.split("<h2>Published</h2>")[1].split("</section>")[0]


def test_with_no_spot_left_the_button_is_disabled_and_says_why(client_for, coordinator, published):
    # Every mentor's spots were filled by the publish: a second round would have nobody to offer.
    assert second_round_refusal(published) == "No mentor of this match has a spot left."
    part = _second_round_part(client_for(coordinator), published)

    assert (
        f'<button type="button" class="button" disabled aria-describedby="second-round-why">{BUTTON}</button>' in part
    )
    assert '<span id="second-round-why" class="muted">No mentor of this match has a spot left.</span>' in part
    assert reverse("matching:match-run-second-round", args=[published.pk]) not in part


def test_with_a_spot_free_the_button_starts_the_second_round(
    client_for, coordinator, published, cohort, django_capture_on_commit_callbacks
):
    _residents, (carol, _dave, _erin) = cohort
    carol.mentor_profile.capacity = 3
    carol.mentor_profile.save()
    client = client_for(coordinator)
    part = _second_round_part(client, published)
    assert reverse("matching:match-run-second-round", args=[published.pk]) in part and "disabled" not in part

    url = reverse("matching:match-run-second-round", args=[published.pk])
    # First what it does and the other way (a new run with other settings), nothing started yet.
    for asked in (client.get(url), client.post(url)):
        page = asked.content.decode()
        assert asked.status_code == 200 and "starts at once: no ranking window" in page
        assert '<input type="hidden" name="confirm" value="yes">' in page
    assert not MatchRun.objects.filter(parent=published).exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"confirm": "yes"})
    # Under way now: the button says so rather than offering a second one.
    assert MatchRun.objects.filter(parent=published).count() == 1
    part = _second_round_part(client, published)
    assert "disabled" in part and "already under way" in part
