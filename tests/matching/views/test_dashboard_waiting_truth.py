"""What "Waiting for you" promises a mentor must hold: a first meeting with someone who has
never signed in says so, and a request a full mentor cannot accept asks for room instead.

Personas from tests/conftest.py: Alice (resident) and Carol (attending, capacity 2) in Internal
Medicine; Bob another resident.
"""

import pytest
from django.urls import reverse

from accounts.models import MentorProfile, User
from tests.matching.factories import MentorshipFactory
from tests.matching.support import _ask

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("matching:dashboard")


def _mentor_tasks(client):
    return {t.kind: t for t in client.get(DASHBOARD).context["mentor_tasks"]}


def test_a_first_meeting_with_someone_who_never_signed_in_says_they_have_not(client_for, program, resident, attending):
    User.objects.filter(pk=resident.pk).update(last_login=None, last_seen=None, invited_at=None)
    MentorshipFactory(mentee=resident, mentor=attending, program=program)  # as a published match starts it
    carol = client_for(attending)

    task = _mentor_tasks(carol)["first_meeting"]
    assert task.text == f"Plan a first meeting with {resident.full_name}"
    assert "hasn't signed in yet" in task.detail and "invitation" not in task.detail
    assert "your proposal and messages wait for them" in task.detail

    User.objects.filter(pk=resident.pk).update(invited_at=resident.date_joined)
    assert "hasn't signed in yet — they were sent an invitation" in _mentor_tasks(carol)["first_meeting"].detail

    client_for(resident)  # her first sign-in
    assert _mentor_tasks(carol)["first_meeting"].detail == "Propose up to three times"


def test_a_full_mentor_is_asked_to_make_room_not_to_accept(client_for, program, resident, other_resident, attending):
    request = _ask(resident, attending)
    carol = client_for(attending)
    answer = _mentor_tasks(carol)["answer_request"]
    assert answer.text == f"Answer {resident.full_name}'s request" and answer.url == request.get_absolute_url()

    MentorProfile.objects.filter(user=attending).update(capacity=1)
    MentorshipFactory(mentee=other_resident, mentor=attending, program=program, kind="research")
    full = _mentor_tasks(carol)["answer_request"]
    assert full.text == f"You are full: raise your capacity to accept {resident.full_name}'s request"
    assert full.url == reverse("matching:mentor-profile-edit") + "#id_capacity"
    html = carol.get(DASHBOARD).content.decode()
    assert f"Answer {resident.full_name}&#x27;s request" not in html
