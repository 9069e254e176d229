"""Personas shared by every test.

``program`` is Internal Medicine at General Hospital; ``other_program`` is General Surgery
elsewhere. Alice and Bob are residents of ``program``; Carol and Dave attend there; Cora
coordinates ``program`` and Oscar coordinates ``other_program``; Olivia is a resident of
``other_program``.
"""

import importlib

import pytest
from django.apps import apps
from django.test import Client
from rest_framework.test import APIClient

from accounts.invitations import program_invitation_create
from accounts.models import CareerStage, Membership, Specialty

from .factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, ProgramFactory, UserFactory


@pytest.fixture(autouse=True)
def _fresh_vocabulary_names():
    """Forget the cached vocabulary names: their ids change when a transactional test
    re-seeds the vocabularies. (Not cache.clear(): with Redis that would flush the
    broker's database too.)"""
    from django.core.cache import cache

    from matching.recommendations import VOCABULARY_CACHE_KEY

    cache.delete(VOCABULARY_CACHE_KEY)


@pytest.fixture(autouse=True)
def _fresh_directory_mentors():
    """Forget the directory's prepared mentors: a test's rolled-back writes never commit, so
    nothing marks them changed afterwards, and the next test may start from the same rows."""
    from matching import directory_mentors

    directory_mentors.forget()


@pytest.fixture(autouse=True)
def _tasks_in_process(request, settings):
    """Tasks run in-process, even when REDIS_URL is set, except in integration tests,
    which exercise the real broker and a worker process. (Celery reads the Django
    setting live; its own ``app.conf.task_always_eager`` is shadowed by it.)"""
    settings.CELERY_TASK_ALWAYS_EAGER = request.node.get_closest_marker("integration") is None


@pytest.fixture(autouse=True)
def _vocabularies(request):
    """The data migrations seed the vocabularies, but a transactional test (browser,
    integration) ends by flushing every table; seed them again when they are gone."""
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db", "live_server"} & set(
        request.fixturenames
    )
    if not uses_db:
        return
    request.getfixturevalue("transactional_db" if "live_server" in request.fixturenames else "db")
    if not Specialty.objects.exists():
        importlib.import_module("accounts.migrations.0002_seed_vocabularies").seed(apps, None)


@pytest.fixture
def program(db):
    return ProgramFactory(name="Internal Medicine Residency", slug="im", institution="General Hospital")


@pytest.fixture
def other_program(db):
    return ProgramFactory(
        name="General Surgery Residency",
        slug="gs",
        institution="Riverside Medical Center",
        specialty=Specialty.objects.get(slug="general-surgery"),
    )


def _member(program, role, **user_fields):
    user = UserFactory(**user_fields)
    MembershipFactory(user=user, program=program, role=role)
    return user


@pytest.fixture
def resident(program):
    user = _member(
        program, Membership.Role.RESIDENT, email="alice@hospital.example", first_name="Alice", last_name="Adams"
    )
    MenteeProfileFactory(user=user)
    return user


@pytest.fixture
def other_resident(program):
    user = _member(program, Membership.Role.RESIDENT, email="bob@hospital.example", first_name="Bob", last_name="Brown")
    MenteeProfileFactory(user=user)
    return user


@pytest.fixture
def attending(program):
    user = _member(
        program, Membership.Role.FACULTY, email="carol@hospital.example", first_name="Carol", last_name="Chen"
    )
    MentorProfileFactory(user=user)
    return user


@pytest.fixture
def other_attending(program):
    user = _member(program, Membership.Role.FACULTY, email="dave@hospital.example", first_name="Dave", last_name="Diaz")
    MentorProfileFactory(user=user)
    return user


@pytest.fixture
def coordinator(program):
    return _member(
        program, Membership.Role.COORDINATOR, email="cora@hospital.example", first_name="Cora", last_name="Cole"
    )


@pytest.fixture
def other_coordinator(other_program):
    return _member(
        other_program,
        Membership.Role.COORDINATOR,
        email="oscar@riverside.example",
        first_name="Oscar",
        last_name="Ortiz",
    )


@pytest.fixture
def outsider(other_program):
    """A resident of another program."""
    user = _member(
        other_program,
        Membership.Role.RESIDENT,
        email="olivia@riverside.example",
        first_name="Olivia",
        last_name="Olsen",
    )
    MenteeProfileFactory(user=user)
    return user


@pytest.fixture
def client_for():
    """``client_for(user)``: a test client logged in as ``user``."""

    def make(user):
        c = Client()
        c.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return c

    return make


@pytest.fixture
def api_for():
    """``api_for(user)``: an API client authenticated as ``user`` (no session, no token)."""

    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def invitation(other_program, other_coordinator, resident):
    """Oscar (gs) asks Alice (an im resident) to join gs as faculty, typing a PGY and a specialty."""
    return program_invitation_create(
        program=other_program,
        user=resident,
        role="faculty",
        invited_by=other_coordinator,
        email=resident.email,
        first_name="Alicia",
        last_name="A.",
        career_stage=CareerStage.objects.get(code="PGY-3"),
        specialty=Specialty.objects.get(slug="general-surgery"),
    )
