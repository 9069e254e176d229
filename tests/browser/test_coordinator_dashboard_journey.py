"""Issue 15: a coordinator's dashboard says what needs action; from it, the pairings a conflict
recorded later now forbids, flagged, and ended with a reason the pair never read. At a desktop
size and a phone's."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from matching.models import MatchRun, Mentorship, RankingSubmission
from matching.services.conflicts import conflict_add
from matching.services.pairings import ENDED_FOR_PAIR
from tests.factories import PASSWORD
from tests.matching.factories import MentorshipFactory
from tests.matching.support import _capacity

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


def _fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("size", list(SIZES))
def test_the_dashboard_leads_to_the_flagged_pairing_which_is_ended_privately(
    page, shot, size, program, coordinator, resident, other_resident, attending, other_attending
):
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    now = timezone.now()
    _capacity(attending, 3)
    _capacity(other_attending, 3)
    flagged = MentorshipFactory(mentee=resident, mentor=attending, program=program, started_at=now - timedelta(days=5))
    MentorshipFactory(
        mentee=other_resident, mentor=other_attending, program=program, started_at=now - timedelta(days=100)
    )
    conflict_add(program=program, actor=coordinator, mentee=resident, mentor=attending, reason="Married in May")
    MatchRun.objects.create(program=program, status=MatchRun.Status.SUCCEEDED, finished_at=now)
    window = MatchRun.objects.create(program=program, ranking_deadline=now + timedelta(days=2))
    window.mentees.set([resident, other_resident])
    window.mentors.set([attending, other_attending])
    RankingSubmission.objects.create(run=window, author=other_resident)

    log_in(page, coordinator.email, PASSWORD)
    needs = page.locator(".needs-action")
    expect(needs.get_by_role("link", name="1 pairing breaks a conflict of interest")).to_be_visible()
    expect(needs.get_by_role("link", name="1 match run ready to review")).to_be_visible()
    expect(needs.get_by_role("link", name=f"Ranking window for match #{window.pk}: 1 of 4 submitted")).to_be_visible()
    expect(needs.get_by_role("link", name="1 pairing has not met in 60 days")).to_be_visible()
    assert _fits(page)
    shot(f"dashboard-{size}")

    needs.get_by_role("link", name="1 pairing breaks a conflict of interest").click()
    page.get_by_role("heading", name="Pairings").wait_for()
    row = page.locator(f"#pairing-{flagged.pk}")
    expect(row.get_by_text("Breaks a conflict: do not pair")).to_be_visible()
    expect(page.get_by_label("Conflicts of interest:")).to_have_value("true")
    assert page.locator(".pairings-table tbody tr").count() == 1
    assert _fits(page)
    shot(f"pairings-breaking-a-conflict-{size}")

    row.locator("summary").click()
    row.get_by_label("Reason").fill("Conflict: married in May")
    row.get_by_role("button", name="End the pairing").click()
    expect(page.get_by_text("has ended. Both have been told that you ended it")).to_be_visible()
    expect(page.get_by_text("No active pairing breaks a conflict of interest")).to_be_visible()
    shot(f"pairings-after-ending-{size}")

    flagged.refresh_from_db()
    assert (flagged.status, flagged.end_reason) == (Mentorship.Status.ENDED, ENDED_FOR_PAIR)
