"""Issue 15's readiness journey and the start form at the size of a real program, in Chromium:
a coordinator sees a resident without goals on the readiness page, reminds them with one
click, and the resident finds the reminder; the start form's filters, "Select all shown" and
live counts act on the visible rows only."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import AvailabilityWindow, CareerStage, Goal, Interest, Membership
from matching.models import MatchRun, Notification
from tests.factories import PASSWORD, MembershipFactory, MenteeProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("size", SIZES)
def test_readiness_with_a_resident_who_has_no_goals(
    page, shot, size, program, coordinator, resident, other_resident, attending
):
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    resident.mentee_profile.goals.set([Goal.objects.get(slug="research")])
    resident.mentee_profile.interests.set([Interest.objects.first()])
    AvailabilityWindow.objects.create(user=attending, weekday=1, start="18:00", end="20:00")
    # Bob (other_resident) has neither goals nor interests.

    log_in(page, coordinator.email, PASSWORD)
    page.goto(f"/programs/{program.slug}/match-runs/")
    page.get_by_role("link", name="Start a match run").first.click()
    # The start form opens with what needs attention first.
    summary = page.get_by_role("region", name="Before you start: a career run")
    expect(summary).to_contain_text("Residents without goals or interests: 1")
    summary.get_by_role("link", name="Check readiness and send reminders").click()

    group = page.locator("#no-goals")
    expect(group.get_by_role("heading", name=re.compile("Residents without goals or interests"))).to_contain_text("1")
    expect(group).to_contain_text(other_resident.full_name)
    expect(group).to_contain_text("no goals and no interests")
    expect(group).not_to_contain_text(resident.full_name)
    _no_sideways_scroll(page)
    shot(f"readiness-{size}")

    group.get_by_role("button", name="Remind them to add goals and interests (1)").click()
    expect(page.get_by_text("Reminded 1 person.")).to_be_visible()
    # A second click the same day sends nothing new, and says so.
    page.locator("#no-goals").get_by_role("button", name=re.compile("Remind them")).click()
    expect(page.get_by_text("1 was already reminded today.")).to_be_visible()
    shot(f"reminded-{size}")
    assert Notification.objects.filter(user=other_resident, event="match.readiness_reminder").count() == 1
    page.context.clear_cookies()  # signed out (on a phone the button is inside the menu)

    log_in(page, other_resident.email, PASSWORD)
    page.goto("/notifications/")
    reminder = page.get_by_text(f"Add your goals and interests before the {program.name} match")
    expect(reminder).to_be_visible()
    shot(f"resident-reminded-{size}")


def test_select_all_acts_on_the_filtered_rows_and_counts_follow(page, shot, program, coordinator, attending):
    stages = {code: CareerStage.objects.get(code=code) for code in ("PGY-1", "PGY-2", "PGY-3")}
    people = {}
    for i, (first, last, code) in enumerate(
        [
            ("Ana", "Lee", "PGY-1"),
            ("Ana", "Lee", "PGY-2"),  # a namesake, told apart by PGY and e-mail
            ("Ben", "Okafor", "PGY-2"),
            ("Cal", "Nguyen", "PGY-2"),
            ("Dee", "Park", "PGY-3"),
            ("Eli", "Ruiz", "PGY-1"),
        ]
    ):
        user = UserFactory(first_name=first, last_name=last, email=f"{first.lower()}{i}@hospital.example")
        MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
        MenteeProfileFactory(user=user, career_stage=stages[code])
        people[(first, code)] = user
    mentored = people[("Cal", "PGY-2")]
    MentorshipFactory(mentee=mentored, mentor=attending, program=program, kind="career")

    log_in(page, coordinator.email, PASSWORD)
    page.goto(f"/programs/{program.slug}/match-runs/new/?kind=career")
    count = page.locator("[data-cohort-count]")
    expect(count).to_have_text("0 of 5 chosen · 1 left out, see why")
    expect(page.get_by_text("Has a career mentor (Carol Chen): left out")).to_be_visible()

    # PGY-2 only, and without a career mentor: Ana Lee (PGY-2) and Ben; Cal is hidden.
    page.get_by_label("PGY", exact=True).select_option("PGY-2")
    expect(count).to_have_text("0 of 5 chosen · 1 left out, see why · 3 shown")
    page.get_by_label("Only residents with no career mentor").check()
    expect(count).to_have_text("0 of 5 chosen · 1 left out, see why · 2 shown")
    page.get_by_role("button", name="Select all shown").click()
    expect(count).to_have_text("2 of 5 chosen · 1 left out, see why · 2 shown")
    checked = {
        int(v) for v in page.locator("input[name='mentee_ids']:checked").evaluate_all("els => els.map(e => e.value)")
    }
    assert checked == {people[("Ana", "PGY-2")].pk, people[("Ben", "PGY-2")].pk}

    # A search narrows further; "Select none shown" leaves the hidden choice alone.
    page.get_by_label("PGY", exact=True).select_option("")
    page.get_by_label("Find a resident").fill("lee")
    expect(count).to_have_text("2 of 5 chosen · 1 left out, see why · 2 shown")
    page.get_by_role("button", name="Select all shown").click()
    expect(count).to_have_text("3 of 5 chosen · 1 left out, see why · 2 shown")
    page.get_by_label("Find a resident").fill("okafor")
    page.get_by_role("button", name="Select none shown").click()
    expect(count).to_have_text("2 of 5 chosen · 1 left out, see why · 1 shown")
    page.get_by_label("Find a resident").fill("")
    page.get_by_label("Only residents with no career mentor").uncheck()
    expect(count).to_have_text("2 of 5 chosen · 1 left out, see why")
    # Ticking one by hand counts too.
    page.get_by_label(re.compile(r"Dee Park")).check()
    expect(count).to_have_text("3 of 5 chosen · 1 left out, see why")
    # "Select all shown" leaves out Cal, who has a career mentor (the run would leave him out,
    # and a ranking window would ask him to rank for nothing); he can still be ticked by hand.
    page.get_by_role("button", name="Select all shown").click()
    expect(count).to_have_text("5 of 5 chosen · 1 left out, see why")
    assert not page.get_by_label(re.compile(r"Cal Nguyen")).is_checked()
    page.get_by_role("button", name="Select none shown").click()
    for first, code in (("Ana", "PGY-1"), ("Ana", "PGY-2"), ("Dee", "PGY-3")):
        page.locator(f"input[name='mentee_ids'][value='{people[(first, code)].pk}']").check()
    expect(count).to_have_text("3 of 5 chosen · 1 left out, see why")

    # The marker follows the kind chosen in the form.
    page.get_by_label("Kind of mentorship").select_option("research")
    expect(page.get_by_text("Has a career mentor (Carol Chen): left out")).to_be_hidden()
    expect(page.get_by_text("Only residents with no research mentor")).to_be_visible()
    # The count reads against the residents a run of that kind can match: Cal can be matched for research.
    expect(count).to_have_text("3 of 6 chosen", use_inner_text=True)  # the "left out" note is hidden
    page.get_by_label("Kind of mentorship").select_option("career")
    expect(count).to_have_text("3 of 5 chosen · 1 left out, see why")

    # The weights' total is kept live.
    total = page.locator("[data-weights-total]")
    expect(total).to_have_text("Total: 100%")
    page.get_by_label("Goals the mentor helps with").fill("20")
    expect(total).to_have_text("Total: 95% (must be 100%)")
    shot("start-form-filtered")
    page.get_by_role("button", name="Start the match").click()
    expect(page.get_by_role("alert")).to_contain_text("The weights add up to 95%; change them so they add up to 100%.")
    # The page's scripts have run (the live total is theirs, and drafts are restored before it),
    # so the value typed next is the one sent.
    page.wait_for_load_state()
    expect(total).to_have_text("Total: 95% (must be 100%)")
    page.get_by_label("Goals the mentor helps with").fill("25")
    expect(total).to_have_text("Total: 100%")
    page.get_by_role("button", name="Start the match").click()
    page.get_by_role("heading", name="Proposals").wait_for()
    run = MatchRun.objects.get(program=program)
    assert set(run.mentees.values_list("pk", flat=True)) == {
        people[("Ana", "PGY-1")].pk,
        people[("Ana", "PGY-2")].pk,
        people[("Dee", "PGY-3")].pk,
    }

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/programs/{program.slug}/match-runs/new/?kind=career")
    expect(page.locator("[data-cohort-count]")).to_have_text("0 of 5 chosen · 1 left out, see why")
    _no_sideways_scroll(page)
    shot("start-form-phone")
