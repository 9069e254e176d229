"""A coordinator's dashboard points at what needs action in each program they coordinate
(issue 15), each with a count and a link: pairings that break a conflict of interest, match
runs ready to review (out-of-date ones said), open ranking windows with "n of m submitted" and
the deadline, pairings with no meeting in 60 days, requests waiting over a week. Another
program's business never shows, and the queries do not grow with the programs' members."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from core.bounds import format_instant
from matching.models import ConflictOfInterest, MatchRun, Mentorship, MentorshipRequest, RankingSubmission
from matching.selectors.dashboard import Action
from tests.matching.factories import MentorshipFactory
from tests.matching.support import _capacity, _mentor, _residents

pytestmark = pytest.mark.django_db

Status = MatchRun.Status


def _run(program, status=Status.SUCCEEDED, **fields):
    now = timezone.now()
    fields.setdefault("finished_at", now - timedelta(hours=1) if status == Status.SUCCEEDED else None)
    return MatchRun.objects.create(program=program, status=status, **fields)


def _request(mentee, mentor, program, days):
    return MentorshipRequest.objects.create(
        mentee=mentee,
        mentor=mentor,
        program=program,
        created_at=timezone.now() - timedelta(days=days),
        expires_at=timezone.now() + timedelta(days=4),
    )


def _actions(client, program):
    response = client.get(reverse("matching:dashboard"))
    assert response.status_code == 200
    [summary] = [p for p in response.context["coordinated_programs"] if p.pk == program.pk]
    return summary.actions, response.content.decode()


@pytest.fixture
def busy(program, other_program, coordinator, resident, other_resident, attending, other_attending, outsider):
    """In medicine: a run to review, one archived, one published long ago, one failed; an open
    ranking window (Alice, Bob, Carol, Dave; Alice submitted) and a closed one; Alice–Carol
    breaks a do-not-pair entry recorded after it started; Bob–Dave has not met in 100 days;
    Bob's request to Carol waits 10 days, Alice's to Dave 2. In surgery, the same kinds of
    things, which Cora must not see."""
    now = timezone.now()
    _capacity(attending, 5)
    _capacity(other_attending, 5)
    objs = {
        "review": _run(program),
        "archived": _run(program, archived_at=now),
        "published": _run(program, finished_at=now - timedelta(days=30), published_at=now - timedelta(days=29)),
        "failed": _run(program, Status.FAILED),
        "window": _run(program, Status.QUEUED, ranking_deadline=now + timedelta(days=2)),
        "closed": _run(program, Status.QUEUED, ranking_deadline=now - timedelta(hours=1)),
        "conflict": MentorshipFactory(mentee=resident, mentor=attending, program=program, started_at=now),
        "quiet": MentorshipFactory(
            mentee=other_resident, mentor=other_attending, program=program, started_at=now - timedelta(days=100)
        ),
        "waiting": _request(other_resident, attending, program, days=10),
        "recent": _request(resident, other_attending, program, days=2),
    }
    objs["window"].mentees.set([resident, other_resident])
    objs["window"].mentors.set([attending, other_attending])
    RankingSubmission.objects.create(run=objs["window"], author=resident)
    ConflictOfInterest.objects.create(program=program, mentee=resident, mentor=attending, reason="Spouse")
    # Surgery's own business.
    surgeon = _mentor(other_program, "Sam", "Surgeon")
    _run(other_program)
    MentorshipFactory(mentee=outsider, mentor=surgeon, program=other_program, started_at=now - timedelta(days=100))
    ConflictOfInterest.objects.create(program=other_program, mentee=outsider, mentor=surgeon, reason="x")
    return objs


def test_each_thing_that_needs_action_has_its_count_and_link(client_for, program, coordinator, busy):
    actions, html = _actions(client_for(coordinator), program)

    pairings = reverse("matching:pairings", args=[program.slug])
    window = busy["window"]
    deadline = format_instant(window.ranking_deadline, coordinator.time_zone)
    waiting = busy["waiting"]
    assert actions == [
        Action(
            "conflicts",
            1,
            "1 pairing breaks a conflict of interest",
            f"{pairings}?conflict=true",
            "Recorded after they started: end or reassign",
        ),
        Action("review_runs", 1, "1 match run ready to review", busy["review"].get_absolute_url(), actions[1].detail),
        Action(
            "ranking_window",
            1,
            f"Ranking window for match #{window.pk}: 1 of 4 submitted",
            window.get_absolute_url(),
            f"Closes {deadline}",
        ),
        Action("stale_pairings", 1, "1 pairing has not met in 60 days", f"{pairings}?stale=true", "Nudge them to meet"),
        Action(
            "waiting_requests",
            1,
            "1 request has waited more than 7 days for an answer",
            waiting.get_absolute_url(),
            "The oldest first",
            (("Bob Brown → Carol Chen, 10 days", waiting.get_absolute_url()),),
        ),
    ]
    assert f'<a href="{pairings}?conflict=true">1 pairing breaks a conflict of interest</a>' in html
    assert f"Ranking window for match #{window.pk}: 1 of 4 submitted" in html
    assert "Spouse" not in html


def test_a_run_computed_before_a_later_publish_is_said_to_be_out_of_date(client_for, program, coordinator, busy):
    """The published run of the world was published a month ago, before the run to review was
    computed: it is current. A publish after it makes it out of date."""
    actions, _ = _actions(client_for(coordinator), program)
    assert actions[1].detail == "Accept, override, publish"

    _run(program, finished_at=timezone.now() - timedelta(hours=3), published_at=timezone.now())

    actions, html = _actions(client_for(coordinator), program)
    # Said once, as what it is: not also counted as ready to review.
    assert "review_runs" not in [a.kind for a in actions]
    stale = next(a for a in actions if a.kind == "stale_runs")
    assert (stale.count, stale.text) == (1, "1 match run is out of date")
    assert "1 match run is out of date" in html and "ready to review" not in html


def test_several_runs_to_review_link_to_the_programs_runs(client_for, program, coordinator, busy):
    _run(program)

    actions, _ = _actions(client_for(coordinator), program)

    assert (actions[1].count, actions[1].text, actions[1].url) == (
        2,
        "2 match runs ready to review",
        reverse("matching:match-runs", args=[program.slug]),
    )


def test_nothing_to_do_is_said(client_for, program, coordinator):
    actions, html = _actions(client_for(coordinator), program)

    assert actions == []
    assert f"Nothing needs you in {program.name} right now" in html


def test_ended_pairings_and_answered_requests_need_nothing(client_for, program, coordinator, busy):
    Mentorship.objects.update(status=Mentorship.Status.ENDED, ended_at=timezone.now())
    MentorshipRequest.objects.update(status=MentorshipRequest.Status.DECLINED)

    actions, _ = _actions(client_for(coordinator), program)

    assert [a.kind for a in actions] == ["review_runs", "ranking_window"]


def test_the_other_programs_coordinator_sees_only_theirs(client_for, other_program, other_coordinator, busy):
    actions, html = _actions(client_for(other_coordinator), other_program)

    assert [(a.kind, a.count) for a in actions] == [("conflicts", 1), ("review_runs", 1), ("stale_pairings", 1)]
    assert "Internal Medicine Residency" not in html


def test_queries_do_not_grow_with_the_programs_members(
    client_for, program, coordinator, busy, attending, other_attending
):
    client = client_for(coordinator)
    client.get(reverse("matching:dashboard"))

    def count():
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("matching:dashboard"))
        return len(ctx.captured_queries)

    few = count()
    now = timezone.now()
    people = _residents(program, 12)
    busy["window"].mentees.add(*people)
    for n, person in enumerate(people):
        mentor = _mentor(program, f"M{n}", "Grow")
        MentorshipFactory(mentee=person, mentor=mentor, program=program, started_at=now - timedelta(days=90))
        ConflictOfInterest.objects.create(program=program, mentee=person, mentor=mentor, reason="x")
        _request(person, attending if n % 2 else other_attending, program, days=9)
        RankingSubmission.objects.create(run=busy["window"], author=person)
    many = count()

    assert many == few
    actions, _ = _actions(client, program)
    assert {a.kind: a.count for a in actions} == {
        "conflicts": 13,
        "review_runs": 1,
        "ranking_window": 13,
        "stale_pairings": 13,
        "waiting_requests": 13,
    }
    assert actions[2].text.endswith(": 13 of 16 submitted")
    assert len(actions[4].links) == 3


def test_a_nudged_quiet_pairing_is_said_to_be_nudged(client_for, program, coordinator, busy):
    from matching.services.nudges import pairing_nudge

    quiet = busy["quiet"]
    # A nudge eight days ago (audit entries are append-only: written with their time, never moved).
    AuditEntry.objects.create(
        actor=coordinator,
        program=program,
        action="mentorship.nudge",
        object_type="mentorship",
        object_id=str(quiet.pk),
        created_at=timezone.now() - timedelta(days=8),
    )
    actions, _ = _actions(client_for(coordinator), program)
    assert [a.detail for a in actions if a.kind == "stale_pairings"] == ["Nudge them to meet"]

    pairing_nudge(mentorship=quiet, actor=coordinator)
    actions, _ = _actions(client_for(coordinator), program)
    [stale] = [a for a in actions if a.kind == "stale_pairings"]
    # Still quiet (a nudge is not a meeting), but nothing to nudge this week.
    assert (stale.count, stale.detail) == (1, "It was nudged in the last 7 days")

    # A second quiet pairing, not nudged: the line offers the nudge again, and counts the nudged.
    [mentee] = _residents(program, 1)
    MentorshipFactory(
        mentee=mentee,
        mentor=_mentor(program, "Quentin", "Quiet"),
        program=program,
        started_at=timezone.now() - timedelta(days=100),
    )
    actions, _ = _actions(client_for(coordinator), program)
    [stale] = [a for a in actions if a.kind == "stale_pairings"]
    assert (stale.count, stale.detail) == (2, "Nudge them to meet (1 nudged in the last 7 days)")
