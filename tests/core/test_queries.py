"""core.queries.PerUser: the ORM's query compiled once, run with each user's id — the same rows
as the queryset itself gives, on SQLite and on PostgreSQL (the suite runs on both)."""

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from accounts.context_processors import _roles_query, roles
from accounts.models import Institution, InstitutionRole, Membership, User
from core.queries import PerUser
from matching.selectors.messages import _bell_query, bell_counts, unread_message_count
from matching.services.messages import message_post
from tests.factories import MembershipFactory, ProgramFactory
from tests.matching.factories import MentorshipFactory
from tests.matching.support import _ask

pytestmark = pytest.mark.django_db


def test_the_bell_counts_are_the_querysets_for_each_person(program, resident, attending, other_resident):
    pair = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    message_post(thread=pair, author=resident, body="Hello")
    message_post(thread=pair, author=resident, body="Are you there?")
    message_post(thread=_ask(other_resident, attending), author=other_resident, body="A question")
    for person in (resident, attending, other_resident):
        assert bell_counts(person) == tuple(_bell_query(person.pk).get()), person
    assert bell_counts(attending)[1] == unread_message_count(attending) == 3
    assert bell_counts(resident)[1] == 0


def test_the_role_flags_are_the_querysets_for_each_person(program, resident, coordinator, attending):
    other = ProgramFactory()
    MembershipFactory(user=resident, program=other, role=Membership.Role.FACULTY)
    institution = Institution.objects.create(name="Lakeside", slug="lakeside")
    InstitutionRole.objects.create(user=coordinator, institution=institution, role=InstitutionRole.Role.ADMIN)
    for person in (resident, coordinator, attending):
        assert sorted(PerUser(_roles_query).rows(person.pk)) == sorted(_roles_query(person.pk)), person


def test_the_menu_reads_what_the_roles_are(rf, resident, coordinator, program):
    institution = Institution.objects.create(name="Lakeside", slug="lakeside")
    InstitutionRole.objects.create(user=coordinator, institution=institution, role=InstitutionRole.Role.ADMIN)
    MembershipFactory(user=resident, program=ProgramFactory(), role=Membership.Role.FACULTY)

    def flags(user):
        request = rf.get("/")
        request.user = User.objects.get(pk=user.pk)
        return roles(request)

    resident_flags, coordinator_flags = flags(resident), flags(coordinator)
    assert resident_flags["is_resident"] and resident_flags["is_mentor"] and not resident_flags["is_coordinator"]
    assert coordinator_flags["is_coordinator"]
    assert coordinator_flags["administered_institutions"] == [{"slug": "lakeside", "name": "Lakeside"}]
    assert resident_flags["administered_institutions"] == []


def test_it_is_built_once_and_runs_as_one_query_per_call(resident, attending):
    built = []

    def build(user_id):
        built.append(user_id)
        return User.objects.filter(pk=user_id).values_list("email")

    query = PerUser(build)
    with CaptureQueriesContext(connection) as queries:
        assert query.rows(resident.pk) == [(resident.email,)]
        assert query.rows(attending.pk) == [(attending.email,)]
        assert query.rows(10**9) == []
    assert len(built) == 1
    assert len(queries) == 3


def test_a_query_that_does_not_use_the_id_is_refused():
    query = PerUser(lambda user_id: User.objects.values_list("pk"))
    with pytest.raises(ValueError, match="does not depend"):
        query.rows(1)


def test_the_id_is_put_in_every_place_it_is_used(program, resident, attending):
    # The id appears in several parameters (a join's condition and an exclusion): each gets it.
    MentorshipFactory(mentee=resident, mentor=attending, program=program)

    def build(user_id):
        return (
            User.objects.filter(mentorships_as_mentee__mentor_id=user_id)
            .exclude(pk=user_id)
            .annotate(n=Count("pk"))
            .values_list("email", "n")
        )

    assert PerUser(build).rows(attending.pk) == [(resident.email, 1)]
    assert PerUser(build).rows(resident.pk) == []


def test_a_profile_without_a_membership_still_shows_its_side_of_the_menu(rf):
    from tests.factories import MenteeProfileFactory, MentorProfileFactory, UserFactory

    mentor_only, mentee_only, neither = UserFactory(), UserFactory(), UserFactory()
    MentorProfileFactory(user=mentor_only)
    MenteeProfileFactory(user=mentee_only)

    def flags(user):
        request = rf.get("/")
        request.user = User.objects.get(pk=user.pk)  # no profile cached on the instance
        return roles(request)

    assert flags(mentor_only)["is_mentor"] and not flags(mentor_only)["is_resident"]
    assert flags(mentee_only)["is_resident"] and not flags(mentee_only)["is_mentor"]
    assert not flags(neither)["is_mentor"] and not flags(neither)["is_resident"]
