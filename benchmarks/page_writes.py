"""The page bench's match review and roster rows (``benchmarks.page_bench`` runs them on its data).

Each row is one thing a coordinator waits for, measured in this process (no server, no load), a few
times on fresh state, the median reported with the target from issue 16:

- **match review, first screen**: ``GET /match-runs/<pk>/`` of a run of N proposals (1,000 at full
  scale), computed by the app's own ``match_run_execute`` from a cohort of the program's residents
  without a career mentor and all its mentors. The page is read again each time (nothing changes).
- **accept one proposal**: the review's accept button as htmx sends it (the row and the summary come
  back); each time another pending proposal of that run.
- **publish N pairings**: the publish button's POST on a new run each time (a copy of the first,
  every matched proposal accepted, its inputs read afresh so it is not out of date): mentorships,
  their agreements and audit entries, the notifications stored and their e-mails queued for the
  worker (which is not running: the e-mails are not part of the time). After each, the mentorships
  it started are deleted, so the next copy finds the same open spots.
- **roster preview / apply of N rows** (5,000 at full scale): the file ``benchmarks.roster_bench``
  builds, each time with new addresses, so that every apply adds everyone. Preview is
  ``roster_import_preview`` (what the upload view calls); apply is ``roster_import_run``, the
  background task's work (a file of more than ``BACKGROUND_ROWS`` rows is applied by the worker).

A row fails the bench (exit 1) only on a wrong answer: a status other than the one expected, or a
count that is not what the action must have written. Never on time.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# ``--only`` words that select these rows.
ROW_WORDS = ("review", "accept", "publish", "roster", "writes")
SCALE = {"full": {"proposals": 1000, "roster": 5000}, "quick": {"proposals": 100, "roster": 500}}
REPEAT = {"review": 5, "accept": 5, "publish": 3, "roster": 3}


class WrongAnswer(Exception):
    """A write did not do what it must: the bench fails on it."""


@dataclass
class WriteRow:
    name: str
    target_ms: float
    runs_ms: list[float] = field(default_factory=list)
    queries: int | None = None
    checked: str = ""

    @property
    def median_ms(self) -> float:
        return statistics.median(self.runs_ms)


def _measure(row: WriteRow, repeat: int, prepare: Callable[[int], object], act: Callable, check: Callable) -> None:
    """``repeat`` times: ``prepare(i)`` (untimed) → ``act(state)`` (timed; its queries counted the
    first time) → ``check(state, result)`` (untimed; raises WrongAnswer)."""
    from django.db import connection

    # Counted by a wrapper, not CaptureQueriesContext: its log keeps the last 9,000 queries only.
    count = [0]

    def counted(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    for i in range(repeat):
        state = prepare(i)
        gc.collect()
        count[0] = 0
        with connection.execute_wrapper(counted):
            start = time.perf_counter()
            result = act(state)
            row.runs_ms.append((time.perf_counter() - start) * 1000)
        if row.queries is None:
            row.queries = count[0]
        check(state, result)


class _Client:
    """Django's test client signed in with ``session_key``, every request as the bench's others
    are: over https (as behind the TLS proxy), to the one allowed host."""

    def __init__(self, session_key: str):
        from django.conf import settings
        from django.test import Client

        self.client = Client()
        self.client.cookies[settings.SESSION_COOKIE_NAME] = session_key

    def get(self, path, **kwargs):
        return self.client.get(path, secure=True, headers={"host": "127.0.0.1", **kwargs.pop("headers", {})}, **kwargs)

    def post(self, path, data=None, **kwargs):
        headers = {"host": "127.0.0.1", **kwargs.pop("headers", {})}
        return self.client.post(path, data or {}, secure=True, headers=headers, **kwargs)


def _computed_run(program, coordinator, n: int):
    """A succeeded run of ``n`` residents of ``program`` who have no career mentor, against all of
    the program's mentors, computed by the app (``match_run_execute``), every resident matched."""
    from accounts.models import Membership, User
    from matching.match_runs.execution import match_run_execute
    from matching.models import Kind, MatchRun, Mentorship

    with_mentor = Mentorship.objects.filter(status=Mentorship.Status.ACTIVE, kind=Kind.CAREER).values("mentee_id")
    members = User.objects.filter(memberships__program=program)
    mentees = list(
        members.filter(memberships__role=Membership.Role.RESIDENT, mentee_profile__isnull=False)
        .exclude(pk__in=with_mentor)
        .order_by("pk")
        .values_list("pk", flat=True)[:n]
    )
    mentors = list(
        members.filter(memberships__role=Membership.Role.FACULTY, mentor_profile__isnull=False).values_list(
            "pk", flat=True
        )
    )
    run = MatchRun.objects.create(program=program, kind=Kind.CAREER, created_by=coordinator)
    run.mentees.set(mentees)
    run.mentors.set(mentors)
    outcome = match_run_execute(run.pk)
    run.refresh_from_db()
    matched = run.proposals.filter(mentor__isnull=False).count()
    if outcome != "succeeded" or len(mentees) != n or matched != n:
        raise WrongAnswer(f"the review's run: {outcome}, {len(mentees)} residents, {matched} of {n} matched")
    return run


def _copy_accepted(run, coordinator):
    """A new succeeded run with ``run``'s cohort and proposals, every matched one accepted; its
    inputs read now, as the worker would have, so it is up to date."""
    from django.utils import timezone

    from matching.match_runs.freshness import fingerprint
    from matching.models import MatchProposal, MatchRun

    Decision = MatchProposal.Decision
    now = timezone.now()
    copy = MatchRun.objects.create(
        program=run.program,
        kind=run.kind,
        algorithm=run.algorithm,
        weights=run.weights,
        created_by=coordinator,
        status=MatchRun.Status.SUCCEEDED,
        progress=100,
        started_at=now,
        finished_at=now,
        stats=run.stats,
    )
    copy.mentees.set(run.mentees.values_list("pk", flat=True))
    copy.mentors.set(run.mentors.values_list("pk", flat=True))
    MatchProposal.objects.bulk_create(
        MatchProposal(
            run=copy,
            mentee_id=p.mentee_id,
            mentor_id=p.mentor_id,
            score=p.score,
            rank_obtained=p.rank_obtained,
            mentor_rank=p.mentor_rank,
            explanation=p.explanation,
            why_not=p.why_not,
            why_not_for_mentee=p.why_not_for_mentee,
            decision=Decision.ACCEPTED if p.mentor_id else Decision.PENDING,
            decided_by=coordinator if p.mentor_id else None,
            decided_at=now if p.mentor_id else None,
        )
        for p in run.proposals.all()
    )
    copy.inputs = fingerprint(copy)
    copy.save(update_fields=["inputs"])
    return copy


def measure_writes(seeded, coordinator_session: str, *, quick: bool, log: Callable[[str], None]) -> list[WriteRow]:
    from django.db.models import Q
    from django.urls import reverse

    from accounts.models import RosterImport
    from accounts.roster import roster_import_preview, roster_import_run
    from audit.models import AuditEntry
    from benchmarks.roster_bench import valid_file
    from matching.models import MatchProposal, Mentorship, Notification

    size = SCALE["quick" if quick else "full"]
    n, roster_rows = size["proposals"], size["roster"]
    program, coordinator = seeded.program, seeded.coordinator
    client = _Client(coordinator_session)
    rows: list[WriteRow] = []

    log(f"Computing a match run of {n:,} residents…")
    run = _computed_run(program, coordinator, n)
    detail = reverse("matching:match-run-detail", args=[run.pk])

    # The review's first screen: the same page each time.
    review = WriteRow(f"match review, first screen ({n:,} proposals)", 300)
    if client.get(detail).status_code != 200:  # warm-up, and the first check
        raise WrongAnswer(f"{detail} did not answer 200 in-process")

    def review_check(_, response):
        if response.status_code != 200 or response.content.count(b'id="proposal-') != min(n, 50):
            raise WrongAnswer(f"{detail}: {response.status_code}, not the first 50 proposals")

    _measure(review, REPEAT["review"], lambda i: None, lambda _: client.get(detail), review_check)
    review.checked = "200, 50 rows"
    rows.append(review)

    # Accept one proposal, a different pending one each time (htmx: the row comes back).
    accept = WriteRow("accept one proposal (htmx POST)", 150)
    pending = list(
        run.proposals.filter(decision=MatchProposal.Decision.PENDING, mentor__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)[: REPEAT["accept"]]
    )

    def accept_act(pk):
        url = reverse("matching:match-run-accept", args=[run.pk, pk])
        return client.post(url, {"back": ""}, headers={"hx-request": "true"})

    def accept_check(pk, response):
        decision = MatchProposal.objects.values_list("decision", flat=True).get(pk=pk)
        if response.status_code != 200 or decision != MatchProposal.Decision.ACCEPTED:
            raise WrongAnswer(f"accept {pk}: {response.status_code}, decision {decision}")

    _measure(accept, REPEAT["accept"], lambda i: pending[i], accept_act, accept_check)
    accept.checked = "200, accepted"
    rows.append(accept)

    # Publish: a fresh copy of the run each time, every pair accepted.
    publish = WriteRow(f"publish {n:,} pairings (POST)", 5000)

    def publish_prepare(i):
        copy = _copy_accepted(run, coordinator)
        counts = (
            Mentorship.objects.count(),
            Notification.objects.count(),
            AuditEntry.objects.count(),
        )
        return copy, counts

    def publish_act(state):
        copy, _ = state
        return client.post(reverse("matching:match-run-publish", args=[copy.pk]))

    def publish_check(state, response):
        copy, (mentorships, notifications, entries) = state
        copy.refresh_from_db()
        # The cohort's residents had no career mentor: their active career mentorships are the published ones.
        started = Mentorship.objects.filter(
            status=Mentorship.Status.ACTIVE, kind=copy.kind, mentee__in=copy.mentees.values("pk")
        )
        got = (
            Mentorship.objects.count() - mentorships,
            Notification.objects.count() - notifications,
            AuditEntry.objects.count() - entries,
        )
        # n mentorships; 2 notifications each; an audit entry each and one for the run.
        if response.status_code != 302 or not copy.is_published or got[0] != n or got[1] != 2 * n or got[2] < n + 1:
            raise WrongAnswer(f"publish {copy.pk}: {response.status_code}, published {copy.is_published}, got {got}")
        started.delete()  # the next copy finds the same open spots

    _measure(publish, REPEAT["publish"], publish_prepare, publish_act, publish_check)
    publish.checked = f"302, {n:,} mentorships, {2 * n:,} notifications"
    rows.append(publish)

    # Roster: a new file each time, so each apply adds every one of its people.
    preview = WriteRow(f"roster preview, {roster_rows:,} rows", 10_000)
    apply = WriteRow(f"roster apply, {roster_rows:,} rows (the task's work)", 10_000)
    imports = []

    def preview_act(i):
        return roster_import_preview(
            program=program, uploaded_by=coordinator, filename=f"bench-{i}.csv", data=valid_file(roster_rows, f"p{i}x")
        )

    def preview_check(_, kept):
        if kept.row_count != roster_rows or kept.created_count != roster_rows:
            raise WrongAnswer(f"roster preview: {kept.row_count} rows, {kept.created_count} to add")
        imports.append(kept)

    _measure(preview, REPEAT["roster"], lambda i: i, preview_act, preview_check)
    preview.checked = f"{roster_rows:,} to add"
    rows.append(preview)

    def apply_prepare(i):
        kept = imports[i]
        RosterImport.objects.filter(pk=kept.pk).update(status=RosterImport.Status.APPLYING)  # as the view does
        return i, kept

    def apply_act(state):
        return roster_import_run(state[1].pk, coordinator.pk)

    def apply_check(state, outcome):
        i, kept = state
        kept.refresh_from_db()
        added = program.memberships.filter(
            Q(user__email__startswith=f"bench.residentp{i}x") | Q(user__email__startswith=f"bench.facultyp{i}x")
        ).count()
        if kept.status != RosterImport.Status.APPLIED or added != roster_rows:
            raise WrongAnswer(f"roster apply {kept.pk}: {outcome}, {kept.status} {kept.error}, {added} members added")

    _measure(apply, REPEAT["roster"], apply_prepare, apply_act, apply_check)
    apply.checked = f"applied, {roster_rows:,} members added"
    rows.append(apply)
    return rows


def print_rows(rows: list[WriteRow]) -> None:
    print("| action (in-process, median) | queries | ms | runs (ms) | target ms | within | checked |")
    print("|---|---:|---:|---|---:|---|---|")
    for row in rows:
        runs = ", ".join(f"{ms:.0f}" for ms in row.runs_ms)
        within = "yes" if row.median_ms <= row.target_ms else "no"
        print(
            f"| {row.name} | {row.queries} | {row.median_ms:.0f} | {runs} | {row.target_ms:,.0f} | {within} | "
            f"{row.checked} |"
        )
