"""The roster's actions in the API (accounts/api/roster_actions.py): invite, re-invite and
people leaving, through the same services as the roster page's buttons."""

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.utils import timezone

from accounts.leaving import MAX_LEAVING
from accounts.models import Membership, User
from audit.models import AuditEntry
from matching.models import Mentorship
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ACTIONS = ["invite", "reinvite", "leave"]


def _url(program, action):
    return f"/api/v1/programs/{program.slug}/roster/{action}/"


def _newcomer(program, email, *, invited_days_ago=None):
    """Someone an import put on the roster who has not taken their account."""
    invited_at = None if invited_days_ago is None else timezone.now() - timedelta(days=invited_days_ago)
    user = UserFactory(email=email, password=make_password(None), invited_at=invited_at)
    MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
    return user


# --- Who may.


@pytest.mark.parametrize("action", ACTIONS)
def test_anonymous_gets_401_and_the_roster_is_untouched(api, program, resident, action):
    response = api.post(_url(program, action), {"user_ids": [resident.pk], "reason": "left"}, format="json")
    assert response.status_code == 401
    assert Membership.objects.filter(user=resident, program=program).exists()


@pytest.mark.parametrize("action", ACTIONS)
def test_a_resident_of_the_program_gets_403_and_an_outsider_404(api_for, program, resident, outsider, action):
    body = {"user_ids": [resident.pk], "reason": "left"}
    assert api_for(resident).post(_url(program, action), body, format="json").status_code == 403
    assert api_for(outsider).post(_url(program, action), body, format="json").status_code == 404
    assert Membership.objects.filter(user=resident, program=program).exists()


@pytest.mark.parametrize("action", ACTIONS)
def test_another_programs_coordinator_gets_404(api_for, program, other_coordinator, resident, action):
    _newcomer(program, "new@hospital.example")
    response = api_for(other_coordinator).post(
        _url(program, action), {"user_ids": [resident.pk], "reason": "left"}, format="json"
    )
    assert response.status_code == 404
    assert mail.outbox == []
    assert Membership.objects.filter(user=resident, program=program).exists()


def test_a_coordinator_cannot_make_another_programs_people_leave(api_for, program, coordinator, outsider):
    response = api_for(coordinator).post(
        _url(program, "leave"), {"user_ids": [outsider.pk], "reason": "left"}, format="json"
    )
    assert response.status_code == 400
    assert outsider.email not in response.content.decode()
    assert User.objects.get(pk=outsider.pk).is_active


# --- Inviting.


def test_a_double_post_invites_once(api_for, program, coordinator, django_capture_on_commit_callbacks):
    _newcomer(program, "ana@hospital.example")
    _newcomer(program, "ben@hospital.example")
    api = api_for(coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(_url(program, "invite"))
    with django_capture_on_commit_callbacks(execute=True):
        second = api.post(_url(program, "invite"))

    assert (first.status_code, first.json()) == (200, {"invited": 2, "asked": 0})
    assert (second.status_code, second.json()) == (200, {"invited": 0, "asked": 0})
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@hospital.example", "ben@hospital.example"]


def test_reinvite_sends_to_those_invited_before_yesterday_only_and_once(
    api_for, program, coordinator, django_capture_on_commit_callbacks
):
    _newcomer(program, "waiting@hospital.example", invited_days_ago=3)
    _newcomer(program, "today@hospital.example", invited_days_ago=0)
    _newcomer(program, "never@hospital.example")
    api = api_for(coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(_url(program, "reinvite"))
    with django_capture_on_commit_callbacks(execute=True):
        second = api.post(_url(program, "reinvite"))

    assert (first.status_code, first.json()) == (200, {"invited": 1})
    assert second.json() == {"invited": 0}
    assert [m.to[0] for m in mail.outbox] == ["waiting@hospital.example"]


# --- Leaving.


def test_a_class_leaves_with_its_mentorships_ended_and_a_second_post_is_refused(
    api_for, program, other_program, coordinator, resident, other_resident, attending
):
    MembershipFactory(user=other_resident, program=other_program, role=Membership.Role.RESIDENT)
    mentorship = Mentorship.objects.create(mentee=resident, mentor=attending, program=program)
    api = api_for(coordinator)
    body = {"user_ids": [resident.pk, other_resident.pk, resident.pk], "reason": "graduated"}

    first = api.post(_url(program, "leave"), body, format="json")
    second = api.post(_url(program, "leave"), body, format="json")

    assert (first.status_code, first.json()) == (200, {"memberships": 2, "people": 2, "deactivated": 1})
    assert second.status_code == 400
    assert second.json() == {
        "detail": "Some of the people chosen are no longer on this roster. Reload the roster and choose again."
    }
    mentorship.refresh_from_db()
    assert (mentorship.status, mentorship.end_reason) == ("ended", "Alice Adams graduated and left the program.")
    assert User.objects.get(pk=resident.pk).is_active is False
    assert User.objects.get(pk=other_resident.pk).is_active is True  # still a resident of gs
    assert AuditEntry.objects.filter(action="roster.leave", program=program).count() == 1


def test_one_person_not_on_the_roster_refuses_the_whole_list_naming_no_one(
    api_for, program, coordinator, resident, other_resident, outsider
):
    response = api_for(coordinator).post(
        _url(program, "leave"),
        {"user_ids": [resident.pk, other_resident.pk, outsider.pk, coordinator.pk, 987654], "reason": "left"},
        format="json",
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "no longer on this roster" in text
    for person in (resident, other_resident, outsider, coordinator):
        assert person.email not in text
    assert Membership.objects.filter(program=program, user__in=[resident, other_resident]).count() == 2
    assert not AuditEntry.objects.filter(action="roster.leave").exists()


@pytest.mark.parametrize(
    "body, key, message",
    [
        ({"user_ids": [], "reason": "left"}, "user_ids", "Choose who is leaving."),
        (
            {"user_ids": list(range(1, 10_001)), "reason": "left"},
            "user_ids",
            f"At most {MAX_LEAVING:,} people can leave at once",
        ),
        ({"user_ids": "1,2", "reason": "left"}, "user_ids", "Expected a list"),
        ({"user_ids": ["Alice"], "reason": "left"}, "user_ids", "A valid integer is required."),
        ({"user_ids": [-1], "reason": "left"}, "user_ids", "greater than or equal to 1"),
        ({"user_ids": [2**70], "reason": "left"}, "user_ids", "less than or equal to"),
        ({"user_ids": [{"id": 1}], "reason": "left"}, "user_ids", "A valid integer is required."),
        ({"user_ids": None, "reason": "left"}, "user_ids", "This field may not be null."),
        ({"reason": "left"}, "user_ids", "This field is required."),
        ({"user_ids": [1], "reason": "fired"}, "reason", "Choose whether they graduated or left the program."),
        ({"user_ids": [1], "reason": "x" * 100_000}, "reason", "Choose whether they graduated or left"),
        ({"user_ids": [1]}, "reason", "This field is required."),
    ],
    ids=[
        "empty",
        "ten-thousand",
        "string",
        "names",
        "negative",
        "beyond-bigint",
        "objects",
        "null",
        "missing",
        "unknown-reason",
        "huge-reason",
        "no-reason",
    ],
)
def test_absurd_bodies_are_refused_and_nobody_leaves(api_for, program, coordinator, resident, body, key, message):
    response = api_for(coordinator).post(_url(program, "leave"), body, format="json")
    assert response.status_code == 400
    assert message in str(response.json()[key])
    assert Membership.objects.filter(program=program, user=resident).exists()
    assert not AuditEntry.objects.filter(action="roster.leave").exists()


def test_a_form_encoded_body_works_like_json(api_for, program, coordinator, resident):
    response = api_for(coordinator).post(_url(program, "leave"), {"user_ids": [resident.pk], "reason": "left"})
    assert (response.status_code, response.json()["people"]) == (200, 1)
