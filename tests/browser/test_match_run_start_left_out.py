"""The start form in Chromium names, as they are ticked, the residents a run would leave out
because they already have a mentor of its kind, with the reason (the server's sentence)."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD
from tests.matching.factories import MentorshipFactory

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_ticked_resident_with_a_mentor_of_the_kind_is_named_with_the_reason(
    page, shot, program, coordinator, resident, other_resident, attending
):
    MentorshipFactory(mentee=resident, mentor=attending, program=program, kind="career")
    log_in(page, coordinator.email, PASSWORD)
    page.goto(f"/programs/{program.slug}/match-runs/new/")
    notice = page.locator("[data-left-out-notice]")
    expect(notice).to_be_hidden()

    page.locator(f"input[name='mentee_ids'][value='{other_resident.pk}']").check()
    expect(notice).to_be_hidden()
    page.locator(f"input[name='mentee_ids'][value='{resident.pk}']").check()
    expect(notice).to_have_text(
        "Left out of this match, not asked to rank and not matched: "
        "Alice Adams (already has a career mentor: Carol Chen)."
    )
    page.locator("[data-start-notices]").scroll_into_view_if_needed()
    shot("left-out-1280", a11y=True)
    # Her mentor is a career mentor: a research run keeps her.
    page.get_by_label("Kind of mentorship").select_option(value="research")
    expect(notice).to_be_hidden()
    page.get_by_label("Kind of mentorship").select_option(value="career")
    expect(notice).to_be_visible()
    page.locator(f"input[name='mentee_ids'][value='{resident.pk}']").uncheck()
    expect(notice).to_be_hidden()
