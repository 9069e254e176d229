"""The dashboard (the home page). Each list is one query (joined, sliced); none runs per row."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, CharField, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse
from django.utils import timezone

from accounts.models import Program, User
from accounts.selectors import has_signed_in
from audit.models import AuditEntry
from core.bounds import format_instant

from ..match_runs.freshness import run_changes
from ..models import (
    ActionItem,
    CheckIn,
    MatchRanking,
    MatchRun,
    Meeting,
    Mentorship,
    MentorshipRequest,
    RankingSubmission,
)
from ..periodic import CHECKIN_FIRST_AFTER
from ..scheduling import meeting_url
from ..services.plan import checkin_month_start
from .nudges import NUDGE_ACTION, NUDGE_INTERVAL, PENDING_AFTER, days_text
from .pairings import with_flags
from .requests import request_list

DASHBOARD_ROWS = 5


def _with_meetings_flag(mentorships: QuerySet[Mentorship]) -> QuerySet[Mentorship]:
    """``has_meetings``: a meeting proposed, planned or held (not only cancelled ones)."""
    meetings = Meeting.objects.filter(mentorship=OuterRef("pk")).exclude(status=Meeting.Status.CANCELLED)
    return mentorships.annotate(has_meetings=Exists(meetings))


RECENTLY_ENDED = timedelta(days=30)


def mentorships_as_mentee(user: User) -> QuerySet[Mentorship]:
    """``user``'s mentorships as a mentee, the active ones first (at most one per kind), then the
    ended and completed ones, latest first: one query gives the dashboard both "My mentors" and
    what ended lately (``recently_ended``). Slice it; the active ones always fit."""
    return (
        _with_meetings_flag(Mentorship.objects.filter(mentee=user))
        .select_related("mentor__mentor_profile__specialty", "mentor__mentor_profile__academic_rank")
        .annotate(
            is_current=Case(When(status=Mentorship.Status.ACTIVE, then=Value(0)), default=Value(1)),
        )
        .order_by("is_current", F("ended_at").desc(nulls_last=True), "kind", "-started_at", "-pk")
    )


def recently_ended(mentorships: Iterable[Mentorship], *, now: datetime | None = None) -> list[Mentorship]:
    """Of ``mentorships``, those that ended or were completed in the last ``RECENTLY_ENDED``:
    the resident learns it on the dashboard, not only behind the bell."""
    since = (now or timezone.now()) - RECENTLY_ENDED
    return [m for m in mentorships if not m.is_active and m.ended_at and m.ended_at >= since]


def active_mentorships_as_mentor(user: User) -> QuerySet[Mentorship]:
    return (
        _with_meetings_flag(Mentorship.objects.filter(mentor=user, status=Mentorship.Status.ACTIVE))
        .select_related("mentee__mentee_profile__career_stage")
        .order_by("mentee__last_name", "mentee__first_name", "pk")
    )


def pending_requests_sent(user: User) -> QuerySet[MentorshipRequest]:
    return request_list(user, role="sent", status="pending")


def pending_requests_received(user: User) -> QuerySet[MentorshipRequest]:
    """Pending requests to ``user``; those waiting for their answer first."""
    return request_list(user, role="received", status="pending")


def upcoming_meetings_for(user: User, *, now: datetime | None = None) -> QuerySet[Meeting]:
    """Confirmed meetings still ahead in ``user``'s active mentorships, soonest first."""

    return (
        Meeting.objects.filter(
            Q(mentorship__mentee=user) | Q(mentorship__mentor=user),
            mentorship__status=Mentorship.Status.ACTIVE,
            status=Meeting.Status.CONFIRMED,
            start__gte=now or timezone.now(),
        )
        .select_related("mentorship__mentee", "mentorship__mentor")
        .order_by("start", "pk")
    )


def open_action_items_for(user: User) -> QuerySet[ActionItem]:
    """Goals ``user`` owns that are still open, in active mentorships: overdue and soonest due first."""

    return (
        ActionItem.objects.filter(
            owner=user,
            status__in=[ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS],
            mentorship__status=Mentorship.Status.ACTIVE,
        )
        .select_related("mentorship__mentor", "mentorship__mentee")
        .order_by(F("due_date").asc(nulls_last=True), "pk")
    )


def open_ranking_windows_for(user: User) -> QuerySet[MatchRun]:
    """Runs whose ranking window is open and whose cohort includes ``user``, soonest
    deadline first, each with ``has_ranked`` (whether ``user`` saved a ranking yet)."""
    return (
        MatchRun.objects.filter(status=MatchRun.Status.QUEUED, ranking_deadline__gt=timezone.now())
        .filter(
            Q(pk__in=MatchRun.mentees.through.objects.filter(user=user).values("matchrun_id"))
            | Q(pk__in=MatchRun.mentors.through.objects.filter(user=user).values("matchrun_id"))
        )
        .select_related("program")
        .annotate(has_ranked=Exists(MatchRanking.objects.filter(run=OuterRef("pk"), author=user)))
        .annotate(as_mentee=Exists(MatchRun.mentees.through.objects.filter(matchrun_id=OuterRef("pk"), user=user)))
        .order_by("ranking_deadline", "pk")
    )


# --- What waits for the person: the dashboard's "Waiting for you".

MENTEE_HAT = "mentee"
MENTOR_HAT = "mentor"


@dataclass(frozen=True)
class Task:
    """One thing that needs the person, in one of their hats (as mentee or as mentor)."""

    hat: str
    kind: str  # pick_time, first_meeting, overdue_goal, answer_request, answer_question, rank, check_in
    text: str
    url: str
    detail: str = ""


def meetings_to_pick(user: User) -> QuerySet[Meeting]:
    """Meetings the other person proposed in ``user``'s active mentorships: ``user`` picks a time."""
    return (
        Meeting.objects.filter(
            Q(mentorship__mentee=user) | Q(mentorship__mentor=user),
            mentorship__status=Mentorship.Status.ACTIVE,
            status=Meeting.Status.PROPOSED,
        )
        .exclude(proposed_by=user)
        .select_related("mentorship__mentee", "mentorship__mentor")
        .order_by("created_at", "pk")
    )


def checkins_due(user: User, *, now: datetime | None = None) -> QuerySet[Mentorship]:
    """``user``'s active mentorships, begun at least ``CHECKIN_FIRST_AFTER`` ago, with no
    check-in of theirs this calendar month (of their own time zone)."""
    now = now or timezone.now()
    return (
        Mentorship.objects.filter(
            Q(mentee=user) | Q(mentor=user),
            status=Mentorship.Status.ACTIVE,
            started_at__lte=now - CHECKIN_FIRST_AFTER,
        )
        .exclude(
            pk__in=CheckIn.objects.filter(author=user, created_at__gte=checkin_month_start(user, now)).values(
                "mentorship_id"
            )
        )
        .select_related("mentee", "mentor")
        .order_by("started_at", "pk")
    )


def tasks_for(
    user: User,
    *,
    requests: Iterable[Any] | None = None,
    ranking_windows: Iterable[Any] | None = None,
    mentorships: Iterable[Any] = (),
    goals: Iterable[ActionItem] = (),
    free_spots: int | None = None,
    now: datetime | None = None,
) -> list[Task]:
    """Everything waiting for ``user``, each with its hat and a link: times to pick, a first
    meeting to plan, overdue goals, requests and questions to answer, rankings not yet saved,
    check-ins due. One query per kind; the dashboard passes what it already loaded: the
    pending ``requests``, ``ranking_windows``, active ``mentorships`` (with ``has_meetings``)
    and ``user``'s open ``goals``; ``free_spots``: the spots ``user`` has left as a mentor
    (a request they cannot accept at 0 asks for more capacity instead)."""
    # Annotated rows (``waiting_for_me``, ``has_ranked``, ``as_mentee``): read as Any.
    pending: Iterable[Any] = (
        request_list(user, status="pending")[: DASHBOARD_ROWS * 2] if requests is None else requests
    )  # those waiting for ``user`` come first
    windows: Iterable[Any] = open_ranking_windows_for(user) if ranking_windows is None else ranking_windows
    tasks: list[Task] = []
    # One line per person, not per proposal: two proposals from the same person read as one task
    # that says how many and opens the mentorship, whose page lists its meetings.
    to_pick: dict[int, list[Meeting]] = {}
    for meeting in meetings_to_pick(user)[:DASHBOARD_ROWS]:
        to_pick.setdefault(meeting.mentorship_id, []).append(meeting)
    for meetings in to_pick.values():
        mentorship = meetings[0].mentorship
        hat = MENTEE_HAT if mentorship.mentee_id == user.pk else MENTOR_HAT
        other = mentorship.other_party(user)
        text = f"Pick a meeting time with {other.full_name}"
        if len(meetings) == 1:
            tasks.append(Task(hat, "pick_time", text, meeting_url(meetings[0])))
        else:
            tasks.append(
                Task(hat, "pick_time", text, mentorship.get_absolute_url(), f"{len(meetings)} meetings proposed")
            )
    for mentorship in mentorships:
        if mentorship.has_meetings:
            continue
        hat = MENTEE_HAT if mentorship.mentee_id == user.pk else MENTOR_HAT
        other = mentorship.other_party(user)
        tasks.append(
            Task(
                hat,
                "first_meeting",
                f"Plan a first meeting with {other.full_name}",
                reverse("matching:meeting-propose", args=[mentorship.pk]),
                "Propose up to three times"
                if has_signed_in(other)
                # Matched (by a published match) before their first sign-in: what is sent waits for them.
                else f"{other.first_name or other.full_name} hasn't signed in yet"
                + (" — they were sent an invitation" if other.invited_at else "")
                + "; your proposal and messages wait for them",
            )
        )
    for goal in goals:
        if goal.is_overdue:
            mentorship = goal.mentorship
            hat = MENTEE_HAT if mentorship.mentee_id == user.pk else MENTOR_HAT
            tasks.append(
                Task(hat, "overdue_goal", f"Overdue goal: {goal.title}", mentorship.get_absolute_url() + "#plan")
            )
    for request in pending:
        if not request.waiting_for_me:
            continue
        if request.mentor_id == user.pk and free_spots == 0:
            # Accepting would be refused (no open spot): ask for room first, not an answer.
            tasks.append(
                Task(
                    MENTOR_HAT,
                    "answer_request",
                    f"You are full: raise your capacity to accept {request.mentee.full_name}'s request",
                    reverse("matching:mentor-profile-edit") + "#id_capacity",
                    f"{request.get_kind_display()} mentorship · no spot free, so accepting would be refused",
                )
            )
        elif request.mentor_id == user.pk:
            tasks.append(
                Task(
                    MENTOR_HAT,
                    "answer_request",
                    f"Answer {request.mentee.full_name}'s request",
                    request.get_absolute_url(),
                    f"{request.get_kind_display()} mentorship",
                )
            )
        else:
            tasks.append(
                Task(
                    MENTEE_HAT,
                    "answer_question",
                    f"Answer {request.mentor.full_name}'s question about your request",
                    request.get_absolute_url(),
                )
            )
    for run in windows:
        if run.has_ranked:
            continue
        tasks.append(
            Task(
                MENTEE_HAT if run.as_mentee else MENTOR_HAT,
                "rank",
                f"Rank {'mentors' if run.as_mentee else 'residents'} for {run.program.name}'s "
                f"{run.get_kind_display().lower()} match",
                reverse("matching:match-run-rank", args=[run.pk]),
                f"by {format_instant(run.ranking_deadline, user.time_zone)}" if run.ranking_deadline else "",
            )
        )
    for mentorship in checkins_due(user, now=now)[:DASHBOARD_ROWS]:
        hat = MENTEE_HAT if mentorship.mentee_id == user.pk else MENTOR_HAT
        tasks.append(
            Task(
                hat,
                "check_in",
                f"Check in on your mentorship with {mentorship.other_party(user).full_name}",
                mentorship.get_absolute_url() + "#checkin",
                "One question, a minute; only coordinators see your answer",
            )
        )
    return tasks


# --- What needs a coordinator: the dashboard's "Needs action", for each program they coordinate.

# Out-of-date runs are told apart (``freshness.run_changes``, a few queries each) for this many
# runs ready to review at most; beyond, a program has more to sort out than a dashboard can say.
RUNS_CHECKED = 5


@dataclass(frozen=True)
class Action:
    """One thing in a program that needs its coordinator: how many, what, and where to act."""

    kind: str  # review_runs, stale_runs, ranking_window, conflicts, stale_pairings, waiting_requests
    count: int
    text: str
    url: str
    detail: str = ""
    links: tuple[tuple[str, str], ...] = ()  # (label, url): the first few, for a list to open


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _runs_to_review(program_ids: list[int]) -> list[MatchRun]:
    """Succeeded, not published, not discarded: proposals waiting for the coordinator."""
    return list(
        MatchRun.objects.filter(
            program_id__in=program_ids,
            status=MatchRun.Status.SUCCEEDED,
            published_at__isnull=True,
            archived_at__isnull=True,
        ).order_by("-finished_at", "-pk")
    )


def _open_windows(program_ids: list[int], now: datetime) -> list[Any]:
    """Ranking windows still open, each with ``submitted`` (explicit submissions) and ``cohort``
    (residents and mentors in it), soonest deadline first. Counted in subqueries: joining the
    three would multiply their rows."""

    submitted = RankingSubmission.objects.filter(run=OuterRef("pk")).order_by().values("run_id")
    mentees = MatchRun.mentees.through.objects.filter(matchrun_id=OuterRef("pk")).order_by().values("matchrun_id")
    mentors = MatchRun.mentors.through.objects.filter(matchrun_id=OuterRef("pk")).order_by().values("matchrun_id")
    return list(
        MatchRun.objects.filter(
            program_id__in=program_ids,
            status=MatchRun.Status.QUEUED,
            ranking_deadline__gt=now,
            archived_at__isnull=True,
        )
        .annotate(
            submitted=Coalesce(Subquery(submitted.annotate(n=Count("pk")).values("n")[:1]), 0),
            cohort_mentees=Coalesce(Subquery(mentees.annotate(n=Count("pk")).values("n")[:1]), 0),
            cohort_mentors=Coalesce(Subquery(mentors.annotate(n=Count("pk")).values("n")[:1]), 0),
        )
        .order_by("ranking_deadline", "pk")
    )


def _pairing_counts(program_ids: list[int], now: datetime) -> dict[int, dict[str, int]]:
    """{program id: {"stale": n, "nudged": n, "breaking": n}} over active pairings, in one query:
    ``nudged``, the stale ones nudged within ``NUDGE_INTERVAL`` (they cannot be nudged again yet)."""
    nudged_lately = Exists(
        AuditEntry.objects.filter(
            object_type="mentorship",
            object_id=Cast(OuterRef("pk"), output_field=CharField()),
            action=NUDGE_ACTION,
            created_at__gt=now - NUDGE_INTERVAL,
        )
    )
    rows = (
        with_flags(Mentorship.objects.filter(program_id__in=program_ids, status=Mentorship.Status.ACTIVE), now=now)
        .annotate(nudged_lately=nudged_lately)
        .order_by()
        .values("program_id")
        .annotate(
            stale=Count("pk", filter=Q(is_stale=True)),
            nudged=Count("pk", filter=Q(is_stale=True, nudged_lately=True)),
            breaking=Count("pk", filter=Q(breaks_conflict=True)),
        )
    )
    return {r["program_id"]: {"stale": r["stale"], "nudged": r["nudged"], "breaking": r["breaking"]} for r in rows}


def _waiting_requests(program_ids: list[int], now: datetime) -> list[Any]:
    """Requests pending for more than ``PENDING_AFTER`` (as in the coordinators' digest), oldest
    first: plain rows, few columns. A resident has at most a few pending at once."""
    return list(
        MentorshipRequest.objects.filter(
            program_id__in=program_ids,
            status=MentorshipRequest.Status.PENDING,
            created_at__lte=now - PENDING_AFTER,
        )
        .order_by("created_at", "pk")
        .values(
            "pk",
            "program_id",
            "created_at",
            "mentee__first_name",
            "mentee__last_name",
            "mentor__first_name",
            "mentor__last_name",
        )
    )


def coordinator_actions(
    programs: Iterable[Program], *, viewer: User, now: datetime | None = None
) -> dict[int, list[Action]]:
    """{program id: what needs its coordinator}, most urgent first: pairings that break a
    conflict of interest, match runs ready to review (out-of-date ones said), open ranking
    windows ("n of m submitted", the deadline in ``viewer``'s zone), pairings with no meeting in
    60 days, requests waiting over a week. Four queries for all the programs, whatever their
    size, plus a few per run ready to review (up to ``RUNS_CHECKED``) to tell if it is out of date."""
    now = now or timezone.now()
    programs = list(programs)
    ids = [p.pk for p in programs]
    actions: dict[int, list[Action]] = {pk: [] for pk in ids}
    if not ids:
        return actions
    slugs = {p.pk: p.slug for p in programs}
    counts = _pairing_counts(ids, now)
    runs = _runs_to_review(ids)
    windows = _open_windows(ids, now)
    waiting = _waiting_requests(ids, now)
    out_of_date = {run.pk for run in runs[:RUNS_CHECKED] if run_changes(run)}

    for pk in ids:
        pairings_url = reverse("matching:pairings", args=[slugs[pk]])
        breaking = counts.get(pk, {}).get("breaking", 0)
        if breaking:
            actions[pk].append(
                Action(
                    "conflicts",
                    breaking,
                    _plural(breaking, "pairing breaks a conflict of interest", "pairings break a conflict of interest"),
                    f"{pairings_url}?conflict=true",
                    "Recorded after they started: end or reassign",
                )
            )
        mine = [run for run in runs if run.program_id == pk]
        ready = [run for run in mine if run.pk not in out_of_date]
        stale_runs = [run for run in mine if run.pk in out_of_date]
        runs_url = reverse("matching:match-runs", args=[slugs[pk]])
        if ready:
            actions[pk].append(
                Action(
                    "review_runs",
                    len(ready),
                    _plural(len(ready), "match run ready to review", "match runs ready to review"),
                    ready[0].get_absolute_url() if len(ready) == 1 else runs_url,
                    "Accept, override, publish",
                )
            )
        if stale_runs:
            actions[pk].append(
                Action(
                    "stale_runs",
                    len(stale_runs),
                    _plural(len(stale_runs), "match run is out of date", "match runs are out of date"),
                    stale_runs[0].get_absolute_url() if len(stale_runs) == 1 else runs_url,
                    "Something it used changed: re-run it or discard it",
                )
            )
        for run in (w for w in windows if w.program_id == pk):
            cohort = run.cohort_mentees + run.cohort_mentors
            actions[pk].append(
                Action(
                    "ranking_window",
                    run.submitted,
                    f"Ranking window for match #{run.pk}: {run.submitted} of {cohort} submitted",
                    run.get_absolute_url(),
                    f"Closes {format_instant(run.ranking_deadline, viewer.time_zone)}",
                )
            )
        stale = counts.get(pk, {}).get("stale", 0)
        if stale:
            nudged = counts[pk]["nudged"]
            if not nudged:
                detail = "Nudge them to meet"
            elif nudged == stale:
                detail = f"{'It was' if stale == 1 else 'All were'} nudged in the last {NUDGE_INTERVAL.days} days"
            else:
                detail = f"Nudge them to meet ({nudged} nudged in the last {NUDGE_INTERVAL.days} days)"
            actions[pk].append(
                Action(
                    "stale_pairings",
                    stale,
                    _plural(stale, "pairing has", "pairings have") + " not met in 60 days",
                    f"{pairings_url}?stale=true",
                    detail,
                )
            )
        requests = [r for r in waiting if r["program_id"] == pk]
        if requests:
            actions[pk].append(
                Action(
                    "waiting_requests",
                    len(requests),
                    _plural(len(requests), "request has", "requests have")
                    + f" waited more than {PENDING_AFTER.days} days for an answer",
                    reverse("matching:request-detail", args=[requests[0]["pk"]]),
                    "The oldest first",
                    tuple(
                        (
                            f"{r['mentee__first_name']} {r['mentee__last_name']} → "
                            f"{r['mentor__first_name']} {r['mentor__last_name']}, {days_text(now - r['created_at'])}",
                            reverse("matching:request-detail", args=[r["pk"]]),
                        )
                        for r in requests[:3]
                    ),
                )
            )
    return actions
