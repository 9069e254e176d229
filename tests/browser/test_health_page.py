"""Issue 5's dashboard in Chromium: a coordinator opens program health from the program list,
sees the charts drawn beside their tables, filters to one PGY year; without JavaScript the
page is the tables alone."""

import pytest

from tests.factories import PASSWORD
from tests.matching.health_world import frozen, world  # noqa: F401  (the fixed program and its clock)

from .conftest import ARTIFACTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_coordinator_reads_program_health(page, shot, program, coordinator, world, frozen):  # noqa: F811
    log_in(page, coordinator.email, PASSWORD)
    page.get_by_role("link", name="Programs").click()
    page.get_by_role("link", name="Program health").first.click()
    page.get_by_role("heading", name="Who needs help").wait_for()

    # Five charts drawn (coverage, load, funnel, cadence, ratings), each beside its table.
    charts = page.locator(".health-chart:not([hidden]) canvas")
    charts.first.wait_for()
    assert charts.count() == 5
    assert page.locator(".health-chart canvas[aria-hidden='true']").count() == 5
    shot("dashboard")

    page.get_by_role("link", name="2 pairings have had no meeting in 60 days").wait_for()
    page.get_by_label("PGY year").select_option("PGY-1")
    page.get_by_role("button", name="Show").click()
    page.get_by_text("PGY-1 residents only.").wait_for()
    shot("pgy-1")
    # Carol's single check-in hides the residents' average for PGY-1 (it would reveal hers).
    assert (
        "Hidden so that a smaller group's answers can't be worked out from it."
        in page.locator("#checkins").inner_text()
    )


def test_without_javascript_the_tables_are_the_page(browser, live_server, program, coordinator, world, frozen):  # noqa: F811
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    page = context.new_page()
    try:
        log_in(page, coordinator.email, PASSWORD)
        page.goto(f"/programs/{program.slug}/health/")
        page.get_by_role("heading", name="Who needs help").wait_for()
        assert page.locator(".health-chart:visible").count() == 0
        assert page.get_by_role("table").count() >= 8
        folder = ARTIFACTS / "test_without_javascript_the_tables_are_the_page"
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "01-phone-no-js.png"), full_page=True)
    finally:
        context.close()
