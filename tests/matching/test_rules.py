"""Who may see an object is said twice: as a rule asked of one object (``user.has_perm``) and as
the filter the lists use (``matching.rules.VISIBILITY``). Here the two forms meet for every
person of a small world and every object, so they cannot drift apart."""

import pytest
from django.utils import timezone

from accounts.models import Membership
from matching.models import Meeting, MentorshipRequest
from matching.rules import VISIBILITY
from matching.selectors.meetings import meetings_for
from matching.selectors.requests import requests_visible_to
from tests.factories import MembershipFactory, MentorProfileFactory, ProgramFactory, UserFactory
from tests.matching.factories import MentorshipFactory

pytestmark = pytest.mark.django_db

# The selectors that list what a rule grants, beside the filter itself.
SELECTORS = {
    ("matching.view_request", MentorshipRequest): requests_visible_to,
    ("matching.view_mentorship", Meeting): meetings_for,
}


def _program_with_people(label):
    program = ProgramFactory()
    people = {}
    for role, membership in (
        ("resident", Membership.Role.RESIDENT),
        ("mentor", Membership.Role.FACULTY),
        ("coordinator", Membership.Role.COORDINATOR),
    ):
        people[f"{role} of {label}"] = MembershipFactory(program=program, role=membership).user
    MentorProfileFactory(user=people[f"mentor of {label}"])
    return program, people


@pytest.fixture
def world():
    """Two programs, each with a resident, a mentor and a coordinator, a pair, a request and a
    meeting; a request across them; an outsider and a staff member who belong to neither."""
    a, people_a = _program_with_people("A")
    b, people_b = _program_with_people("B")
    people = {**people_a, **people_b, "outsider": UserFactory(), "staff": UserFactory(is_staff=True)}
    objects = []
    for program, label in ((a, "A"), (b, "B")):
        mentee, mentor = people[f"resident of {label}"], people[f"mentor of {label}"]
        mentorship = MentorshipFactory(mentee=mentee, mentor=mentor, program=program)
        objects += [
            mentorship,
            MentorshipRequest.objects.create(mentee=mentee, mentor=mentor, program=program, message="Hello"),
            Meeting.objects.create(
                mentorship=mentorship, proposed_by=mentee, status=Meeting.Status.CONFIRMED, start=timezone.now()
            ),
        ]
    # A resident of A asks B's mentor: the request is A's, so B's coordinator may not see it.
    objects.append(
        MentorshipRequest.objects.create(
            mentee=people["resident of A"], mentor=people["mentor of B"], program=a, message="Across"
        )
    )
    return people, objects


@pytest.mark.parametrize(
    ("perm", "model"), [(perm, model) for perm, filters in VISIBILITY.items() for model in filters]
)
def test_the_rule_and_the_list_filter_agree_for_everyone(world, perm, model):
    people, objects = world
    objects = [obj for obj in objects if isinstance(obj, model)]
    disagreements = []
    for name, user in people.items():
        listed = set(model.objects.filter(VISIBILITY[perm][model](user)).values_list("pk", flat=True))
        if (perm, model) in SELECTORS:
            selected = set(SELECTORS[perm, model](user).values_list("pk", flat=True))
            if selected != listed:
                disagreements.append(f"{name}: the selector lists {selected}, the filter {listed}")
        for obj in objects:
            if user.has_perm(perm, obj) != (obj.pk in listed):
                disagreements.append(f"{name}, {model.__name__} {obj.pk}: has_perm {user.has_perm(perm, obj)}")
    assert not disagreements, "\n".join(disagreements)


def test_the_world_has_someone_who_sees_and_someone_who_does_not(world):
    """Control: the agreement above is not two empty sets agreeing."""
    people, objects = world
    request = next(obj for obj in objects if isinstance(obj, MentorshipRequest))
    assert people["coordinator of A"].has_perm("matching.view_request", request)
    assert not people["coordinator of B"].has_perm("matching.view_request", request)
    assert not people["staff"].has_perm("matching.view_request", request)
