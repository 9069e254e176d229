"""Why-not: why a mentee was unmatched, or did not get a given mentor, without revealing anyone's ranking.

Messages name no rank position and never say what the other person listed: a pair one side refused
reads "this pairing was not acceptable to both sides" unless the refusal was the asker's own.
"""

from __future__ import annotations

from collections.abc import Mapping

from .instance import Instance, Prepared
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
            if not prep.has_scores:  # no ranking, no scores: no preference to speak of
                return f"all of {who}'s spots went to other residents"
            return f"all of {who}'s spots went to residents who fit {who} better"
        return f"{who} was not assigned to {v.you} in this run"
    if full or g < 0:
        return f"{who}'s spots went to pairings that fit the cohort better overall"
    return f"{v.your} pairing with {name(got)} fit the cohort at least as well"


def _places_for_residents(prep: Prepared) -> str:
    """ "there were 40 places for 52 residents; " when the open spots could not cover every resident,
    so that some had to go unmatched whatever anyone ranked; else ""."""
    places, residents = sum(prep.capacity), len(prep.mentee_ids)
    if places >= residents:
        return ""
    return (
        f"there {'was' if places == 1 else 'were'} {places} {'place' if places == 1 else 'places'}"
        f" for {residents} {'resident' if residents == 1 else 'residents'}; "
    )


def _held(prep: Prepared, result: MatchResult) -> list[list[int]]:
    """held[j]: the mentees assigned to mentor j in ``result``."""
    held: list[list[int]] = [[] for _ in prep.mentor_ids]
    for mentee_id, mentor_id in result.assignment.items():
        if mentor_id is not None and mentor_id in prep.mentor_at and mentee_id in prep.mentee_at:
            held[prep.mentor_at[mentor_id]].append(prep.mentee_at[mentee_id])
    return held


def _why_unmatched(
    instance: Instance, result: MatchResult, i: int, v: Voice, held: list[list[int]] | None = None
) -> str:
    prep = instance.prepared
    if not any(c > 0 for c in prep.capacity):
        return "no mentor had a spot in this match"
    if not any(prep.capacity[j] > 0 for j in prep.mentee_list[i]):
        if prep.mentee_ranked[i]:
            return f"none of the mentors {v.you} listed had a spot and could be paired with {v.you}"
        return f"no mentor with a spot could be paired with {v.you}"
    if not prep.pref[i]:
        return "no pairing with a mentor who had a spot was acceptable to both sides"
    shortage = _places_for_residents(prep)
    held = _held(prep, result) if held is None else held
    options = prep.pref[i]
    # Say only what the result shows: every mentor the resident could have had is full.
    if not all(len(held[j]) >= prep.capacity[j] for j in options):
        return f"{shortage}{v.you_were} not matched in this run"
    if result.mode != "stable":
        return (
            f"{shortage}the spots of every mentor {v.you} could be paired with went to pairings that matched"
            " more residents or fit the cohort better overall"
        )
    # ... and, in a stable match, full with residents each of them preferred.
    rank = prep.mentor_rank
    if not all(all(rank[j].get(k, -1) < rank[j][i] for k in held[j]) for j in options):
        return f"{shortage}every mentor {v.you} could be paired with filled their spots"
    ranked = {prep.mentor_ranked[j] for j in options}
    if ranked == {True}:
        why = "with residents they ranked higher"
    elif not prep.has_scores:
        # Without scores a mentor who did not rank takes residents in no particular order.
        why = "with other residents"
    elif ranked == {False}:
        why = "with residents who fit them better"
    else:
        why = "with residents they ranked higher or who fit them better"
    return f"{shortage}every mentor {v.you} could be paired with filled their spots {why}"


def why_not_unmatched(
    instance: Instance, result: MatchResult, *, names: Mapping[Id, str] | None = None, audience: str = MENTEE
) -> dict:
    """{mentee_id: reason} for every unmatched mentee, spoken to them or (``audience="coordinator"``) about them."""
    v = voice(audience)
    prep = instance.prepared
    held = _held(prep, result)
    reasons = {}
    for mentee_id in result.stats.unmatched_mentees:
        if mentee_id not in prep.mentee_at:
            raise ValueError(f"unknown mentee {mentee_id!r}")
        reasons[mentee_id] = _why_unmatched(instance, result, prep.mentee_at[mentee_id], v, held)
    return reasons
