"""Ranked lists collected once, used again (issue 15), with JavaScript: after a ranking window
has closed, the coordinator starts another match over the same people; the start form offers
the lists collected for the first one (chosen to start with), the match starts with them and
says so, and the comparison with a match that used none says which one used them."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from matching.match_runs.ranking import ranking_submit, ranking_window_close
from matching.match_runs.services import match_run_create
from matching.models import MatchRun
from tests.factories import PASSWORD

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def collected(program, coordinator, resident, other_resident, attending, other_attending):
    """Match #1: Alice and Carol submitted their lists; the window closed and the match ran."""
    run = match_run_create(
        program=program,
        actor=coordinator,
        kind="career",
        algorithm="stable",
        mentee_ids=[resident.pk, other_resident.pk],
        mentor_ids=[attending.pk, other_attending.pk],
        ranking_deadline=timezone.now() + timedelta(days=3),
    )
    ranking_submit(run=run, actor=resident, ordered_ids=[other_attending.pk, attending.pk])
    ranking_submit(run=run, actor=attending, ordered_ids=[resident.pk])
    ranking_window_close(run=run, actor=coordinator)  # tasks run in process, after the commit
    run.refresh_from_db()
    assert run.status == MatchRun.Status.SUCCEEDED
    return run


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_a_coordinator_starts_a_match_with_the_lists_already_collected_and_compares(
    page, shot, collected, program, coordinator, resident, other_resident, attending, other_attending, size
):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    plain = match_run_create(
        program=program,
        actor=coordinator,
        kind="career",
        algorithm="optimal",
        mentee_ids=[resident.pk, other_resident.pk],
        mentor_ids=[attending.pk, other_attending.pk],
    )
    log_in(page, coordinator.email, PASSWORD)
    page.goto(f"/programs/{program.slug}/match-runs/new/")
    reuse = page.get_by_label(
        f"Use the ranked lists collected for match #{collected.pk} (career): 1 of 1 resident and 1 of 1 mentor "
        "who ranked can still be matched"
    )
    expect(reuse).to_be_checked()
    expect(page.get_by_label("Don't use them", exact=False)).not_to_be_checked()
    reuse.scroll_into_view_if_needed()
    shot("start-form-offers-the-lists")

    page.get_by_label(resident.full_name, exact=False).check()
    page.get_by_label(other_resident.full_name, exact=False).check()
    page.get_by_role("button", name="Start the match").click()
    page.get_by_text(
        f"The match has started with the ranked lists of 1 resident and 1 mentor collected for match #{collected.pk}."
    ).wait_for()
    new = MatchRun.objects.exclude(pk__in=[collected.pk, plain.pk]).get()
    assert new.rankings_from_id == collected.pk and new.ranking_deadline is None
    expect(page.locator(".match-run-rankings-from")).to_contain_text(
        f"Uses the ranked lists of 1 resident and 1 mentor collected for match #{collected.pk}"
    )
    shot("started-with-the-lists")

    page.goto(f"/match-runs/{new.pk}/compare/?with={plain.pk}")
    expect(page.locator(".compare-rankings")).to_contain_text(
        f"Match #{new.pk} used the ranked lists of 1 resident and 1 mentor collected for match #{collected.pk}; "
        f"match #{plain.pk} used none (scores only)."
    )
    shot("compare-says-which-used-lists")
