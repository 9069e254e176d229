"""Why-not reasons: one per case, and none of them reveals anyone's rank position."""

import re

import pytest
from hypothesis import given

from matching.engine import (
    Exclusion,
    Instance,
    MenteePrefs,
    MentorPrefs,
    solve_optimal,
    solve_stable,
    why_not,
    why_not_unmatched,
)

from .support import engine_settings, instances

NAMES = {"x": "Dr X", "y": "Dr Y", "z": "Dr Z"}


def ask(instance, mode, mentee, mentor=None):
    result = (solve_stable if mode == "stable" else solve_optimal)(instance)
    return why_not(instance, result, mentee, mentor, names=NAMES)


def one(mentee=None, mentor=None, scores=None, exclusions=None):
    return Instance(
        mentees=[mentee or MenteePrefs("me")],
        mentors=[mentor or MentorPrefs("x")],
        scores={"me": {"x": 0.5}} if scores is None else scores,
        exclusions=exclusions or {},
    )


@pytest.mark.parametrize(
    "reason, message",
    [
        (Exclusion.CONFLICT_OF_INTEREST, "excluded: conflict of interest"),
        (Exclusion.EVALUATOR, "excluded: Dr X has an evaluator role in your training"),
        (Exclusion.ALREADY_PAIRED, "excluded: you are already paired with Dr X"),
        (Exclusion.SELF, "you cannot be your own mentor"),
        (Exclusion.NO_SHARED_AVAILABILITY, "no shared availability"),
    ],
)
@pytest.mark.parametrize("mode", ["stable", "optimal"])
def test_excluded_pairs_say_why(mode, reason, message):
    assert ask(one(exclusions={("me", "x"): reason}), mode, "me", "x") == message


@pytest.mark.parametrize("mode", ["stable", "optimal"])
def test_a_mentor_who_was_not_accepting(mode):
    assert (
        ask(one(mentor=MentorPrefs("x", capacity=2, accepting=False)), mode, "me", "x")
        == "Dr X was not accepting new mentees"
    )


@pytest.mark.parametrize("mode", ["stable", "optimal"])
def test_a_mentor_with_no_spots(mode):
    assert ask(one(mentor=MentorPrefs("x", capacity=0)), mode, "me", "x") == "Dr X had no spots"


@pytest.mark.parametrize("mode", ["stable", "optimal"])
def test_you_did_not_list_the_mentor(mode):
    assert ask(one(mentee=MenteePrefs("me", ranking=())), mode, "me", "x") == "you did not list Dr X"
    assert ask(one(mentee=MenteePrefs("me", never=frozenset({"x"}))), mode, "me", "x") == "you did not list Dr X"


@pytest.mark.parametrize("mode", ["stable", "optimal"])
def test_the_mentor_did_not_list_you_without_saying_so(mode):
    message = "this pairing was not acceptable to both sides"
    assert ask(one(mentor=MentorPrefs("x", ranking=())), mode, "me", "x") == message
    assert ask(one(mentor=MentorPrefs("x", never=frozenset({"me"}))), mode, "me", "x") == message
    assert ask(one(scores={"me": {}}), mode, "me", "x") == message


def test_an_unknown_mentor():
    assert ask(one(), "stable", "me", "q") == "q is not part of this match"


def test_the_mentor_you_got():
    assert ask(one(), "stable", "me", "x") == "you were matched with Dr X"
    assert ask(one(), "stable", "me") == "you were matched with Dr X"


def contested(mentor_ranking=None):
    """Two residents want Dr X's one spot; Dr X prefers "rival"."""
    return Instance(
        mentees=[MenteePrefs("me", ranking=("x", "y")), MenteePrefs("rival", ranking=("x",))],
        mentors=[MentorPrefs("x", capacity=1, ranking=mentor_ranking), MentorPrefs("y", capacity=1)],
        scores={"me": {"x": 0.5, "y": 0.4}, "rival": {"x": 0.9}},
    )


def test_stable_spots_went_to_residents_the_mentor_ranked_higher():
    assert (
        ask(contested(("rival", "me")), "stable", "me", "x")
        == "all of Dr X's spots went to residents Dr X ranked higher"
    )
    # A mentor who did not rank prefers by score, and the message says so.
    assert ask(contested(), "stable", "me", "x") == "all of Dr X's spots went to residents who fit Dr X better"


def test_stable_you_got_someone_you_ranked_higher():
    instance = Instance(
        mentees=[MenteePrefs("me", ranking=("x", "y"))],
        mentors=[MentorPrefs("x"), MentorPrefs("y")],
    )
    assert ask(instance, "stable", "me", "y") == "you were matched with Dr X, whom you ranked higher"
    unranked = Instance(
        mentees=[MenteePrefs("me")], mentors=[MentorPrefs("x"), MentorPrefs("y")], scores={"me": {"x": 0.9, "y": 0.1}}
    )
    assert ask(unranked, "stable", "me", "y") == "you were matched with Dr X, a better fit for you"


def test_optimal_spots_went_to_pairings_that_fit_the_cohort_better():
    assert ask(contested(), "optimal", "me", "x") == "Dr X's spots went to pairings that fit the cohort better overall"


def test_optimal_your_pairing_fit_at_least_as_well():
    instance = Instance(
        mentees=[MenteePrefs("me")], mentors=[MentorPrefs("x"), MentorPrefs("y")], scores={"me": {"x": 0.9, "y": 0.1}}
    )
    assert ask(instance, "optimal", "me", "y") == "your pairing with Dr X fit the cohort at least as well"


@pytest.mark.parametrize(
    "instance, mode, message",
    [
        (Instance(mentees=[MenteePrefs("me")], mentors=[]), "stable", "no mentor had a spot in this match"),
        (one(mentor=MentorPrefs("x", capacity=0)), "stable", "no mentor had a spot in this match"),
        (
            one(mentee=MenteePrefs("me", ranking=())),
            "stable",
            "none of the mentors you listed had a spot and could be paired with you",
        ),
        (
            one(exclusions={("me", "x"): Exclusion.CONFLICT_OF_INTEREST}),
            "stable",
            "no mentor with a spot could be paired with you",
        ),
        (
            one(mentor=MentorPrefs("x", ranking=())),
            "optimal",
            "no pairing with a mentor who had a spot was acceptable to both sides",
        ),
        (
            Instance(
                mentees=[MenteePrefs("me", ranking=("x",)), MenteePrefs("rival")],
                mentors=[MentorPrefs("x", ranking=("rival", "me"))],
            ),
            "stable",
            "there was 1 place for 2 residents;"
            " every mentor you could be paired with filled their spots with residents they ranked higher",
        ),
        (
            Instance(
                mentees=[MenteePrefs("me"), MenteePrefs("rival")],
                mentors=[MentorPrefs("x")],
                scores={"me": {"x": 0.5}, "rival": {"x": 0.9}},
            ),
            "optimal",
            "there was 1 place for 2 residents; the spots of every mentor you could be paired with went to"
            " pairings that matched more residents or fit the cohort better overall",
        ),
    ],
)
def test_why_a_mentee_was_unmatched(instance, mode, message):
    result = (solve_stable if mode == "stable" else solve_optimal)(instance)
    assert result.assignment["me"] is None
    assert why_not(instance, result, "me", names=NAMES) == message
    assert why_not_unmatched(instance, result, names=NAMES)["me"] == message


def test_why_not_rejects_an_unknown_mentee():
    with pytest.raises(ValueError, match="unknown mentee"):
        ask(one(), "stable", "nobody")


SHORTAGE = re.compile(r"^there (was|were) \d+ places? for \d+ residents?; ")
ORDINALS = re.compile(
    r"\d|\b(first|second|third|fourth|fifth|sixth|last|top|#)\b|\bnumber\b|\bposition\b|\bplace\b", re.I
)


@engine_settings
@given(instances(scores="always"))
def test_why_not_never_reveals_a_rank_position(instance):
    names = {p.id: f"Dr {'ABCDEFGH'[k]}" for k, p in enumerate(instance.mentors)}
    for solver in (solve_stable, solve_optimal):
        result = solver(instance)
        for mentee in result.assignment:
            messages = [why_not(instance, result, mentee, names=names)]
            messages += [why_not(instance, result, mentee, mentor.id, names=names) for mentor in instance.mentors]
            for message in messages:
                # The one number a reason may hold is the count of places and residents.
                assert not ORDINALS.search(SHORTAGE.sub("", message)), message


SECOND_PERSON = re.compile(r"\b(you|your|yours|yourself|you're)\b", re.I)


@engine_settings
@given(instances(scores="always"))
def test_coordinators_read_the_same_reasons_about_the_resident_not_to_them(instance):
    for solver in (solve_stable, solve_optimal):
        result = solver(instance)
        for mentee in result.assignment:
            for mentor in [None, *(m.id for m in instance.mentors)]:
                to_them = why_not(instance, result, mentee, mentor, names=NAMES)
                about_them = why_not(instance, result, mentee, mentor, names=NAMES, audience="coordinator")
                assert not SECOND_PERSON.search(about_them), about_them
                # A reason that does not address the resident reads the same to both.
                assert (about_them == to_them) == (SECOND_PERSON.search(to_them) is None), (to_them, about_them)


def test_the_coordinators_voice_in_each_pair_exclusion():
    conflict = one(exclusions={("me", "x"): Exclusion.EVALUATOR})
    assert why_not(conflict, solve_stable(conflict), "me", "x", names=NAMES, audience="coordinator") == (
        "excluded: Dr X has an evaluator role in the resident's training"
    )
    paired = one(exclusions={("me", "x"): Exclusion.ALREADY_PAIRED})
    assert why_not(paired, solve_stable(paired), "me", "x", names=NAMES, audience="coordinator") == (
        "excluded: the resident is already paired with Dr X"
    )
    with pytest.raises(ValueError, match="audience must be one of mentee, coordinator"):
        why_not(paired, solve_stable(paired), "me", audience="mentor")


# --- Capacity, not ranking, as the cause.


def crowded(places: int, residents: int, mentor_ranking=None, scores=True):
    """``residents`` residents who all fit one mentor with ``places`` spots; "me" fits worst."""
    ids = [f"a{k}" for k in range(residents - 1)] + ["me"]  # "me" comes last in id order too
    return Instance(
        mentees=[MenteePrefs(i) for i in ids],
        mentors=[MentorPrefs("x", capacity=places, ranking=mentor_ranking)],
        scores={i: {"x": 0.9 - k / 100} for k, i in enumerate(ids)} if scores else None,
    )


@pytest.mark.parametrize("mode", ["stable", "optimal"])
def test_too_few_places_is_named_as_the_cause(mode):
    instance = crowded(40, 52)
    result = (solve_stable if mode == "stable" else solve_optimal)(instance)
    assert result.assignment["me"] is None
    message = why_not(instance, result, "me", names=NAMES)
    assert message.startswith("there were 40 places for 52 residents; "), message
    about = why_not(instance, result, "me", names=NAMES, audience="coordinator")
    assert about.startswith("there were 40 places for 52 residents; "), about


@pytest.mark.parametrize("mode", ["stable", "optimal"])
def test_enough_places_leaves_capacity_out(mode):
    # Two residents, two places, but both residents fit only Dr X and Dr X has one: the places were
    # enough overall, so the reason is the competition for Dr X, not the count.
    instance = Instance(
        mentees=[MenteePrefs("me"), MenteePrefs("rival")],
        mentors=[MentorPrefs("x"), MentorPrefs("y")],
        scores={"me": {"x": 0.5}, "rival": {"x": 0.9}},
    )
    result = (solve_stable if mode == "stable" else solve_optimal)(instance)
    assert result.assignment == {"me": None, "rival": "x"}
    message = why_not(instance, result, "me", names=NAMES)
    assert "places" not in message and "place " not in message, message


def test_the_ranking_reason_only_when_the_mentors_ranked():
    scored = crowded(1, 3)
    assert why_not(scored, solve_stable(scored), "me") == (
        "there was 1 place for 3 residents; every mentor you could be paired with filled their spots"
        " with residents who fit them better"
    )
    ranked = crowded(1, 3, mentor_ranking=("a0", "a1", "me"))
    assert why_not(ranked, solve_stable(ranked), "me") == (
        "there was 1 place for 3 residents; every mentor you could be paired with filled their spots"
        " with residents they ranked higher"
    )
    # No scores and no ranking: the mentor took residents in id order, which is no preference at all.
    arbitrary = crowded(1, 3, scores=False)
    result = solve_stable(arbitrary)
    assert result.assignment["me"] is None
    assert why_not(arbitrary, result, "me", "x", names=NAMES) == "all of Dr X's spots went to other residents"
    assert why_not(arbitrary, result, "me") == (
        "there was 1 place for 3 residents; every mentor you could be paired with filled their spots"
        " with other residents"
    )


@engine_settings
@given(instances(scores="always"))
def test_the_unmatched_reason_names_capacity_exactly_when_places_ran_short(instance):
    places = sum(m.capacity for m in instance.mentors if m.accepting)
    for solver in (solve_stable, solve_optimal):
        result = solver(instance)
        for mentee, reason in why_not_unmatched(instance, result).items():
            short = SHORTAGE.match(reason) is not None
            if short:
                assert places < len(instance.mentees), reason
                assert reason.startswith(f"there {'was' if places == 1 else 'were'} {places} "), reason
            elif places < len(instance.mentees) and instance.prepared.pref[instance.prepared.mentee_at[mentee]]:
                raise AssertionError(f"capacity ran short but the reason omits it: {reason}")
            # A stable match leaves no resident out while a mentor they could have had has room.
            if solver is solve_stable:
                assert "not matched in this run" not in reason, reason
