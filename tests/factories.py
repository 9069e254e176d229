import factory
from django.contrib.auth.hashers import make_password

from accounts.models import (
    CareerStage,
    Membership,
    MenteeProfile,
    MentorProfile,
    Program,
    Specialty,
    User,
)

PASSWORD = "correct-horse-battery-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@hospital.example")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    # Hashed with the test settings' fast hasher (config/settings_test.py), so per user is cheap.
    password = factory.LazyFunction(lambda: make_password(PASSWORD))
    time_zone = "America/New_York"


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    name = factory.Sequence(lambda n: f"Program {n}")
    slug = factory.Sequence(lambda n: f"program-{n}")
    institution = "General Hospital"
    specialty = factory.LazyFunction(lambda: Specialty.objects.get(slug="internal-medicine"))
    time_zone = "America/New_York"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    program = factory.SubFactory(ProgramFactory)
    role = Membership.Role.RESIDENT


class MenteeProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MenteeProfile

    user = factory.SubFactory(UserFactory)
    career_stage = factory.LazyFunction(lambda: CareerStage.objects.get(code="PGY-1"))


class MentorProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MentorProfile

    user = factory.SubFactory(UserFactory)
    specialty = factory.LazyFunction(lambda: Specialty.objects.get(slug="internal-medicine"))
    capacity = 2
    accepting_mentees = True
