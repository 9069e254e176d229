"""Is a run still true to the program? What a run read when it was computed, and what changed since.

``fingerprint(run)`` is stored in ``run.inputs`` by the worker (``execution._compute``) right after
it loaded the cohort: the active pairings touching the cohort, each cohort mentor's capacity and
accepting flag, the pairs kept apart (conflicts, evaluators, their exceptions:
``matching.conflicts``) and the version (``updated_at``) of every cohort profile.
``run_changes(run)`` reads the same things now and says, in plain sentences naming a few people
at most, what differs. A run with changes is *out of date*: its proposals may no longer fit, so
the services refuse to accept, override or publish it (under the run's lock), and the page offers
a re-run with the same settings or to discard it.

Both read a constant number of queries, whatever the cohort's size: active pairings (1), mentor
profiles (1), mentee profiles (1), kept-apart pairs (up to 4), names (1); the cohort enters each as
a subquery, never as a list of ids.
"""

from typing import Any

from django.db.models import Q

from accounts.models import MenteeProfile, MentorProfile, User

from ..conflicts import CONFLICT, blocked_pairs
from ..models import Kind, MatchProposal, MatchRun, Mentorship

# How many people one sentence names before it says "and n more".
NAMED = 3


def fingerprint(run: MatchRun) -> dict[str, Any]:
    """What ``run`` reads from the program, as JSON. Keys are strings (JSON objects' keys are)."""
    # The cohort as subqueries, not IN lists of a thousand ids each (Django prepares every one).
    mentees_in, mentors_in = run.mentees.values("pk"), run.mentors.values("pk")
    pairings = {
        str(pk): [mentee, mentor, kind]
        for pk, mentee, mentor, kind in Mentorship.objects.filter(status=Mentorship.Status.ACTIVE)
        .filter(Q(mentee_id__in=mentees_in, kind=run.kind) | Q(mentor_id__in=mentors_in))
        .values_list("pk", "mentee_id", "mentor_id", "kind")
    }
    mentors: dict[str, list] = {}
    profiles: dict[str, str] = {}
    for user_id, capacity, accepting, updated in MentorProfile.objects.filter(user_id__in=mentors_in).values_list(
        "user_id", "capacity", "accepting_mentees", "updated_at"
    ):
        mentors[str(user_id)] = [capacity, accepting]
        profiles[f"mentor:{user_id}"] = updated.isoformat()
    for user_id, updated in MenteeProfile.objects.filter(user_id__in=mentees_in).values_list("user_id", "updated_at"):
        profiles[f"mentee:{user_id}"] = updated.isoformat()
    blocked = sorted([mentee, mentor, why] for (mentee, mentor), why in blocked_pairs(mentees_in, mentors_in).items())
    return {"version": 1, "pairings": pairings, "mentors": mentors, "blocked": blocked, "profiles": profiles}


def _names(ids: list[str], names: dict[int, str]) -> str:
    """ "Ana Lopez, Bo Li and Cy Ng" or "Ana Lopez, Bo Li, Cy Ng and 4 more"."""
    shown = [names.get(int(pk), f"person #{pk}") for pk in ids[:NAMED]]
    rest = len(ids) - len(shown)
    if rest:
        return f"{', '.join(shown)} and {rest} more"
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def _published_in(run: MatchRun, mentee_ids: set[int]) -> dict[int, int]:
    """{mentee id: the run of this program that published their pairing}, since ``run`` finished."""
    if not mentee_ids:
        return {}
    since = Q(run__published_at__gte=run.finished_at) if run.finished_at else Q(run__published_at__isnull=False)
    return dict(
        MatchProposal.objects.filter(since, run__program_id=run.program_id, mentee_id__in=mentee_ids)
        .exclude(run_id=run.pk)
        .filter(decision__in=[MatchProposal.Decision.ACCEPTED, MatchProposal.Decision.OVERRIDDEN])
        .values_list("mentee_id", "run_id")
    )


def run_changes(run: MatchRun) -> list[str]:
    """What changed since ``run`` was computed, in sentences a coordinator understands; empty
    when nothing did, or when the question does not arise (not finished, published, archived)."""
    if run.status != MatchRun.Status.SUCCEEDED or run.published_at is not None or run.archived_at is not None:
        return []
    before = run.inputs or {}
    if not before:
        # A run computed before runs recorded their inputs: a publish since then is what we can tell.
        later = (
            MatchRun.objects.filter(program_id=run.program_id, published_at__gt=run.finished_at or run.created_at)
            .exclude(pk=run.pk)
            .order_by("published_at")
            .values_list("pk", flat=True)
            .first()
        )
        return [f"Match #{later} was published after this one was computed."] if later else []
    now = fingerprint(run)
    changes: list[str] = []
    wanted: set[int] = set()

    old_pairs, new_pairs = before.get("pairings", {}), now["pairings"]
    started = [v for pk, v in new_pairs.items() if pk not in old_pairs]
    ended = [v for pk, v in old_pairs.items() if pk not in new_pairs]
    old_mentors, new_mentors = before.get("mentors", {}), now["mentors"]
    capacity = [
        (pk, old[0], new_mentors[pk][0])
        for pk, old in old_mentors.items()
        if pk in new_mentors and old[0] != new_mentors[pk][0]
    ]
    accepting = [
        (pk, new_mentors[pk][1])
        for pk, old in old_mentors.items()
        if pk in new_mentors and old[1] != new_mentors[pk][1]
    ]
    gone = [pk for pk in old_mentors if pk not in new_mentors]
    old_blocked = {tuple(b) for b in before.get("blocked", [])}
    new_blocked = {tuple(b) for b in now["blocked"]}
    recorded = sorted(new_blocked - old_blocked)
    lifted = sorted(old_blocked - new_blocked)
    # A mentor's capacity or accepting flag is part of their profile: counted once, above.
    touched = {f"mentor:{pk}" for pk, *_ in capacity} | {f"mentor:{pk}" for pk, _ in accepting}
    old_profiles, new_profiles = before.get("profiles", {}), now["profiles"]
    edited = [
        key
        for key, at in new_profiles.items()
        if key not in touched and key in old_profiles and old_profiles[key] != at
    ]

    for mentee, mentor, _ in started + ended:
        wanted |= {mentee, mentor}
    for mentee, mentor, _ in recorded + lifted:
        wanted |= {mentee, mentor}
    wanted |= {int(pk) for pk, *_ in capacity} | {int(pk) for pk, _ in accepting} | {int(pk) for pk in gone}
    if len(edited) <= NAMED:
        wanted |= {int(key.split(":")[1]) for key in edited}
    names = {
        pk: f"{first} {last}".strip() or email
        for pk, first, last, email in User.objects.filter(pk__in=wanted).values_list(
            "pk", "first_name", "last_name", "email"
        )
    }

    cohort_mentees = {int(key.split(":")[1]) for key in new_profiles if key.startswith("mentee:")} | {
        int(key.split(":")[1]) for key in old_profiles if key.startswith("mentee:")
    }
    kind = Kind(run.kind).label.lower()
    newly_paired = [m for m, _, k in started if m in cohort_mentees and k == run.kind]
    if newly_paired:
        via = _published_in(run, set(newly_paired))
        by_run: dict[int | None, list[str]] = {}
        for mentee in newly_paired:
            by_run.setdefault(via.get(mentee), []).append(str(mentee))
        for source, people in sorted(by_run.items(), key=lambda item: item[0] or 0):
            verb = "now has" if len(people) == 1 else "now have"
            where = f" (published in match #{source})" if source else ""
            changes.append(f"{_names(people, names)} {verb} a {kind} mentor{where}.")
    others = [(m, t) for m, t, k in started if not (m in cohort_mentees and k == run.kind)]
    if others:
        mentors = sorted({str(t) for _, t in others})
        changes.append(f"{_names(mentors, names)} took on {len(others)} new mentee{'s' if len(others) != 1 else ''}.")
    if ended:
        pairs = [f"{names.get(m, '?')} and {names.get(t, '?')}" for m, t, _ in ended[:NAMED]]
        more = f" and {len(ended) - NAMED} more" if len(ended) > NAMED else ""
        changes.append(f"The pairing{'s' if len(ended) != 1 else ''} of {'; '.join(pairs)}{more} ended.")
    for pk, old, new in capacity[:NAMED]:
        changes.append(f"{names.get(int(pk), 'A mentor')}'s capacity went from {old} to {new}.")
    for pk, now_accepting in accepting[:NAMED]:
        what = "is accepting new mentees again" if now_accepting else "stopped accepting new mentees"
        changes.append(f"{names.get(int(pk), 'A mentor')} {what}.")
    extra = max(len(capacity) - NAMED, 0) + max(len(accepting) - NAMED, 0)
    if extra:
        changes.append(f"{extra} more mentor{'s' if extra != 1 else ''} changed their capacity or availability.")
    if gone:
        changes.append(f"{_names(gone, names)} no longer {'has' if len(gone) == 1 else 'have'} a mentor profile.")
    for mentee, mentor, why in recorded[:NAMED]:
        if why == CONFLICT:
            changes.append(
                f"A conflict of interest was recorded for {names.get(mentee, '?')} and {names.get(mentor, '?')}."
            )
        else:
            changes.append(f"{names.get(mentor, '?')} now evaluates residents such as {names.get(mentee, '?')}.")
    if len(recorded) > NAMED:
        changes.append(f"{len(recorded) - NAMED} more pairs were kept apart.")
    if lifted:
        changes.append(
            f"{len(lifted)} pair{'s' if len(lifted) != 1 else ''} kept apart before may now be paired "
            f"(e.g. {names.get(lifted[0][0], '?')} and {names.get(lifted[0][1], '?')})."
        )
    if edited:
        if len(edited) <= NAMED:
            who = _names([key.split(":")[1] for key in edited], names)
            changes.append(f"{who} edited {'their profile' if len(edited) == 1 else 'their profiles'}.")
        else:
            changes.append(f"{len(edited)} profiles were edited.")
    return changes


def stale_message(changes: list[str]) -> str:
    """The refusal every service gives for an out-of-date run."""
    return (
        "This match is out of date: "
        + " ".join(changes)
        + " Re-run it with the same settings, or discard it; its proposals can no longer be accepted or published."
    )
