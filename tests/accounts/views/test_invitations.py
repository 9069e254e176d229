"""The invitations page: the invited person's answer."""

import pytest
from django.urls import reverse

from accounts.models import Membership

pytestmark = pytest.mark.django_db


# --- Pages.


def test_the_invitations_page_lists_the_persons_own_and_answers(client_for, invitation, resident, other_resident):
    client = client_for(resident)
    page = client.get(reverse("accounts:invitations")).content.decode()
    assert "General Surgery Residency" in page and "as faculty" in page
    assert (
        "No invitations are waiting" in client_for(other_resident).get(reverse("accounts:invitations")).content.decode()
    )

    response = client.post(reverse("accounts:invitation-accept", args=[invitation.pk]), follow=True)

    assert "You joined General Surgery Residency." in response.content.decode()
    assert Membership.objects.filter(user=resident, program=invitation.program, role="faculty").exists()
    # A second tap on the same button: a message, not an error page.
    again = client.post(reverse("accounts:invitation-accept", args=[invitation.pk]), follow=True)
    assert again.status_code == 200 and "already accepted" in again.content.decode()


def test_someone_elses_invitation_is_not_found(client_for, invitation, other_resident):
    response = client_for(other_resident).post(reverse("accounts:invitation-decline", args=[invitation.pk]))
    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.status == "pending"
