"""The ranking page with JavaScript: a resident drags a mentor to the top, moves another
up with the keyboard, hears where each one landed, and saves. The numbers follow the
rows, so the form posts exactly what a typed-in ranking would."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from matching.match_runs.ranking import ranking_submit
from matching.match_runs.selectors import rankings_for
from matching.match_runs.services import match_run_create
from tests.factories import PASSWORD, MembershipFactory, MentorProfileFactory, UserFactory

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mentors(program, attending, other_attending):
    """Carol Chen, Dave Diaz, Erin Evans, Frank Fox, Grace Green (the page's order)."""
    people = [attending, other_attending]
    for first, last in [("Erin", "Evans"), ("Frank", "Fox"), ("Grace", "Green")]:
        user = UserFactory(first_name=first, last_name=last)
        MembershipFactory(user=user, program=program, role="faculty")
        MentorProfileFactory(user=user)
        people.append(user)
    return people


@pytest.fixture
def run(program, coordinator, resident, mentors):
    return match_run_create(
        program=program,
        actor=coordinator,
        kind="career",
        algorithm="stable",
        mentee_ids=[resident.pk],
        mentor_ids=[m.pk for m in mentors],
        ranking_deadline=timezone.now() + timedelta(days=3),
    )


def _numbers(page, people):
    return [page.locator(f"#rank_{person.pk}").input_value() for person in people]


def _row(page, person):
    return page.locator("tr", has=page.locator(f"#rank_{person.pk}"))


def _drag(page, handle, onto):
    """Press on ``handle``, move in steps like a hand would, and let go on the top edge
    of ``onto`` (Locator.drag_to is too quick for a drag-and-drop library to follow)."""
    start, end = handle.bounding_box(), onto.bounding_box()
    x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 16):
        page.mouse.move(x, y + (end["y"] + 5 - y) * step / 15)
        page.wait_for_timeout(20)
    page.mouse.up()


def test_a_resident_drags_and_moves_mentors_into_order(page, shot, run, resident, mentors):
    carol, dave, erin, frank, grace = mentors
    ranking_submit(run=run, actor=resident, ordered_ids=[carol.pk, dave.pk], never_ids=[grace.pk])

    log_in(page, resident.email, PASSWORD)
    page.goto(f"/match-runs/{run.pk}/rank/")
    status = page.locator("[data-rank-status]")
    page.get_by_text("You can also drag a row").wait_for()
    # Ranked first, in order; then no preference; "never" last.
    names = page.locator("tbody tr[data-rank-row] th[scope='row']")
    assert names.all_inner_texts() == [
        carol.full_name,
        dave.full_name,
        erin.full_name,
        frank.full_name,
        grace.full_name,
    ]
    assert _numbers(page, mentors) == ["1", "2", "", "", ""]
    shot("saved-ranking")

    # Drag Frank (not ranked) by the handle to the top.
    _drag(page, _row(page, frank).locator(".rank-handle"), _row(page, carol))
    expect(status).to_have_text(f"{frank.full_name} moved to position 1 of 3.")
    assert names.all_inner_texts()[:3] == [frank.full_name, carol.full_name, dave.full_name]
    assert _numbers(page, [frank, carol, dave, erin, grace]) == ["1", "2", "3", "", ""]

    # Dave goes above Carol with the keyboard; the focus stays on his button.
    move_dave_up = page.get_by_role("button", name=f"Move {dave.full_name} up")
    move_dave_up.focus()
    page.keyboard.press("Enter")
    page.get_by_text(f"{dave.full_name} moved to position 2 of 3.").wait_for(state="attached")
    assert names.all_inner_texts()[:3] == [frank.full_name, dave.full_name, carol.full_name]
    assert _numbers(page, [frank, dave, carol]) == ["1", "2", "3"]
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == f"Move {dave.full_name} up"
    shot("reordered")

    page.get_by_role("button", name="Save my ranking").click()
    page.get_by_text("Your ranking is saved.").wait_for()
    page.locator("table.rank-sortable").wait_for()  # the script has put the rows in order
    saved = [(r.target_id, r.position, r.never) for r in rankings_for(run, resident)]
    assert saved == [(frank.pk, 1, False), (dave.pk, 2, False), (carol.pk, 3, False), (grace.pk, None, True)]
    assert names.all_inner_texts() == [
        frank.full_name,
        dave.full_name,
        carol.full_name,
        erin.full_name,
        grace.full_name,
    ]
    shot("after-save")


def test_typing_a_number_or_ticking_never_reorders_the_rows(page, shot, run, resident, mentors):
    carol, dave, erin, frank, grace = mentors
    ranking_submit(run=run, actor=resident, ordered_ids=[carol.pk, dave.pk, erin.pk])

    log_in(page, resident.email, PASSWORD)
    page.goto(f"/match-runs/{run.pk}/rank/")
    names = page.locator("tbody tr[data-rank-row] th[scope='row']")
    page.get_by_text("You can also drag a row").wait_for()

    # Typing 1 for Grace puts her first and shifts the others down.
    page.locator(f"#rank_{grace.pk}").fill("1")
    page.locator(f"#rank_{grace.pk}").press("Tab")
    assert names.all_inner_texts()[:4] == [grace.full_name, carol.full_name, dave.full_name, erin.full_name]
    assert _numbers(page, [grace, carol, dave, erin, frank]) == ["1", "2", "3", "4", ""]

    # "Never" takes Carol out of the numbering and to the bottom; her number goes.
    page.get_by_label(f"Never pair me with {carol.full_name}").check()
    assert names.all_inner_texts()[-1] == carol.full_name
    assert _numbers(page, [grace, dave, erin, carol]) == ["1", "2", "3", ""]
    assert page.get_by_role("button", name=f"Move {carol.full_name} up").is_disabled()

    # Down from the last ranked place: no longer ranked.
    page.get_by_role("button", name=f"Move {erin.full_name} down").click()
    page.get_by_text(f"{erin.full_name} is not ranked: no preference.").wait_for(state="attached")
    assert _numbers(page, [grace, dave, erin]) == ["1", "2", ""]
    shot("typed-and-never")

    page.get_by_role("button", name="Save my ranking").click()
    page.get_by_text("Your ranking is saved.").wait_for()
    saved = [(r.target_id, r.position, r.never) for r in rankings_for(run, resident)]
    assert saved == [(grace.pk, 1, False), (dave.pk, 2, False), (carol.pk, None, True)]


def test_on_a_phone_a_row_is_dragged_by_touch(page, shot, run, resident, mentors):
    erin = mentors[2]
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, resident.email, PASSWORD)
    page.goto(f"/match-runs/{run.pk}/rank/")
    page.get_by_text("You can also drag a row").wait_for()

    # Nobody ranked yet, so the divider is at the top: a finger drags Erin above it.
    page.locator(".rank-divider").evaluate("el => el.scrollIntoView()")
    handle = _row(page, erin).locator(".rank-handle").bounding_box()
    divider = page.locator(".rank-divider").bounding_box()
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    to_y = divider["y"] + 4
    # Playwright has no touch drag; Chromium's DevTools protocol sends real touch events.
    touch = page.context.new_cdp_session(page)
    touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 13):
        touch.send(
            "Input.dispatchTouchEvent",
            {"type": "touchMove", "touchPoints": [{"x": x, "y": y + (to_y - y) * step / 12}]},
        )
        page.wait_for_timeout(30)
    touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})

    page.get_by_text(f"{erin.full_name} moved to position 1 of 1.").wait_for(state="attached")
    assert _numbers(page, mentors) == ["", "", "1", "", ""]
    shot("phone-after-touch-drag")
