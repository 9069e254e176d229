"""Who has taken their account, on the roster: one rule (accounts/selectors.py:
``awaits_first_sign_in``), so someone who only ever signs in by SSO, and never set a password,
is active once they have signed in: on the page, in the API and the export, in the status
filter and the programs' counts, and nobody sends them an invitation again."""

import csv
import io
from datetime import timedelta

import pytest
from allauth.socialaccount.models import SocialAccount
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Program
from accounts.roster import (
    roster_import_plan,
    roster_import_preview,
    roster_invitations,
    roster_member_reinvite,
    roster_reinvite_waiting,
)
from accounts.selectors import roster_search, roster_status, with_roster_counts
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["last_login", "last_seen"])
def sso(request, program):
    """Sam: put on the roster by an import (no password), invited nine days ago, signed in by
    SSO since (``last_login`` stamped by ``login()``, or only ``last_seen`` by a later request)."""
    now = timezone.now()
    user = UserFactory(
        email="sam.sso@hospital.example",
        first_name="Sam",
        last_name="Sso",
        password="!unusable",
        invited_at=now - timedelta(days=9),
        **{request.param: now - timedelta(days=2)},
    )
    SocialAccount.objects.create(user=user, provider="hospital-sso", uid="sam")
    MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
    assert not user.has_usable_password()
    return user


@pytest.fixture
def waiting(program):
    """Wes: invited nine days ago too, never signed in: the control case."""
    user = UserFactory(
        email="wes.wait@hospital.example",
        first_name="Wes",
        last_name="Wait",
        password="!unusable",
        invited_at=timezone.now() - timedelta(days=9),
    )
    MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
    return user


def _row(body, user):
    start = body.index(f"{user.last_name}, {user.first_name}")
    return body[start : body.index("</tr>", start)]


def test_an_sso_member_who_signed_in_is_active_on_the_roster_page(client_for, coordinator, program, sso, waiting):
    body = client_for(coordinator).get(reverse("accounts:roster", args=[program.slug])).content.decode()

    sam = _row(body, sso)
    assert '<span class="badge badge-ok">Active</span>' in sam
    assert "Invited" not in sam and "invitation" not in sam  # no "Resend invitation" button
    wes = _row(body, waiting)
    assert '<span class="badge badge-warn">Invited</span>' in wes and "Resend invitation" in wes


def test_the_api_the_export_and_the_filter_say_the_same(api_for, client_for, coordinator, program, sso, waiting):
    rows = api_for(coordinator).get(f"/api/v1/programs/{program.slug}/roster/").json()["results"]
    assert {r["email"]: r["invitation_status"] for r in rows} == {sso.email: "active", waiting.email: "invited"}

    response = client_for(coordinator).get(reverse("accounts:roster-export", args=[program.slug]))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert {r["email"]: r["status"] for r in rows} == {sso.email: "active", waiting.email: "invited"}

    assert [m.user for m in roster_search(program, status="active")] == [sso]
    assert [m.user for m in roster_search(program, status="invited")] == [waiting]
    assert (roster_status(sso), roster_status(waiting)) == ("active", "invited")
    counted = with_roster_counts(Program.objects.filter(pk=program.pk)).get()
    assert (counted.member_count, counted.awaiting_count) == (2, 1)


def test_an_sso_member_who_signed_in_is_not_invited_again(
    coordinator, program, sso, waiting, django_capture_on_commit_callbacks
):
    assert roster_invitations(program).reinvitable == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert roster_reinvite_waiting(program=program, actor=coordinator) == 1
        membership = Membership.objects.get(user=sso)
        # The row's own button, sent anyway (a page open since before they signed in).
        assert roster_member_reinvite(membership=membership, actor=coordinator) is False

    assert [m.to for m in mail.outbox] == [[waiting.email]]
    sso.refresh_from_db()
    assert sso.invited_at < timezone.now() - timedelta(days=8)


def test_an_import_leaves_an_sso_member_who_signed_in_as_they_are(coordinator, program, sso, waiting):
    csv_text = (
        "email,first_name,last_name,role,pgy\n"
        f"{sso.email},Samuel,Sso,resident,PGY-2\n"
        f"{waiting.email},Wesley,Wait,resident,PGY-2\n"
    )
    plan = roster_import_preview(program=program, uploaded_by=coordinator, filename="r.csv", data=csv_text.encode())
    preview = roster_import_plan(plan)
    by_email = {row.email: row for row in preview.rows}
    # Sam has taken his account: the file names him, and changes nothing of his.
    assert by_email[sso.email].action == "member" and by_email[sso.email].changes == []
    # Wes has not: the roster still holds his account, and corrects it.
    assert by_email[waiting.email].action == "update" and "first name → Wesley" in by_email[waiting.email].changes
    assert sso.pk not in preview.owned and waiting.pk in preview.owned
