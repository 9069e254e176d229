"""Issue 15's journeys: a stale run after a publish (refused, re-run, discard), an override over
capacity (raise a spot), and a review of 500 proposals filtered and accepted in place."""

import pytest
from django.contrib.auth.hashers import make_password

from accounts.models import MentorProfile, User
from matching.match_runs.services import match_run_publish, proposal_decide
from matching.models import MatchProposal, MatchRun, Mentorship
from tests.factories import PASSWORD, MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory
from tests.matching.support import _create

from .conftest import htmx_ready, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _cohort(program, residents=4, mentors=2, capacity=2):
    people = []
    for i in range(residents):
        user = UserFactory(first_name=f"Res{i}", last_name="Intern")
        MembershipFactory(user=user, program=program, role="resident")
        MenteeProfileFactory(user=user)
        people.append(user)
    faculty = []
    for name in ["Kim", "Lee", "Moss"][:mentors]:
        user = UserFactory(first_name="Dr", last_name=name)
        MembershipFactory(user=user, program=program, role="faculty")
        MentorProfileFactory(user=user, capacity=capacity)
        faculty.append(user)
    return people, faculty


def _ran(coordinator, program, residents, mentors):
    run = _create(coordinator, program, residents, mentors)  # tasks run eagerly in-process
    run.refresh_from_db()
    assert run.status == MatchRun.Status.SUCCEEDED
    return run


def test_a_stale_run_is_refused_then_rerun_and_the_other_discarded(page, shot, program, coordinator):
    residents, mentors = _cohort(program, residents=6, mentors=2)  # four spots: #1 leaves two residents over
    first, second, third = (_ran(coordinator, program, residents, mentors) for _ in range(3))
    for p in first.proposals.exclude(mentor=None):
        proposal_decide(proposal=p, actor=coordinator, decision="accepted")
    match_run_publish(run=first, actor=coordinator)

    log_in(page, coordinator.email, PASSWORD)
    page.goto(f"/match-runs/{second.pk}/")
    page.get_by_role("heading", name="This match is out of date").wait_for()
    assert f"(published in match #{first.pk})" in page.locator(".match-run-stale").inner_text()
    # Nothing to accept or publish on an out-of-date run.
    assert page.get_by_role("button", name="Accept", exact=True).count() == 0
    assert page.get_by_role("button", name="Publish").count() == 0
    shot("stale-run")
    page.set_viewport_size({"width": 390, "height": 844})
    shot("stale-run-phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("button", name="Re-run with the same settings").click()
    page.get_by_text("runs again with the same settings").wait_for()
    rerun = MatchRun.objects.get(rerun_of=second)
    page.wait_for_url(f"**/match-runs/{rerun.pk}/")
    page.get_by_role("link", name=f"match #{second.pk}").first.wait_for()
    assert rerun.status == MatchRun.Status.SUCCEEDED
    assert rerun.mentees.count() == 2  # those the publish of #1 left without a mentor
    assert page.get_by_role("heading", name="This match is out of date").count() == 0
    shot("rerun")

    page.goto(f"/match-runs/{third.pk}/")
    page.get_by_role("button", name="Discard").click()
    # A second step asks first, with an optional reason; a click alone discards nothing.
    page.get_by_role("heading", name=f"Discard match #{third.pk}?").wait_for()
    shot("discard-confirm")
    third.refresh_from_db()
    assert not third.is_archived
    page.get_by_label("Reason (optional, kept in the audit log)").fill("Wrong cohort")
    page.get_by_role("button", name="Yes, discard this match").click()
    page.get_by_role("heading", name="Discarded").wait_for()
    shot("discarded")
    page.goto(f"/programs/{program.slug}/match-runs/")
    assert page.get_by_role("link", name=f"#{third.pk} · Career").count() == 0
    page.get_by_role("link", name="Show archived (2)").click()
    page.get_by_role("link", name=f"#{third.pk} · Career").wait_for()
    shot("list-with-archived")


def test_an_override_onto_a_full_mentor_offers_a_spot_or_a_displacement(page, shot, program, coordinator):
    residents, (kim, lee) = _cohort(program, residents=5, mentors=2, capacity=2)
    run = _ran(coordinator, program, residents, [kim, lee])
    unmatched = run.proposals.get(mentor=None)

    log_in(page, coordinator.email, PASSWORD)
    page.goto(f"/match-runs/{run.pk}/")
    # Choosing a full mentor swaps in the ways to make room: nothing may go wrong on the console
    # (the walkthrough saw the Content-Security-Policy refuse inline styles here).
    console_errors = []
    # Less Chromium's own line for the refused Save (a form with errors answers 400, swapped in place).
    refused_save = "the server responded with a status of 400 (Bad Request)"
    page.on(
        "console",
        lambda message: console_errors.append(message.text)
        if message.type == "error" and refused_save not in message.text
        else None,
    )
    row = page.locator(f"#proposal-{unmatched.pk}")
    form = page.locator(f"#override-row-{unmatched.pk}")  # the override form opens in a row of its own, below
    row.get_by_role("link", name="Choose a mentor").click()
    # Cancel closes the form where it opened, below the row, and gives the keyboard back to the row.
    htmx_ready(form.get_by_label("Instead, pair with"))
    form.get_by_role("link", name="Cancel").click()
    form.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Choose a mentor"
    row.get_by_role("link", name="Choose a mentor").click()
    htmx_ready(form.get_by_label("Instead, pair with"))
    # By keyboard: the first mentor of the list is Dr Kim, who is full. The ways to make room come
    # at once, before Save, and a screen reader is told; the keyboard stays on the list.
    mentor = form.get_by_label("Instead, pair with")
    mentor.focus()
    page.keyboard.press("ArrowDown")
    # Said plainly: the extra spot takes Dr Kim past the capacity on her profile.
    raise_spot = form.get_by_label(
        "Giving Dr Kim one more spot in this match (3 in all): 3 mentees once published, past the 2"
    )
    raise_spot.wait_for()
    assert mentor.input_value() == str(kim.pk)
    status = form.locator(f"#o{unmatched.pk}-room-status")
    assert status.get_attribute("role") == "status"
    assert status.inner_text() == "Dr Kim has no spot left in this match: choose below how to make room."
    assert page.evaluate("document.activeElement.name") == f"o{unmatched.pk}-mentor"
    assert form.get_by_label("Displacing ", exact=False).count() == 2  # Dr Kim's two residents
    # Saved without choosing, the form asks again (as it does without JavaScript, after Save).
    form.get_by_label("Why:").fill("Asked for Dr Kim at orientation.")
    # A screenshot tool or an extension leaves style attributes on the form's fields (Playwright's
    # full-page screenshots did in the walkthrough); htmx's settling must not copy them onto the
    # swapped-in fields, which the Content-Security-Policy would refuse.
    form.evaluate(
        "row => row.querySelectorAll('select, textarea, input').forEach(el => { el.style.outline = '0px none' })"
    )
    with page.expect_response(lambda r: "/override/" in r.url and r.request.method == "POST") as refused:
        form.get_by_role("button", name="Save the override").click()
    assert refused.value.status == 400  # a refused form, swapped in place all the same (templates/base.html)
    form.get_by_text("Give Dr Kim one more spot for this match, or displace one of these residents").wait_for()
    assert form.get_by_label("Why:").input_value() == "Asked for Dr Kim at orientation."  # nothing typed is lost
    page.wait_for_timeout(100)  # htmx settles 20 ms after the swap
    assert console_errors == []
    # (Screenshots after the swaps: axe leaves empty style attributes that htmx's settling would copy.)
    shot("choose-how-to-make-room")
    page.set_viewport_size({"width": 390, "height": 844})
    form.get_by_label("Why:").scroll_into_view_if_needed()
    shot("choose-how-to-make-room-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    raise_spot.check()
    form.get_by_role("button", name="Save the override").click()
    page.locator(f"#proposal-{unmatched.pk}").get_by_text("Overridden").wait_for()
    shot("raised")
    assert "(+1 for this match)" in page.locator("#review-summary").inner_text()  # the load table, live
    run.refresh_from_db()
    assert run.extra_spots == {str(kim.pk): 1}

    # One of Dr Lee's residents moved onto Dr Kim, full again, displacing one of hers: the displaced
    # row changes in place too (out of band), offering Override and no Accept (it would be refused).
    moved = run.proposals.filter(mentor=lee).order_by("pk").first()
    moved_form = page.locator(f"#override-row-{moved.pk}")
    page.locator(f"#proposal-{moved.pk}").get_by_role("link", name="Override").click()
    htmx_ready(moved_form.get_by_label("Instead, pair with"))
    # The proposed mentor is no choice (accepting the proposal is the way).
    assert moved_form.locator(f'option[value="{lee.pk}"]').count() == 0
    moved_form.get_by_label("Instead, pair with").select_option(str(kim.pk))
    displace = moved_form.get_by_label("Displacing ", exact=False).first
    displace.wait_for()
    displaced = run.proposals.get(pk=int(displace.get_attribute("value").removeprefix("displace:")))
    displaced_row = page.locator(f"#proposal-{displaced.pk}")
    assert displaced_row.get_by_text("Pending", exact=True).count() == 1  # before the override
    displace.check()
    moved_form.get_by_label("Why:").fill("Same research interest as Dr Kim.")
    moved_form.get_by_role("button", name="Save the override").click()
    page.locator(f"#proposal-{moved.pk}").get_by_text("Overridden", exact=True).wait_for()
    displaced_row.get_by_text("Displaced", exact=True).wait_for()
    assert displaced_row.get_by_text("Pending", exact=True).count() == 0
    assert displaced_row.get_by_role("button", name="Accept").count() == 0
    assert displaced_row.get_by_role("link", name="Override").count() == 1
    assert page.locator(f"#proposal-{displaced.pk}").count() == 1  # swapped, not duplicated
    page.wait_for_timeout(100)
    assert console_errors == []
    displaced_row.scroll_into_view_if_needed()
    shot("displaced")
    page.set_viewport_size({"width": 390, "height": 844})
    displaced_row.scroll_into_view_if_needed()
    shot("displaced-phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("button", name="Accept all remaining").click()
    page.get_by_role("heading", name="Accept all 2 remaining proposals?").wait_for()
    shot("accept-all-confirm")
    page.get_by_role("button", name="Yes, accept 2 proposals").click()
    page.get_by_text("Publish 4 pairings…").click()  # a second step: it cannot be undone
    page.get_by_role("button", name="Publish 4 pairings").click()
    page.get_by_role("heading", name="Published").wait_for()
    shot("published")
    assert Mentorship.objects.filter(mentor=kim, status="active").count() == 3


def _big_run(program, coordinator, n=500, mentors=25):
    hashed = make_password(None)
    people = User.objects.bulk_create(
        [
            User(
                **User.identity_fields(f"r{i:03d}@hospital.example"),
                email=f"r{i:03d}@hospital.example",
                first_name="Sam" if i % 100 == 7 else f"Res{i:03d}",
                last_name="Same" if i % 100 == 7 else "Person",
                password=hashed,
            )
            for i in range(n)
        ]
    )
    faculty = User.objects.bulk_create(
        [
            User(
                **User.identity_fields(f"m{j:02d}@hospital.example"),
                email=f"m{j:02d}@hospital.example",
                first_name="Dr",
                last_name=f"Mentor{j:02d}",
                password=hashed,
            )
            for j in range(mentors)
        ]
    )
    MentorProfile.objects.bulk_create([MentorProfile(user=m, capacity=20) for m in faculty])
    run = MatchRun.objects.create(
        program=program,
        kind="career",
        algorithm="stable",
        created_by=coordinator,
        status=MatchRun.Status.SUCCEEDED,
        progress=100,
        stats={"matched": n - 20},
    )
    run.mentees.set(people)
    run.mentors.set(faculty)
    MatchProposal.objects.bulk_create(
        [
            MatchProposal(
                run=run,
                mentee=u,
                mentor=None if i % 25 == 0 else faculty[i % mentors],
                score=None if i % 25 == 0 else 20 + (i * 7) % 80,
                rank_obtained=None if i % 25 == 0 else 1,
            )
            for i, u in enumerate(people)
        ]
    )
    return run


def test_a_review_of_500_proposals_is_filtered_and_accepted_in_place(page, shot, program, coordinator):
    run = _big_run(program, coordinator)
    log_in(page, coordinator.email, PASSWORD)
    page.goto(f"/match-runs/{run.pk}/")
    page.get_by_text("500 proposals; showing 1–50.").wait_for()
    assert page.locator("tr.proposal-row").count() == 50
    assert page.locator("form.override-form").count() == 0  # override forms come on demand
    shot("first-page")

    # Two residents named Sam Same are told apart by their e-mail.
    page.get_by_label("Search by name or e-mail").fill("same")
    page.get_by_label("Show").select_option("pending")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("5 proposals match these filters.").wait_for()
    assert "r007@hospital.example" in page.locator("main").inner_text()
    first = page.locator("tr.proposal-row").first
    row_id = first.get_attribute("id")
    first.get_by_role("button", name="Accept").click()
    page.locator(f"#{row_id}").get_by_text("Accepted", exact=True).wait_for()
    # In place: the URL kept its filters (the search stays in the session, never in a URL),
    # the summary moved, focus stayed on the row.
    assert "show=pending" in page.url and "same" not in page.url
    page.locator("#review-summary [data-count='accepted']").get_by_text("1", exact=True).wait_for()
    # Accept all and publish follow too: their counts agree with the summary.
    page.locator("#review-actions").get_by_text("Publish 1 pairing (479 still waiting)…").wait_for()
    page.locator("#review-actions").get_by_role("button", name="Accept all remaining (479)").wait_for()
    focused = page.evaluate(
        "document.activeElement && document.activeElement.closest('tr') && document.activeElement.closest('tr').id"
    )
    assert focused == row_id
    shot("accepted-in-place")
    page.set_viewport_size({"width": 390, "height": 844})
    shot("accepted-in-place-phone")

    # Low scores, page 2 keeps the filter (the search, kept in the session, is cleared first).
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="Clear").click()
    page.get_by_text("500 proposals; showing 1–50.").wait_for()
    page.goto(f"/match-runs/{run.pk}/?show=low&sort=score")
    page.get_by_role("link", name="Next →").click()
    assert "show=low" in page.url and "page=2" in page.url
    shot("low-scores-page-2")
