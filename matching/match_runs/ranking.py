"""A run's ranking window: cohort members rank the other side until the deadline, and say
they are done ("Submit my list"); the run's coordinators follow who has submitted, remind
the others, close the window early or extend it. The services here change a ranking or the
window; the run waits for them (``execution`` claims it only once the deadline has passed).

What coordinators see of rankings (the team's decision, said the same way on every page
and notification, ``PRIVACY_TEXT``): who has submitted (names, counts, when) and, after a
run, which choice each person obtained; never anyone's list itself.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from accounts.models import User
from audit.services import audit_log
from core.bounds import SCHEDULED
from core.guards import require_perm
from core.locking import locked
from core.outbox import enqueue_on_commit

from ..models import MatchRanking, MatchRun, Notification, RankingSubmission
from ..scheduling import format_in_zone
from .execution import RUN_MATCH
from .ranking_notices import PRIVACY_TEXT, notify_rankers, notify_ranking_closed, ranking_subject
from .selectors import cohort_members

# Nobody gets a second reminder for a run within this time of their last one: a double
# click, a retried request, two coordinators clicking at once, or a coordinator reminding
# in the morning and again in the afternoon remind each person once.
REMIND_AGAIN_AFTER = timedelta(hours=24)
REMINDER_EVENT = "match.ranking_reminder"


# --- Reads.


@dataclass(frozen=True)
class Ranker:
    person: User
    submitted_at: datetime | None  # None: has not submitted
    updated_at: datetime | None


@dataclass(frozen=True)
class RankingWindowStatus:
    """Who has submitted in a run's ranking window, residents and mentors apart. Never the lists."""

    residents: list[Ranker]
    mentors: list[Ranker]

    @staticmethod
    def _split(people: list[Ranker]) -> tuple[list[Ranker], list[Ranker]]:
        return [r for r in people if r.submitted_at], [r for r in people if not r.submitted_at]

    @property
    def residents_submitted(self) -> list[Ranker]:
        return self._split(self.residents)[0]

    @property
    def residents_waiting(self) -> list[Ranker]:
        return self._split(self.residents)[1]

    @property
    def mentors_submitted(self) -> list[Ranker]:
        return self._split(self.mentors)[0]

    @property
    def mentors_waiting(self) -> list[Ranker]:
        return self._split(self.mentors)[1]

    @property
    def waiting(self) -> list[Ranker]:
        return self.residents_waiting + self.mentors_waiting

    @property
    def submitted_count(self) -> int:
        return len(self.residents_submitted) + len(self.mentors_submitted)

    @property
    def total(self) -> int:
        return len(self.residents) + len(self.mentors)


def ranking_window_status(run: MatchRun) -> RankingWindowStatus:
    """Three queries (residents, mentors, submissions), whatever the size of the cohort."""
    submissions = {
        author_id: (submitted_at, updated_at)
        for author_id, submitted_at, updated_at in RankingSubmission.objects.filter(run=run).values_list(
            "author_id", "submitted_at", "updated_at"
        )
    }

    def rankers(people: QuerySet[User]) -> list[Ranker]:
        return [
            Ranker(person, *submissions.get(person.pk, (None, None)))
            for person in people.order_by("last_name", "first_name", "pk")
        ]

    return RankingWindowStatus(residents=rankers(run.mentees.all()), mentors=rankers(run.mentors.all()))


@dataclass(frozen=True)
class ReminderPlan:
    """What "Remind" would do now: who gets a reminder (has not submitted, and was not
    reminded for this run within ``REMIND_AGAIN_AFTER``), who is skipped as reminded
    recently, and when the first of those could be reminded again."""

    to_remind: list[Ranker]
    recently_reminded: list[Ranker]
    next_possible_at: datetime | None  # None: nobody is being skipped


def reminder_plan(
    run: MatchRun, status: RankingWindowStatus | None = None, *, now: datetime | None = None
) -> ReminderPlan:
    """At most one query beyond ``ranking_window_status`` (given, or read here): the last
    reminder of each waiting person within ``REMIND_AGAIN_AFTER``, from their notifications;
    none when the run's last reminder (``ranking_reminded_at``) is older than that."""
    now = now or timezone.now()
    waiting = (status or ranking_window_status(run)).waiting
    if run.ranking_reminded_at is None or run.ranking_reminded_at <= now - REMIND_AGAIN_AFTER:
        # The run's last reminder is older than that (or there was none): nobody to skip.
        return ReminderPlan(to_remind=waiting, recently_reminded=[], next_possible_at=None)
    last = dict(
        Notification.objects.filter(
            event=REMINDER_EVENT,
            dedup_key__startswith=f"match_run:{run.pk}:ranking_reminder:",
            user_id__in=[r.person.pk for r in waiting],
            created_at__gt=now - REMIND_AGAIN_AFTER,
        )
        .values("user_id")
        .annotate(last=Max("created_at"))
        .values_list("user_id", "last")
    )
    return ReminderPlan(
        to_remind=[r for r in waiting if r.person.pk not in last],
        recently_reminded=[r for r in waiting if r.person.pk in last],
        next_possible_at=min(last.values()) + REMIND_AGAIN_AFTER if last else None,
    )


def submission_of(run: MatchRun, user: User) -> RankingSubmission | None:
    return RankingSubmission.objects.filter(run=run, author=user).first()


# --- A ranker's list.


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


@transaction.atomic
def ranking_submit(
    *, run: MatchRun, actor: User, ordered_ids: Iterable[int], never_ids: Iterable[int] = ()
) -> list[MatchRanking]:
    """Replace ``actor``'s ranking in ``run`` and record it as submitted: ``ordered_ids``
    best first (residents rank mentors, mentors rank residents), ``never_ids`` never to be
    paired. Anyone left out of both comes after the ranked ones, in score order
    (``complete_rankings``); an empty list is a submission too ("no preference").

    Each submission that changes something sends the ranker a receipt (counts only); the
    same list sent again (a double click, a retried request) changes nothing and sends none."""
    run = locked(MatchRun.objects.select_related("program")).get(pk=run.pk)  # the claim waits for this
    require_perm(actor, "matching.rank_in_run", run)
    if run.archived_at is not None:
        raise ValidationError("This match was discarded: rankings for it are no longer taken.")
    ordered, never = list(ordered_ids), list(never_ids)
    if len(set(ordered)) != len(ordered) or len(set(never)) != len(never) or set(ordered) & set(never):
        raise ValidationError("List each person once: either ranked or never.")
    as_mentee = run.mentees.filter(pk=actor.pk).exists()
    others = set((run.mentors if as_mentee else run.mentees).values_list("pk", flat=True))
    if (set(ordered) | set(never)) - others:
        raise ValidationError(f"Rank only the {'mentors' if as_mentee else 'residents'} in this match.")

    current = MatchRanking.objects.filter(run=run, author=actor)
    submission = RankingSubmission.objects.filter(run=run, author=actor).first()
    stored = list(current.order_by("never", "position", "target_id").values_list("target_id", "never"))
    unchanged = submission is not None and stored == [(pk, False) for pk in ordered] + sorted(
        ((pk, True) for pk in never), key=lambda entry: entry[0]
    )
    if unchanged:
        return list(current.order_by("never", "position", "target_id"))

    current.delete()
    rankings = MatchRanking.objects.bulk_create(
        [MatchRanking(run=run, author=actor, target_id=pk, position=i) for i, pk in enumerate(ordered, 1)]
        + [MatchRanking(run=run, author=actor, target_id=pk, never=True) for pk in never]
    )
    now = timezone.now()
    first_time = submission is None
    replaces: datetime | None = None
    if first_time:
        submission = RankingSubmission.objects.create(
            run=run, author=actor, submitted_at=now, updated_at=now, ranked=len(ordered), never=len(never)
        )
    else:
        assert submission is not None
        replaces = submission.updated_at
        submission.updated_at, submission.ranked, submission.never = now, len(ordered), len(never)
        submission.save(update_fields=["updated_at", "ranked", "never"])
    # Counts only: the list itself is confidential, even in the audit trail.
    audit_log(
        actor=actor,
        action="match_ranking.submit" if first_time else "match_ranking.update",
        obj=run,
        after={"ranked": len(ordered), "never": len(never)},
    )
    _send_receipt(run, actor, submission, as_mentee=as_mentee, replaces=replaces)
    return rankings


def _send_receipt(
    run: MatchRun, actor: User, submission: RankingSubmission, *, as_mentee: bool, replaces: datetime | None
) -> None:
    """The receipt of one version of the list: a first submission, or (``replaces``: when
    the version it replaces was sent) an update."""
    deadline = run.ranking_deadline
    assert deadline is not None
    kind = run.get_kind_display().lower()

    def counts(others: str) -> str:
        ranked = f"{submission.ranked} {others[:-1] if submission.ranked == 1 else others} ranked"
        return f"{ranked}, {submission.never} marked “never”"

    if replaces is None:
        title = f"Your ranking for the {kind} match of {run.program.name} is submitted"

        def body(person: User, others: str) -> str:
            return (
                f"We received your list on {format_in_zone(submission.updated_at, person)}: {counts(others)}. "
                f"You can change it until {format_in_zone(deadline, person)}. {PRIVACY_TEXT}"
            )
    else:
        title = f"Your updated ranking for the {kind} match of {run.program.name} is saved"

        def body(person: User, others: str) -> str:
            return (
                f"Your updated list, received on {format_in_zone(submission.updated_at, person)}, replaces the one "
                f"you submitted on {format_in_zone(replaces, person)}: {counts(others)}. "
                f"You can change it until {format_in_zone(deadline, person)}. {PRIVACY_TEXT}"
            )

    notify_rankers(
        run,
        [(actor, as_mentee)],
        event="match.ranking_receipt",
        key="ranking_receipt",
        title=lambda person, others: title,
        body=body,
        version=submission.updated_at.isoformat(),  # one receipt per version of the list
    )


# --- The coordinator's window.


def _locked_open_window(run: MatchRun, actor: User) -> MatchRun:
    run = locked(MatchRun.objects.select_related("program")).get(pk=run.pk)
    require_perm(actor, "matching.manage_match_runs", run)
    if run.ranking_deadline is None:
        raise ValidationError("This match has no ranking window.")
    if run.archived_at is not None or not run.ranking_window_open():
        raise ValidationError(
            f"The ranking window closed on {format_in_zone(run.ranking_deadline, actor)}; it cannot be changed now."
        )
    return run


@dataclass(frozen=True)
class Reminded:
    reminded: int  # people sent a reminder now
    skipped: int  # people who have not submitted but were reminded within REMIND_AGAIN_AFTER


@transaction.atomic
def ranking_window_remind_waiting(*, run: MatchRun, actor: User) -> Reminded:
    """One reminder to each cohort member who has not submitted, except those reminded for
    this run within ``REMIND_AGAIN_AFTER`` (``reminder_plan``): they are counted as skipped.
    Under the run's lock, so two coordinators clicking at once (or a double click) remind
    each person once: the second finds everyone reminded, and sends nothing."""
    run = _locked_open_window(run, actor)
    now = timezone.now()
    status = ranking_window_status(run)
    if not status.waiting:
        raise ValidationError("Everyone in this match has submitted their list: there is nobody to remind.")
    plan = reminder_plan(run, status, now=now)
    if not plan.to_remind:
        return Reminded(reminded=0, skipped=len(plan.recently_reminded))
    before = {"ranking_reminded_at": run.ranking_reminded_at.isoformat() if run.ranking_reminded_at else None}
    run.ranking_reminded_at = now
    run.save(update_fields=["ranking_reminded_at"])
    audit_log(
        actor=actor,
        action="match_run.ranking_remind",
        obj=run,
        before=before,
        after={
            "ranking_reminded_at": now.isoformat(),
            "reminded": len(plan.to_remind),
            "skipped": len(plan.recently_reminded),
        },
    )
    deadline = run.ranking_deadline
    assert deadline is not None
    kind = run.get_kind_display().lower()
    mentee_ids = {r.person.pk for r in status.residents}
    notify_rankers(
        run,
        [(ranker.person, ranker.person.pk in mentee_ids) for ranker in plan.to_remind],
        event=REMINDER_EVENT,
        key="ranking_reminder",
        title=lambda person, others: ranking_subject(run, person, others, reminder=True),
        body=lambda person, others: (
            f"{run.program.name}'s {kind} mentorship match starts when the ranking window closes, and you have "
            "not submitted your list yet. Submitting an empty list is fine: it means no preference. "
            f"{PRIVACY_TEXT}"
        ),
        version=now.isoformat(),
    )
    return Reminded(reminded=len(plan.to_remind), skipped=len(plan.recently_reminded))


@transaction.atomic
def ranking_window_close(*, run: MatchRun, actor: User) -> MatchRun:
    """Close the window now: the deadline becomes now and the run starts (after commit)."""
    run = _locked_open_window(run, actor)
    before = run.ranking_deadline
    assert before is not None
    run.ranking_deadline = timezone.now()
    run.save(update_fields=["ranking_deadline"])
    audit_log(
        actor=actor,
        action="match_run.ranking_close",
        obj=run,
        before={"ranking_deadline": before.isoformat()},
        after={"ranking_deadline": run.ranking_deadline.isoformat()},
    )
    enqueue_on_commit(RUN_MATCH, run.pk)
    notify_ranking_closed(run, planned=before)
    return run


@transaction.atomic
def ranking_window_extend(*, run: MatchRun, actor: User, deadline: datetime) -> MatchRun:
    """Move the deadline later (at most ``SCHEDULED`` ahead); everyone in the cohort is told."""
    run = _locked_open_window(run, actor)
    before = run.ranking_deadline
    assert before is not None
    if deadline is None or timezone.is_naive(deadline):
        raise ValidationError({"ranking_deadline": "Give the new deadline as a date and time."})
    SCHEDULED.check_instant(deadline, zone=actor.time_zone, field="ranking_deadline")
    if deadline <= before:
        raise ValidationError(
            {
                "ranking_deadline": "Choose a deadline later than the current one "
                f"({format_in_zone(before, actor)}); to end the window sooner, close it now."
            }
        )
    run.ranking_deadline = deadline
    run.save(update_fields=["ranking_deadline"])
    audit_log(
        actor=actor,
        action="match_run.ranking_extend",
        obj=run,
        before={"ranking_deadline": before.isoformat()},
        after={"ranking_deadline": deadline.isoformat()},
    )
    kind = run.get_kind_display().lower()
    notify_rankers(
        run,
        cohort_members(run),
        event="match.ranking_extended",
        key="ranking_extended",
        title=lambda person, others: (
            f"More time to rank: the {run.program.name} {kind} match now closes {format_in_zone(deadline, person)}"
        ),
        body=lambda person, others: (
            f"The ranking window was extended from {format_in_zone(before, person)} to "
            f"{format_in_zone(deadline, person)}. You can submit or change your list until then."
        ),
        version=deadline.isoformat(),
    )
    return run
