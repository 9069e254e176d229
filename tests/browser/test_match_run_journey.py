"""Issue 4's journey: a coordinator starts a match run, watches it finish, overrides one
pairing and publishes; a resident then sees the new mentor, with the reasons."""

import pytest

from accounts.models import Goal, Language
from matching.models import MatchProposal, MatchRun, Mentorship
from tests.factories import PASSWORD, MembershipFactory, MenteeProfileFactory, UserFactory

from .conftest import htmx_ready, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_coordinator_runs_overrides_and_publishes(
    page, shot, program, coordinator, resident, attending, other_attending
):
    research = Goal.objects.get(slug="research")
    spanish = Language.objects.get(code="es")
    resident.mentee_profile.goals.set([research])
    resident.mentee_profile.languages.set([spanish])
    attending.mentor_profile.expertise.set([research])
    attending.mentor_profile.languages.set([spanish])
    for first in ("Priya", "Marcus"):
        user = UserFactory(first_name=first, last_name="Intern")
        MembershipFactory(user=user, program=program, role="resident")
        MenteeProfileFactory(user=user)

    log_in(page, coordinator.email, PASSWORD)
    page.get_by_role("link", name="Programs").click()
    page.get_by_role("link", name="Match runs").first.click()
    page.get_by_role("link", name="Start a match run").first.click()
    page.get_by_label("Kind of mentorship").select_option(label="Career")
    for box in page.locator("input[name='mentee_ids']").all():
        box.check()
    shot("new-run")
    page.get_by_role("button", name="Start the match").click()

    # In-process tasks: the run has finished by the time the page loads.
    page.get_by_role("heading", name="Proposals").wait_for()
    shot("run-finished")
    run = MatchRun.objects.get(program=program)
    assert run.status == MatchRun.Status.SUCCEEDED
    alice_proposal = MatchProposal.objects.get(run=run, mentee=resident)
    assert alice_proposal.mentor == attending  # research and Spanish in common

    # Override one of the interns' pairings to Carol, with a reason.
    intern = MatchProposal.objects.filter(run=run).exclude(mentee=resident).order_by("mentee__first_name").first()
    row = page.locator(f"#proposal-{intern.pk}")
    row.get_by_text("Override").or_(row.get_by_text("Choose a mentor")).first.click()
    form = page.locator(f"#override-row-{intern.pk}")  # the form opens in a row of its own, below
    htmx_ready(form.get_by_label("Instead, pair with"))
    form.get_by_label("Instead, pair with").select_option(value=str(attending.pk))
    form.get_by_label("Why:").fill("Both want a research year; Dr Chen has one spot left.")
    # Choosing Carol says at once whether she has a spot; if the engine's own proposals hold them
    # all, the ways to make room come with it, before Save.
    form.get_by_role("status").get_by_text(attending.full_name, exact=False).wait_for()
    raise_spot = form.get_by_label(f"Giving {attending.full_name} one more spot", exact=False)
    if raise_spot.count():
        shot("override-asks-for-room")
        raise_spot.check()
    form.get_by_role("button", name="Save").click()
    page.locator(f"#proposal-{intern.pk}").get_by_text("Overridden").wait_for()
    shot("after-override")

    page.get_by_role("button", name="Accept all remaining").click()
    page.get_by_role("button", name="Yes, accept").click()  # the second step
    page.locator("details.match-run-publish summary").click()
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("Second round for the unmatched").or_(page.get_by_text("Published")).first.wait_for()
    shot("published")
    assert Mentorship.objects.filter(mentee=resident, mentor=attending, source="match_run", status="active").exists()
    assert Mentorship.objects.filter(mentee=intern.mentee, mentor=attending, source="match_run").exists()
    page.get_by_role("button", name="Log out").click()

    # Alice sees her new mentor and why.
    log_in(page, resident.email, PASSWORD)
    # The dashboard also asks her to plan a first meeting with Carol; she opens the mentorship.
    page.get_by_role("link", name=f"Plan a first meeting with {attending.full_name}").wait_for()
    page.get_by_role("link", name=attending.full_name, exact=True).first.click()
    page.get_by_text(f"Why {attending.first_name} fits you").wait_for()
    shot("resident-sees-mentor-with-reasons")
    assert "Both speak Spanish" in page.locator("main").inner_text()


def test_the_run_page_follows_progress_without_a_reload(page, shot, program, coordinator, resident, attending):
    run = MatchRun.objects.create(program=program, kind="career", algorithm="stable", created_by=coordinator)
    run.mentees.set([resident])
    run.mentors.set([attending])
    MatchRun.objects.filter(pk=run.pk).update(status=MatchRun.Status.RUNNING, progress=40)

    log_in(page, coordinator.email, PASSWORD)
    page.goto(f"/match-runs/{run.pk}/")
    page.get_by_text("40% done.").wait_for()
    shot("running")
    MatchRun.objects.filter(pk=run.pk).update(progress=80)
    page.get_by_text("80% done.").wait_for(timeout=10_000)  # htmx swapped the region in place

    MatchRun.objects.filter(pk=run.pk).update(status=MatchRun.Status.FAILED, error="The engine ran out of time.")
    page.get_by_text("The engine ran out of time.").wait_for(timeout=10_000)  # HX-Refresh reloaded the page
    shot("failed")
