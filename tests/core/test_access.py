"""core/access.py: 404 when you may not know it exists, 403 when you may but are not allowed."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import Program
from core.access import object_for, program_for
from matching.models import Mentorship

pytestmark = pytest.mark.django_db


def test_program_for_gives_the_program_to_its_coordinator(program, coordinator):
    assert program_for(coordinator, "im", "matching.manage_pairings") == program


def test_program_for_is_a_404_for_an_outsider(program, outsider):
    with pytest.raises(Http404):
        program_for(outsider, "im", "matching.manage_pairings")


def test_program_for_is_a_404_for_another_programs_coordinator(program, other_coordinator):
    with pytest.raises(Http404):
        program_for(other_coordinator, "im", "matching.manage_pairings")


def test_program_for_is_a_403_for_a_member_without_the_permission(program, resident):
    with pytest.raises(PermissionDenied):
        program_for(resident, "im", "matching.manage_pairings")


def test_program_for_is_a_404_for_a_program_that_does_not_exist(coordinator):
    with pytest.raises(Http404):
        program_for(coordinator, "no-such-program", "matching.manage_pairings")


def test_program_for_loads_through_the_given_queryset(program, coordinator):
    with pytest.raises(Http404):
        program_for(coordinator, "im", "matching.manage_pairings", queryset=Program.objects.exclude(slug="im"))


def test_program_for_does_not_ask_about_membership_when_allowed(program, coordinator, django_assert_num_queries):
    with django_assert_num_queries(2):  # the program by slug; the coordinator's membership (the rule)
        program_for(coordinator, "im", "matching.manage_pairings")


@pytest.fixture
def mentorship(program, resident, attending):
    return Mentorship.objects.create(mentee=resident, mentor=attending, program=program)


def _nudge(user, mentorship):
    return object_for(
        user, Mentorship.objects.all(), mentorship.pk, "matching.nudge_pairing", visible_with="matching.view_mentorship"
    )


def test_object_for_gives_the_object_to_an_allowed_user(mentorship, coordinator):
    assert _nudge(coordinator, mentorship) == mentorship


def test_object_for_is_a_404_for_an_outsider(mentorship, outsider):
    with pytest.raises(Http404):
        _nudge(outsider, mentorship)


def test_object_for_is_a_403_for_a_user_who_sees_it_without_the_permission(mentorship, resident):
    with pytest.raises(PermissionDenied):
        _nudge(resident, mentorship)


def test_object_for_without_visible_with_is_a_404_for_every_refusal(mentorship, resident):
    with pytest.raises(Http404):
        object_for(resident, Mentorship.objects.all(), mentorship.pk, "matching.nudge_pairing")
