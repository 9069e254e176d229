"""Why-not: why a mentee was unmatched, or did not get a given mentor, without revealing anyone's ranking.

Messages name no rank position and never say what the other person listed: a pair one side refused
reads "this pairing was not acceptable to both sides" unless the refusal was the asker's own.
"""

from __future__ import annotations

from collections.abc import Mapping

from .instance import Instance
from .records import Exclusion, Id
from .result import MatchResult
from .voice import MENTEE, Voice, voice


def _pair_exclusion_message(reason: Exclusion, name: str, v: Voice) -> str:
    return {
        Exclusion.SELF: f"{v.you} cannot be {v.your_own} mentor",
        Exclusion.CONFLICT_OF_INTEREST: "excluded: conflict of interest",
        Exclusion.EVALUATOR: f"excluded: {name} has an evaluator role in {v.your} training",
        Exclusion.ALREADY_PAIRED: f"excluded: {v.you_are} already paired with {name}",
        Exclusion.NO_SHARED_AVAILABILITY: "no shared availability",
        Exclusion.NOT_ACCEPTING: f"{name} was not accepting new mentees",
        Exclusion.NO_SPOTS: f"{name} had no spots",
    }[reason]


def why_not(
    instance: Instance,
    result: MatchResult,
    mentee_id: Id,
    mentor_id: Id | None = None,
    *,
    names: Mapping[Id, str] | None = None,
    audience: str = MENTEE,
) -> str:
    """Why ``mentee_id`` was unmatched (no ``mentor_id``), or why they did not get ``mentor_id``.

    ``names`` maps mentor ids to display names ("Dr Lee"); the id is used otherwise. The
    message speaks to the mentee, or with ``audience="coordinator"`` about them.
    """
    v = voice(audience)
    prep = instance.prepared
    if mentee_id not in prep.mentee_at:
        raise ValueError(f"unknown mentee {mentee_id!r}")
    i = prep.mentee_at[mentee_id]
    names = names or {}

    def name(x: Id) -> str:
        return str(names.get(x, x))

    got = result.assignment.get(mentee_id)
    if mentor_id is None:
        if got is not None:
            return f"{v.you_were} matched with {name(got)}"
        return _why_unmatched(instance, result, i, v)
    if mentor_id not in prep.mentor_at:
        return f"{name(mentor_id)} is not part of this match"
    if got == mentor_id:
        return f"{v.you_were} matched with {name(mentor_id)}"
    j = prep.mentor_at[mentor_id]
    who = name(mentor_id)

    if (i, j) in prep.exclusion:
        return _pair_exclusion_message(prep.exclusion[i, j], who, v)
    if not prep.accepting[j]:
        return f"{who} was not accepting new mentees"
    if prep.capacity[j] == 0:
        return f"{who} had no spots"
    if j in prep.mentee_never[i] or (prep.mentee_ranked[i] and j not in prep.own_rank[i]):
        return f"{v.you} did not list {who}"
    if not prep.mutually_acceptable(i, j):
        return "this pairing was not acceptable to both sides"

    g = prep.mentor_at[got] if got is not None else -1
    full = result.stats.mentor_load.get(mentor_id, (0, 0))[0] >= prep.capacity[j]
    if result.mode == "stable":
        choices = prep.pref[i]
        if g >= 0 and g in choices and choices.index(g) < choices.index(j):
            if prep.mentee_ranked[i]:
                return f"{v.you_were} matched with {name(got)}, whom {v.you} ranked higher"
            return f"{v.you_were} matched with {name(got)}, a better fit for {v.you}"
        if full:
            if prep.mentor_ranked[j]:
                return f"all of {who}'s spots went to residents {who} ranked higher"
            return f"all of {who}'s spots went to residents who fit {who} better"
        return f"{who} was not assigned to {v.you} in this run"
    if full or g < 0:
        return f"{who}'s spots went to pairings that fit the cohort better overall"
    return f"{v.your} pairing with {name(got)} fit the cohort at least as well"


def _why_unmatched(instance: Instance, result: MatchResult, i: int, v: Voice) -> str:
    prep = instance.prepared
    if not any(c > 0 for c in prep.capacity):
        return "no mentor had a spot in this match"
    if not any(prep.capacity[j] > 0 for j in prep.mentee_list[i]):
        if prep.mentee_ranked[i]:
            return f"none of the mentors {v.you} listed had a spot and could be paired with {v.you}"
        return f"no mentor with a spot could be paired with {v.you}"
    if not prep.pref[i]:
        return "no pairing with a mentor who had a spot was acceptable to both sides"
    if result.mode == "stable":
        return (
            f"every mentor {v.you} could be paired with filled their spots with residents they ranked higher"
            " or who fit them better"
        )
    return (
        f"the spots of every mentor {v.you} could be paired with went to pairings that matched more residents"
        " or fit the cohort better overall"
    )


def why_not_unmatched(
    instance: Instance, result: MatchResult, *, names: Mapping[Id, str] | None = None, audience: str = MENTEE
) -> dict:
    """{mentee_id: reason} for every unmatched mentee, spoken to them or (``audience="coordinator"``) about them."""
    return {
        mentee_id: why_not(instance, result, mentee_id, names=names, audience=audience)
        for mentee_id in result.stats.unmatched_mentees
    }
