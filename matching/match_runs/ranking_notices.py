"""What a ranking window tells people: that it opened, that it closed, and the confidentiality
of a list said the same way everywhere (``PRIVACY_TEXT``). Apart from ``ranking`` so that
``execution``, which ``ranking`` enqueues, can tell the cohort when a deadline passes.
"""

from collections.abc import Callable, Iterable
from datetime import datetime

from django.urls import reverse

from accounts.models import User

from ..models import MatchRun, Notification
from ..notifications import notify_many
from ..scheduling import format_in_zone
from .selectors import cohort_members

PRIVACY_TEXT = (
    "Your list is confidential. The program's coordinators see whether you have submitted and, after the match, "
    "which of your choices you obtained (for example “1st choice”); they never see your list itself, "
    "and neither do the people you rank."
)


def ranking_subject(run: MatchRun, person: User, others: str, *, reminder: bool = False) -> str:
    """The subject of the e-mail asking ``person`` to rank ``others`` ("mentors" or
    "residents"): "Rank the residents for the Internal Medicine career match by Fri 11 Dec…"."""
    deadline = run.ranking_deadline
    assert deadline is not None  # only a run with a ranking window asks anyone to rank
    ask = "Reminder: rank" if reminder else "Rank"
    return (
        f"{ask} the {others} for the {run.program.name} {run.get_kind_display().lower()} match "
        f"by {format_in_zone(deadline, person)}"
    )


def notify_rankers(
    run: MatchRun,
    rankers: Iterable[tuple[User, bool]],
    *,
    event: str,
    key: str,
    title: Callable[[User, str], str],
    body: Callable[[User, str], str],
    version: str = "",
) -> None:
    """One notification to each of ``rankers`` ((person, is_mentee) pairs), linking to the
    ranking page. ``title`` and ``body`` get the person (for their time zone) and whom they
    rank ("mentors" or "residents"). The dedup key is per run, ``key``, person and
    ``version`` (a reminder's time, a new deadline, a list's version): the same news twice
    (a retried task, a second close) reaches nobody twice.

    On the bulk path (``notify_many``): one read of the keys already sent, one INSERT, and the
    e-mails queued on commit in one batch task, whatever the size of the cohort (a reminder to
    two hundred people, one ``notify`` each, kept the coordinator waiting for seconds). A key
    created meanwhile by another transaction makes ``notify_many`` fall back to one by one,
    which skips it."""
    url = reverse("matching:match-run-rank", args=[run.pk])
    notes = []
    for person, is_mentee in rankers:
        others = "mentors" if is_mentee else "residents"
        notes.append(
            {
                "event": event,
                "user": person,
                "url": url,
                "title": title(person, others),
                "body": body(person, others),
                "dedup_key": f"match_run:{run.pk}:{key}:{person.pk}" + (f":{version}" if version else ""),
            }
        )
    sent = set(
        Notification.objects.filter(dedup_key__in=[note["dedup_key"] for note in notes]).values_list(
            "dedup_key", flat=True
        )
    )
    notify_many([note for note in notes if note["dedup_key"] not in sent])


def notify_ranking_window(run: MatchRun) -> None:
    deadline = run.ranking_deadline
    assert deadline is not None  # only a run with a ranking window is announced
    kind = run.get_kind_display().lower()
    notify_rankers(
        run,
        cohort_members(run),
        event="match.ranking_open",
        key="ranking_open",
        title=lambda person, others: ranking_subject(run, person, others),
        body=lambda person, others: (
            f"{run.program.name} is matching {kind} mentors and you are in the cohort. You may rank the "
            f"{others} you would like to be paired with, and mark anyone you should never be paired with, "
            f"then submit your list before the deadline. {PRIVACY_TEXT} If you do not rank, you are "
            "matched by fit score."
        ),
    )


def notify_ranking_closed(run: MatchRun, *, planned: datetime | None = None) -> None:
    """Tell everyone in the cohort that the window has closed (at ``run.ranking_deadline``)
    and that results come once the coordinator publishes the match. ``planned``: the
    deadline a coordinator closed it before. Sent at most once per person, whether the
    coordinator closed the window early or the deadline passed (then the run's claim
    sends it, ``execution``); the early close's words win, being sent first."""
    closed = run.ranking_deadline
    assert closed is not None
    kind = run.get_kind_display().lower()

    def body(person: User, others: str) -> str:
        when = (
            f"The coordinator closed it on {format_in_zone(closed, person)}, before the planned deadline "
            f"({format_in_zone(planned, person)})."
            if planned is not None
            else f"It closed on {format_in_zone(closed, person)}."
        )
        result = "your mentor" if others == "mentors" else "the residents you will mentor"
        return (
            f"{when} Lists can no longer be changed; the match runs with the lists submitted by then. "
            f"Results come after the coordinator reviews and publishes the match: you are told {result} then. "
            f"The ranking page shows the list you submitted. {PRIVACY_TEXT}"
        )

    notify_rankers(
        run,
        cohort_members(run),
        event="match.ranking_closed",
        key="ranking_closed",
        title=lambda person, others: (
            f"Ranking closed for the {run.program.name} {kind} match: results after the coordinator publishes"
        ),
        body=body,
    )
