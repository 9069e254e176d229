"""Who can take a resident (matching/selectors/mentor_spots.py): readiness before a run and
program health's mentor load read one answer, so for every mentor they give the same number
of spots and the same reason, in the same words, on the pages too.

The program: Alice and Bob, residents; a mentor for each way of having no spot, one with
room, one blocked from Alice only, two kept apart who also have no spot of their own (Judge,
an evaluator not accepting; Kin, do-not-pair with everyone and over capacity), and Rhea, a
resident who mentors as a near-peer."""

import re
from collections import Counter
from html import unescape

import pytest

from accounts.models import Membership
from matching import health
from matching.match_runs import readiness as r
from matching.match_runs.readiness import program_readiness
from matching.models import ConflictOfInterest, EvaluatorRole
from matching.selectors import mentor_spots as spots
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory

pytestmark = pytest.mark.django_db


def _mentor(program, first, *, capacity=2, accepting=True, active=0, role=Membership.Role.FACULTY, elsewhere=None):
    user = UserFactory(first_name=first, last_name="Mentor")
    MembershipFactory(user=user, program=program, role=role)
    MentorProfileFactory(user=user, capacity=capacity, accepting_mentees=accepting)
    for i in range(active):
        # Mentees of another program: capacity counts them, and they are nobody this program keeps apart.
        mentee = UserFactory(first_name=f"{first}{i}", last_name="Elsewhere")
        MentorshipFactory(mentee=mentee, mentor=user, program=elsewhere)
    return user


@pytest.fixture
def mentors(program, other_program, resident, other_resident):
    rhea = _mentor(program, "Rhea", capacity=1, role=Membership.Role.RESIDENT)
    MenteeProfileFactory(user=rhea)
    made = {
        "Open": _mentor(program, "Open", capacity=3, active=1, elsewhere=other_program),
        "Zero": _mentor(program, "Zero", capacity=0),  # (a) capacity 0 but accepting
        "Over": _mentor(
            program, "Over", capacity=1, accepting=False, active=2, elsewhere=other_program
        ),  # (b) over and not accepting
        "Closed": _mentor(program, "Closed", capacity=2, accepting=False),
        "Full": _mentor(program, "Full", capacity=2, active=2, elsewhere=other_program),
        "Eval": _mentor(program, "Eval", capacity=3),  # (c) an evaluator of the program
        "Apart": _mentor(program, "Apart", capacity=2),  # (c) do-not-pair with every resident
        "Some": _mentor(program, "Some", capacity=2),  # do-not-pair with one of three: still open
        "Judge": _mentor(program, "Judge", capacity=2, accepting=False),  # (c) and (b)'s not accepting
        "Kin": _mentor(program, "Kin", capacity=1, active=2, elsewhere=other_program),  # (c) and over capacity
        "Rhea": rhea,
    }
    EvaluatorRole.objects.create(program=program, user=made["Eval"], role=EvaluatorRole.Role.CCC_MEMBER)
    EvaluatorRole.objects.create(program=program, user=made["Judge"], role=EvaluatorRole.Role.PROGRAM_DIRECTOR)
    for mentee in (resident, other_resident, rhea):
        ConflictOfInterest.objects.create(program=program, mentee=mentee, mentor=made["Apart"], reason="family")
        ConflictOfInterest.objects.create(program=program, mentee=mentee, mentor=made["Kin"], reason="family")
    ConflictOfInterest.objects.create(program=program, mentee=resident, mentor=made["Some"], reason="family")
    # Rhea herself is no resident Rhea must be kept from: one entry with each of the others is everyone.
    ConflictOfInterest.objects.create(program=program, mentee=resident, mentor=rhea, reason="family")
    ConflictOfInterest.objects.create(program=program, mentee=other_resident, mentor=rhea, reason="family")
    return made


EXPECTED = {
    "Open": (2, ""),
    "Zero": (0, spots.CAPACITY_ZERO),
    "Over": (0, spots.OVER_CAPACITY),
    "Closed": (0, spots.NOT_ACCEPTING),
    "Full": (0, spots.FULL),
    "Eval": (0, spots.EVALUATOR),
    "Apart": (0, spots.CONFLICTS),
    "Some": (2, ""),
    "Judge": (0, spots.EVALUATOR),
    "Kin": (0, spots.CONFLICTS),
    "Rhea": (0, spots.CONFLICTS),
}


def _from_readiness(program):
    """{first name: (open spots, reason, the words beside them)} as the readiness page lists them."""
    readiness = program_readiness(program, "career")
    seen = {p.user.first_name: (p.spots.open, "", "") for p in readiness.cohort_mentors}
    for key in (r.MENTORS_FULL, r.KEPT_APART):
        for person in readiness.groups[key].people:
            assert person.user.first_name not in seen, f"{person.user.first_name} is listed twice"
            seen[person.user.first_name] = (0, person.reason, person.note)
    return seen


def _from_health(program):
    load = health.program_health(program).load
    return {m.mentor.full_name.split()[0]: (m.open_spots, m.reason, m.reason_label) for m in load.mentors}


def test_readiness_and_health_give_each_mentor_the_same_spots_and_reason(program, mentors):
    ready, healthy = _from_readiness(program), _from_health(program)

    assert set(ready) == set(healthy) == set(EXPECTED)
    for name, (count, reason) in EXPECTED.items():
        r_count, r_reason, r_words = ready[name]
        h_count, h_reason, h_words = healthy[name]
        assert (r_count, r_reason) == (h_count, h_reason) == (count, reason), name
        # The same words: readiness says the reason health's badge says, with the numbers behind it.
        assert r_words.startswith(h_words), (name, r_words, h_words)
        assert bool(h_words) == bool(reason), name
    assert health.program_health(program).load.open_spots == sum(c for c, _ in EXPECTED.values()) == 4


def test_the_words_are_the_reasons_labels(program, mentors):
    ready = _from_readiness(program)
    assert {name: words for name, (_, _, words) in ready.items() if words} == {
        "Zero": "Capacity 0",
        "Over": "Over capacity (2 mentees, capacity 1)",
        "Closed": "Not accepting",
        "Full": "Full (2 of 2 mentees)",
        "Eval": "Evaluates this program's residents",
        "Apart": "Do-not-pair with every resident",
        "Judge": "Evaluates this program's residents",
        "Kin": "Do-not-pair with every resident",
        "Rhea": "Do-not-pair with every resident",
    }


def test_only_mentors_who_can_do_something_are_reminded_and_told_their_situation(program, mentors):
    readiness = program_readiness(program, "career")
    # Kept apart is the coordinator's choice (and a do-not-pair entry is never told to the people it names).
    assert readiness.groups[r.KEPT_APART].remind_targets() == []
    assert {p.user.first_name for p in readiness.groups[r.MENTORS_FULL].remind_targets()} == {
        "Zero",
        "Over",
        "Closed",
        "Full",
    }


def _rows(body, name):
    """The text of each table row naming ``name`` (Rhea is listed as a resident too)."""
    rows = re.findall(rf"<tr>(?:(?!</tr>).)*{name} Mentor(?:(?!</tr>).)*</tr>", body, re.S)
    assert rows, name
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in rows]


def test_the_two_pages_say_the_same_words(program, mentors, coordinator, client_for):
    client = client_for(coordinator)
    readiness_page = client.get(f"/programs/{program.slug}/match-runs/readiness/?kind=career").content.decode()
    health_page = client.get(f"/programs/{program.slug}/health/").content.decode()
    for name, (_, reason) in EXPECTED.items():
        if not reason:
            continue
        label = spots.REASON_LABELS[reason]
        assert any(label in row for row in _rows(readiness_page, name)), name
        assert any(label in row for row in _rows(health_page, name)), name


def test_the_load_of_a_do_not_pair_with_some_is_untouched(program, mentors, resident, other_resident):
    # One more entry keeps "Some" from every resident: both pages stop counting their spots at once.
    rhea = mentors["Rhea"]
    for mentee in (other_resident, rhea):
        ConflictOfInterest.objects.create(program=program, mentee=mentee, mentor=mentors["Some"], reason="family")
    assert _from_readiness(program)["Some"][:2] == _from_health(program)["Some"][:2] == (0, spots.CONFLICTS)


# --- The load bands: each mentor in one, the one of the group readiness lists them in.

OFFERED = "offered"  # in the start form's mentor list (readiness's cohort mentors)
GROUP_OF_BAND = {
    "idle": OFFERED,
    "open": OFFERED,
    "full": r.MENTORS_FULL,
    "closed": r.MENTORS_FULL,
    "zero": r.MENTORS_FULL,
    "over": r.MENTORS_FULL,
    "kept-apart": r.KEPT_APART,
}


def test_each_mentor_is_in_the_band_of_the_group_readiness_lists_them_in(program, mentors):
    readiness = program_readiness(program, "career")
    listed = {p.user.first_name: OFFERED for p in readiness.cohort_mentors}
    for key in (r.MENTORS_FULL, r.KEPT_APART):
        listed.update({p.user.first_name: key for p in readiness.groups[key].people})
    load = health.program_health(program).load
    banded = {m.mentor.full_name.split()[0]: GROUP_OF_BAND.get(m.status) for m in load.mentors}

    assert banded == listed
    # Kept apart comes first, as in the reason, whatever their own load says.
    assert (banded["Judge"], banded["Kin"]) == (r.KEPT_APART, r.KEPT_APART)
    # One band each: the bands add up to readiness's groups.
    counts: Counter[str] = Counter()
    for band in load.bands:
        counts[GROUP_OF_BAND[band.key]] += band.count
    assert counts == Counter(listed.values()) and sum(counts.values()) == len(EXPECTED)


def test_a_kept_apart_mentors_own_load_still_counts_as_theirs(program, mentors):
    # Kin is in the kept-apart band, and still over capacity: "who needs help" says so.
    load = health.program_health(program).load
    kin = next(m for m in load.mentors if m.mentor.full_name == "Kin Mentor")
    assert (kin.status, kin.load_label, load.over_capacity) == ("kept-apart", "Over capacity", 2)
    assert (load.band_count("over"), load.band_count("kept-apart")) == (1, 5)
    assert load.at_or_over_capacity == 3  # Over and Kin over capacity, Full full


def _band_table(body):
    """{band label: mentors} from program health's "Mentors by load" table."""
    table = re.search(r"<caption>Mentors by load.*?</table>", body, re.S).group(0)
    return {unescape(label): int(n) for label, n in re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', table)}


def _readiness_section(body, key):
    return re.search(rf'<section[^>]*id="{key}".*?</section>', body, re.S).group(0)


def test_the_two_pages_count_the_bands_alike(program, mentors, coordinator, client_for):
    client = client_for(coordinator)
    readiness_page = client.get(f"/programs/{program.slug}/match-runs/readiness/?kind=career").content.decode()
    bands = _band_table(client.get(f"/programs/{program.slug}/health/").content.decode())

    kept_apart = _readiness_section(readiness_page, r.KEPT_APART)
    assert bands[spots.KEPT_APART_LABEL] == int(
        re.search(r'<span class="badge[^"]*">(\d+)</span>', kept_apart).group(1)
    )
    assert bands[spots.KEPT_APART_LABEL] == 5  # Eval, Apart, Judge, Kin, Rhea
    # Each reason of a mentor with no spot left: as many as readiness gives it (Judge is not "Not accepting").
    whys = [
        unescape(why)
        for why in re.findall(r'data-label="Why">([^<]*)</td>', _readiness_section(readiness_page, r.MENTORS_FULL))
    ]
    for reason in (spots.OVER_CAPACITY, spots.NOT_ACCEPTING, spots.CAPACITY_ZERO, spots.FULL):
        label = spots.REASON_LABELS[reason]
        assert bands[label] == sum(why.startswith(label) for why in whys) == 1, label


def test_a_mentors_band_follows_the_reasons_precedence():
    evaluator_not_accepting = spots.MentorSpots(capacity=2, active=0, accepting=False, kept_apart=spots.EVALUATOR)
    apart_over = spots.MentorSpots(capacity=1, active=2, accepting=True, kept_apart=spots.CONFLICTS)
    assert (evaluator_not_accepting.reason, evaluator_not_accepting.band) == (spots.EVALUATOR, spots.KEPT_APART_BAND)
    assert (apart_over.reason, apart_over.band) == (spots.CONFLICTS, spots.KEPT_APART_BAND)
    # Their own load is still theirs: the free spots a pairing exception could use, none here.
    assert (evaluator_not_accepting.load_reason, apart_over.load_reason) == (spots.NOT_ACCEPTING, spots.OVER_CAPACITY)
    assert spots.MentorSpots(capacity=2, active=2, accepting=True).band == spots.FULL
    assert spots.MentorSpots(capacity=2, active=1, accepting=True).band == spots.ROOM
