"""Publishing a match run while others act on it at the same moment, on PostgreSQL.

Publishing, accepting and overriding all lock the run's row first (``core.locking``).
With the lock, two coordinators pressing Publish together start the mentorships once
and the other is told "already published"; an override that arrives during a publish
waits and is refused, so what was published is what the review page shows. The
control cases take the lock away (and nothing else) and show both races happen.
The tests hold a publish in the middle (after it has read the run) so that the
threads overlap every time, whatever the machine's load.
"""

import threading

import pytest

from accounts.models import Membership
from matching.match_runs import services
from matching.match_runs.services import match_run_create, proposal_decide, proposal_override
from matching.models import MatchProposal, MatchRun, Mentorship
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, ProgramFactory, UserFactory
from tests.integration.races import together

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

THREADS = 6
Decision = MatchProposal.Decision


@pytest.fixture
def reviewed_run(settings):
    """A finished run of 4 residents and 3 mentors (2 spots each), every proposal accepted."""
    settings.CELERY_TASK_ALWAYS_EAGER = True  # notifications are not the point here
    program = ProgramFactory()
    coordinators = []
    for _ in range(THREADS):
        user = UserFactory()
        MembershipFactory(user=user, program=program, role=Membership.Role.COORDINATOR)
        coordinators.append(user)
    residents, mentors = [], []
    for _ in range(4):
        user = UserFactory()
        MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
        MenteeProfileFactory(user=user)
        residents.append(user)
    for _ in range(3):
        user = UserFactory()
        MembershipFactory(user=user, program=program, role=Membership.Role.FACULTY)
        MentorProfileFactory(user=user, capacity=2)
        mentors.append(user)
    run = match_run_create(
        program=program,
        actor=coordinators[0],
        kind="career",
        algorithm="optimal",
        mentee_ids=[u.pk for u in residents],
        mentor_ids=[u.pk for u in mentors],
    )
    # No transaction wraps this test: the run started on commit, in-process.
    assert MatchRun.objects.get(pk=run.pk).status == MatchRun.Status.SUCCEEDED
    for proposal in MatchProposal.objects.filter(run=run).exclude(mentor=None):
        proposal_decide(proposal=proposal, actor=coordinators[0], decision=Decision.ACCEPTED)
    assert MatchProposal.objects.filter(run=run, decision=Decision.ACCEPTED).count() == 4
    return MatchRun.objects.get(pk=run.pk), coordinators, mentors


class Publishing:
    """Wraps the mentorships a publish starts: records which threads got that far, tells
    when the first one started, and holds that first one until ``resume`` is set (or a
    timeout), so another thread can act in the middle of a publish."""

    def __init__(self, real, hold_seconds):
        self.real, self.hold_seconds = real, hold_seconds
        self.threads: set[int] = set()
        self.started, self.resume = threading.Event(), threading.Event()

    def __call__(self, **kwargs):
        self.threads.add(threading.get_ident())
        if not self.started.is_set():
            self.started.set()
            self.resume.wait(self.hold_seconds)
        return self.real(**kwargs)


@pytest.fixture
def publishing(monkeypatch):
    spy = Publishing(services.mentorships_create_many, hold_seconds=1.0)
    monkeypatch.setattr(services, "mentorships_create_many", spy)
    return spy


def _unlocked(unlock, monkeypatch, readers=1):
    """The control: read the run without locking it. With ``readers`` > 1, each reader
    also waits (at the permission check that follows the read) until that many have read,
    so all of them see the run before anyone acts."""
    unlock(MatchRun)
    if readers > 1:
        everyone_read = threading.Barrier(readers)
        check = services.require_perm

        def read_then_wait(*args):
            everyone_read.wait(timeout=10)
            return check(*args)

        monkeypatch.setattr(services, "require_perm", read_then_wait)


def _publish_all(run, coordinators):
    return together(*[lambda c=c: services.match_run_publish(run=run, actor=c) for c in coordinators])


def test_simultaneous_publishes_start_the_mentorships_once(reviewed_run, publishing):
    run, coordinators, _ = reviewed_run

    outcomes, errors = _publish_all(run, coordinators)

    assert errors == []
    assert outcomes.count("ok") == 1
    assert sorted(o for o in outcomes if o != "ok") == ["This match has already been published."] * (THREADS - 1)
    assert len(publishing.threads) == 1  # only the winner ever got as far as starting a mentorship
    assert Mentorship.objects.filter(source=Mentorship.Source.MATCH_RUN).count() == 4
    assert MatchRun.objects.get(pk=run.pk).published_at is not None


def test_control_without_the_run_lock_every_publish_gets_past_the_check(reviewed_run, publishing, monkeypatch, unlock):
    run, coordinators, _ = reviewed_run
    _unlocked(unlock, monkeypatch, readers=THREADS)

    outcomes, errors = _publish_all(run, coordinators)

    # Several publishes read "not published yet" and began starting mentorships. The
    # mentor's capacity lock still stops duplicates, but the losers get a confusing
    # "no open spot … Nothing was published" instead of "already published".
    assert errors == [] and outcomes.count("ok") == 1
    assert len(publishing.threads) == THREADS
    assert any("Nothing was published" in o for o in outcomes if o != "ok")
    assert Mentorship.objects.filter(source=Mentorship.Source.MATCH_RUN).count() == 4


def _publish_and_override(run, coordinators, mentors, publishing):
    """One coordinator publishes while another moves a resident to a different mentor."""
    proposal = MatchProposal.objects.filter(run=run).select_related("mentee").order_by("pk").first()
    target = next(m for m in mentors if m.pk != proposal.mentor_id)
    # Free a spot for the override within the run: reject another proposal of the target.
    other = MatchProposal.objects.filter(run=run, mentor=target).exclude(pk=proposal.pk).first()
    if other is not None:
        proposal_decide(proposal=other, actor=coordinators[0], decision=Decision.REJECTED)

    def override():
        assert publishing.started.wait(10)  # the publish has read the run and its proposals
        try:
            proposal_override(proposal=proposal, actor=coordinators[1], mentor=target, note="Schedule clash")
        finally:
            publishing.resume.set()

    outcomes, errors = together(lambda: services.match_run_publish(run=run, actor=coordinators[0]), override)
    proposal.refresh_from_db()
    published_mentor = (
        Mentorship.objects.filter(mentee=proposal.mentee, source=Mentorship.Source.MATCH_RUN)
        .values_list("mentor_id", flat=True)
        .first()
    )
    return outcomes, errors, proposal, published_mentor


def test_an_override_during_a_publish_waits_and_is_refused(reviewed_run, publishing):
    run, coordinators, mentors = reviewed_run

    (published, overridden), errors, proposal, published_mentor = _publish_and_override(
        run, coordinators, mentors, publishing
    )

    assert errors == [] and published == "ok"
    assert "already published" in overridden
    # What the review page says is what was published.
    assert proposal.decision == Decision.ACCEPTED
    assert published_mentor == proposal.final_mentor_id


def test_control_without_the_run_lock_an_override_slips_in_after_the_publish_read(
    reviewed_run, publishing, monkeypatch, unlock
):
    run, coordinators, mentors = reviewed_run
    _unlocked(unlock, monkeypatch)

    (published, overridden), errors, proposal, published_mentor = _publish_and_override(
        run, coordinators, mentors, publishing
    )

    assert errors == [] and published == "ok" and overridden == "ok"
    # The run now says the resident goes to the new mentor; the mentorship started with the old one.
    assert proposal.decision == Decision.OVERRIDDEN
    assert published_mentor != proposal.final_mentor_id
