"""The directory's prepared mentors (``matching.directory_mentors``), kept across requests: the same
cards, scores and reasons as scoring from scratch; prepared again on the next request after any
change they are built from; capacity re-checked on the request path; queries constant in mentors."""

from datetime import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AvailabilityWindow, Goal, Interest, Language, MentorProfile
from accounts.services import availability_replace
from matching import directory_mentors, recommendations
from matching.selectors.directory import mentor_directory
from matching.services.mentorships import mentorship_end
from matching.services.profiles import mentor_profile_update
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory
from tests.matching.test_recommendations import varied_mentors  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db

DIRECTORY = reverse("matching:mentor-directory")
API = "/api/v1/me/recommendations/"


def _from_scratch(resident, *, sort="score", shared_time=False, n=3):
    """The first page's (mentor, score) and the recommendations, scored as before any caching:
    every mentor read and scored in this call."""
    rows, records = recommendations.mentor_records(mentor_directory().exclude(user=resident))
    programs = recommendations.resident_programs(resident)
    me = recommendations.mentee_record(resident.mentee_profile, specialty_id=programs[0].specialty_id)
    blocked = recommendations.exclusions_for(me, records)
    scores = recommendations.scores_for(me, records, exclusions=blocked, require_shared_availability=shared_time)
    if sort == "score":
        rows.sort(key=lambda r: (-(scores.get(r.user_id) or 0), r.last_name, r.first_name, r.profile_id))
    if shared_time:
        rows = [r for r in rows if scores.get(r.user_id) is not None]
    picks = recommendations.recommendations_for(
        me, records, n=n, exclusions=blocked, scores=scores, clock=recommendations.clock_for(resident)
    )
    return [(r.user_id, scores.get(r.user_id)) for r in rows[:12]], picks


def _shown(response):
    """What the page shows: the cards' (mentor, score) and the recommended pairs, reasons included."""
    cards = [(m.user_id, m.match_score) for m in response.context["mentors"]]
    return cards, [pair for _profile, pair in response.context["recommended"]]


def _api(response):
    return [
        (item["mentor_id"], item["full_name"], item["score"], item["components"]) for item in response.json()["results"]
    ]


def _api_from_scratch(resident, n=5):
    rows, records = recommendations.mentor_records(mentor_directory().exclude(user=resident))
    names = {r.user_id: r.full_name for r in rows}
    picks = recommendations.recommendations_for(
        recommendations.mentee_record(resident.mentee_profile),
        records,
        n=n,
        clock=recommendations.clock_for(resident),
    )
    return [
        (
            p.mentor_id,
            names[p.mentor_id],
            p.score,
            [
                {"name": c.name, "label": r.label, "reason": r.reason, "points": c.points, "max_points": r.max_points}
                for c, r in zip(p.components, recommendations.breakdown_rows(p), strict=True)
            ],
        )
        for p in picks
    ]


@pytest.fixture
def fitted_resident(resident, varied_mentors):  # noqa: F811  (the fixture imported above)
    """Alice with goals, interests, languages, formats and windows, so the varied mentors' scores differ."""
    profile = resident.mentee_profile
    profile.goals.set(Goal.objects.order_by("pk")[:2])
    profile.interests.set(Interest.objects.order_by("pk")[1:3])
    profile.languages.set(Language.objects.order_by("pk")[:1])
    for day in range(3):
        AvailabilityWindow.objects.create(user=resident, weekday=day, start=time(18), end=time(23))
    return resident


@pytest.fixture
def stale_cache(monkeypatch):
    """Nothing marks the prepared mentors as changed: whatever a request prepares next, later requests use."""
    directory_mentors.forget()
    monkeypatch.setattr(directory_mentors, "mentors_changed", lambda: None)
    monkeypatch.setattr(directory_mentors, "_database_stamp", lambda: ())


# --- The cached path shows what scoring from scratch shows.


@pytest.mark.parametrize(
    "query",
    [{}, {"sort": "name"}, {"shared_time": "1"}, {"language": "en"}, {"open_spot": "true"}, {"accepting": "false"}],
)
def test_the_kept_mentors_give_the_cards_and_reasons_scoring_from_scratch_gives(client_for, fitted_resident, query):
    client = client_for(fitted_resident)
    first = client.get(DIRECTORY, query)  # prepares them
    kept = directory_mentors._memo
    second = client.get(DIRECTORY, query)
    assert directory_mentors._memo is kept is not None  # the second request used them as they were
    directory_mentors._memo = None
    third = client.get(DIRECTORY, query)  # from the shared cache, unpickled
    assert directory_mentors._memo is not kept and directory_mentors._memo.key == kept.key

    narrowed = set(mentor_directory().exclude(user=fitted_resident).values_list("user_id", flat=True))
    if query.get("language"):
        narrowed &= set(MentorProfile.objects.filter(languages__code="en").values_list("user_id", flat=True))
    if query.get("open_spot"):
        narrowed &= {p.user_id for p in mentor_directory() if p.accepting_mentees and p.open_spots > 0}
    if query.get("accepting"):
        narrowed &= set(MentorProfile.objects.filter(accepting_mentees=False).values_list("user_id", flat=True))
    cards, picks = _from_scratch(
        fitted_resident, sort=query.get("sort", "score"), shared_time=bool(query.get("shared_time"))
    )
    unfiltered = set(query) <= {"sort"}
    expected = ([(user_id, score) for user_id, score in cards if user_id in narrowed], picks if unfiltered else [])
    assert _shown(first) == _shown(second) == _shown(third) == expected
    assert expected[0], "the page shows mentors, or the comparison proves nothing"
    if unfiltered:
        assert len(picks) == 3 and len({p.score for p in picks}) > 1
        assert "Recommended for you" in second.content.decode()


def test_the_api_gives_what_scoring_from_scratch_gives(client_for, fitted_resident):
    client = client_for(fitted_resident)
    for n in (1, 3, 20):
        expected = _api_from_scratch(fitted_resident, n=n)
        assert _api(client.get(API, {"n": n})) == _api(client.get(API, {"n": n})) == expected
    assert len(expected) > 1


# --- Any change they are built from shows on the next request.


def _carol_full(program, carol):
    MentorProfile.objects.filter(user=carol).update(capacity=1)
    MentorshipFactory(mentee=MenteeProfileFactory().user, mentor=carol, program=program)


def _stop_accepting(program, carol, dave):
    mentor_profile_update(user=carol, accepting_mentees=False)


def _raise_capacity(program, carol, dave):
    mentor_profile_update(user=carol, capacity=2)


def _raise_capacity_in_bulk(program, carol, dave):
    MentorProfile.objects.filter(user=carol).update(capacity=3)  # no signal: the stamp sees it


def _end_a_mentorship(program, carol, dave):
    mentorship = carol.mentorships_as_mentor.get()
    mentorship_end(mentorship=mentorship, actor=carol, reason="Done", completed=True)


def _take_the_last_spot(program, carol, dave):
    MentorshipFactory(mentee=MenteeProfileFactory().user, mentor=dave, program=program)
    MentorProfile.objects.filter(user=dave).update(capacity=1)


def _drop_expertise(program, carol, dave):
    carol.mentor_profile.expertise.clear()


def _replace_windows(program, carol, dave):
    availability_replace(user=dave, windows=[(1, time(18), time(20))])  # a delete and a bulk insert


def _edit_a_window(program, carol, dave):
    window = carol.availability.get()
    window.start, window.end = time(6), time(7)
    window.save()


def _rename(program, carol, dave):
    dave.last_name = "Zed"
    dave.save()


def _new_mentor(program, carol, dave):
    user = UserFactory(first_name="Erin", last_name="Aaron")
    MentorProfileFactory(user=user)
    user.mentor_profile.languages.set([Language.objects.get(code="es")])


# (change, whether Carol starts full)
CHANGES = [
    (_stop_accepting, False),
    (_raise_capacity, True),
    (_raise_capacity_in_bulk, True),
    (_end_a_mentorship, True),
    (_take_the_last_spot, False),
    (_drop_expertise, False),
    (_replace_windows, False),
    (_edit_a_window, False),
    (_rename, False),
    (_new_mentor, False),
]


def _both_sorts(client):
    return [_shown(client.get(DIRECTORY, {"sort": sort})) for sort in ("score", "name")]


def _both_sorts_from_scratch(resident):
    return [_from_scratch(resident, sort=sort) for sort in ("score", "name")]


@pytest.mark.parametrize(("change", "carol_full"), CHANGES, ids=[c.__name__.strip("_") for c, _full in CHANGES])
def test_a_change_shows_on_the_next_request(client_for, program, fits, change, carol_full):
    resident, carol, dave = fits
    if carol_full:
        _carol_full(program, carol)
    client = client_for(resident)
    before = _both_sorts(client)
    assert _both_sorts(client) == before  # kept
    change(program, carol, dave)
    after = _both_sorts(client)
    assert after == _both_sorts_from_scratch(resident)
    assert after != before


def test_without_marking_changes_the_kept_mentors_would_be_stale(client_for, program, fits, stale_cache):
    """Control for the test above: with nothing moving the stamp, a change does not show."""
    resident, carol, dave = fits
    _carol_full(program, carol)
    client = client_for(resident)
    before = _both_sorts(client)
    _end_a_mentorship(program, carol, dave)
    _drop_expertise(program, carol, dave)
    assert _both_sorts(client) == before != _both_sorts_from_scratch(resident)


# --- Capacity is never stale.


def test_a_mentor_whose_spot_was_taken_is_not_recommended_even_from_stale_arrays(
    client_for, fits, program, stale_cache
):
    resident, carol, dave = fits
    client = client_for(resident)
    assert [p.mentor_id for p in _shown(client.get(DIRECTORY))[1]] == [carol.pk, dave.pk]
    assert [item["mentor_id"] for item in client.get(API).json()["results"]] == [carol.pk, dave.pk]
    MentorProfile.objects.filter(user=carol).update(capacity=1)
    MentorshipFactory(mentee=MenteeProfileFactory().user, mentor=carol, program=program)

    # The arrays still have Carol open (nothing marked the change); the request path reads her spots.
    kept = directory_mentors.directory_mentors().prepared
    assert not kept.closed[kept.row(carol.pk)]
    response = client.get(DIRECTORY)
    assert [p.mentor_id for p in _shown(response)[1]] == [dave.pk]
    carol_card = next(m for m in response.context["mentors"] if m.user_id == carol.pk)
    assert carol_card.open_spots == 0  # her card, read fresh, says so too
    assert [item["mentor_id"] for item in client.get(API).json()["results"]] == [dave.pk]


# --- Queries.


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", [DIRECTORY, API, f"{DIRECTORY}?language=es&sort=name"])
def test_the_same_queries_for_3_or_60_mentors_prepared_or_kept(client_for, program, fits, url):
    resident, _carol, _dave = fits
    client = client_for(resident)
    client.get(url)  # the first request also records last_seen

    def add_mentors(n):
        for _ in range(n):
            mentor = UserFactory()
            MembershipFactory(user=mentor, program=program, role="faculty")
            MentorProfileFactory(user=mentor).languages.set([Language.objects.get(code="es")])
            AvailabilityWindow.objects.create(user=mentor, weekday=2, start=time(8), end=time(9))
            MentorshipFactory(mentee=MenteeProfileFactory().user, mentor=mentor, program=program)
        prepared = _queries(client, url)  # the mentors changed: prepared again
        kept = _queries(client, url)
        return prepared, kept

    few = add_mentors(1)  # 3 mentors
    many = add_mentors(57)  # 60
    assert many == few
    prepared, kept = few
    assert prepared == kept + 6  # the rows, four vocabularies' ids and the windows


@pytest.mark.django_db(transaction=True)  # the commit must really happen
def test_a_transaction_of_many_changes_moves_the_generation_once_each_and_once_on_commit():
    """Publishing many pairings used to bump the generation twice per mentorship."""
    from django.core.cache import cache
    from django.db import transaction

    mentors = [MentorProfileFactory(user__first_name=f"M{k}") for k in range(5)]
    start = directory_mentors._generation()
    with transaction.atomic():
        for mentor in mentors:
            mentor.capacity += 1
            mentor.save()
        inside = cache.get(directory_mentors.GENERATION_KEY)
    after = cache.get(directory_mentors.GENERATION_KEY)
    assert (inside - start, after - start) == (5, 6)
    # Outside a transaction each change still counts: now and on its (immediate) commit.
    mentors[0].save()
    assert cache.get(directory_mentors.GENERATION_KEY) - after == 2


# --- The resident's own record, read in one query.


def test_the_residents_records_in_one_query_equal_the_records_read_field_by_field(fitted_resident):
    from accounts.models import MenteeProfile, Specialty
    from tests.factories import ProgramFactory

    second = ProgramFactory(name="Zeta Pediatrics", specialty=Specialty.objects.exclude(parent__isnull=False).last())
    MembershipFactory(user=fitted_resident, program=second)
    fitted_resident.mentee_profile.subspecialty_interests.set(Specialty.objects.filter(parent__isnull=False)[:2])
    AvailabilityWindow.objects.create(user=fitted_resident, weekday=0, start=time(7), end=time(9))  # before 18:00
    programs = recommendations.resident_programs(fitted_resident)
    assert len(programs) == 2
    profile = MenteeProfile.objects.select_related("user", "career_stage").get(user=fitted_resident)
    with CaptureQueriesContext(connection) as queries:
        records = directory_mentors.mentee_records(profile, programs)
    assert len(queries) == 1
    expected = [
        recommendations.mentee_record(fitted_resident.mentee_profile, specialty_id=p.specialty_id) for p in programs
    ]
    assert records == expected
    assert records[0].goal_ids and records[0].subspecialty_interest_ids and len(records[0].weekly_windows) == 4


def test_a_new_goal_shows_in_the_filter_on_the_next_request(client_for, resident):
    client = client_for(resident)
    assert "Grant writing clinic" not in client.get(DIRECTORY).content.decode()
    Goal.objects.create(name="Grant writing clinic", slug="grant-writing-clinic", order=99)
    assert 'value="grant-writing-clinic"' in client.get(DIRECTORY).content.decode()


def test_sorting_by_score_orders_as_the_key_it_replaces():
    """Ties broken by last name, first name and profile id as Python compares them (case and
    accents included), a mentor without a score counted as 0."""
    names = [("émile", "a"), ("Emile", "a"), ("emile", "A"), ("Zed", "b"), ("Adams", "c"), ("Adams", "c")]
    rows = tuple(
        recommendations.MentorRow(
            profile_id=100 - k,
            user_id=k,
            first_name=first,
            last_name=last,
            **{f: None for f in recommendations.MentorRow._fields[4:]},
        )
        for k, (last, first) in enumerate(names)
    )
    kept = directory_mentors.DirectoryMentors(key="k", rows=rows, prepared=None)
    scores = {0: 50.0, 1: 50.0, 2: 0.0, 4: 50.0, 5: 75.5}  # 3 has no score
    expected = sorted(rows, key=lambda r: (-(scores.get(r.user_id) or 0), r.last_name, r.first_name, r.profile_id))
    assert kept.by_score(list(rows), scores) == expected
    assert [r.user_id for r in expected] == [5, 4, 1, 0, 3, 2]  # "Zed" before "emile": by code point
