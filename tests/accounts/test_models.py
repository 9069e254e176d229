from datetime import date, time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import (
    AcademicRank,
    AvailabilityWindow,
    BusyBlock,
    CareerStage,
    Goal,
    Language,
    MeetingFormat,
    Membership,
    MentorProfile,
    Specialty,
    User,
)
from tests.factories import MembershipFactory, MentorProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


class TestVocabularies:
    def test_acgme_specialties_are_seeded_with_subspecialties(self):
        im = Specialty.objects.get(name="Internal Medicine", parent=None)
        assert im.subspecialties.filter(name="Cardiovascular Disease").exists()
        assert Specialty.objects.filter(parent=None).count() >= 30

    def test_subspecialty_names_may_recur_under_different_parents(self):
        sports = Specialty.objects.filter(name="Sports Medicine")
        assert sports.count() >= 2
        assert len({s.parent_id for s in sports}) == sports.count()

    def test_career_stages_run_from_pgy1_to_pgy7_then_fellow_in_order(self):
        codes = list(CareerStage.objects.order_by("order").values_list("code", flat=True))
        assert codes[codes.index("PGY-1") : codes.index("PGY-7") + 2] == [f"PGY-{n}" for n in range(1, 8)] + ["FELLOW"]

    def test_other_vocabularies_are_seeded(self):
        assert Goal.objects.filter(name="Fellowship application").exists()
        assert list(AcademicRank.objects.values_list("name", flat=True)) == [
            "Instructor",
            "Assistant Professor",
            "Associate Professor",
            "Professor",
        ]
        assert Language.objects.filter(code="es", name="Spanish").exists()
        assert set(MeetingFormat.objects.values_list("slug", flat=True)) == {"in-person", "video", "phone"}


class TestUser:
    def test_email_is_the_login_and_is_stored_lower_case(self):
        user = User.objects.create_user(
            "Jane.Doe@Hospital.EXAMPLE", "a-long-password-1", first_name="Jane", last_name="Doe"
        )
        assert user.email == "jane.doe@hospital.example"
        assert User.objects.get_by_natural_key("JANE.DOE@hospital.example") == user

    def test_email_is_unique_regardless_of_case(self):
        UserFactory(email="sam@hospital.example")
        with pytest.raises(IntegrityError):
            UserFactory(email="SAM@hospital.example")

    def test_user_created_without_password_cannot_log_in_until_invited(self):
        user = User.objects.create_user("new@hospital.example", first_name="New", last_name="Person")
        assert not user.has_usable_password()

    def test_unknown_time_zone_is_rejected(self):
        user = UserFactory.build(time_zone="Mars/Olympus_Mons")
        with pytest.raises(ValidationError) as exc:
            user.full_clean(exclude=["password"])
        assert "time_zone" in exc.value.message_dict


class TestMembership:
    def test_one_user_may_hold_several_roles_in_a_program(self, program):
        user = UserFactory()
        MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
        MembershipFactory(user=user, program=program, role=Membership.Role.FACULTY)
        assert set(user.memberships.values_list("role", flat=True)) == {"resident", "faculty"}

    def test_the_same_role_twice_in_a_program_is_refused(self, program):
        user = UserFactory()
        MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
        with pytest.raises(IntegrityError):
            MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)

    def test_unknown_role_is_refused_by_the_database(self, program):
        with pytest.raises(IntegrityError):
            Membership.objects.create(user=UserFactory(), program=program, role="dean")


class TestMentorProfile:
    def test_capacity_above_twenty_is_refused_by_the_database(self):
        profile = MentorProfileFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            MentorProfile.objects.filter(pk=profile.pk).update(capacity=21)

    def test_subspecialty_must_belong_to_the_specialty(self):
        im = Specialty.objects.get(slug="internal-medicine")
        profile = MentorProfileFactory.build(
            user=UserFactory(),
            specialty=im,
            subspecialty=Specialty.objects.get(slug="general-surgery-pediatric-surgery"),
        )
        with pytest.raises(ValidationError) as exc:
            profile.full_clean()
        assert exc.value.message_dict["subspecialty"] == [
            "Pediatric Surgery is not a subspecialty of Internal Medicine."
        ]

    def test_a_subspecialty_cannot_be_chosen_as_the_specialty(self):
        cardiology = Specialty.objects.get(slug="internal-medicine-cardiovascular-disease")
        profile = MentorProfileFactory.build(user=UserFactory(), specialty=cardiology)
        with pytest.raises(ValidationError) as exc:
            profile.full_clean()
        assert "specialty" in exc.value.message_dict

    def test_one_mentor_profile_per_user(self):
        profile = MentorProfileFactory()
        with pytest.raises(IntegrityError):
            MentorProfileFactory(user=profile.user)


class TestAvailability:
    def test_window_must_end_after_it_starts_in_the_database(self):
        with pytest.raises(IntegrityError):
            AvailabilityWindow.objects.create(user=UserFactory(), weekday=0, start=time(18), end=time(17))

    def test_window_must_end_after_it_starts_in_validation(self):
        window = AvailabilityWindow(user=UserFactory(), weekday=0, start=time(18), end=time(18))
        with pytest.raises(ValidationError) as exc:
            window.full_clean()
        assert exc.value.message_dict["end"] == ["The window must end after it starts."]

    def test_busy_block_cannot_end_before_it_starts(self):
        with pytest.raises(IntegrityError):
            BusyBlock.objects.create(
                user=UserFactory(), start_date=date(2026, 3, 2), end_date=date(2026, 3, 1), label="ICU"
            )


def test_a_persons_zone_falls_back_to_the_sites_when_the_stored_name_is_no_zone(db):
    import zoneinfo

    from django.utils import timezone

    from tests.factories import UserFactory

    person = UserFactory(time_zone="Asia/Tokyo")
    assert person.zone == zoneinfo.ZoneInfo("Asia/Tokyo")
    person.time_zone = "Mars/Olympus_Mons"  # only a hand-edited row: saves validate the name
    assert person.zone == timezone.get_default_timezone()
