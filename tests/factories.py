import factory
from django.contrib.auth.hashers import make_password
from django.utils.text import slugify

from accounts.models import (
    CareerStage,
    Institution,
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


class InstitutionFactory(factory.django.DjangoModelFactory):
    """Institutions are shared by name: ``ProgramFactory(institution="General Hospital")``
    twice gives two programs of one institution. Coordinators need no second factor here
    unless a test says so (tests/accounts/auth/)."""

    class Meta:
        model = Institution
        django_get_or_create = ("name",)

    name = "General Hospital"
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    require_mfa_for_coordinators = False


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    name = factory.Sequence(lambda n: f"Program {n}")
    slug = factory.Sequence(lambda n: f"program-{n}")
    institution = factory.SubFactory(InstitutionFactory)

    @classmethod
    def _adjust_kwargs(cls, **kwargs):
        if isinstance(kwargs.get("institution"), str):
            kwargs["institution"] = InstitutionFactory(name=kwargs["institution"])
        return kwargs

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
