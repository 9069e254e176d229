"""The override page opened on its own (a new tab, a bookmark): it has no review row to swap its
answer into, so its form posts as a plain form and the review comes back with the message."""

import pytest

from matching.models import MatchProposal
from tests.factories import PASSWORD

from .conftest import log_in
from .test_match_run_review import _cohort, _ran

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_override_page_on_its_own_saves_and_goes_back_to_the_review(page, shot, program, coordinator):
    residents, (kim, lee) = _cohort(program, residents=2, mentors=2, capacity=2)
    run = _ran(coordinator, program, residents, [kim, lee])
    proposal = run.proposals.exclude(mentor=None).select_related("mentor", "mentee").first()
    other = lee if proposal.mentor == kim else kim
    console_errors = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

    log_in(page, coordinator.email, PASSWORD)
    page.goto(f"/match-runs/{run.pk}/proposals/{proposal.pk}/override/")
    page.get_by_role("heading", name=f"Pair {proposal.mentee.full_name} with another mentor").wait_for()
    # Each mentor with their fit with this resident, so the choice is not blind.
    options = page.get_by_label("Instead, pair with").locator("option").all_inner_texts()
    assert any(o.startswith(f"{other.full_name} — fit ") and o.endswith("left)") for o in options), options
    shot("override-page")
    page.set_viewport_size({"width": 390, "height": 844})
    shot("override-page-phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_label("Instead, pair with").select_option(str(other.pk))
    page.get_by_label("Why").fill("Asked for at orientation.")
    page.get_by_role("button", name="Save the override").click()
    # A full page: back on the review, at the row, with the message.
    page.wait_for_url(f"**/match-runs/{run.pk}/#proposal-{proposal.pk}")
    page.get_by_text(f"{proposal.mentee.full_name} will be paired with {other.full_name}.").wait_for()
    row = page.locator(f"#proposal-{proposal.pk}")
    assert "Overridden" in row.inner_text()
    proposal.refresh_from_db()
    assert proposal.decision == MatchProposal.Decision.OVERRIDDEN and proposal.override_mentor == other
    assert not [e for e in console_errors if "htmx" in e.lower()], console_errors
    # "Undo override" and "Change" side by side, the same height.
    undo, change = row.get_by_role("button", name="Undo override"), row.get_by_role("link", name="Change")
    assert undo.bounding_box()["height"] == change.bounding_box()["height"]
    shot("overridden-row")
