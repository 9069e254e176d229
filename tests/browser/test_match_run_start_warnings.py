"""The start form's warnings in Chromium: "more residents than open spots" follows every box
ticked (residents, mentors, "Select all shown"), and a resident already in a run waiting for
review is named with a link while ticked. Neither stops the run from starting."""

import pytest
from playwright.sync_api import expect

from matching.models import MatchRun
from tests.factories import PASSWORD, MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory
from tests.matching.support import _create

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_capacity_and_other_run_warnings_follow_the_boxes(
    page, shot, program, coordinator, resident, other_resident, attending
):
    # Carol (2 spots) and Erin (1 spot); Alice, Bob and four interns.
    erin = UserFactory(first_name="Erin", last_name="Evans")
    MembershipFactory(user=erin, program=program, role="faculty")
    MentorProfileFactory(user=erin, capacity=1)
    for first in ("Femi", "Gita", "Hugo", "Ines"):
        user = UserFactory(first_name=first, last_name="Intern")
        MembershipFactory(user=user, program=program, role="resident")
        MenteeProfileFactory(user=user)
    # Alice is in a career match waiting for review (computed in-process on commit).
    waiting = _create(coordinator, program, [resident], [attending])
    waiting.refresh_from_db()
    assert waiting.status == MatchRun.Status.SUCCEEDED

    log_in(page, coordinator.email, PASSWORD)
    page.goto(f"/programs/{program.slug}/match-runs/new/")
    capacity = page.locator("[data-capacity-warning]")
    others = page.locator("[data-other-runs-warning]")
    expect(capacity).to_be_hidden()
    expect(others).to_be_hidden()

    # With a ranking deadline set first (the walkthrough's order), every resident (6) against
    # both mentors' 3 spots: the warning shows at once, before starting.
    page.get_by_label("Ranking deadline").fill("2099-12-04T21:45")
    page.get_by_role("button", name="Select all shown").click()
    expect(capacity).to_have_text(
        "6 residents, 3 open spots: 3 will be unmatched unless you add mentors or raise capacity."
    )
    page.get_by_label("Ranking deadline").fill("")  # this journey starts the run at once
    expect(others).to_be_visible()
    expect(others.get_by_role("link", name=f"Match #{waiting.pk}")).to_have_attribute(
        "href", f"/match-runs/{waiting.pk}/"
    )
    expect(others.locator("li:visible")).to_have_text([f"Match #{waiting.pk}: Alice Adams"])
    # Alice's run is a career match: for another kind, she is not in the way.
    kind = page.get_by_label("Kind of mentorship")
    kind.select_option(value="research")
    expect(others).to_be_hidden()
    kind.select_option(value="career")
    expect(others).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 800})
    page.locator("[data-start-notices]").scroll_into_view_if_needed()
    shot("warnings-1280", a11y=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("[data-start-notices]").scroll_into_view_if_needed()
    shot("warnings-390", a11y=False)
    page.set_viewport_size({"width": 1280, "height": 800})

    # A mentor unticked: fewer spots.
    page.get_by_label("Erin Evans (1 open spot)").uncheck()
    expect(capacity).to_have_text(
        "6 residents, 2 open spots: 4 will be unmatched unless you add mentors or raise capacity."
    )
    # Alice unticked: she is no longer named, and one resident fewer is short.
    page.locator(f"input[name='mentee_ids'][value='{resident.pk}']").uncheck()
    expect(others).to_be_hidden()
    expect(capacity).to_contain_text("5 residents, 2 open spots: 3 will be unmatched")
    # Few enough residents: the warning goes.
    page.get_by_role("button", name="Select none shown").click()
    expect(capacity).to_be_hidden()
    page.locator(f"input[name='mentee_ids'][value='{other_resident.pk}']").check()
    expect(capacity).to_be_hidden()

    # Allowed all the same: with every resident, the run starts, and its page repeats the warning.
    page.get_by_role("button", name="Select all shown").click()
    page.get_by_role("button", name="Start the match").click()
    page.get_by_role("heading", name="Proposals").wait_for()
    expect(page.get_by_text("6 residents, 2 open spots: 4 will be unmatched", exact=False)).to_be_visible()
    expect(
        page.get_by_text(f"Already in another match waiting for review (#{waiting.pk}: Alice Adams)")
    ).to_be_visible()
    shot("run-page-with-warnings")


def test_select_all_leaves_a_near_peer_chosen_as_mentor_on_the_mentor_side(page, program, coordinator, resident):
    # Zoe is a resident who also mentors: every mentor starts ticked, Zoe among them.
    zoe = UserFactory(first_name="Zoe", last_name="Nearpeer")
    MembershipFactory(user=zoe, program=program, role="resident")
    MenteeProfileFactory(user=zoe)
    MembershipFactory(user=zoe, program=program, role="faculty")
    MentorProfileFactory(user=zoe, capacity=1)
    log_in(page, coordinator.email, PASSWORD)
    page.goto(f"/programs/{program.slug}/match-runs/new/")
    as_mentor = page.locator(f"input[name='mentor_ids'][value='{zoe.pk}']")
    as_resident = page.locator(f"input[name='mentee_ids'][value='{zoe.pk}']")
    expect(as_mentor).to_be_checked()
    page.get_by_role("button", name="Select all shown").click()
    expect(as_resident).not_to_be_checked()
    expect(page.locator(f"input[name='mentee_ids'][value='{resident.pk}']")).to_be_checked()
    # Taken off the mentors, she is chosen with the residents like anyone else.
    as_mentor.uncheck()
    page.get_by_role("button", name="Select all shown").click()
    expect(as_resident).to_be_checked()
