"""A coordinator closes a ranking window while another extends it, on PostgreSQL.

Both services lock the run's row first (``core.locking``) and check, under the lock, that
the window is still open. So whichever commits first, the other sees what it did: a close
that wins makes the extension refused ("closed on …"); an extension that wins is followed
by the close, which closes the extended window. Either way the audit trail tells one
story (each entry's "before" is the previous one's "after", and the last "after" is the
deadline the run has) and the run is enqueued once. The control case takes the lock away
(and nothing else): the extension then overwrites the close, the window reopens after the
run was started, and the audit trail contradicts itself.

Each test holds the first call inside its transaction, after it has changed the run (at
its audit entry), so the second always arrives while the first is undecided.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Membership
from audit.models import AuditEntry
from matching.match_runs import ranking
from matching.match_runs.execution import RUN_MATCH
from matching.match_runs.services import match_run_create
from matching.models import MatchRun
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, ProgramFactory, UserFactory
from tests.integration.races import hold_step, overlap, together

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WINDOW_ACTIONS = ("match_run.ranking_close", "match_run.ranking_extend")


@pytest.fixture
def window(settings, monkeypatch):
    """(run, coordinator who closes, coordinator who extends, the run's enqueues): a run of
    2 residents and 2 mentors whose window is open for 3 more days."""
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the notifications, in-process
    program = ProgramFactory()
    closer, extender = UserFactory(), UserFactory()
    for user in (closer, extender):
        MembershipFactory(user=user, program=program, role=Membership.Role.COORDINATOR)
    residents, mentors = [UserFactory(), UserFactory()], [UserFactory(), UserFactory()]
    for user in residents:
        MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
        MenteeProfileFactory(user=user)
    for user in mentors:
        MembershipFactory(user=user, program=program, role=Membership.Role.FACULTY)
        MentorProfileFactory(user=user)
    run = match_run_create(
        program=program,
        actor=closer,
        kind="career",
        algorithm="stable",
        mentee_ids=[u.pk for u in residents],
        mentor_ids=[u.pk for u in mentors],
        ranking_deadline=timezone.now() + timedelta(days=3),
    )
    # The run's start is what is counted here, not computed.
    started: list[int] = []
    monkeypatch.setattr(
        ranking, "enqueue_on_commit", lambda task, *args: started.append(args[0]) if task == RUN_MATCH else None
    )
    return run, closer, extender, started


def _close(run, actor):
    return lambda: ranking.ranking_window_close(run=run, actor=actor)


def _extend(run, actor):
    new_deadline = run.ranking_deadline + timedelta(days=2)
    return lambda: ranking.ranking_window_extend(run=run, actor=actor, deadline=new_deadline)


def _story(run):
    """The window's audit entries, oldest first, as (action, before, after) deadlines."""
    return [
        (e.action, e.before["ranking_deadline"], e.after["ranking_deadline"])
        for e in AuditEntry.objects.filter(object_id=str(run.pk), action__in=WINDOW_ACTIONS).order_by("pk")
    ]


def _assert_one_story(run, planned):
    """Each entry starts where the previous one ended, and the run holds the last one's end."""
    story = _story(run)
    run.refresh_from_db()
    chain = [planned.isoformat()] + [after for _, _, after in story]
    assert [before for _, before, _ in story] == chain[:-1]
    assert run.ranking_deadline.isoformat() == chain[-1]
    return story


def test_a_close_that_wins_refuses_the_extension_and_starts_the_run_once(window, monkeypatch):
    run, closer, extender, started = window
    planned = run.ranking_deadline
    hold = hold_step(monkeypatch, ranking, "audit_log")

    (closed, extended), errors, blocked = overlap(_close(run, closer), _extend(run, extender), hold=hold)

    assert errors == [] and blocked == 1  # the extension waited for the close's lock
    assert closed == "ok" and extended.startswith("The ranking window closed on")
    story = _assert_one_story(run, planned)
    assert [action for action, _, _ in story] == ["match_run.ranking_close"]
    assert not run.ranking_window_open()
    assert started == [run.pk]


def test_an_extension_that_wins_is_followed_by_the_close_of_the_extended_window(window, monkeypatch):
    run, closer, extender, started = window
    planned = run.ranking_deadline
    hold = hold_step(monkeypatch, ranking, "audit_log")

    (extended, closed), errors, blocked = overlap(_extend(run, extender), _close(run, closer), hold=hold)

    assert errors == [] and blocked == 1 and extended == closed == "ok"
    story = _assert_one_story(run, planned)
    assert [action for action, _, _ in story] == ["match_run.ranking_extend", "match_run.ranking_close"]
    # The close closed the extended window, not the planned one: it is closed now.
    assert story[1][1] == (planned + timedelta(days=2)).isoformat()
    assert not run.ranking_window_open()
    assert started == [run.pk]


def test_close_and_extend_at_the_same_instant_tell_one_story(window):
    run, closer, extender, started = window
    planned = run.ranking_deadline

    outcomes, errors = together(_close(run, closer), _extend(run, extender))

    assert errors == [] and outcomes[0] == "ok"  # the close always succeeds, before or after
    assert outcomes[1] == "ok" or outcomes[1].startswith("The ranking window closed on")
    _assert_one_story(run, planned)
    run.refresh_from_db()
    assert not run.ranking_window_open()
    assert started == [run.pk]


def test_control_without_the_run_lock_an_extension_reopens_a_closed_window(window, monkeypatch, unlock):
    run, closer, extender, started = window
    planned = run.ranking_deadline
    unlock(MatchRun)
    hold = hold_step(monkeypatch, ranking, "audit_log")

    (closed, extended), errors, _ = overlap(_close(run, closer), _extend(run, extender), hold=hold)

    # Both "succeed": the extension read the window as open before the close committed, and
    # wrote its deadline over the close. The run was started, yet the window is open again.
    assert errors == [] and closed == extended == "ok"
    assert started == [run.pk]
    run.refresh_from_db()
    assert run.ranking_window_open()
    story = _story(run)
    assert [before for _, before, _ in story] == [planned.isoformat(), planned.isoformat()]  # two stories
