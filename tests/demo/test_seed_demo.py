from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from accounts.models import (
    AvailabilityWindow,
    BusyBlock,
    Membership,
    MenteeProfile,
    MentorProfile,
    Program,
    User,
)
from demo.people import DEMO_LOGINS, DEMO_PASSWORD, demo_cast
from tests.shared_world import world_for_scope

pytestmark = pytest.mark.django_db

NEARPEER = "nearpeer@demo.mentormatch.org"


def seed_demo():
    out = StringIO()
    # pytest-django runs with DEBUG off, which the command treats as production.
    call_command("seed_demo", force=True, stdout=out)
    return out.getvalue()


def _m2m_count(model, field_name):
    return model._meta.get_field(field_name).remote_field.through.objects.count()


def snapshot():
    """Every row count the demo touches, many-to-many tables included."""
    counts = {
        model.__name__: model.objects.count()
        for model in (User, Program, Membership, MenteeProfile, MentorProfile, AvailabilityWindow, BusyBlock)
    }
    for model, fields in [
        (MenteeProfile, ["goals", "interests", "subspecialty_interests", "languages", "meeting_formats"]),
        (MentorProfile, ["expertise", "interests", "languages", "meeting_formats"]),
    ]:
        for name in fields:
            counts[f"{model.__name__}.{name}"] = _m2m_count(model, name)
    return counts


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup, django_db_blocker):
    """The demo, seeded once for the module (about a second a seed); each test's changes are
    rolled back (tests/shared_world.py)."""
    yield from world_for_scope(django_db_blocker, seed_demo)


@pytest.fixture
def demo(seeded_demo, db):
    """What ``seed_demo`` printed."""
    return seeded_demo


def _members(slug, role):
    return Membership.objects.filter(program__slug=slug, role=role)


def test_two_programs_at_one_institution(demo):
    programs = {p.slug: p for p in Program.objects.select_related("specialty")}
    assert set(programs) == {"im", "gs"}
    assert programs["im"].name == "Internal Medicine Residency"
    assert programs["im"].specialty.slug == "internal-medicine"
    assert programs["im"].time_zone == "America/New_York"
    assert programs["gs"].name == "General Surgery Residency"
    assert programs["gs"].specialty.slug == "general-surgery"
    assert programs["gs"].time_zone == "America/Chicago"
    assert {p.institution.name for p in programs.values()} == {"Lakeside University Hospital"}


def test_residents_attendings_and_a_coordinator_per_program(demo):
    assert Membership.objects.filter(role=Membership.Role.RESIDENT).values("user").distinct().count() >= 55
    attendings = MentorProfile.objects.filter(academic_rank__isnull=False)
    assert attendings.count() >= 28
    assert Membership.objects.filter(role=Membership.Role.FACULTY, user__mentor_profile__in=attendings).count() >= 28
    for slug in ("im", "gs"):
        assert _members(slug, Membership.Role.COORDINATOR).exists()
    # Every resident has a mentee profile and every faculty member a mentor profile.
    assert not Membership.objects.filter(role="resident", user__mentee_profile__isnull=True).exists()
    assert not Membership.objects.filter(role="faculty", user__mentor_profile__isnull=True).exists()


def _resident_stages(slug):
    return set(
        MenteeProfile.objects.filter(
            user__memberships__program__slug=slug, user__memberships__role="resident"
        ).values_list("career_stage__code", flat=True)
    )


def test_surgery_spans_five_years_and_medicine_three(demo):
    stages = _resident_stages
    assert stages("gs") == {"PGY-1", "PGY-2", "PGY-3", "PGY-4", "PGY-5"}
    assert stages("im") == {"PGY-1", "PGY-2", "PGY-3"}


def test_the_near_peer_is_both_mentee_and_mentor_in_surgery(demo):
    user = User.objects.get(email=NEARPEER)
    assert set(user.memberships.values_list("program__slug", "role")) == {("gs", "resident"), ("gs", "faculty")}
    assert user.mentee_profile.career_stage.code == "PGY-4"
    assert user.mentor_profile.career_stage.code == "PGY-4"
    assert user.mentor_profile.capacity == 2
    assert user.mentor_profile.academic_rank is None


def test_the_demo_logins_are_who_the_table_says(demo):
    resident = User.objects.get(email="resident@demo.mentormatch.org")
    assert set(resident.memberships.values_list("program__slug", "role")) == {("im", "resident")}
    assert resident.mentee_profile.career_stage.code == "PGY-1"
    assert resident.availability.exists() and resident.mentee_profile.goals_text

    attending = User.objects.get(email="attending@demo.mentormatch.org")
    assert attending.mentor_profile.subspecialty.slug == "internal-medicine-cardiovascular-disease"
    assert attending.mentor_profile.accepting_mentees

    coordinator = User.objects.get(email="coordinator@demo.mentormatch.org")
    assert set(coordinator.memberships.values_list("program__slug", "role")) == {
        ("im", "coordinator"),
        ("gs", "coordinator"),
    }

    admin = User.objects.get(email="admin@demo.mentormatch.org")
    assert admin.is_superuser and admin.is_staff


def test_every_demo_login_authenticates_with_the_demo_password(demo):
    request = RequestFactory().post("/accounts/login/")  # django-axes wants the request
    assert len(DEMO_LOGINS) == 5
    for login in DEMO_LOGINS:
        user = authenticate(request, username=login.email, password=DEMO_PASSWORD)
        assert user is not None and user.email == login.email
    # ... and so does everyone else, with the same password.
    someone = MenteeProfile.objects.exclude(user__email__startswith="resident@").first().user
    assert authenticate(request, username=someone.email, password=DEMO_PASSWORD) == someone
    assert authenticate(request, username=DEMO_LOGINS[0].email, password="wrong-password") is None


def test_the_command_prints_the_logins_and_the_password(demo):
    assert "Demo created:" in demo
    for login in DEMO_LOGINS:
        assert login.email in demo
    assert DEMO_PASSWORD in demo


def test_running_it_twice_changes_nothing(demo):
    before = snapshot()
    assert before["User"] > 90 and before["AvailabilityWindow"] > 0 and before["BusyBlock"] > 0
    output = seed_demo()
    assert snapshot() == before
    assert "nothing changed" in output


def test_a_rerun_fills_in_what_is_missing_and_leaves_edits_alone(demo):
    before = snapshot()
    resident = User.objects.get(email="resident@demo.mentormatch.org")
    resident.availability.all().delete()
    MentorProfile.objects.filter(user__email="attending@demo.mentormatch.org").update(capacity=1)
    seed_demo()
    assert snapshot() == before
    assert User.objects.get(email="attending@demo.mentormatch.org").mentor_profile.capacity == 1


def test_the_cast_is_the_same_every_time():
    assert demo_cast() == demo_cast()
    emails = [p.email for p in demo_cast()]
    assert len(emails) == len(set(emails))


def test_profiles_are_varied(demo):
    assert MenteeProfile.objects.values("career_stage").distinct().count() >= 4
    assert MentorProfile.objects.values("career_stage").exclude(career_stage=None).distinct().count() >= 3
    mentor_languages = set(MentorProfile.objects.values_list("languages__code", flat=True))
    assert len(mentor_languages - {None}) >= 5
    assert {"en", "es", "zh", "hi", "fr", "ar"} <= mentor_languages
    assert MentorProfile.objects.filter(accepting_mentees=False).exists()
    assert MentorProfile.objects.filter(capacity=0).exists()
    assert MentorProfile.objects.values("academic_rank").exclude(academic_rank=None).distinct().count() == 4
    assert MentorProfile.objects.exclude(subspecialty=None).values("subspecialty").distinct().count() >= 8
    assert MenteeProfile.objects.values("goals").distinct().count() >= 10
    assert MenteeProfile.objects.exclude(goals_text="").values("goals_text").distinct().count() >= 30
    im_interests = set(
        MenteeProfile.objects.filter(user__memberships__program__slug="im")
        .exclude(subspecialty_interests=None)
        .values_list("subspecialty_interests__parent__slug", flat=True)
    )
    assert im_interests == {"internal-medicine"}
    assert BusyBlock.objects.filter(label="Night float").exists()
    # Windows are in people's own time zones: early mornings, evenings and weekends.
    assert AvailabilityWindow.objects.filter(weekday__gte=5).exists()
    assert AvailabilityWindow.objects.filter(start__lt="07:00").exists()
    assert AvailabilityWindow.objects.filter(start__gte="18:00").exists()


def test_it_refuses_to_seed_a_production_site_without_force(settings):
    settings.DEBUG = False
    before = snapshot()  # the module's demo, if an earlier test seeded it
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", stdout=StringIO())
    assert snapshot() == before


def test_the_readme_lists_the_demo_logins_as_seed_demo_prints_them():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for login in DEMO_LOGINS:
        row = f"| `{login.email}` | {login.role} | "
        assert row in readme, login.email
        listed = readme.split(row, 1)[1].split(" |\n", 1)[0]
        # The README marks up names ("**My profile**", "`/admin/`"); the terminal prints them plain.
        assert listed.replace("**", "").replace("`", "") == login.what_to_try
