"""The readiness page and the start form at the size of a real program
(matching/views/match_run_start.py): who may see them, what they say, the reminder's
button, the resident rows, the weights as percentages and the worked example."""

import re
from datetime import time, timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AvailabilityWindow, CareerStage, Goal, Interest, Membership
from matching import engine
from matching.engine.instance import Instance, MenteePrefs, MentorPrefs
from matching.forms.match_runs import EXAMPLE_RESULTS, EXAMPLE_SCORES
from matching.models import EvaluatorRole, MatchRun, Notification
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory

pytestmark = pytest.mark.django_db

WEIGHTS = {
    "specialty": 20,
    "goals": 25,
    "interests": 10,
    "career": 15,
    "availability": 15,
    "language": 8,
    "meeting_format": 7,
}


def _readiness(program, kind="career"):
    return reverse("matching:match-run-readiness", args=[program.slug]) + f"?kind={kind}"


def _start(program):
    return reverse("matching:match-run-create", args=[program.slug])


def _resident(program, first, last="Resident", stage="PGY-1", **fields):
    user = UserFactory(first_name=first, last_name=last, **fields)
    MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
    MenteeProfileFactory(user=user, career_stage=CareerStage.objects.get(code=stage))
    return user


@pytest.fixture
def world(program, resident, other_resident, attending, other_attending, coordinator):
    """Alice has goals and interests; Bob has none. Carol has a free window."""
    resident.mentee_profile.goals.set([Goal.objects.get(slug="research")])
    resident.mentee_profile.interests.set([Interest.objects.first()])
    AvailabilityWindow.objects.create(user=attending, weekday=1, start=time(18), end=time(20))
    for user in (resident, other_resident, attending, other_attending):
        type(user).objects.filter(pk=user.pk).update(last_seen=timezone.now())


# --- Readiness.


def test_readiness_counts_and_names_each_group(client_for, program, world, coordinator, resident, attending):
    MentorshipFactory(mentee=resident, mentor=attending, program=program, kind="career")
    page = client_for(coordinator).get(_readiness(program))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Ready for a career run?" in body
    assert (
        "Residents without goals or interests" in body and "Bob Brown" in body and "no goals and no interests" in body
    )
    assert "already has a career mentor: Carol Chen" in body
    assert "Mentors without weekly free time" in body and "Dave Diaz" in body
    assert "Remind them to add goals and interests (1)" in body
    assert f'href="{_start(program)}?kind=career"' in body


@pytest.mark.parametrize("who, status", [("other_coordinator", 404), ("outsider", 404), ("resident", 403)])
def test_only_the_programs_coordinators_reach_readiness(request, client_for, program, world, who, status):
    c = client_for(request.getfixturevalue(who))
    assert c.get(_readiness(program)).status_code == status
    remind = reverse("matching:match-run-readiness-remind", args=[program.slug])
    assert c.post(remind, {"group": "no-goals", "kind": "career"}).status_code == status
    assert not Notification.objects.exists()


def test_the_reminder_button_notifies_once_and_says_so(client_for, program, world, coordinator, other_resident):
    c = client_for(coordinator)
    remind = reverse("matching:match-run-readiness-remind", args=[program.slug])
    assert c.get(remind).status_code == 405
    response = c.post(remind, {"group": "no-goals", "kind": "career"})
    assert response.status_code == 302 and response.url == _readiness(program)
    assert "Reminded 1 person." in c.get(response.url).content.decode()
    response = c.post(remind, {"group": "no-goals", "kind": "career"}, follow=True)
    body = response.content.decode()
    assert "1 was already reminded today." in body and "Reminded 1 person." not in body
    assert Notification.objects.filter(user=other_resident, event="match.readiness_reminder").count() == 1


def test_an_unknown_group_is_refused_in_words(client_for, program, world, coordinator):
    response = client_for(coordinator).post(
        reverse("matching:match-run-readiness-remind", args=[program.slug]), {"group": "everyone", "kind": "career"}
    )
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Choose a group to remind."]


def _queries(client, url):
    client.get(url)  # warm up: the session's last_seen
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_readiness_and_start_pages_cost_the_same_queries_for_more_residents(
    client_for, program, world, coordinator, attending
):
    c = client_for(coordinator)
    few = _queries(c, _readiness(program)), _queries(c, _start(program))
    for i in range(15):
        user = _resident(program, f"More{i:02d}", stage="PGY-2" if i % 2 else "PGY-1")
        if i % 5 == 0:
            MentorshipFactory(mentee=user, mentor=attending, program=program, kind="research")
    assert (_queries(c, _readiness(program)), _queries(c, _start(program))) == few


# --- The start form.


def test_resident_rows_tell_namesakes_apart_and_mark_who_has_a_mentor_of_the_kind(
    client_for, program, world, coordinator, attending
):
    first = _resident(program, "Sam", "Lee", stage="PGY-1", email="sam.lee@hospital.example")
    second = _resident(program, "Sam", "Lee", stage="PGY-3", email="samuel.lee@hospital.example")
    MentorshipFactory(mentee=second, mentor=attending, program=program, kind="career")
    body = client_for(coordinator).get(_start(program) + "?kind=career").content.decode()
    assert "PGY-1 · sam.lee@hospital.example" in body and "PGY-3 · samuel.lee@hospital.example" in body
    assert "Has a career mentor (Carol Chen): left out" in body
    assert f'value="{first.pk}"' in body and f'value="{second.pk}"' in body
    # Counted against the residents the run can match, as the readiness summary above counts them;
    # the one left out (a career mentor already) is said beside, with where to read why.
    assert re.search(r"<p>3 residents and \d+ mentors? can be matched\.</p>", body)
    assert "<strong>0 of 3 chosen</strong>" in body
    assert re.search(r'<span data-cohort-left-out-count>1</span> left out, <a href="[^"]*#left-out">see why</a>', body)
    # The readiness summary comes first, then the form.
    assert body.index("Before you start: a career run") < body.index('class="match-run-form"')


def test_the_badge_follows_the_kind_and_preset_skips_the_mentored(client_for, program, world, coordinator, attending):
    sam = _resident(program, "Sam", "Lee")
    MentorshipFactory(mentee=sam, mentor=attending, program=program, kind="research")
    c = client_for(coordinator)
    body = c.get(_start(program) + "?kind=career").content.decode()
    assert 'data-mentored-kind="research" hidden' in body
    page = c.get(_start(program), {"kind": "research", "preset": "pgy1-unpaired"})
    assert sam.pk not in page.context["form"]["mentee_ids"].value()
    assert 'data-mentored-kind="research">' in page.content.decode()


def _post(client, program, residents, mentors, **weights):
    data = {
        "kind": "career",
        "algorithm": "stable",
        "mentee_ids": [r.pk for r in residents],
        "mentor_ids": [m.pk for m in mentors],
        "ranking_deadline": "",
        **{f"weight_{name}": value for name, value in {**WEIGHTS, **weights}.items()},
    }
    return client.post(_start(program), data)


def test_weights_that_do_not_add_to_100_are_refused_naming_the_total(
    client_for, program, world, coordinator, resident, attending
):
    response = _post(client_for(coordinator), program, [resident], [attending], goals=20)
    assert response.status_code == 400
    assert response.context["form"].errors["weight_specialty"] == [
        "The weights add up to 95%; change them so they add up to 100%."
    ]
    assert "Total: 95%" in response.content.decode()
    assert not MatchRun.objects.exists()


@pytest.mark.parametrize(
    "value, error",
    [("-5", "A weight cannot be below 0%."), ("150", "A weight cannot be above 100%."), ("lots", "Give a whole")],
)
def test_an_absurd_weight_is_refused(client_for, program, world, coordinator, resident, attending, value, error):
    response = _post(client_for(coordinator), program, [resident], [attending], goals=value)
    assert response.status_code == 400
    assert response.context["form"].errors["weight_goals"][0].startswith(error)
    assert not MatchRun.objects.exists()


def test_percentages_reach_the_engine_as_fractions(
    client_for, program, world, coordinator, resident, attending, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client_for(coordinator), program, [resident], [attending], specialty=0, goals=60, career=0)
    run = MatchRun.objects.get()
    assert response.status_code == 302
    assert run.weights == {
        "specialty": 0.0,
        "goals": 0.6,
        "interests": 0.1,
        "career": 0.0,
        "availability": 0.15,
        "language": 0.08,
        "meeting_format": 0.07,
    }
    assert engine.Weights.from_mapping(run.weights).normalised()["goals"] == pytest.approx(0.6)


def test_the_worked_example_is_what_the_engine_does(client_for, program, world, coordinator):
    mentors = sorted({m for scores in EXAMPLE_SCORES.values() for m in scores})
    instance = Instance(
        mentees=[MenteePrefs(name) for name in EXAMPLE_SCORES],
        mentors=[MentorPrefs(m, capacity=1) for m in mentors],
        scores=EXAMPLE_SCORES,
    )
    for mode, expected in EXAMPLE_RESULTS.items():
        assert engine.solve(instance, mode).assignment == expected
    body = client_for(coordinator).get(_start(program)).content.decode()
    assert "Ana with Dr Xu (90), Cal with Dr Young (30); Ben is unmatched. Total 120." in body
    assert "Ben with Dr Xu (85), Ana with Dr Young (80); Cal is unmatched. Total 165" in body


def test_the_ranking_window_says_what_coordinators_see(client_for, program, world, coordinator):
    body = client_for(coordinator).get(_start(program)).content.decode()
    assert "You will see who has submitted and, after the run, which choice each person obtained" in body
    assert "never anyone&#x27;s list" in body or "never anyone's list" in body


# --- Who the run leaves out, said before and after the start; the mentors' list when empty.


def test_a_hand_ticked_resident_with_a_mentor_of_the_kind_is_left_out_and_not_asked_to_rank(
    client_for, program, world, coordinator, resident, other_resident, attending, django_capture_on_commit_callbacks
):
    MentorshipFactory(mentee=resident, mentor=attending, program=program, kind="career")
    c = client_for(coordinator)
    data = {
        "kind": "career",
        "algorithm": "stable",
        "mentee_ids": [resident.pk, other_resident.pk],
        "mentor_ids": [attending.pk],
        "ranking_deadline": (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        **{f"weight_{name}": value for name, value in WEIGHTS.items()},
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(_start(program), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    run = MatchRun.objects.get()
    assert list(run.mentees.all()) == [other_resident]
    assert not Notification.objects.filter(user=resident, event="match.ranking_open").exists()
    assert Notification.objects.filter(user=other_resident, event="match.ranking_open").exists()
    told = [str(m) for m in get_messages(response.wsgi_request)]
    assert (
        "Left out of this match, not asked to rank and not matched: Alice Adams "
        "(already has a career mentor: Carol Chen)." in told
    )


def test_the_start_form_says_who_it_would_leave_out_and_why(client_for, program, world, coordinator, attending):
    sam = _resident(program, "Sam", "Lee")
    MentorshipFactory(mentee=sam, mentor=attending, program=program, kind="career")
    # Nothing ticked on a first visit: the notice is there, hidden, for static/js/cohort.js.
    page = client_for(coordinator).get(_start(program) + "?kind=career").content.decode()
    assert "data-left-out-notice hidden" in page
    assert 'data-note="already has a career mentor: Carol Chen"' in page
    # Sent back with the mentored resident ticked (the form refused something else): named, with the reason.
    response = _post(client_for(coordinator), program, [sam], [attending], goals=0)
    assert response.status_code == 400
    assert (
        "Left out of this match, not asked to rank and not matched: Sam Lee (already has a career mentor: Carol Chen)."
        in response.content.decode()
    )


def test_choosing_only_residents_who_have_a_mentor_of_the_kind_starts_nothing(
    client_for, program, world, coordinator, resident, attending
):
    MentorshipFactory(mentee=resident, mentor=attending, program=program, kind="career")
    response = _post(client_for(coordinator), program, [resident], [attending])
    assert response.status_code == 400
    assert response.context["form"].errors["mentee_ids"] == [
        "Every resident you chose already has an active career mentor."
    ]
    assert not MatchRun.objects.exists()


def test_with_no_mentor_to_offer_the_form_says_why_instead_of_an_empty_list(
    client_for, program, world, coordinator, attending, other_attending
):
    type(attending.mentor_profile).objects.filter(user__in=[attending, other_attending]).update(accepting_mentees=False)
    body = client_for(coordinator).get(_start(program)).content.decode()
    mentors = body.split("<legend>Mentors</legend>")[1].split("</fieldset>")[0]
    assert "No mentor can be offered for this match." in mentors
    assert "2 mentors of this program are at capacity or not accepting new mentees" in mentors
    assert 'name="mentor_ids"' not in mentors
    assert "#mentors-full" in mentors


@pytest.mark.parametrize("route", ["matching:match-run-readiness", "matching:match-run-create"])
def test_readiness_and_start_pages_have_the_program_tabs(client_for, program, world, coordinator, route):
    body = client_for(coordinator).get(reverse(route, args=[program.slug])).content.decode()
    nav = re.search(r'<nav class="program-nav".*?</nav>', body, re.S).group(0)
    assert f'href="{reverse("accounts:roster", args=[program.slug])}"' in nav
    current = re.findall(r'<a href="([^"]+)" aria-current="page">([^<]+)</a>', nav)
    assert current == [(reverse("matching:match-runs", args=[program.slug]), "Match runs")]


def test_the_form_links_to_each_reason_a_mentor_is_not_offered(
    client_for, program, world, coordinator, attending, other_attending
):
    type(attending.mentor_profile).objects.filter(user=attending).update(accepting_mentees=False)
    body = client_for(coordinator).get(_start(program)).content.decode()
    assert "#kept-apart" not in body  # nobody is kept apart yet: no link to an empty group
    EvaluatorRole.objects.create(program=program, user=other_attending, role=EvaluatorRole.Role.CCC_MEMBER)
    body = client_for(coordinator).get(_start(program)).content.decode()
    mentors = body.split("<legend>Mentors</legend>")[1].split("</fieldset>")[0]
    assert "1 mentor of this program is at capacity or not accepting new mentees, and 1 is <a href=" in mentors
    readiness = client_for(coordinator).get(reverse("matching:match-run-readiness", args=[program.slug])).content
    for anchor in ("mentors-full", "kept-apart"):
        assert f"readiness/?kind=career#{anchor}" in mentors
        assert f'id="{anchor}"'.encode() in readiness


def test_the_mentors_box_says_residents_who_mentor_near_peers_are_offered_too(client_for, program, world, coordinator):
    senior = _resident(program, "Priya", "Senior", stage="PGY-4")
    MentorProfileFactory(user=senior, capacity=1)
    body = client_for(coordinator).get(_start(program)).content.decode()
    mentors = body.split("<legend>Mentors</legend>")[1].split("</fieldset>")[0]
    assert "Mentors of this program (faculty, and residents who mentor near-peers) who accept new mentees" in mentors
    assert "Faculty of this program" not in mentors
    assert f'name="mentor_ids" value="{senior.pk}"' in mentors


def test_readiness_and_the_start_form_compare_the_cohort_with_the_open_spots(
    client_for, program, world, coordinator, attending
):
    health = reverse("matching:program-health", args=[program.slug]) + "#load"
    # Alice and Bob; Carol and Dave have two spots each.
    page = client_for(coordinator).get(_readiness(program)).content.decode()
    assert "4 open spots among the 2 mentors who can take them: room for all 2 residents." in page
    assert "More residents than open spots" not in page

    for first in ("Femi", "Gita", "Hugo", "Ines", "Jon"):
        _resident(program, first)
    for url in (_readiness(program), _start(program)):
        page = client_for(coordinator).get(url).content.decode()
        warning = page[page.index("More residents than open spots") :].split("</p>", 1)[0]
        assert (
            "7 residents can be matched, and the 2 mentors who can take them have 4 open spots: 3 would be left "
            "unmatched unless you add mentors or raise capacity." in warning
        )
        assert f'href="{health}"' in warning
    # On the readiness page, under the title, before the groups.
    page = client_for(coordinator).get(_readiness(program)).content.decode()
    assert page.index("More residents than open spots") < page.index('class="card readiness-kind"')
