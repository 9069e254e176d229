"""Several match runs of one program claimed at the same instant, on PostgreSQL.

A program has at most one RUNNING run (the partial unique index
``match_run_one_running_per_program``). Claiming is a conditional UPDATE that counts an
attempt; when another run of the program holds the slot, the UPDATE violates the index,
the claim's transaction rolls back and the delivery answers "busy": the run stays
QUEUED, its attempt unspent, for the sweeper to enqueue again. A run of another program
is never in the way. The control case drops the index (and nothing else) and shows
that the claims then all succeed: several runs of one program compute at once.

A stand-in for ``_compute`` holds every claimed run RUNNING until the test opens it,
so the winner still holds the slot while the others try to take it.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Membership
from matching.match_runs import execution, services
from matching.models import MatchRun
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, ProgramFactory, UserFactory
from tests.integration.races import overlap, together

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RUNS = 6
Status = MatchRun.Status
INDEX = "match_run_one_running_per_program"


def _program_with_runs(count):
    """A program (2 residents, 1 mentor with 2 spots) and ``count`` QUEUED runs over it."""
    program = ProgramFactory()
    coordinator = UserFactory()
    MembershipFactory(user=coordinator, program=program, role=Membership.Role.COORDINATOR)
    residents = []
    for _ in range(2):
        user = UserFactory()
        MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
        MenteeProfileFactory(user=user)
        residents.append(user)
    mentor = UserFactory()
    MembershipFactory(user=mentor, program=program, role=Membership.Role.FACULTY)
    MentorProfileFactory(user=mentor, capacity=2)
    return [
        services.match_run_create(
            program=program,
            actor=coordinator,
            kind="career",
            algorithm="stable",
            mentee_ids=[r.pk for r in residents],
            mentor_ids=[mentor.pk],
        ).pk
        for _ in range(count)
    ]


@pytest.fixture
def queued(settings, monkeypatch):
    """``queued(count)``: run ids of one new program, all QUEUED and not yet delivered."""
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the finished-run notifications, in-process
    # The deliveries are the test's to make, from its own threads.
    for module in (services, execution):
        monkeypatch.setattr(module, "enqueue_on_commit", lambda task, *args: None)
    return _program_with_runs


class Gate:
    """Stands in for ``_compute``: a run that gets this far has been claimed (it is RUNNING)
    and stays so until ``open()``; then it is computed for real."""

    def __init__(self, real):
        self.real = real
        self._cond = threading.Condition()
        self._open = False
        self.entered: list[int] = []

    def __call__(self, run_id, attempt):
        with self._cond:
            self.entered.append(run_id)
            self._cond.notify_all()
            assert self._cond.wait_for(lambda: self._open, timeout=30), "the test never opened the gate"
        return self.real(run_id, attempt)

    def wait_entered(self, count):
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.entered) >= count, timeout=10), self.entered

    def open(self):
        with self._cond:
            self._open = True
            self._cond.notify_all()


@pytest.fixture
def gate(monkeypatch):
    gate = Gate(execution._compute)
    monkeypatch.setattr(execution, "_compute", gate)
    yield gate
    gate.open()  # never leave a thread waiting, whatever the test's outcome


class Answers:
    """What each delivery's ``match_run_execute`` answered, by run id, as the answers come in."""

    def __init__(self):
        self._cond = threading.Condition()
        self.by_run: dict[int, str] = {}

    def deliver(self, run_id, task_id):
        def call():
            answer = execution.match_run_execute(run_id, task_id=task_id)
            with self._cond:
                self.by_run[run_id] = answer
                self._cond.notify_all()

        return call

    def wait_for(self, count):
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.by_run) >= count, timeout=20), self.by_run


def _deliver_together(run_ids, answers):
    """Deliver every run at the same instant, each from its own thread; returns a ``finish()``
    that waits for the threads and gives back their unexpected errors."""
    box = []
    calls = [answers.deliver(pk, f"task-{pk}") for pk in run_ids]
    racing = threading.Thread(target=lambda: box.append(together(*calls)))
    racing.start()

    def finish():
        racing.join(timeout=60)
        assert not racing.is_alive() and box, "the deliveries did not finish"
        outcomes, errors = box[0]
        return errors + [o for o in outcomes if o != "ok"]

    return finish


def _state(run_ids):
    """Run id -> (status, attempts, claimed_by_task)."""
    rows = MatchRun.objects.filter(pk__in=run_ids).values_list("pk", "status", "attempts", "claimed_by_task")
    return {pk: tuple(rest) for pk, *rest in rows}


def test_one_run_of_a_program_runs_and_the_others_wait_with_their_attempts_unspent(queued, gate):
    runs = queued(RUNS)
    [elsewhere] = queued(1)  # another program's run, in the same race
    answers = Answers()

    finish = _deliver_together([*runs, elsewhere], answers)
    gate.wait_entered(2)  # one run of each program is RUNNING, held there
    answers.wait_for(RUNS - 1)  # every other delivery has answered

    running = [pk for pk in runs if pk in gate.entered]
    assert len(running) == 1 and elsewhere in gate.entered  # not blocked by the other program
    [winner] = running
    waiting = [pk for pk in runs if pk != winner]
    assert answers.by_run == dict.fromkeys(waiting, "busy")
    state = _state(runs)
    assert state[winner] == (Status.RUNNING, 1, f"task-{winner}")
    # The failed UPDATE was rolled back with its transaction: no attempt spent, no claim kept.
    assert {state[pk] for pk in waiting} == {(Status.QUEUED, 0, "")}
    assert MatchRun.objects.get(pk=elsewhere).status == Status.RUNNING

    gate.open()
    assert finish() == []
    assert answers.by_run[winner] == answers.by_run[elsewhere] == "succeeded"

    # The slot is free again: the next delivery of a waiting run claims it, with its first attempt.
    assert execution.match_run_execute(waiting[0], task_id="again") == "succeeded"
    assert _state([waiting[0]])[waiting[0]] == (Status.SUCCEEDED, 1, "again")

    # Nothing is lost: the sweeper enqueues the runs still QUEUED, and (tasks in-process,
    # one after another) each claims the free slot in turn.
    later = timezone.now() + execution.LOST_AFTER + timedelta(seconds=1)
    assert execution.match_runs_sweep(now=later) == {"requeued": RUNS - 2, "failed": 0}
    assert {(status, attempts) for status, attempts, _ in _state(runs).values()} == {(Status.SUCCEEDED, 1)}


class HeldClaim:
    """Wraps ``_claim``: the first claim stops after its UPDATE, inside its transaction (so
    the RUNNING row is not committed yet), until ``release`` is set."""

    def __init__(self, real):
        self.real = real
        self.entered, self.release = threading.Event(), threading.Event()
        self._first = threading.Lock()

    def __call__(self, run_id, **kwargs):
        with transaction.atomic():
            attempt = self.real(run_id, **kwargs)
            if self._first.acquire(blocking=False):
                self.entered.set()
                assert self.release.wait(30), "the test never released the held claim"
            return attempt


def test_claims_that_meet_an_uncommitted_claim_wait_for_it_then_answer_busy(queued, monkeypatch):
    runs = queued(RUNS)
    held = HeldClaim(execution._claim)
    monkeypatch.setattr(execution, "_claim", held)
    answers = Answers()

    outcomes, errors, blocked = overlap(*[answers.deliver(pk, f"task-{pk}") for pk in runs], hold=held)

    assert errors == [] and outcomes == ["ok"] * RUNS
    # Each of the others waited on the index entry of the first claim, not yet committed…
    assert blocked == RUNS - 1
    # … and once it committed, was refused without spending an attempt.
    assert answers.by_run == {runs[0]: "succeeded", **dict.fromkeys(runs[1:], "busy")}
    state = _state(runs)
    assert state[runs[0]] == (Status.SUCCEEDED, 1, f"task-{runs[0]}")
    assert {state[pk] for pk in runs[1:]} == {(Status.QUEUED, 0, "")}


@pytest.fixture
def without_the_index():
    """The control: drop the partial unique index, and create it again afterwards from its
    own definition (first ending any run the control left RUNNING, which it would refuse)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [INDEX])
        [(definition,)] = cursor.fetchall()
        cursor.execute(f'DROP INDEX "{INDEX}"')
    try:
        yield
    finally:
        MatchRun.objects.filter(status=Status.RUNNING).update(status=Status.FAILED, error="Ended by the test.")
        with connection.cursor() as cursor:
            cursor.execute(definition)


def test_control_without_the_index_several_runs_of_a_program_run_at_once(queued, gate, without_the_index):
    runs = queued(RUNS)
    answers = Answers()

    finish = _deliver_together(runs, answers)
    gate.wait_entered(RUNS)  # every claim succeeded: all of them are computing now

    state = _state(runs)
    assert answers.by_run == {}
    assert [pk for pk in runs if state[pk][0] == Status.RUNNING] == runs

    gate.open()
    assert finish() == []
    assert answers.by_run == dict.fromkeys(runs, "succeeded")
