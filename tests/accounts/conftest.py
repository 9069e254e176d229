"""Fixtures the accounts tests share: an institution and its administrators."""

import pytest

from accounts.models import InstitutionRole, Specialty
from tests.factories import UserFactory


@pytest.fixture
def hospital(program):
    return program.institution


@pytest.fixture
def admin(hospital):
    """Ada administers General Hospital (the institution of ``program``)."""
    user = UserFactory(email="ada@hospital.example", first_name="Ada", last_name="Admin")
    InstitutionRole.objects.create(institution=hospital, user=user)
    return user


@pytest.fixture
def other_admin(other_program):
    """Rita administers Riverside Medical Center."""
    user = UserFactory(email="rita@riverside.example", first_name="Rita", last_name="Reyes")
    InstitutionRole.objects.create(institution=other_program.institution, user=user)
    return user


@pytest.fixture
def surgery():
    return Specialty.objects.get(slug="general-surgery")
