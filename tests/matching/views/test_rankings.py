"""The ranking page: cohort members number the other side, tick "never", and submit their list;
the coordinator's window page: who has submitted, remind, close now, extend."""

import zoneinfo
from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AcademicRank, AvailabilityWindow, CareerStage, Goal, Specialty
from matching.match_runs.ranking import ranking_submit
from matching.match_runs.services import match_run_create
from matching.models import MatchRanking, MatchRun, Notification, RankingSubmission
from matching.views.rankings import NAMES_SHOWN
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(coordinator, program, resident, other_resident, attending, other_attending):
    return match_run_create(
        program=program,
        actor=coordinator,
        kind="career",
        algorithm="stable",
        mentee_ids=[resident.pk, other_resident.pk],
        mentor_ids=[attending.pk, other_attending.pk],
        ranking_deadline=timezone.now() + timedelta(days=3),
    )


def _window_over(program, coordinator, resident, *, mentors: int) -> MatchRun:
    """A three-day ranking window for ``resident`` and that many new faculty mentors of ``program``."""
    users = []
    for _ in range(mentors):
        user = UserFactory()
        MembershipFactory(user=user, program=program, role="faculty")
        MentorProfileFactory(user=user)
        users.append(user)
    return match_run_create(
        program=program,
        actor=coordinator,
        kind="career",
        algorithm="stable",
        mentee_ids=[resident.pk],
        mentor_ids=[m.pk for m in users],
        ranking_deadline=timezone.now() + timedelta(days=3),
    )


def _url(run):
    return reverse("matching:match-run-rank", kwargs={"pk": run.pk})


def test_a_resident_sees_the_mentors_with_labels_deadline_and_confidentiality(client_for, run, resident, attending):
    resident.time_zone = "America/Los_Angeles"
    resident.save(update_fields=["time_zone"])
    page = client_for(resident).get(_url(run))

    assert page.status_code == 200
    html = page.content.decode()
    assert "they never see your list itself" in html and "which of your choices you obtained" in html
    assert "Submit my list" in html and "Submitted on" not in html
    assert f'<label for="rank_{attending.pk}"' in html and f'<label for="never_{attending.pk}"' in html
    assert 'type="number"' in html and 'min="1" max="2"' in html and "<script" not in html.split("<main")[-1]
    local = timezone.localtime(run.ranking_deadline, timezone=zoneinfo.ZoneInfo("America/Los_Angeles"))
    assert local.strftime("%Y") in html and ("PST" in html or "PDT" in html)


def test_drag_ordering_loads_from_our_own_static_files_and_only_here(client_for, run, resident):
    html = client_for(resident).get(_url(run)).content.decode()
    head = html.split("<body")[0]
    assert '<script src="/static/vendor/sortable.min.js" defer></script>' in head
    assert '<script src="/static/js/rankings.js" defer></script>' in head
    # Content-Security-Policy: no inline scripts or styles.
    assert "<script>" not in html and "style=" not in html and "<style" not in html
    # Without JavaScript the drag help stays hidden and the form stays numbers and boxes.
    assert '<p id="rank-drag-help" hidden' in html
    assert "sortable" not in client_for(resident).get(reverse("matching:dashboard")).content.decode()


def test_a_resident_submits_an_order_and_a_never(client_for, run, resident, attending, other_attending):
    response = client_for(resident).post(
        _url(run), {f"rank_{other_attending.pk}": "1", f"never_{attending.pk}": "on", f"rank_{attending.pk}": ""}
    )

    assert response.status_code == 302
    saved = {r.target_id: (r.position, r.never) for r in MatchRanking.objects.filter(run=run, author=resident)}
    assert saved == {other_attending.pk: (1, False), attending.pk: (None, True)}
    # The page shows it back on the next visit.
    html = client_for(resident).get(_url(run)).content.decode()
    assert f'name="rank_{other_attending.pk}" min="1" max="2" step="1" inputmode="numeric" value="1"' in html
    assert f'name="never_{attending.pk}" checked' in html


def test_a_mentor_ranks_the_residents_in_order(client_for, run, attending, resident, other_resident):
    response = client_for(attending).post(_url(run), {f"rank_{resident.pk}": "2", f"rank_{other_resident.pk}": "1"})

    assert response.status_code == 302
    ordered = list(
        MatchRanking.objects.filter(run=run, author=attending).order_by("position").values_list("target_id", flat=True)
    )
    assert ordered == [other_resident.pk, resident.pk]


def test_bad_numbers_are_refused_beside_the_person(client_for, run, resident, attending, other_attending):
    ranking_submit(run=run, actor=resident, ordered_ids=[attending.pk])
    response = client_for(resident).post(_url(run), {f"rank_{attending.pk}": "1", f"rank_{other_attending.pk}": "1"})
    html = response.content.decode()
    # Said once, in the summary; each row that has the number is marked beside its input.
    assert response.status_code == 400
    assert html.count("Number 1 is given to") == 1
    assert f"Number 1 is given to {attending.full_name} and {other_attending.full_name}" in html
    assert html.count(">Used twice</p>") == 2
    response = client_for(resident).post(_url(run), {f"rank_{attending.pk}": "7"})
    assert response.status_code == 400 and "from 1 to 2" in response.content.decode()
    response = client_for(resident).post(_url(run), {f"rank_{attending.pk}": "1", f"never_{attending.pk}": "on"})
    assert response.status_code == 400
    # Nothing changed.
    assert list(MatchRanking.objects.filter(run=run, author=resident).values_list("target_id", "position")) == [
        (attending.pk, 1)
    ]


def test_a_closed_window_shows_the_ranker_their_own_list_read_only(
    client_for, run, resident, other_resident, attending, other_attending
):
    ranking_submit(run=run, actor=resident, ordered_ids=[other_attending.pk], never_ids=[attending.pk])
    ranking_submit(run=run, actor=other_resident, ordered_ids=[attending.pk, other_attending.pk])
    MatchRun.objects.filter(pk=run.pk).update(ranking_deadline=timezone.now() - timedelta(minutes=1))

    page = client_for(resident).get(_url(run))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ranking closed — results soon" in html and "The ranking window closed on" in html
    assert "you are told your mentor then" in html
    mine = html[html.index("The list you submitted") :]
    assert f"<li>{other_attending.full_name}</li>" in mine  # ranked 1st
    assert "Never pair me with</h3>" in mine and f"<li>{attending.full_name}</li>" in mine
    assert "<input" not in mine and "Update my list" not in html  # read-only: no form at all
    # A change sent now is refused, and nothing changes.
    assert client_for(resident).post(_url(run), {f"rank_{attending.pk}": "1"}).status_code == 410
    assert list(MatchRanking.objects.filter(run=run, author=resident).values_list("target_id", "never")) == [
        (other_attending.pk, False),
        (attending.pk, True),
    ]


def test_a_closed_window_shows_nobody_anyone_elses_list(
    client_for, run, resident, other_resident, attending, coordinator, outsider
):
    ranking_submit(run=run, actor=other_resident, ordered_ids=[attending.pk])
    MatchRun.objects.filter(pk=run.pk).update(ranking_deadline=timezone.now() - timedelta(minutes=1))
    # Outside the cohort the page does not exist, the run's coordinator included.
    assert client_for(coordinator).get(_url(run)).status_code == 404
    assert client_for(outsider).get(_url(run)).status_code == 404
    html = client_for(resident).get(_url(run)).content.decode()
    assert "You did not submit a list" in html and f"<li>{attending.full_name}</li>" not in html
    # A mentor sees their own (empty) list, worded for a mentor; never the residents' lists.
    html = client_for(attending).get(_url(run)).content.decode()
    assert "the residents you will mentor" in html and "You did not submit a list" in html
    assert f"<li>{other_resident.full_name}</li>" not in html and attending.full_name not in html.split("<main")[-1]


def test_a_cancelled_match_says_it_was_called_off(client_for, run, resident, coordinator):
    from matching.match_runs.services import match_run_cancel

    match_run_cancel(run=run, actor=coordinator)
    page = client_for(resident).get(_url(run))
    assert page.status_code == 410 and "This match was called off" in page.content.decode()


def test_non_members_cannot_open_the_page(
    client_for, run, coordinator, outsider, other_coordinator, resident, attending
):
    ranking_submit(run=run, actor=resident, ordered_ids=[attending.pk])
    for user in [coordinator, outsider, other_coordinator]:
        assert client_for(user).get(_url(run)).status_code == 404
        assert client_for(user).post(_url(run), {f"rank_{attending.pk}": "1"}).status_code == 404
    assert MatchRanking.objects.filter(run=run).count() == 1


def test_the_page_needs_a_login(client, run):
    response = client.get(_url(run))
    assert response.status_code == 302 and "login" in response["Location"]


# --- Submitting explicitly.


def test_submitting_shows_when_and_until_when_and_the_button_becomes_update(client_for, run, resident, attending):
    client = client_for(resident)
    response = client.post(_url(run), {f"rank_{attending.pk}": "1"}, follow=True)

    html = response.content.decode()
    assert "Your list is submitted (1 ranked, 0 marked never)" in html
    assert "Submitted</span> on" in html and "you can change it until" in html
    assert "Update my list" in html and "Submit my list" not in html
    assert RankingSubmission.objects.filter(run=run, author=resident, ranked=1).exists()
    assert Notification.objects.filter(user=resident, event="match.ranking_receipt").count() == 1


def test_an_empty_form_is_a_submission_of_no_preference(client_for, run, resident):
    assert client_for(resident).post(_url(run), {}).status_code == 302
    assert RankingSubmission.objects.filter(run=run, author=resident, ranked=0, never=0).exists()


# --- Rows people can rank with.


def test_each_mentor_row_says_who_they_are_how_they_fit_and_when_you_are_both_free(
    client_for, run, resident, attending, other_attending
):
    research = Goal.objects.get(slug="research")
    resident.mentee_profile.goals.set([research])
    attending.mentor_profile.expertise.set([research])
    attending.mentor_profile.subspecialty = Specialty.objects.get(name="Cardiovascular Disease")
    attending.mentor_profile.academic_rank = AcademicRank.objects.order_by("pk").first()
    attending.mentor_profile.save()
    for person in (resident, attending):
        AvailabilityWindow.objects.create(user=person, weekday=1, start=time(18), end=time(20))

    html = client_for(resident).get(_url(run)).content.decode()

    carol = html.split(f'id="person-{attending.pk}"')[1].split("</tr>")[0]
    assert "Internal Medicine · Cardiovascular Disease · " + attending.mentor_profile.academic_rank.name in carol
    assert "Fit " in carol and "/100" in carol and "research" in carol.lower()
    assert "2 h a week in common: Tue 6–8 pm your time" in carol
    assert f'href="/people/{attending.pk}/"' in carol
    # Best fit first: Carol shares Alice's goal, Dave does not.
    assert html.index(f'id="person-{attending.pk}"') < html.index(f'id="person-{other_attending.pk}"')


def test_a_mentor_sees_each_residents_pgy_and_fit(client_for, run, attending, resident):
    html = client_for(attending).get(_url(run)).content.decode()
    alice = html.split(f'id="person-{resident.pk}"')[1].split("</tr>")[0]
    assert "PGY-1" in alice and "/100" in alice


def test_the_finder_is_hidden_without_javascript_and_the_pgy_filter_is_for_residents_only(
    client_for, run, attending, resident, other_resident
):
    other_resident.mentee_profile.career_stage = CareerStage.objects.get(code="PGY-3")
    other_resident.mentee_profile.save(update_fields=["career_stage"])

    html = client_for(attending).get(_url(run)).content.decode()
    # Without JavaScript: no finder, every row in the form.
    assert '<div class="rank-filters" data-rank-filters hidden>' in html
    assert html.count("<tr data-rank-row") == 2
    # Each resident's row carries their year, and the filter offers the years present, in order.
    assert 'data-rank-stage="PGY-1"' in html.split(f'id="rank_{resident.pk}"')[0].rsplit("<tr", 1)[1]
    options = html.split('id="rank-stage"')[1].split("</select>")[0]
    assert [o.split('"')[1] for o in options.split("<option value=")[1:]] == ["", "PGY-1", "PGY-3"]
    # The controls have no name: they are never sent with the list.
    finder = html.split("data-rank-filters hidden>")[1].split("</div>\n    <table")[0]
    assert " name=" not in finder

    mentee_page = client_for(resident).get(_url(run)).content.decode()
    assert 'id="rank-stage"' not in mentee_page and "Find a mentor by name or specialty" in mentee_page


def test_the_rows_cost_the_same_queries_for_3_or_200_mentors(
    client_for, program, coordinator, resident, django_assert_max_num_queries
):
    def page_queries(n):
        run = _window_over(program, coordinator, resident, mentors=n)
        client = client_for(resident)
        client.get(_url(run))  # warm: session, vocabulary cache
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_url(run)).status_code == 200
        return len(queries)

    assert page_queries(200) == page_queries(3)


# --- The coordinator's window page.


def _window(run):
    return reverse("matching:ranking-window", kwargs={"pk": run.pk})


def test_the_coordinator_sees_who_has_submitted_and_when_never_the_lists(
    client_for, run, coordinator, resident, other_resident, attending, other_attending
):
    ranking_submit(run=run, actor=resident, ordered_ids=[attending.pk], never_ids=[other_attending.pk])

    page = client_for(coordinator).get(_window(run))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-count="submitted">1 <span class="stat-of">of 4' in html
    assert 'data-count="residents">1 <span class="stat-of">of 2' in html
    assert "Remind 3 people who have not submitted" in html
    assert other_resident.full_name in html.split('id="residents-waiting"')[1].split("</div>")[0]
    assert resident.full_name in html.split('id="residents-submitted"')[1]
    # Not the list: which mentor she ranked, or marked never, appears nowhere beside her name.
    assert "never anyone's list itself" in html
    alice_row = html.split(f'<th scope="row">{resident.full_name}</th>')[1].split("</tr>")[0]
    assert attending.full_name not in alice_row and other_attending.full_name not in alice_row


@pytest.mark.parametrize("who", ["other_coordinator", "resident", "attending", "outsider"])
def test_the_window_page_is_404_for_anyone_but_the_runs_coordinators(client_for, run, request, who):
    client = client_for(request.getfixturevalue(who))
    assert client.get(_window(run)).status_code == 404
    for action in ("remind", "close", "extend"):
        url = reverse(f"matching:ranking-window-{action}", kwargs={"pk": run.pk})
        assert client.post(url, {"ranking_deadline": "2030-01-01T10:00"}).status_code == 404
    run.refresh_from_db()
    assert run.status == MatchRun.Status.QUEUED and run.ranking_reminded_at is None


def test_remind_twice_sends_once_and_the_page_says_when(client_for, run, coordinator):
    client = client_for(coordinator)
    url = reverse("matching:ranking-window-remind", kwargs={"pk": run.pk})
    first = client.post(url, follow=True).content.decode()
    second = client.post(url, follow=True).content.decode()

    assert "Reminded 4 people who had not submitted." in first
    assert "Nothing was sent: all 4 people who had not submitted were reminded in the last 24 hours." in second
    assert Notification.objects.filter(event="match.ranking_reminder").count() == 4
    # The page offers no button but says when reminding works again.
    assert "you can remind the first of them again from" in second and "Remind 4" not in second


def test_the_remind_button_counts_only_those_it_will_remind(client_for, run, coordinator, resident):
    client = client_for(coordinator)
    client.post(reverse("matching:ranking-window-remind", kwargs={"pk": run.pk}))
    # Alice's reminder is a day old; Bob's, Carol's and Dave's are an hour old.
    reminders = Notification.objects.filter(event="match.ranking_reminder")
    reminders.update(created_at=timezone.now() - timedelta(hours=1))
    reminders.filter(user=resident).update(created_at=timezone.now() - timedelta(hours=25))

    html = client.get(_window(run)).content.decode()
    assert "Remind 1 person who has not submitted" in html
    assert "3 others who have not submitted were reminded in the last 24 hours and are skipped." in html

    done = client.post(reverse("matching:ranking-window-remind", kwargs={"pk": run.pk}), follow=True)
    assert "Reminded 1 person who had not submitted. Skipped 3 already reminded in the last 24 hours." in (
        done.content.decode()
    )
    assert reminders.filter(user=resident).count() == 2 and reminders.count() == 5


def _close(run):
    return reverse("matching:ranking-window-close", kwargs={"pk": run.pk})


def test_close_without_confirmation_only_asks(
    client_for, run, coordinator, resident, attending, django_capture_on_commit_callbacks
):
    ranking_submit(run=run, actor=resident, ordered_ids=[attending.pk])
    deadline = run.ranking_deadline
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(coordinator).post(_close(run))

    assert response.status_code == 200 and not callbacks
    run.refresh_from_db()
    assert run.ranking_deadline == deadline and run.status == MatchRun.Status.QUEUED
    assert not Notification.objects.filter(event="match.ranking_closed").exists()
    html = response.content.decode()
    # The confirmation says what happens, with the counts, and holds the one button that closes.
    assert "Close the ranking window now and start the match?" in html
    assert "3 people have not submitted</strong> (1 resident, 2 mentors)" in html
    assert 'data-count="submitted">1 <span class="stat-of">of 4' in html
    assert 'name="confirm" value="yes"' in html


def test_opening_the_close_address_asks_again_rather_than_refusing(
    client_for, run, coordinator, program, django_capture_on_commit_callbacks
):
    """Back, reload or a bookmark after "Close now…" opens the address with GET: the confirmation
    again (nothing closes), and once the window is closed, the window page saying so; never a 405."""
    client = client_for(coordinator)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.get(_close(run))
    assert response.status_code == 200 and not callbacks
    html = response.content.decode()
    assert "Close the ranking window now and start the match?" in html
    assert f'aria-label="{program.name}"' in html  # the program's own navigation names it
    run.refresh_from_db()
    assert run.status == MatchRun.Status.QUEUED and run.ranking_window_open()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(_close(run), {"confirm": "yes"})
    response = client.get(_close(run), follow=True)
    assert response.redirect_chain[-1][0] == reverse("matching:ranking-window", kwargs={"pk": run.pk})
    assert "The ranking window is already closed." in response.content.decode()


def test_close_now_starts_the_match_once_confirmed(client_for, run, coordinator, django_capture_on_commit_callbacks):
    client = client_for(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_close(run), {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == f"/match-runs/{run.pk}/"
    run.refresh_from_db()
    assert run.status == MatchRun.Status.SUCCEEDED
    closed_notes = Notification.objects.filter(event="match.ranking_closed").count()
    assert closed_notes == 4
    # The window page now says it closed, with no buttons.
    html = client.get(_window(run)).content.decode()
    assert "The ranking window closed on" in html and "Close now" not in html

    # A second click on "Yes, close now" is told it is done, and sends nothing again.
    again = client.post(_close(run), {"confirm": "yes"}, follow=True)
    assert "The ranking window was already closed; the match has started." in again.content.decode()
    assert Notification.objects.filter(event="match.ranking_closed").count() == closed_notes


def test_the_window_page_folds_long_lists_so_each_is_reachable(client_for, program, coordinator, resident):
    run = _window_over(program, coordinator, resident, mentors=NAMES_SHOWN + 5)
    html = client_for(coordinator).get(_window(run)).content.decode()

    # Counts and actions come before the names; a link leads to each list.
    assert html.index('data-count="submitted"') < html.index("Remind ") < html.index('id="mentors-waiting"')
    assert '<a href="#mentors-submitted">Mentors submitted (0)</a>' in html
    waiting = html.split('id="mentors-waiting"')[1].split('id="mentors-submitted"')[0]
    shown, folded = waiting.split("<details")
    assert shown.count("<li>") == NAMES_SHOWN and folded.count("<li>") == 5
    assert "Show all 25 not submitted" in folded
    # Every name is on the page (the fold needs no JavaScript), each once.
    assert all(html.count(m.email) == 1 for m in run.mentors.all())


def test_extend_reads_the_coordinators_clock_and_refuses_absurd_dates(client_for, run, coordinator):
    coordinator.time_zone = "America/Los_Angeles"
    coordinator.save(update_fields=["time_zone"])
    client = client_for(coordinator)
    url = reverse("matching:ranking-window-extend", kwargs={"pk": run.pk})

    refused = client.post(url, {"ranking_deadline": "9999-12-31T23:00"})
    assert refused.status_code == 400 and "Choose a time from today to" in refused.content.decode()
    earlier = client.post(url, {"ranking_deadline": timezone.localtime(timezone.now()).strftime("%Y-%m-%dT%H:%M")})
    assert earlier.status_code == 400

    later = timezone.localtime(run.ranking_deadline + timedelta(days=2), zoneinfo.ZoneInfo("America/Los_Angeles"))
    response = client.post(url, {"ranking_deadline": later.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.ranking_deadline == later.replace(second=0, microsecond=0)
    assert Notification.objects.filter(event="match.ranking_extended").count() == 4


def test_the_run_page_summary_counts_and_links_to_the_window(rf, run, coordinator, resident):
    from django.template.loader import render_to_string

    ranking_submit(run=run, actor=resident, ordered_ids=[])
    html = render_to_string("matching/rankings/_window_summary.html", {"run": run, "user": coordinator})
    assert "1 of 4" in html and "residents 1 of 2" in html and "mentors 0 of 2" in html
    assert f'href="/match-runs/{run.pk}/window/"' in html


def test_extending_a_window_that_just_closed_says_so(client_for, run, coordinator):
    MatchRun.objects.filter(pk=run.pk).update(ranking_deadline=timezone.now() - timedelta(minutes=1))
    later = timezone.localtime(timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    url = reverse("matching:ranking-window-extend", kwargs={"pk": run.pk})
    page = client_for(coordinator).post(url, {"ranking_deadline": later}, follow=True)
    assert "The ranking window closed on" in page.content.decode()
    assert Notification.objects.filter(event="match.ranking_extended").count() == 0


def test_a_discarded_match_takes_no_more_rankings(client_for, run, resident, coordinator, attending):
    MatchRun.objects.filter(pk=run.pk).update(archived_at=timezone.now(), archived_by=coordinator)
    page = client_for(resident).get(_url(run))
    assert page.status_code == 410 and "This match was discarded" in page.content.decode()
    run.refresh_from_db()
    with pytest.raises(ValidationError, match="discarded"):
        ranking_submit(run=run, actor=resident, ordered_ids=[attending.pk])


def test_a_mentor_ranking_residents_may_open_their_pages_while_the_window_is_open(
    client_for, run, attending, resident, program
):
    page = reverse("matching:person", args=[resident.pk])
    rank_page = client_for(attending).get(_url(run)).content.decode()
    assert f'href="{page}"' in rank_page

    seen = client_for(attending).get(page)
    assert seen.status_code == 200 and seen.context["show_mentee"]  # what the resident wrote for matching
    outsider = UserFactory(email="outsider-mentor@hospital.example")
    MentorProfileFactory(user=outsider)
    MembershipFactory(user=outsider, program=program, role="faculty")
    assert client_for(outsider).get(page).status_code == 404  # a mentor, but not ranking this resident

    MatchRun.objects.filter(pk=run.pk).update(ranking_deadline=timezone.now() - timedelta(minutes=1))
    assert client_for(attending).get(page).status_code == 404  # the window closed: so does the page


def test_a_mentor_can_tell_apart_residents_who_share_a_name(client_for, coordinator, program, resident, attending):
    twins = []
    for email in ("vik.nguyen@hospital.example", "vik.nguyen2@hospital.example"):
        user = UserFactory(first_name="Vik", last_name="Nguyễn", email=email)
        MembershipFactory(user=user, program=program, role="resident")
        MenteeProfileFactory(user=user)
        twins.append(user)
    run = match_run_create(
        program=program,
        actor=coordinator,
        kind="career",
        algorithm="stable",
        mentee_ids=[resident.pk, *(t.pk for t in twins)],
        mentor_ids=[attending.pk],
        ranking_deadline=timezone.now() + timedelta(days=3),
    )
    html = client_for(attending).get(_url(run)).content.decode()
    for twin in twins:
        row = html.split(f'id="person-{twin.pk}"')[1].split("</th>")[0]
        assert twin.email in row
    # A name nobody else has needs no e-mail beside it.
    assert resident.email not in html.split(f'id="person-{resident.pk}"')[1].split("</th>")[0]
