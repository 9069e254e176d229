"""The ranking window with JavaScript.

A resident drags a mentor to the top, moves another up with the keyboard, hears where each
one landed, and submits; typing a number or ticking "never" moves no row (only "Sort by my
numbers", a drag or a move button does); a number typed twice is an error at once. A
coordinator follows the window, reminds, closes it early, and the match runs."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import CareerStage
from matching.match_runs.ranking import ranking_submit, ranking_window_close
from matching.match_runs.selectors import rankings_for
from matching.match_runs.services import match_run_create
from matching.models import MatchRun, Notification, RankingSubmission
from tests.factories import PASSWORD, MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory

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
    page.locator("table.rank-sortable").wait_for()  # the script is ready
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

    # Drag Frank (not ranked) by the handle to the top (both rows on screen: the mouse works there).
    _row(page, carol).evaluate("el => el.scrollIntoView()")
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

    page.get_by_role("button", name="Update my list").click()
    page.get_by_text("Your updated list is saved").wait_for()
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


def test_typing_a_rank_then_clicking_never_on_another_row_moves_no_row(page, shot, run, resident, mentors):
    carol, dave, erin, frank, grace = mentors
    ranking_submit(run=run, actor=resident, ordered_ids=[carol.pk, dave.pk, erin.pk])

    log_in(page, resident.email, PASSWORD)
    page.goto(f"/match-runs/{run.pk}/rank/")
    names = page.locator("tbody tr[data-rank-row] th[scope='row']")
    page.locator("table.rank-sortable").wait_for()  # the script is ready
    before = names.all_inner_texts()

    # Grace gets 4, then, without leaving the field otherwise, a click on Frank's "never":
    # the click lands on Frank's box (nothing moved under the pointer on blur).
    page.locator(f"#rank_{grace.pk}").fill("4")
    page.get_by_label(f"Never pair me with {frank.full_name}").click()
    assert page.get_by_label(f"Never pair me with {frank.full_name}").is_checked()
    assert not page.get_by_label(f"Never pair me with {grace.full_name}").is_checked()
    assert names.all_inner_texts() == before
    assert _numbers(page, [carol, dave, erin, grace, frank]) == ["1", "2", "3", "4", ""]
    shot("typed-and-never-nothing-moved")

    # The rows move only on the explicit button.
    page.get_by_role("button", name="Sort by my numbers").click()
    assert names.all_inner_texts()[:4] == [carol.full_name, dave.full_name, erin.full_name, grace.full_name]
    assert names.all_inner_texts()[-1] == frank.full_name

    page.get_by_role("button", name="Update my list").click()
    page.get_by_text("Your updated list is saved").wait_for()
    saved = [(r.target_id, r.position, r.never) for r in rankings_for(run, resident)]
    assert saved == [
        (carol.pk, 1, False),
        (dave.pk, 2, False),
        (erin.pk, 3, False),
        (grace.pk, 4, False),
        (frank.pk, None, True),
    ]


def test_a_number_typed_twice_is_an_error_at_once_and_is_not_sent(page, shot, run, resident, mentors):
    carol, dave, erin, frank, grace = mentors
    log_in(page, resident.email, PASSWORD)
    page.goto(f"/match-runs/{run.pk}/rank/")
    page.locator("table.rank-sortable").wait_for()  # the script is ready

    page.locator(f"#rank_{carol.pk}").fill("2")
    page.locator(f"#rank_{dave.pk}").fill("2")
    live = page.locator("[data-rank-live-error]")
    expect(live).to_be_visible()
    expect(live).to_have_text(
        f"Number 2 is given to {carol.full_name} and {dave.full_name}: give each person a different number."
    )
    assert live.get_attribute("aria-live") == "assertive"
    # Said once on the whole page; each row with the number is marked beside its input.
    assert page.locator("main").inner_text().count("Number 2 is given to") == 1
    expect(page.locator(f"#rank_{dave.pk}_error")).to_have_text("Used twice")
    expect(page.locator(f"#rank_{carol.pk}_error")).to_have_text("Used twice")
    assert page.locator(f"#rank_{carol.pk}").get_attribute("aria-invalid") == "true"
    assert _numbers(page, [carol, dave]) == ["2", "2"]  # nothing renumbered behind the person's back
    shot("duplicate-shown")

    page.get_by_role("button", name="Submit my list").click()
    page.wait_for_timeout(300)
    assert page.url.endswith(f"/match-runs/{run.pk}/rank/") and not RankingSubmission.objects.exists()
    assert page.evaluate("document.activeElement.id") == f"rank_{carol.pk}"

    page.locator(f"#rank_{dave.pk}").fill("1")
    expect(live).to_be_hidden()
    page.get_by_role("button", name="Submit my list").click()
    page.get_by_text("Your list is submitted").wait_for()
    assert [(r.target_id, r.position) for r in rankings_for(run, resident)] == [(dave.pk, 1), (carol.pk, 2)]


def test_typed_ranks_and_never_ticks_survive_a_look_at_a_profile(page, run, resident, mentors):
    carol, dave, third = mentors[:3]
    log_in(page, resident.email, PASSWORD)
    page.goto(f"/match-runs/{run.pk}/rank/")
    page.locator("table.rank-sortable").wait_for()  # the script is ready
    page.locator(f"#rank_{dave.pk}").fill("1")
    page.locator(f"#never_{third.pk}").check()
    page.wait_for_timeout(500)  # app.js keeps the draft after a short pause

    page.get_by_role("link", name=f"{carol.full_name}'s profile").click()
    page.get_by_role("heading", name=carol.full_name).first.wait_for()
    page.go_back()
    page.locator("table.rank-sortable").wait_for()  # the script is ready
    assert page.locator(f"#rank_{dave.pk}").input_value() == "1"
    assert page.locator(f"#never_{third.pk}").is_checked()


def test_a_resident_submits_and_gets_a_receipt(page, shot, run, resident, mentors):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, resident.email, PASSWORD)
    page.goto(f"/match-runs/{run.pk}/rank/")
    page.locator(f"#rank_{mentors[2].pk}").fill("1")
    page.get_by_role("button", name="Submit my list").click()
    page.get_by_text("Your list is submitted (1 ranked, 0 marked never)").wait_for()
    expect(page.locator("[data-rank-submitted]")).to_contain_text("Submitted on")
    expect(page.get_by_role("button", name="Update my list")).to_be_visible()
    shot("phone-submitted")
    receipt = Notification.objects.get(user=resident, event="match.ranking_receipt")
    assert "1 mentor ranked" in receipt.body and mentors[2].last_name not in receipt.body


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_a_coordinator_follows_reminds_and_closes_the_window_early(
    page, shot, run, coordinator, resident, mentors, size
):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    ranking_submit(run=run, actor=mentors[0], ordered_ids=[resident.pk])

    log_in(page, coordinator.email, PASSWORD)
    page.goto(f"/match-runs/{run.pk}/window/")
    expect(page.locator("[data-count='submitted']")).to_contain_text("1 of 6")
    expect(page.locator("[data-count='residents']")).to_contain_text("0 of 1")
    expect(page.locator("[data-count='mentors']")).to_contain_text("1 of 5")
    shot("window-followed")

    page.get_by_role("button", name="Remind 5 people who have not submitted").click()
    page.get_by_text("Reminded 5 people who had not submitted.").wait_for()
    expect(page.locator(".ranking-reminded")).not_to_contain_text("None yet")
    expect(page.locator("[data-remind-later]")).to_contain_text("you can remind the first of them again from")
    assert Notification.objects.filter(event="match.ranking_reminder").count() == 5
    shot("reminded")

    # The resident submits meanwhile; the page counts her.
    ranking_submit(run=run, actor=resident, ordered_ids=[])
    page.reload()
    expect(page.locator("[data-count='residents']")).to_contain_text("1 of 1")

    page.get_by_role("button", name="Close now and start the match…", exact=True).click()
    # A second step: what closing does, with the counts; nothing has closed yet.
    page.get_by_role("heading", name="Close the ranking window now and start the match?").wait_for()
    expect(page.locator("[data-close-waiting]")).to_contain_text("4 people have not submitted")
    run.refresh_from_db()
    assert run.ranking_window_open()
    shot("close-confirm")
    page.get_by_role("button", name="Yes, close now and start the match").click()
    page.get_by_text("The ranking window is closed and the match has started.").wait_for()
    # Tasks run in process: the match has run by the time the page loads.
    run.refresh_from_db()
    assert run.status == MatchRun.Status.SUCCEEDED
    page.get_by_role("heading", name="Proposals").wait_for()
    shot("run-finished")


def test_on_a_phone_a_row_is_dragged_by_touch(page, shot, run, resident, mentors):
    erin = mentors[2]
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, resident.email, PASSWORD)
    page.goto(f"/match-runs/{run.pk}/rank/")
    page.locator("table.rank-sortable").wait_for()  # the script is ready

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


def _shown(page):
    return page.locator("tbody tr[data-rank-row] th[scope='row']").all_inner_texts()


def test_a_never_row_stays_where_it_was_on_reload_and_the_divider_stays_put(page, shot, run, resident, mentors):
    carol, dave, erin, frank, grace = mentors
    ranking_submit(run=run, actor=resident, ordered_ids=[frank.pk])
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, resident.email, PASSWORD)
    page.goto(f"/match-runs/{run.pk}/rank/")
    page.locator("table.rank-sortable").wait_for()
    # Ranked first (Frank), then the line, then everyone else in fit order.
    assert _shown(page) == [frank.full_name, carol.full_name, dave.full_name, erin.full_name, grace.full_name]

    # Typing a number below the line changes no words on the line and moves nothing.
    divider = page.locator("[data-rank-divider]")

    def top():  # on the page, not the screen: filling a field may scroll
        return divider.evaluate("el => el.getBoundingClientRect().top + window.scrollY")

    line, at = divider.inner_text(), top()
    page.locator(f"#rank_{erin.pk}").fill("2")
    expect(page.locator("[data-rank-sort-hint]")).to_have_text("Rows not sorted by your numbers yet.")
    shot("phone-out-of-step")
    assert divider.inner_text() == line and top() == at
    page.locator(f"#rank_{erin.pk}").fill("")
    expect(page.locator("[data-rank-sort-hint]")).to_have_text("You ranked 1 of 5.")
    assert top() == at

    # Dave (in the middle) is marked never: he stays where he is, now and after the reload.
    page.get_by_label(f"Never pair me with {dave.full_name}").check()
    before = _shown(page)
    page.get_by_role("button", name="Update my list").click()
    page.get_by_text("Your updated list is saved").wait_for()
    page.locator("table.rank-sortable").wait_for()
    assert _shown(page) == before == [frank.full_name, carol.full_name, dave.full_name, erin.full_name, grace.full_name]
    expect(_row(page, dave)).to_have_class("is-never")
    # The server draws the same order without the script.
    html = page.request.get(f"/match-runs/{run.pk}/rank/").text()
    assert [html.index(f'id="rank_{p.pk}"') for p in (frank, carol, dave, erin, grace)] == sorted(
        html.index(f'id="rank_{p.pk}"') for p in (frank, carol, dave, erin, grace)
    )
    assert html.index(f'id="rank_{frank.pk}"') < html.index("data-rank-divider") < html.index(f'id="rank_{carol.pk}"')
    shot("phone-never-in-place")


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_the_list_and_its_button_come_before_the_explanations(page, shot, run, resident, mentors, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    log_in(page, resident.email, PASSWORD)
    page.goto(f"/match-runs/{run.pk}/rank/")
    page.locator("table.rank-sortable").wait_for()
    first_row = _row(page, mentors[0]).bounding_box()
    assert first_row["y"] < size[1]  # the first person to rank is on the first screen
    explain = page.locator("details.rank-explain")
    assert explain.get_attribute("open") is None  # collapsed
    assert explain.bounding_box()["y"] > page.get_by_role("button", name="Submit my list").bounding_box()["y"]
    # The submit button is in reach on a phone without scrolling to the end of a long list.
    if size[0] < 500:
        button = page.get_by_role("button", name="Submit my list").bounding_box()
        assert button["y"] + button["height"] <= size[1]
    shot("list-first")
    explain.locator("summary").click()
    expect(page.locator("#confidential-note")).to_be_visible()
    expect(page.get_by_text("You can also drag a row")).to_be_visible()
    shot("explanations-open")


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_after_the_close_each_ranker_sees_their_own_list_read_only(
    page, shot, run, coordinator, resident, mentors, size
):
    carol, dave, erin, frank, grace = mentors
    ranking_submit(run=run, actor=resident, ordered_ids=[erin.pk, carol.pk], never_ids=[grace.pk])
    page.set_viewport_size({"width": size[0], "height": size[1]})
    # While the window is open, a mentor ranks the residents (here, the one resident).
    log_in(page, carol.email, PASSWORD)
    page.goto(f"/match-runs/{run.pk}/rank/")
    page.locator("table.rank-sortable").wait_for()
    expect(page.get_by_role("heading", name="Rank your possible residents")).to_be_visible()
    shot("mentor-open")
    page.context.clear_cookies()

    ranking_window_close(run=run, actor=coordinator)

    log_in(page, resident.email, PASSWORD)
    page.goto(f"/match-runs/{run.pk}/rank/")
    page.get_by_role("heading", name="Ranking closed — results soon").wait_for()
    card = page.locator("[data-rank-read-only]")
    assert card.locator("ol li").all_inner_texts() == [erin.full_name, carol.full_name]
    assert card.locator("ul li").all_inner_texts() == [grace.full_name]
    assert card.locator("input, button, form").count() == 0
    shot("resident-closed")
    assert Notification.objects.filter(user=resident, event="match.ranking_closed").exists()

    page.context.clear_cookies()
    log_in(page, carol.email, PASSWORD)
    page.goto(f"/match-runs/{run.pk}/rank/")
    page.get_by_role("heading", name="Ranking closed — results soon").wait_for()
    expect(page.locator("[data-rank-closed]")).to_contain_text("the residents you will mentor")
    expect(page.locator("[data-rank-read-only]")).to_contain_text("You did not submit a list")
    assert erin.full_name not in page.locator("main").inner_text()  # nobody else's list
    shot("mentor-closed")


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_a_mentor_finds_residents_in_a_long_list_and_ranks_typed_for_hidden_rows_are_kept(
    page, shot, program, coordinator, attending, size
):
    """A mentor ranks 30 residents: a name search (accents ignored), a PGY filter and "only
    those I numbered" hide rows, never their numbers; submitting with a filter on saves every
    number typed, shown or not."""
    stages = {code: CareerStage.objects.get(code=code) for code in ("PGY-1", "PGY-2", "PGY-3")}
    named = {
        "José": ("García", "PGY-2"),
        "Zoë": ("Müller", "PGY-3"),
        "Ana": ("Jose", "PGY-1"),  # "jose" matches her last name too
    }
    residents = {}
    for first, (last, code) in named.items():
        user = UserFactory(first_name=first, last_name=last)
        MembershipFactory(user=user, program=program, role="resident")
        MenteeProfileFactory(user=user, career_stage=stages[code])
        residents[first] = user
    others = []
    for i in range(27):
        user = UserFactory(first_name=f"Res{i}", last_name=f"Person{i:02}")
        MembershipFactory(user=user, program=program, role="resident")
        MenteeProfileFactory(user=user, career_stage=stages[("PGY-1", "PGY-2", "PGY-3")[i % 3]])
        others.append(user)
    run = match_run_create(
        program=program,
        actor=coordinator,
        kind="career",
        algorithm="stable",
        mentee_ids=[u.pk for u in [*residents.values(), *others]],
        mentor_ids=[attending.pk],
        ranking_deadline=timezone.now() + timedelta(days=3),
    )
    jose, zoe, ana = residents["José"], residents["Zoë"], residents["Ana"]
    page.set_viewport_size({"width": size[0], "height": size[1]})
    log_in(page, attending.email, PASSWORD)
    page.goto(f"/match-runs/{run.pk}/rank/")
    page.locator("table.rank-sortable").wait_for()
    rows = page.locator("tbody tr[data-rank-row]:visible")
    expect(rows).to_have_count(30)

    search = page.get_by_label("Find a resident by name")
    search.fill("jose")  # no accent, lower case: José García and Ana Jose
    expect(rows).to_have_count(2)
    expect(page.locator("[data-rank-filter-count]")).to_contain_text("Showing 2 of 30.")
    page.locator(f"#rank_{jose.pk}").fill("1")
    search.press("Enter")  # filters; does not send the list
    assert RankingSubmission.objects.filter(run=run).count() == 0
    shot("rank-search")

    search.fill("")
    page.get_by_label("PGY year").select_option("PGY-3")
    expect(rows).to_have_count(10)
    assert all(r.get_attribute("data-rank-stage") == "PGY-3" for r in rows.all())
    page.locator(f"#rank_{zoe.pk}").fill("2")
    page.get_by_label("Never pair me with " + others[2].full_name).check()  # Person02 is PGY-3
    shot("rank-pgy-filter")

    page.get_by_label("PGY year").select_option("")
    page.get_by_label("Show only those I numbered").check()
    expect(rows).to_have_count(2)
    assert sorted(rows.locator("th[scope='row']").all_inner_texts()) == sorted([jose.full_name, zoe.full_name])

    # Zoë alone on screen, the list is sent: the hidden rows' numbers and ticks go too.
    page.get_by_label("Show only those I numbered").uncheck()
    search.fill("zoe")
    expect(rows).to_have_count(1)
    page.get_by_role("button", name="Submit my list").click()
    page.get_by_text("Your list is submitted (2 ranked, 1 marked never)").wait_for()
    saved = [(r.target_id, r.position, r.never) for r in rankings_for(run, attending)]
    assert saved == [(jose.pk, 1, False), (zoe.pk, 2, False), (others[2].pk, None, True)]
    assert ana.pk not in [t for t, _, _ in saved]


def test_a_number_to_fix_in_a_hidden_row_is_shown_before_the_list_is_refused(page, run, resident, mentors):
    carol, dave, erin, frank, grace = mentors
    log_in(page, resident.email, PASSWORD)
    page.goto(f"/match-runs/{run.pk}/rank/")
    page.locator("table.rank-sortable").wait_for()
    page.locator(f"#rank_{carol.pk}").fill("1")
    page.locator(f"#rank_{dave.pk}").fill("1")
    page.get_by_label("Find a mentor by name or specialty").fill("carol")
    expect(_row(page, dave)).to_be_hidden()

    page.get_by_role("button", name="Submit my list").click()

    # The search is cleared so that the row to fix is on screen, with the focus in it.
    expect(_row(page, dave)).to_be_visible()
    expect(page.get_by_label("Find a mentor by name or specialty")).to_have_value("")
    assert page.evaluate("document.activeElement.id") in (f"rank_{carol.pk}", f"rank_{dave.pk}")
    assert not RankingSubmission.objects.filter(run=run).exists()
