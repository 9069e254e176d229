"""Finding 1 (critical): a coordinator of program B imports program A's people.

Oscar coordinates General Surgery (``gs``). He uploads a CSV naming Alice (an IM resident),
Carol (an IM attending) and the superuser, with new PGY years, specialties, ranks, names and
zones. Before the fix the preview showed their current data, applying it overwrote it, added
them to gs, and Alice's next request (filed under her first resident membership by program
name) and its mentorship landed in gs, her check-in in gs's health comments.
"""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.invitations import program_invitation_accept
from accounts.models import Membership, ProgramInvitation, User
from accounts.roster import roster_import_apply, roster_import_preview, roster_invite_all
from matching.models import Mentorship, MentorshipRequest
from matching.services.plan import checkin_submit
from matching.services.requests import request_accept, request_create
from tests.factories import MembershipFactory, MentorProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = "email,first_name,last_name,role,pgy,specialty,academic_rank,time_zone\n"


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(
        "admin@hospital.example", "a-long-admin-password", first_name="Ada", last_name="Admin"
    )


@pytest.fixture
def attack_csv(resident, attending, superuser):
    return (
        HEADER
        + f"{resident.email.upper()},Eve,Evil,resident,PGY-5,,,Asia/Tokyo\n"
        + f"{attending.email},Mallory,Moe,faculty,,General Surgery,Instructor,Asia/Tokyo\n"
        + f"{superuser.email},Root,Kit,faculty,,General Surgery,Instructor,Asia/Tokyo\n"
    )


def _upload(client, program, text):
    upload = SimpleUploadedFile("roster.csv", text.encode(), content_type="text/csv")
    return client.post(reverse("accounts:roster-import", args=[program.slug]), {"file": upload}, follow=True)


def _state(*users):
    """Everything about a person the import could have changed."""
    state = []
    for user in users:
        user = User.objects.get(pk=user.pk)
        mentee = getattr(user, "mentee_profile", None)
        mentor = getattr(user, "mentor_profile", None)
        state.append(
            (
                user.email,
                user.first_name,
                user.last_name,
                user.time_zone,
                user.password,
                sorted(user.memberships.values_list("program__slug", "role")),
                mentee and mentee.career_stage_id,
                mentor and (mentor.specialty_id, mentor.academic_rank_id, mentor.career_stage_id),
            )
        )
    return state


def test_the_preview_shows_only_what_the_coordinator_typed(
    client_for, other_program, other_coordinator, resident, attending, superuser, attack_csv
):
    response = _upload(client_for(other_coordinator), other_program, attack_csv)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("Existing account — will be invited to join General Surgery Residency") == 3
    # Nothing of their current data: Alice's PGY-1, Carol's specialty, their real names.
    for secret in ("PGY-1", "Internal Medicine", "Alice", "Carol", "Ada", "→"):
        assert secret not in html, secret
    preview = response.context["preview"]
    assert [row.action for row in preview.rows] == ["invite", "invite", "invite"]
    assert all(row.changes == [] for row in preview.rows)


def test_applying_it_changes_nobody_and_only_asks_them_to_join(
    client_for,
    other_program,
    other_coordinator,
    resident,
    attending,
    superuser,
    attack_csv,
    django_capture_on_commit_callbacks,
):
    before = _state(resident, attending, superuser)
    roster_import = roster_import_preview(
        program=other_program, uploaded_by=other_coordinator, filename="roster.csv", data=attack_csv.encode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = roster_import_apply(roster_import=roster_import, actor=other_coordinator)
        roster_invite_all(program=other_program, actor=other_coordinator)  # asking is the invite step

    assert result.to_ask == 3 and result.to_invite == 0
    assert _state(resident, attending, superuser) == before
    invitations = ProgramInvitation.objects.filter(program=other_program, status="pending")
    assert sorted(invitations.values_list("user__email", "role")) == sorted(
        [
            (resident.email, "resident"),
            (attending.email, "faculty"),
            (superuser.email, "faculty"),
        ]
    )
    # What the coordinator sees of them is what he typed.
    assert set(invitations.values_list("first_name", flat=True)) == {"Eve", "Mallory", "Root"}
    # Each person hears of it (in-app and by e-mail), at their own address.
    assert sorted(m.to[0] for m in mail.outbox) == sorted([resident.email, attending.email, superuser.email])

    # Oscar cannot open their pages, nor find them on his roster or through the API.
    oscar = client_for(other_coordinator)
    assert oscar.get(reverse("matching:person", args=[resident.pk])).status_code == 404
    # Carol mentors: her public mentor page is everyone's, but not her e-mail address.
    assert attending.email not in oscar.get(reverse("matching:person", args=[attending.pk])).content.decode()
    roster = oscar.get(f"/api/v1/programs/{other_program.slug}/roster/").json()
    assert resident.email not in str(roster) and attending.email not in str(roster)


def test_accepting_joins_the_program_and_keeps_everything_of_theirs(
    other_program, other_coordinator, resident, attack_csv, django_capture_on_commit_callbacks
):
    before = _state(resident)[0]
    roster_import = roster_import_preview(
        program=other_program, uploaded_by=other_coordinator, filename="roster.csv", data=attack_csv.encode()
    )
    roster_import_apply(roster_import=roster_import, actor=other_coordinator)
    roster_invite_all(program=other_program, actor=other_coordinator)
    invitation = ProgramInvitation.objects.get(user=resident)

    program_invitation_accept(invitation=invitation, actor=resident)

    after = _state(resident)[0]
    assert sorted(after[5]) == sorted([*before[5], ("gs", "resident")])
    assert after[:5] == before[:5] and after[6:] == before[6:]  # name, zone, password, PGY: hers


def test_only_the_invited_person_can_accept(other_program, other_coordinator, resident, other_resident):
    invitation = ProgramInvitation.objects.create(
        program=other_program,
        user=resident,
        role="resident",
        invited_by=other_coordinator,
        email=resident.email,
        first_name="A",
        last_name="B",
    )
    with pytest.raises(PermissionDenied):
        program_invitation_accept(invitation=invitation, actor=other_resident)
    assert not Membership.objects.filter(user=resident, program=other_program).exists()


def test_a_request_belongs_to_the_program_it_was_made_in_never_to_the_first_by_name(
    program, other_program, other_coordinator, resident, attending, django_capture_on_commit_callbacks
):
    """Alice, now a resident of both, asks Carol (IM faculty only): the request, the mentorship
    and her check-in are IM's, although "General Surgery" sorts before "Internal Medicine"."""
    MembershipFactory(user=resident, program=other_program, role="resident")

    request = request_create(mentee=resident, mentor=attending, kind="career", message="Hello")
    mentorship = request_accept(request=request, actor=attending)
    checkin = checkin_submit(mentorship=mentorship, actor=resident, rating=2, comment="Burnt out this month")

    assert request.program == program and mentorship.program == program and checkin.mentorship.program == program
    assert not Mentorship.objects.filter(program=other_program).exists()
    assert not MentorshipRequest.objects.filter(program=other_program).exists()


def test_a_request_that_could_belong_to_two_programs_asks_which(program, other_program, resident):
    MembershipFactory(user=resident, program=other_program, role="resident")
    mentor = UserFactory()
    MentorProfileFactory(user=mentor)
    for p in (program, other_program):
        MembershipFactory(user=mentor, program=p, role="faculty")

    with pytest.raises(ValidationError) as refused:
        request_create(mentee=resident, mentor=mentor, kind="career", message="Hello")
    assert "program" in refused.value.message_dict

    request = request_create(mentee=resident, mentor=mentor, kind="career", message="Hello", program=other_program)
    assert request.program == other_program


def test_a_request_cannot_be_filed_under_a_program_the_resident_is_not_in(program, other_program, resident, attending):
    with pytest.raises(ValidationError) as refused:
        request_create(mentee=resident, mentor=attending, kind="career", message="Hello", program=other_program)
    assert "program" in refused.value.message_dict
    assert not MentorshipRequest.objects.exists()


def test_a_pair_of_one_program_cannot_file_their_request_under_another(
    client_for, program, other_program, resident, attending
):
    """Alice is a resident of both; Carol only of IM. The request is IM's: the page asks nothing,
    and naming gs (a browser's first option, by name) is refused by the service."""
    MembershipFactory(user=resident, program=other_program, role="resident")

    page = client_for(resident).get(reverse("matching:request-create", args=[attending.pk]))
    assert 'name="program"' not in page.content.decode()
    with pytest.raises(ValidationError) as refused:
        request_create(mentee=resident, mentor=attending, kind="career", message="Hello", program=other_program)
    assert "program" in refused.value.message_dict
    assert not MentorshipRequest.objects.exists()


def test_a_mentor_of_no_shared_program_leaves_the_choice_to_the_resident(client_for, program, other_program, resident):
    """A directory mentor of a third program: the request belongs to one of Alice's programs, her choice."""
    from tests.factories import ProgramFactory

    MembershipFactory(user=resident, program=other_program, role="resident")
    mentor = UserFactory()
    MentorProfileFactory(user=mentor)
    MembershipFactory(user=mentor, program=ProgramFactory(slug="third"), role="faculty")

    page = client_for(resident).get(reverse("matching:request-create", args=[mentor.pk])).content.decode()
    assert 'name="program"' in page and "Choose a program" in page
    with pytest.raises(ValidationError):
        request_create(mentee=resident, mentor=mentor, kind="career", message="Hello")
    assert (
        request_create(mentee=resident, mentor=mentor, kind="career", message="Hi", program=program).program == program
    )
