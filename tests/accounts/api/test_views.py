"""The accounts API under /api/v1/: tokens, me, profiles, availability, programs and rosters,
vocabularies. Personas come from tests/conftest.py."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import (
    ApiToken,
    AvailabilityWindow,
    CareerStage,
    Goal,
    Language,
    Membership,
    MenteeProfile,
    MentorProfile,
    Specialty,
)
from accounts.services import api_token_issue
from tests.factories import (
    PASSWORD,
    MembershipFactory,
    MenteeProfileFactory,
    ProgramFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"


# --- Tokens.


@pytest.mark.django_db
def test_token_is_issued_for_the_right_password_and_authenticates(api, resident):
    response = api.post(f"{API}/auth/token/", {"email": "Alice@Hospital.example", "password": PASSWORD}, format="json")

    assert response.status_code == 200, response.content
    key = response.json()["token"]
    assert ApiToken.objects.get(user=resident).key_hash == ApiToken.hash_secret(key)

    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = api.get(f"{API}/me/")
    assert me.status_code == 200
    assert me.json()["email"] == "alice@hospital.example"


@pytest.mark.django_db
def test_token_response_says_when_it_expires(api, resident, settings):
    settings.API_TOKEN_TTL = 3600
    before = timezone.now()

    body = api.post(f"{API}/auth/token/", {"email": resident.email, "password": PASSWORD}, format="json").json()

    expires_at = datetime.datetime.fromisoformat(body["expires_at"])
    assert before + datetime.timedelta(hours=1) <= expires_at <= timezone.now() + datetime.timedelta(hours=1)
    assert ApiToken.objects.get(user=resident).expires_at == expires_at


@pytest.mark.django_db
def test_each_sign_in_gets_a_token_of_its_own(api, resident):
    first = api.post(f"{API}/auth/token/", {"email": resident.email, "password": PASSWORD}, format="json").json()
    second = api.post(f"{API}/auth/token/", {"email": resident.email, "password": PASSWORD}, format="json").json()

    assert first["token"] != second["token"]
    for key in (first["token"], second["token"]):
        api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert api.get(f"{API}/me/").status_code == 200


@pytest.mark.django_db
def test_signing_in_again_works_with_a_stale_token_still_in_the_header(api, resident):
    # A client whose token expired often still sends it: the sign-in must not 401.
    api.credentials(HTTP_AUTHORIZATION="Token long-gone")

    response = api.post(f"{API}/auth/token/", {"email": resident.email, "password": PASSWORD}, format="json")

    assert response.status_code == 200


@pytest.mark.django_db
def test_signing_out_of_the_api_needs_a_token(api, client_for, resident):
    _, key = api_token_issue(user=resident)

    assert api.delete(f"{API}/auth/token/").status_code == 401
    # A signed-in session is not the token: it cannot sign one out.
    assert client_for(resident).delete(f"{API}/auth/token/").status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(f"{API}/me/").status_code == 200


@pytest.mark.django_db
def test_signing_out_of_the_api_keeps_the_users_other_tokens(api, resident):
    _, kept = api_token_issue(user=resident)
    _, ended = api_token_issue(user=resident)

    api.credentials(HTTP_AUTHORIZATION=f"Token {ended}")
    assert api.delete(f"{API}/auth/token/").status_code == 204

    api.credentials(HTTP_AUTHORIZATION=f"Token {kept}")
    assert api.get(f"{API}/me/").status_code == 200


@pytest.mark.django_db
def test_token_use_is_recorded_to_the_nearest_few_minutes(api, resident):
    token, key = api_token_issue(user=resident)
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    api.get(f"{API}/me/")
    token.refresh_from_db()
    first_use = token.last_used_at
    api.get(f"{API}/me/")
    token.refresh_from_db()

    assert first_use is not None
    assert token.last_used_at == first_use


@pytest.mark.django_db
def test_issuing_a_token_clears_the_users_expired_ones(resident, other_resident, settings):
    long_ago = timezone.now() - datetime.timedelta(seconds=settings.API_TOKEN_TTL + 60)
    expired, _ = api_token_issue(user=resident, now=long_ago)
    someone_elses, _ = api_token_issue(user=other_resident, now=long_ago)

    api_token_issue(user=resident)

    assert not ApiToken.objects.filter(pk=expired.pk).exists()
    assert ApiToken.objects.filter(pk=someone_elses.pk).exists()


@pytest.mark.django_db
def test_token_is_refused_for_a_wrong_password(api, resident):
    response = api.post(f"{API}/auth/token/", {"email": resident.email, "password": "not-the-password"}, format="json")

    assert response.status_code == 400
    assert "token" not in response.json()
    assert "non_field_errors" in response.json()
    assert not ApiToken.objects.filter(user=resident).exists()


@pytest.mark.django_db
def test_token_is_refused_for_an_inactive_user(api, resident):
    resident.is_active = False
    resident.save()

    response = api.post(f"{API}/auth/token/", {"email": resident.email, "password": PASSWORD}, format="json")

    assert response.status_code == 400


@pytest.mark.django_db
def test_token_endpoint_locks_out_after_repeated_failures(api, resident, settings):
    # django-axes sees API sign-ins too: after AXES_FAILURE_LIMIT failures even the
    # right password is refused for the cool-off period.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api.post(f"{API}/auth/token/", {"email": resident.email, "password": "guess"}, format="json")

    response = api.post(f"{API}/auth/token/", {"email": resident.email, "password": PASSWORD}, format="json")

    assert response.status_code == 429  # django-axes' lockout page
    assert not ApiToken.objects.filter(user=resident).exists()


@pytest.mark.django_db
def test_token_endpoint_is_throttled(api, settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "token": "3/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    # Different (unknown) e-mails each time, so this is the throttle and not axes.
    for n in range(3):
        assert api.post(f"{API}/auth/token/", {"email": f"nobody{n}@x.example", "password": "x"}).status_code == 400

    response = api.post(f"{API}/auth/token/", {"email": "nobody9@x.example", "password": "x"})

    assert response.status_code == 429
    assert "Retry-After" in response.headers


# --- Anonymous callers.


ANONYMOUS_REQUESTS = [
    ("get", "/me/"),
    ("patch", "/me/"),
    ("get", "/me/mentee-profile/"),
    ("put", "/me/mentee-profile/"),
    ("patch", "/me/mentee-profile/"),
    ("get", "/me/mentor-profile/"),
    ("put", "/me/mentor-profile/"),
    ("patch", "/me/mentor-profile/"),
    ("get", "/me/availability/"),
    ("put", "/me/availability/"),
    ("get", "/mentors/"),
    ("get", "/mentors/{attending.pk}/"),
    ("get", "/programs/"),
    ("get", "/programs/im/"),
    ("get", "/programs/im/roster/"),
    ("get", "/specialties/"),
    ("get", "/goals/"),
    ("get", "/interests/"),
    ("get", "/career-stages/"),
    ("get", "/academic-ranks/"),
    ("get", "/languages/"),
    ("get", "/meeting-formats/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), ANONYMOUS_REQUESTS)
def test_anonymous_is_refused_everywhere(api, attending, method, path):
    response = getattr(api, method)(API + path.format(attending=attending), {}, format="json")

    # 401 with the challenge: token authentication comes first.
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"


# --- Me.


@pytest.mark.django_db
def test_me_shows_the_user_and_their_roles(api_for, resident, program):
    MembershipFactory(user=resident, program=program, role=Membership.Role.FACULTY)

    body = api_for(resident).get(f"{API}/me/").json()

    assert body["id"] == resident.pk
    assert body["email"] == "alice@hospital.example"
    assert body["first_name"] == "Alice"
    assert body["time_zone"] == "America/New_York"
    assert sorted((r["program"], r["role"]) for r in body["roles"]) == [("im", "faculty"), ("im", "resident")]


@pytest.mark.django_db
def test_me_works_with_a_session_too(api, resident):
    api.force_login(resident, backend="django.contrib.auth.backends.ModelBackend")

    assert api.get(f"{API}/me/").json()["email"] == resident.email


@pytest.mark.django_db
def test_me_updates_names_and_time_zone_but_not_email(api_for, resident):
    response = api_for(resident).patch(
        f"{API}/me/", {"first_name": "Alicia", "time_zone": "America/Chicago", "email": "evil@x.example"}, format="json"
    )

    assert response.status_code == 200, response.content
    resident.refresh_from_db()
    assert (resident.first_name, resident.time_zone, resident.email) == (
        "Alicia",
        "America/Chicago",
        "alice@hospital.example",
    )


@pytest.mark.django_db
def test_me_rejects_an_unknown_time_zone(api_for, resident):
    response = api_for(resident).patch(f"{API}/me/", {"time_zone": "Mars/Olympus_Mons"}, format="json")

    assert response.status_code == 400
    assert "time_zone" in response.json()


@pytest.mark.django_db
def test_me_cannot_be_replaced_with_put(api_for, resident):
    assert api_for(resident).put(f"{API}/me/", {"first_name": "A", "last_name": "B"}, format="json").status_code == 405


# --- Mentee profile.


@pytest.mark.django_db
def test_mentee_profile_reads_with_slugs(api_for, resident):
    profile = resident.mentee_profile
    profile.goals.set(Goal.objects.filter(slug="career-planning"))
    profile.languages.set(Language.objects.filter(code="es"))

    body = api_for(resident).get(f"{API}/me/mentee-profile/").json()

    assert body["career_stage"] == "pgy-1"
    assert body["goals"] == ["career-planning"]
    assert body["languages"] == ["es"]


@pytest.fixture
def new_resident(program):
    """A resident who has not filled in a mentee profile yet."""
    user = UserFactory(first_name="Nina", last_name="New")
    MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
    return user


@pytest.mark.django_db
def test_mentee_profile_is_404_until_created(api_for, new_resident):
    client = api_for(new_resident)

    assert client.get(f"{API}/me/mentee-profile/").status_code == 404
    assert client.patch(f"{API}/me/mentee-profile/", {"bio": "x"}, format="json").status_code == 404


@pytest.mark.django_db
def test_mentee_profile_put_creates_it(api_for, new_resident):
    payload = {
        "career_stage": "pgy-2",
        "goals": ["career-planning", "research"],
        "interests": ["medical-education"],
        "subspecialty_interests": ["internal-medicine-cardiovascular-disease"],
        "languages": ["en", "es"],
        "meeting_formats": ["video"],
        "goals_text": "Decide on cardiology.",
    }

    response = api_for(new_resident).put(f"{API}/me/mentee-profile/", payload, format="json")

    assert response.status_code == 201, response.content
    profile = MenteeProfile.objects.get(user=new_resident)
    assert profile.career_stage.code == "PGY-2"
    assert set(profile.goals.values_list("slug", flat=True)) == {"career-planning", "research"}
    assert set(profile.languages.values_list("code", flat=True)) == {"en", "es"}
    assert response.json()["meeting_formats"] == ["video"]


@pytest.mark.django_db
def test_profiles_are_for_the_roles_that_keep_them(api_for, resident, attending):
    # As on the profile pages: residents keep mentee profiles, faculty mentor profiles.
    assert api_for(attending).get(f"{API}/me/mentee-profile/").status_code == 403
    assert api_for(attending).put(f"{API}/me/mentee-profile/", {}, format="json").status_code == 403
    assert api_for(resident).put(f"{API}/me/mentor-profile/", {"capacity": 1}, format="json").status_code == 403
    assert not MentorProfile.objects.filter(user=resident).exists()


@pytest.mark.django_db
def test_mentee_profile_patch_changes_only_what_is_sent(api_for, resident):
    resident.mentee_profile.languages.set(Language.objects.filter(code="en"))

    response = api_for(resident).patch(f"{API}/me/mentee-profile/", {"career_stage": "pgy-3"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["career_stage"] == "pgy-3"
    assert response.json()["languages"] == ["en"]


@pytest.mark.django_db
def test_mentee_profile_put_replaces_the_whole_profile(api_for, resident):
    resident.mentee_profile.languages.set(Language.objects.filter(code="en"))

    response = api_for(resident).put(f"{API}/me/mentee-profile/", {"goals": ["research"]}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["languages"] == []
    assert response.json()["career_stage"] is None
    assert response.json()["goals"] == ["research"]


@pytest.mark.django_db
def test_mentee_profile_rejects_unknown_slugs_by_field(api_for, resident):
    response = api_for(resident).patch(
        f"{API}/me/mentee-profile/", {"goals": ["career-planning", "astrology"], "languages": ["xx"]}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()) == {"goals", "languages"}
    assert list(resident.mentee_profile.goals.all()) == []


# --- Nobody changes someone else's profile.


@pytest.mark.django_db
def test_resident_cannot_modify_another_users_profile_by_any_route(api_for, resident, other_resident, attending):
    client = api_for(resident)
    attending_profile = attending.mentor_profile

    # The directory is read-only.
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(f"{API}/mentors/{attending.pk}/", {"capacity": 0}, format="json")
        assert response.status_code == 405
    assert client.post(f"{API}/mentors/", {"capacity": 0}, format="json").status_code == 405
    # Naming someone else in the body of one's own routes is ignored.
    client.patch(f"{API}/me/", {"id": other_resident.pk, "first_name": "Hacked"}, format="json")
    client.patch(f"{API}/me/mentor-profile/", {"user": attending.pk, "capacity": 0}, format="json")
    client.patch(f"{API}/me/mentee-profile/", {"user": other_resident.pk, "bio": "Hacked"}, format="json")
    client.put(
        f"{API}/me/availability/",
        {"user": other_resident.pk, "windows": [{"weekday": 0, "start": "08:00", "end": "09:00"}]},
        format="json",
    )

    other_resident.refresh_from_db()
    resident.mentee_profile.refresh_from_db()
    attending_profile.refresh_from_db()
    assert other_resident.first_name == "Bob"
    assert attending_profile.capacity == 2
    assert other_resident.mentee_profile.bio == ""
    assert not AvailabilityWindow.objects.filter(user=other_resident).exists()
    assert resident.mentee_profile.bio == "Hacked"  # their own profile took the change


# --- Availability.


@pytest.mark.django_db
def test_availability_is_replaced_as_a_whole_and_overlaps_merge(api_for, resident):
    AvailabilityWindow.objects.create(user=resident, weekday=4, start=datetime.time(7), end=datetime.time(8))
    client = api_for(resident)

    response = client.put(
        f"{API}/me/availability/",
        {
            "windows": [
                {"weekday": 2, "start": "17:00", "end": "18:00"},
                {"weekday": 0, "start": "12:00", "end": "13:00"},
                {"weekday": 0, "start": "12:30", "end": "14:00"},
            ]
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    expected = [
        {"weekday": 0, "start": "12:00:00", "end": "14:00:00"},
        {"weekday": 2, "start": "17:00:00", "end": "18:00:00"},
    ]
    assert response.json()["windows"] == expected
    assert client.get(f"{API}/me/availability/").json()["windows"] == expected


@pytest.mark.django_db
def test_availability_rejects_a_window_ending_before_it_starts(api_for, resident):
    response = api_for(resident).put(
        f"{API}/me/availability/",
        {
            "windows": [
                {"weekday": 0, "start": "08:00", "end": "09:00"},
                {"weekday": 1, "start": "10:00", "end": "09:00"},
            ]
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["windows"][1] == {"end": ["The window must end after it starts."]}


@pytest.mark.django_db
def test_availability_rejects_an_unknown_weekday(api_for, resident):
    response = api_for(resident).put(
        f"{API}/me/availability/", {"windows": [{"weekday": 7, "start": "08:00", "end": "09:00"}]}, format="json"
    )

    assert response.status_code == 400
    assert "weekday" in response.json()["windows"][0]


# --- Programs and rosters.


@pytest.mark.django_db
def test_coordinator_sees_only_their_programs(api_for, coordinator, program, other_program):
    body = api_for(coordinator).get(f"{API}/programs/").json()

    assert [p["slug"] for p in body["results"]] == ["im"]
    assert body["count"] == 1
    assert body["results"][0]["specialty"] == "internal-medicine"


@pytest.mark.django_db
def test_coordinator_of_another_program_gets_404(api_for, other_coordinator, program):
    client = api_for(other_coordinator)

    assert client.get(f"{API}/programs/gs/").status_code == 200
    assert client.get(f"{API}/programs/im/").status_code == 404
    assert client.get(f"{API}/programs/im/roster/").status_code == 404
    # Indistinguishable from a program that does not exist.
    assert client.get(f"{API}/programs/no-such-program/").status_code == 404
    assert client.get(f"{API}/programs/no-such-program/roster/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["resident", "attending", "outsider"])
@pytest.mark.parametrize("path", ["/programs/", "/programs/im/", "/programs/im/roster/", "/programs/gs/roster/"])
def test_non_coordinators_are_refused_programs(request, api_for, program, persona, path):
    # The list is a page of a kind residents and attendings may not use: 403. A program and
    # its roster are that program's (core/access.py): 403 for its members, 404 for anyone else,
    # so the answer reveals nothing about which programs exist.
    user = request.getfixturevalue(persona)
    member = (persona == "outsider") == path.startswith("/programs/gs/")

    assert api_for(user).get(API + path).status_code == (403 if path == "/programs/" or member else 404)


@pytest.fixture
def roster(program, resident, other_resident, attending, coordinator, outsider):
    """Alice (PGY-1, active), Bob (PGY-3, invited), Carol (faculty, not invited)."""
    other_resident.mentee_profile.career_stage = CareerStage.objects.get(code="PGY-3")
    other_resident.mentee_profile.save()
    other_resident.set_unusable_password()
    other_resident.invited_at = datetime.datetime(2025, 7, 1, 12, tzinfo=datetime.UTC)
    other_resident.save()
    attending.set_unusable_password()
    attending.save()
    return {"alice": resident, "bob": other_resident, "carol": attending}


@pytest.mark.django_db
def test_roster_lists_members_but_not_coordinators(api_for, coordinator, roster):
    body = api_for(coordinator).get(f"{API}/programs/im/roster/").json()

    rows = {row["email"]: row for row in body["results"]}
    assert set(rows) == {"alice@hospital.example", "bob@hospital.example", "carol@hospital.example"}
    assert body["count"] == 3
    alice, bob, carol = rows["alice@hospital.example"], rows["bob@hospital.example"], rows["carol@hospital.example"]
    assert (alice["role"], alice["pgy"], alice["invitation_status"]) == ("resident", "PGY-1", "active")
    assert (bob["pgy"], bob["invitation_status"]) == ("PGY-3", "invited")
    assert bob["invited_at"].startswith("2025-07-01")
    assert (carol["role"], carol["specialty"]) == ("faculty", "internal-medicine")
    assert carol["invitation_status"] == "not_invited"
    assert carol["pgy"] is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("role=resident", {"alice", "bob"}),
        ("role=faculty", {"carol"}),
        ("pgy=PGY-3", {"bob"}),
        ("pgy=PGY-1", {"alice"}),
        ("pgy=PGY-7", set()),
        ("status=active", {"alice"}),
        ("status=invited", {"bob"}),
        ("status=not_invited", {"carol"}),
        ("q=brown", {"bob"}),
        ("q=carol@hospital", {"carol"}),
        ("role=resident&q=a", {"alice", "bob"}),
        ("role=resident&q=alice adams", {"alice"}),
    ],
)
def test_roster_filters(api_for, coordinator, roster, query, expected):
    response = api_for(coordinator).get(f"{API}/programs/im/roster/?{query}")

    assert response.status_code == 200, response.content
    assert {row["user_id"] for row in response.json()["results"]} == {roster[name].pk for name in expected}


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["role=coordinator", "pgy=PGY-9", "status=asleep"])
def test_roster_rejects_unknown_filter_values(api_for, coordinator, roster, query):
    response = api_for(coordinator).get(f"{API}/programs/im/roster/?{query}")

    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


@pytest.mark.django_db
def test_roster_is_paginated(api_for, coordinator, program):
    for _ in range(30):
        MembershipFactory(program=program, role=Membership.Role.RESIDENT)

    body = api_for(coordinator).get(f"{API}/programs/im/roster/").json()

    assert (body["count"], len(body["results"])) == (30, 25)
    assert body["next"].endswith("/api/v1/programs/im/roster/?page=2")


# --- Vocabularies.


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "key", "value"),
    [
        ("/goals/", "slug", "career-planning"),
        ("/interests/", "slug", "medical-education"),
        ("/career-stages/", "code", "PGY-1"),
        ("/academic-ranks/", "slug", "professor"),
        ("/languages/?page=2", "code", "es"),
        ("/meeting-formats/", "slug", "video"),
        ("/specialties/?page=2", "slug", "internal-medicine"),
    ],
)
def test_vocabularies_are_paginated_lists(api_for, resident, path, key, value):
    body = api_for(resident).get(API + path).json()

    assert {"count", "next", "previous", "results"} <= set(body)
    page_values = {item[key] for item in body["results"]}
    if value not in page_values:  # alphabetical order decides which page holds it
        first = api_for(resident).get(API + path.split("?")[0]).json()
        page_values |= {item[key] for item in first["results"]}
    assert value in page_values


@pytest.mark.django_db
def test_specialties_filter_by_parent(api_for, resident):
    client = api_for(resident)

    subs = client.get(f"{API}/specialties/?parent=internal-medicine").json()
    top = client.get(f"{API}/specialties/?top_level=true").json()

    assert subs["count"] == Specialty.objects.filter(parent__slug="internal-medicine").count()
    assert {s["parent"] for s in subs["results"]} == {"internal-medicine"}
    assert top["count"] == Specialty.objects.filter(parent=None).count()
    assert {s["parent"] for s in top["results"]} == {None}


# --- Query budgets: a list costs the same number of queries for 3 rows as for 30.


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_roster_query_budget_does_not_grow_with_members(api_for, coordinator, program, django_assert_max_num_queries):
    client = api_for(coordinator)

    def add_members(count):
        for _ in range(count):
            user = UserFactory()
            MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
            MenteeProfileFactory(user=user)

    add_members(3)
    few = _queries(client, f"{API}/programs/im/roster/")
    add_members(27)

    # 1 rule.coordinate, 1 program lookup, 1 rule.manage_roster, 1 count,
    # 1 page of memberships (user, mentee profile and stage, mentor profile and specialty joined).
    with django_assert_max_num_queries(5):
        many = _queries(client, f"{API}/programs/im/roster/")
    assert many == few


@pytest.mark.django_db
def test_programs_query_budget_does_not_grow_with_programs(api_for, coordinator, django_assert_max_num_queries):
    client = api_for(coordinator)

    def add_programs(count):
        for _ in range(count):
            MembershipFactory(user=coordinator, program=ProgramFactory(), role=Membership.Role.COORDINATOR)

    add_programs(2)
    few = _queries(client, f"{API}/programs/")
    add_programs(27)

    # 1 rule.coordinate, 1 count, 1 page of programs (specialty joined).
    with django_assert_max_num_queries(3):
        many = _queries(client, f"{API}/programs/")
    assert many == few


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/specialties/", "/goals/", "/languages/", "/career-stages/"])
def test_vocabulary_query_budget(api_for, resident, path, django_assert_max_num_queries):
    # 1 count, 1 page (specialties join their parent).
    with django_assert_max_num_queries(2):
        api_for(resident).get(API + path)


@pytest.mark.parametrize(
    ("start", "error"),
    [
        ("21:40:41.430000", "Time has wrong format"),  # fractions of a second: as the fuzzer sent it
        ("21:40:41", "whole minutes"),
        ("24:00", "Time has wrong format"),
        ("9h30", "Time has wrong format"),
    ],
)
def test_availability_times_are_whole_minutes(api_for, resident, start, error):
    response = api_for(resident).put(
        f"{API}/me/availability/", {"windows": [{"weekday": 0, "start": start, "end": "23:00"}]}, format="json"
    )

    assert response.status_code == 400
    assert error in str(response.json())
    assert not resident.availability.exists()


def test_availability_times_read_as_hh_mm_and_match_the_documented_pattern(api_for, resident):
    import re

    from core.api.fields import WALL_CLOCK_PATTERN

    response = api_for(resident).put(
        f"{API}/me/availability/", {"windows": [{"weekday": 0, "start": "07:05", "end": "08:30:00"}]}, format="json"
    )

    assert response.status_code == 200
    (window,) = response.json()["windows"]
    assert (window["start"], window["end"]) == ("07:05:00", "08:30:00")
    assert all(re.match(WALL_CLOCK_PATTERN, window[key]) for key in ("start", "end"))
