"""Scores: each component and its reason, exclusions, weights, cohort scoring and recommendations."""

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.engine import (
    COMPONENTS,
    Exclusion,
    Exclusions,
    MenteeRecord,
    MentorRecord,
    Vocabulary,
    Weights,
    build_instance,
    explain_pair,
    recommend,
    score_cohort,
    solve_optimal,
    solve_stable,
    why_not,
)

from .support import engine_settings

IM, SURGERY = 1, 2
CARDIOLOGY, NEPHROLOGY = 10, 11
RESEARCH, TEACHING, LEADERSHIP, WELLNESS = 20, 21, 22, 23
ULTRASOUND, GLOBAL_HEALTH, EDUCATION, POLICY = 30, 31, 32, 33
ENGLISH, SPANISH = 40, 41
IN_PERSON, VIDEO, PHONE = 50, 51, 52
PGY2, FELLOW = 2, 8
MONDAY, SUNDAY = 0, 6

VOCABULARY = Vocabulary(
    specialties={IM: "Internal Medicine", SURGERY: "General Surgery"},
    subspecialties={CARDIOLOGY: "Cardiology", NEPHROLOGY: "Nephrology"},
    goals={RESEARCH: "Research", TEACHING: "Teaching", LEADERSHIP: "Leadership", WELLNESS: "Wellness"},
    interests={ULTRASOUND: "Ultrasound", GLOBAL_HEALTH: "Global health", EDUCATION: "Education", POLICY: "Policy"},
    languages={ENGLISH: "English", SPANISH: "Spanish"},
    formats={IN_PERSON: "in person", VIDEO: "video", PHONE: "phone"},
)


def resident(**changes):
    profile = dict(
        id="alice",
        specialty_id=IM,
        subspecialty_interest_ids={CARDIOLOGY},
        goal_ids={RESEARCH, TEACHING, LEADERSHIP, WELLNESS},
        interest_ids={ULTRASOUND, GLOBAL_HEALTH},
        stage_order=PGY2,
        language_ids={SPANISH},
        format_ids={VIDEO},
        weekly_windows=[(MONDAY, 18 * 60, 20 * 60)],
    )
    return MenteeRecord(**{**profile, **changes})


def attending(**changes):
    profile = dict(
        id="carol",
        specialty_id=IM,
        subspecialty_id=CARDIOLOGY,
        expertise_goal_ids={RESEARCH, TEACHING, LEADERSHIP},
        interest_ids={ULTRASOUND, GLOBAL_HEALTH, POLICY},
        stage_order=PGY2 + 3,
        language_ids={ENGLISH, SPANISH},
        format_ids={VIDEO, IN_PERSON},
        weekly_windows=[(MONDAY, 17 * 60, 21 * 60)],
        capacity=2,
    )
    return MentorRecord(**{**profile, **changes})


def component(pair, name):
    return next(c for c in pair.components if c.name == name)


def explain(mentee=None, mentor=None, **kwargs):
    return explain_pair(mentee or resident(), mentor or attending(), vocabulary=VOCABULARY, **kwargs)


@pytest.mark.parametrize(
    "mentee, mentor, value, reason",
    [
        ({}, {}, 1.0, "same specialty (Internal Medicine) and subspecialty (Cardiology)"),
        ({"subspecialty_interest_ids": set()}, {}, 1.0, "same specialty (Internal Medicine)"),
        ({}, {"subspecialty_id": NEPHROLOGY}, 0.7, "same specialty (Internal Medicine), another subspecialty"),
        # A general internist names no subspecialty: not "another" one.
        ({}, {"subspecialty_id": None}, 0.7, "same specialty (Internal Medicine), no subspecialty named"),
        ({}, {"specialty_id": SURGERY}, 0.3, "works in Cardiology, a subspecialty you are interested in"),
        ({}, {"specialty_id": SURGERY, "subspecialty_id": None}, 0.0, "different specialty"),
        ({"specialty_id": None, "subspecialty_interest_ids": set()}, {}, 0.0, "specialty not given"),
    ],
)
def test_specialty_fit(mentee, mentor, value, reason):
    part = component(explain(resident(**mentee), attending(**mentor)), "specialty")
    assert (part.value, part.reason) == (pytest.approx(value), reason)


@pytest.mark.parametrize(
    "goals, expertise, value, reason",
    [
        (None, None, 0.75, "3 of your 4 goals (Leadership, Research, Teaching)"),
        ({RESEARCH}, {RESEARCH}, 1.0, "your one goal (Research)"),
        (None, set(), 0.0, "no expertise in your goals"),
        (set(), None, 0.0, "you listed no goals"),
    ],
)
def test_goals_the_mentor_has_expertise_in(goals, expertise, value, reason):
    mentee = resident() if goals is None else resident(goal_ids=goals)
    mentor = attending() if expertise is None else attending(expertise_goal_ids=expertise)
    part = component(explain(mentee, mentor), "goals")
    assert (part.value, part.reason) == (value, reason)


@pytest.mark.parametrize(
    "mine, theirs, value, reason",
    [
        (
            {ULTRASOUND, GLOBAL_HEALTH},
            {ULTRASOUND, GLOBAL_HEALTH, POLICY},
            1.0,
            "2 shared interests (Global health, Ultrasound)",
        ),
        ({ULTRASOUND, GLOBAL_HEALTH, EDUCATION, POLICY}, {ULTRASOUND}, 1 / 3, "1 shared interest (Ultrasound)"),
        (
            {ULTRASOUND, GLOBAL_HEALTH, EDUCATION, POLICY},
            {ULTRASOUND, GLOBAL_HEALTH, EDUCATION},
            1.0,
            "3 shared interests (Education, Global health, Ultrasound)",
        ),
        ({ULTRASOUND}, {POLICY}, 0.0, "no shared interests"),
        (set(), {POLICY}, 0.0, "you listed no interests"),
    ],
)
def test_shared_interests_saturate_at_three(mine, theirs, value, reason):
    part = component(explain(resident(interest_ids=mine), attending(interest_ids=theirs)), "interests")
    assert (part.value, part.reason) == (pytest.approx(value), reason)


@pytest.mark.parametrize(
    "ahead, value, reason",
    [
        (3, 1.0, "3 stages ahead of you"),
        (2, 1.0, "2 stages ahead of you"),
        (1, 0.6, "one stage ahead of you (near-peer)"),
        (0, 0.0, "same career stage as you"),
        (-2, 0.0, "earlier in training than you"),
        (8, 0.7, "8 stages ahead of you"),
        (20, 0.5, "20 stages ahead of you"),
    ],
)
def test_career_distance_favours_a_few_stages_ahead(ahead, value, reason):
    part = component(explain(resident(), attending(stage_order=PGY2 + ahead)), "career")
    assert (part.value, part.reason) == (pytest.approx(value), reason)


def test_career_distance_needs_both_stages():
    assert component(explain(resident(stage_order=None)), "career").reason == "career stage not given"


@pytest.mark.parametrize(
    "mine, theirs, value, reason",
    [
        ([(MONDAY, 18 * 60, 20 * 60)], [(MONDAY, 17 * 60, 21 * 60)], 1.0, "2 h a week in common"),
        ([(MONDAY, 18 * 60, 18 * 60 + 45)], [(MONDAY, 17 * 60, 21 * 60)], 3 / 8, "45 min a week in common"),
        ([(MONDAY, 18 * 60, 20 * 60)], [(MONDAY, 19 * 60, 21 * 60)], 0.5, "1 h a week in common"),
        ([(MONDAY, 18 * 60, 20 * 60)], [(MONDAY, 7 * 60, 9 * 60)], 0.0, "no shared weekly slots"),
        ([], [(MONDAY, 7 * 60, 9 * 60)], 0.0, "no weekly availability given"),
        # Sunday 23:00 to Monday 01:00 UTC wraps around the week.
        ([(SUNDAY, 23 * 60, 25 * 60)], [(MONDAY, 0, 60)], 0.5, "1 h a week in common"),
        ([(SUNDAY, 23 * 60, 60)], [(SUNDAY, 23 * 60, 24 * 60)], 0.5, "1 h a week in common"),
        # Partial 15-minute slots do not count.
        ([(MONDAY, 18 * 60 + 5, 18 * 60 + 40)], [(MONDAY, 17 * 60, 21 * 60)], 1 / 8, "15 min a week in common"),
    ],
)
def test_weekly_availability_overlap(mine, theirs, value, reason):
    part = component(explain(resident(weekly_windows=mine), attending(weekly_windows=theirs)), "availability")
    assert (part.value, part.reason) == (pytest.approx(value), reason)


@pytest.mark.parametrize(
    "mine, theirs, value, reason",
    [
        ({SPANISH}, {ENGLISH, SPANISH}, 1.0, "both speak Spanish"),
        ({SPANISH, ENGLISH}, {ENGLISH, SPANISH}, 1.0, "both speak English and Spanish"),
        ({SPANISH}, {ENGLISH}, 0.0, "no shared language"),
        (set(), {ENGLISH}, 0.0, "languages not given"),
    ],
)
def test_shared_language(mine, theirs, value, reason):
    part = component(explain(resident(language_ids=mine), attending(language_ids=theirs)), "language")
    assert (part.value, part.reason) == (value, reason)


@pytest.mark.parametrize(
    "mine, theirs, value, reason",
    [
        ({VIDEO}, {VIDEO, IN_PERSON}, 1.0, "both prefer video"),
        ({VIDEO, PHONE}, {VIDEO, PHONE}, 1.0, "both prefer phone or video"),
        ({PHONE}, {IN_PERSON}, 0.0, "no meeting format in common"),
        ({PHONE}, set(), 0.0, "meeting formats not given"),
    ],
)
def test_meeting_format(mine, theirs, value, reason):
    part = component(explain(resident(format_ids=mine), attending(format_ids=theirs)), "meeting_format")
    assert (part.value, part.reason) == (value, reason)


def test_reasons_without_a_vocabulary_still_read_well():
    pair = explain_pair(resident(), attending())
    assert pair.reasons[:3] == ["same specialty and subspecialty", "3 of your 4 goals", "2 shared interests"]
    assert pair.reasons[-2:] == ["a shared language", "a meeting format in common"]


def test_score_is_the_weighted_sum_of_components_on_a_0_to_100_scale():
    pair = explain()
    weights = Weights().normalised()
    assert [c.name for c in pair.components] == list(COMPONENTS)
    assert pair.score == pytest.approx(100 * sum(weights[c.name] * c.value for c in pair.components), abs=0.01)
    assert pair.score == pytest.approx(sum(c.points for c in pair.components), abs=1e-9)
    perfect = explain(resident(goal_ids={RESEARCH}, interest_ids={ULTRASOUND}))
    assert perfect.score == 100.0
    nothing = explain_pair(MenteeRecord("x"), MentorRecord("y"))
    assert nothing.score == 0.0


def test_weights_change_the_score():
    only_goals = Weights(specialty=0, goals=1, interests=0, career=0, availability=0, language=0, meeting_format=0)
    assert explain(weights=only_goals).score == 75.0
    assert explain(weights=Weights(goals=10)).score < explain(weights=Weights(goals=0)).score


@pytest.mark.parametrize(
    "weights, message",
    [
        (dict(goals=-1), "'goals' must be ≥ 0"),
        (
            dict(specialty=0, goals=0, interests=0, career=0, availability=0, language=0, meeting_format=0),
            "at least one weight",
        ),
        (dict(career=float("nan")), "'career' must be a finite number"),
        (dict(career=float("inf")), "'career' must be a finite number"),
        (dict(language=True), "'language' must be a finite number"),
        (dict(language="1"), "'language' must be a finite number"),
    ],
)
def test_weights_are_validated(weights, message):
    with pytest.raises(ValueError, match=message):
        Weights(**weights)


def test_weights_from_a_mapping_reject_unknown_names_and_normalise():
    with pytest.raises(ValueError, match="unknown weight"):
        Weights.from_mapping({"charisma": 1})
    weights = Weights.from_mapping(
        {"goals": 3, "career": 1, "specialty": 0, "interests": 0, "availability": 0, "language": 0, "meeting_format": 0}
    )
    assert weights.normalised()["goals"] == 0.75
    assert math.isclose(sum(Weights().normalised().values()), 1.0)


@pytest.mark.parametrize(
    "kwargs, mentor, reason",
    [
        ({"exclusions": Exclusions(conflicts={("alice", "carol")})}, {}, Exclusion.CONFLICT_OF_INTEREST),
        ({"exclusions": Exclusions(evaluators={("alice", "carol")})}, {}, Exclusion.EVALUATOR),
        ({"exclusions": Exclusions(already_paired={("alice", "carol")})}, {}, Exclusion.ALREADY_PAIRED),
        ({}, {"person_id": "u1"}, Exclusion.SELF),
        ({"only_open": True}, {"accepting": False}, Exclusion.NOT_ACCEPTING),
        ({"only_open": True}, {"capacity": 2, "active_count": 2}, Exclusion.NO_SPOTS),
        (
            {"require_shared_availability": True},
            {"weekly_windows": [(SUNDAY, 0, 60)]},
            Exclusion.NO_SHARED_AVAILABILITY,
        ),
    ],
)
def test_hard_exclusions(kwargs, mentor, reason):
    mentee = resident(person_id="u1")
    pair = explain_pair(mentee, attending(**mentor), **kwargs)
    assert pair.excluded == reason and pair.score is None
    cohort = score_cohort([mentee], [attending(**mentor)], **kwargs)
    assert cohort.score("alice", "carol") is None
    assert math.isnan(cohort.matrix[0, 0])


def test_full_or_closed_mentors_still_score_outside_recommendations():
    mentor = attending(accepting=False)
    assert explain_pair(resident(), mentor).score > 0
    assert score_cohort([resident()], [mentor]).score("alice", "carol") > 0


def test_cohort_records_why_pairs_were_excluded():
    mentees = [resident(id="alice", person_id="u1"), resident(id="bob")]
    mentors = [attending(id="carol", person_id="u1"), attending(id="dave", accepting=False)]
    cohort = score_cohort(
        mentees, mentors, exclusions=Exclusions(conflicts={("bob", "carol"), ("zed", "carol")}), only_open=True
    )
    assert cohort.excluded == {("alice", "carol"): Exclusion.SELF, ("bob", "carol"): Exclusion.CONFLICT_OF_INTEREST}
    assert cohort.closed == {"dave": Exclusion.NOT_ACCEPTING}
    assert cohort.as_dict() == {"alice": {}, "bob": {}}


def test_dense_and_top_k_scores_agree_and_ties_go_to_the_lower_id():
    mentors = [attending(id=f"m{k:02d}") for k in range(12)]
    mentors += [attending(id="m99", specialty_id=SURGERY)]
    mentees = [resident(id="alice"), resident(id="bob", goal_ids={WELLNESS})]
    dense = score_cohort(mentees, mentors)
    top = score_cohort(mentees, mentors, top_k=3)
    assert dense.matrix.shape == (2, 13)
    assert list(top.as_dict()["alice"]) == ["m00", "m01", "m02"]
    for mentee, row in top.as_dict().items():
        assert all(dense.score(mentee, mentor) == score for mentor, score in row.items())


def test_empty_cohorts_score_to_empty_results():
    assert score_cohort([], [attending()]).matrix.shape == (0, 1)
    assert score_cohort([resident()], []).matrix.shape == (1, 0)
    top = score_cohort([resident()], [], top_k=5)
    assert top.as_dict() == {"alice": {}}
    assert recommend(resident(), []) == []


def test_duplicate_ids_are_rejected():
    with pytest.raises(ValueError, match="duplicate mentor id 'carol'"):
        score_cohort([resident()], [attending(), attending()])


def test_recommendations_are_the_top_n_eligible_mentors_with_explanations():
    mentors = [
        attending(id="best"),
        attending(id="good", subspecialty_id=NEPHROLOGY),
        attending(id="also-good", subspecialty_id=NEPHROLOGY),  # same score as "good": id order
        attending(id="weak", specialty_id=SURGERY, subspecialty_id=None, expertise_goal_ids=set()),
        attending(id="full", capacity=1, active_count=1),
        attending(id="closed", accepting=False),
        attending(id="conflicted"),
    ]
    recs = recommend(
        resident(), mentors, n=3, vocabulary=VOCABULARY, exclusions=Exclusions(conflicts={("alice", "conflicted")})
    )
    assert [r.mentor_id for r in recs] == ["best", "also-good", "good"]
    assert recs[0].score > recs[1].score == recs[2].score
    assert "both speak Spanish" in recs[0].reasons and "both prefer video" in recs[0].reasons
    everyone = [r.mentor_id for r in recommend(resident(), mentors, n=10)]
    assert everyone == ["best", "conflicted", "also-good", "good", "weak"]
    assert recommend(resident(), mentors, n=0) == []


def test_recommendation_scores_match_the_cohort_scores():
    mentors = [attending(id=f"m{k}", stage_order=k, interest_ids={ULTRASOUND} if k % 2 else set()) for k in range(10)]
    cohort = score_cohort([resident()], mentors)
    for rec in recommend(resident(), mentors, n=10):
        assert rec.score == cohort.score("alice", rec.mentor_id)


ids = st.integers(0, 5)
windows = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 1439), st.integers(0, 1600)), max_size=3)
mentee_records = st.builds(
    MenteeRecord,
    id=st.just("x"),
    specialty_id=st.none() | st.integers(0, 2),
    subspecialty_interest_ids=st.sets(ids, max_size=2),
    goal_ids=st.sets(ids, max_size=4),
    interest_ids=st.sets(ids, max_size=5),
    stage_order=st.none() | st.integers(0, 10),
    language_ids=st.sets(st.integers(0, 2), max_size=2),
    format_ids=st.sets(st.integers(0, 2), max_size=2),
    weekly_windows=windows,
)
mentor_records = st.builds(
    MentorRecord,
    id=st.just("y"),
    specialty_id=st.none() | st.integers(0, 2),
    subspecialty_id=st.none() | ids,
    expertise_goal_ids=st.sets(ids, max_size=4),
    interest_ids=st.sets(ids, max_size=5),
    stage_order=st.none() | st.integers(0, 12),
    language_ids=st.sets(st.integers(0, 2), max_size=2),
    format_ids=st.sets(st.integers(0, 2), max_size=2),
    weekly_windows=windows,
)
weight_values = (
    st.fixed_dictionaries({name: st.sampled_from([0, 0.05, 0.1, 0.3, 1.0]) for name in COMPONENTS})
    .filter(lambda w: sum(w.values()) > 0)
    .map(lambda w: Weights(**w))
)


@engine_settings
@given(
    mentees=st.lists(mentee_records, min_size=1, max_size=5),
    mentors=st.lists(mentor_records, min_size=1, max_size=5),
    weights=st.one_of(st.just(Weights()), weight_values),
)
def test_cohort_scores_equal_pair_explanations_exactly(mentees, mentors, weights):
    mentees = [MenteeRecord(**{**_fields(p), "id": f"r{k}"}) for k, p in enumerate(mentees)]
    mentors = [MentorRecord(**{**_fields(p), "id": f"a{k}"}) for k, p in enumerate(mentors)]
    cohort = score_cohort(mentees, mentors, weights=weights)
    for mentee in mentees:
        for mentor in mentors:
            pair = explain_pair(mentee, mentor, weights=weights)
            assert cohort.score(mentee.id, mentor.id) == pair.score
            assert 0 <= pair.score <= 100.01
            assert all(0 <= c.value <= 1 for c in pair.components)


def _fields(record):
    return {name: getattr(record, name) for name in record.__slots__}


def test_cohort_scores_feed_both_solvers_and_why_not():
    mentees = [resident(id="alice"), resident(id="bob", goal_ids={WELLNESS}), resident(id="cyd", specialty_id=SURGERY)]
    mentors = [attending(id="carol", capacity=1), attending(id="dave", capacity=1, subspecialty_id=NEPHROLOGY)]
    cohort = score_cohort(mentees, mentors, exclusions=Exclusions(conflicts={("alice", "dave")}))
    instance = build_instance(cohort, mentors)
    stable, optimal = solve_stable(instance), solve_optimal(instance)
    assert stable.stats.matched == optimal.stats.matched == 2
    assert stable.stats.blocking_pairs == 0
    assert optimal.stats.total_score >= stable.stats.total_score
    assert why_not(instance, stable, "alice", "dave", names={"dave": "Dr Dave"}) == "excluded: conflict of interest"
    assert np.isnan(cohort.matrix[0, 1])


@pytest.mark.parametrize(
    "mentee_changes, mentor_changes",
    [
        ({}, {}),
        ({"specialty_id": SURGERY}, {}),  # a subspecialty the resident is interested in
        ({"goal_ids": set(), "interest_ids": set()}, {}),  # listed none
        ({"goal_ids": {WELLNESS}}, {"stage_order": PGY2}),  # no expertise in their goals; same stage
        ({}, {"stage_order": PGY2 + 1}),  # near-peer
        ({}, {"stage_order": PGY2 - 1}),  # earlier in training
    ],
)
def test_a_coordinator_reads_the_same_breakdown_about_the_resident(mentee_changes, mentor_changes):
    mentee, mentor = resident(**mentee_changes), attending(**mentor_changes)
    to_them = explain_pair(mentee, mentor, vocabulary=VOCABULARY)
    about_them = explain_pair(mentee, mentor, vocabulary=VOCABULARY, audience="coordinator")

    assert about_them.score == to_them.score
    for mine, theirs in zip(to_them.components, about_them.components, strict=True):
        assert (theirs.name, theirs.value, theirs.points) == (mine.name, mine.value, mine.points)
        assert not re.search(r"\b(you|your|you're)\b", theirs.reason), theirs.reason
        if re.search(r"\b(you|your)\b", mine.reason):
            assert "the resident" in theirs.reason, theirs.reason
        else:
            assert theirs.reason == mine.reason


def test_the_coordinators_voice_for_goals():
    pair = explain_pair(resident(), attending(), vocabulary=VOCABULARY, audience="coordinator")
    assert component(pair, "goals").reason == "3 of the resident's 4 goals (Leadership, Research, Teaching)"
    assert component(pair, "career").reason == "3 stages ahead of the resident"
