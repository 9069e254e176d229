"""People leave a program in bulk (accounts/leaving.py) and matching ends what they had there
(matching/receivers_roster.py, connected by MatchingConfig.ready(): the tests below that see a
mentorship ended pass only through that connection)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.leaving import roster_members_leave
from accounts.models import CareerStage, Membership, User
from audit.models import AuditEntry
from matching.models import Mentorship, MentorshipRequest, Notification
from tests.factories import MembershipFactory, MenteeProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


def _pgy3(program, n):
    stage = CareerStage.objects.get(code="PGY-3")
    people = []
    for i in range(n):
        user = UserFactory(email=f"pgy3-{i}@hospital.example", first_name=f"Senior{i}", last_name="Res")
        MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
        MenteeProfileFactory(user=user, career_stage=stage)
        people.append(user)
    return people


def _ids(program, users):
    return list(Membership.objects.filter(program=program, user__in=users).values_list("pk", flat=True))


def test_a_graduating_class_leaves_with_its_mentorships_and_requests_ended(
    program, coordinator, attending, other_program
):
    first, second, elsewhere = _pgy3(program, 3)
    MembershipFactory(user=elsewhere, program=other_program, role=Membership.Role.RESIDENT)  # stays there
    mentorship = Mentorship.objects.create(mentee=first, mentor=attending, program=program)
    request = MentorshipRequest.objects.create(
        mentee=second, mentor=attending, program=program, message="Hello", expires_at="2099-01-01T00:00:00Z"
    )

    result = roster_members_leave(
        program=program, memberships=_ids(program, [first, second, elsewhere]), actor=coordinator, reason="graduated"
    )

    assert (result.memberships, result.people, result.deactivated) == (3, 3, 2)
    mentorship.refresh_from_db()
    request.refresh_from_db()
    assert (mentorship.status, mentorship.end_reason) == ("ended", "Senior0 Res graduated and left the program.")
    assert request.status == "closed"
    assert not Membership.objects.filter(program=program, user__in=[first, second, elsewhere]).exists()
    assert [u.is_active for u in User.objects.filter(pk__in=[first.pk, second.pk, elsewhere.pk]).order_by("email")] == [
        False,
        False,
        True,  # still a resident of the other program
    ]
    assert Notification.objects.get(user=attending, event="mentorship.ended").title == (
        "Your mentorship with Senior0 Res has ended"
    )
    assert AuditEntry.objects.get(action="roster.leave").after == {
        "reason": "graduated",
        "memberships": 3,
        "people": 3,
        "deactivated": 2,
    }


def test_a_second_click_and_ids_from_another_program_are_refused_whole(program, coordinator, other_program, outsider):
    (leaver,) = _pgy3(program, 1)
    ids = _ids(program, [leaver])
    roster_members_leave(program=program, memberships=ids, actor=coordinator, reason="left")

    with pytest.raises(ValidationError, match="no longer on this roster"):
        roster_members_leave(program=program, memberships=ids, actor=coordinator, reason="left")
    with pytest.raises(ValidationError, match="no longer on this roster"):
        roster_members_leave(
            program=program, memberships=_ids(other_program, [outsider]), actor=coordinator, reason="left"
        )
    assert Membership.objects.filter(program=other_program, user=outsider).exists()


def test_the_roster_page_graduates_the_filtered_class(client_for, coordinator, program, resident):
    _pgy3(program, 2)
    client = client_for(coordinator)
    client.post(reverse("accounts:roster", args=[program.slug]), {"role": "resident", "pgy": "PGY-3"})
    page = client.get(reverse("accounts:roster", args=[program.slug])).content.decode()
    assert "The 2 people shown are leaving" in page

    unconfirmed = client.post(
        reverse("accounts:roster", args=[program.slug]),
        {"action": "leave", "reason": "graduated", "expected": "2"},
        follow=True,
    )
    stale = client.post(
        reverse("accounts:roster", args=[program.slug]),
        {"action": "leave", "reason": "graduated", "expected": "3", "confirm": "yes"},
        follow=True,
    )
    assert "Tick the box to confirm" in unconfirmed.content.decode()
    assert "The list changed since the page was shown." in stale.content.decode()
    assert Membership.objects.filter(program=program, role="resident").count() == 3

    done = client.post(
        reverse("accounts:roster", args=[program.slug]),
        {"action": "leave", "reason": "graduated", "expected": "2", "confirm": "yes"},
        follow=True,
    )

    assert "2 people graduated and left Internal Medicine Residency" in done.content.decode()
    # Alice (PGY-1) stays.
    assert list(Membership.objects.filter(program=program, role="resident").values_list("user", flat=True)) == [
        resident.pk
    ]
