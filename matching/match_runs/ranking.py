"""A run's ranking window: cohort members rank the other side, confidentially, until the
deadline. The services here change a ranking or the window; the run waits for them
(``execution`` claims it only once the deadline has passed)."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from accounts.models import User
from audit.services import audit_log
from core.guards import require_perm
from core.locking import locked

from ..models import MatchRanking, MatchRun
from ..notifications import notify
from ..scheduling import format_in_zone
from .selectors import cohort_members


def notify_ranking_window(run: MatchRun) -> None:
    deadline = run.ranking_deadline
    assert deadline is not None  # only a run with a ranking window is announced
    url = reverse("matching:match-run-rank", args=[run.pk])
    kind = run.get_kind_display().lower()
    for person, is_mentee in cohort_members(run):
        others = "mentors" if is_mentee else "residents"
        notify(
            event="match.ranking_open",
            user=person,
            url=url,
            title=f"Rank your possible {kind} {others} by {format_in_zone(deadline, person)}",
            body=(
                f"{run.program.name} is matching {kind} mentors and you are in the cohort. You may rank the "
                f"{others} you would like to be paired with, and mark anyone you should never be paired with, "
                "until the deadline. Your ranking is confidential: only you see it. If you do not rank, you are "
                "matched by fit score."
            ),
            dedup_key=f"match_run:{run.pk}:ranking_open:{person.pk}",
        )


@transaction.atomic
def ranking_submit(
    *, run: MatchRun, actor: User, ordered_ids: Iterable[int], never_ids: Iterable[int] = ()
) -> list[MatchRanking]:
    """Replace ``actor``'s ranking in ``run``: ``ordered_ids`` best first (residents rank
    mentors, mentors rank residents), ``never_ids`` never to be paired. Anyone left out
    of both comes after the ranked ones, in score order (``complete_rankings``)."""
    run = locked(MatchRun.objects).get(pk=run.pk)  # the claim waits for this
    require_perm(actor, "matching.rank_in_run", run)
    ordered, never = list(ordered_ids), list(never_ids)
    if len(set(ordered)) != len(ordered) or len(set(never)) != len(never) or set(ordered) & set(never):
        raise ValidationError("List each person once: either ranked or never.")
    as_mentee = run.mentees.filter(pk=actor.pk).exists()
    others = set((run.mentors if as_mentee else run.mentees).values_list("pk", flat=True))
    if (set(ordered) | set(never)) - others:
        raise ValidationError(f"Rank only the {'mentors' if as_mentee else 'residents'} in this match.")
    MatchRanking.objects.filter(run=run, author=actor).delete()
    rankings = MatchRanking.objects.bulk_create(
        [MatchRanking(run=run, author=actor, target_id=pk, position=i) for i, pk in enumerate(ordered, 1)]
        + [MatchRanking(run=run, author=actor, target_id=pk, never=True) for pk in never]
    )
    # Counts only: the list itself is confidential, even in the audit trail.
    audit_log(actor=actor, action="match_ranking.submit", obj=run, after={"ranked": len(ordered), "never": len(never)})
    return rankings
