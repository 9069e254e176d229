"""Roster CSV import (accounts/roster.py): parsing, the preview, and the all-or-nothing apply.
The upload pages' refusals are in tests/accounts/views/test_roster_import.py."""

import re
import time

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import roster as roster_services
from accounts.models import (
    CareerStage,
    Membership,
    MenteeProfile,
    MentorProfile,
    ProgramInvitation,
    RosterImport,
    User,
)
from accounts.roster import roster_import_apply, roster_import_preview, roster_invite_all, roster_parse

pytestmark = pytest.mark.django_db

HEADER = "email,first_name,last_name,role,pgy,specialty,academic_rank,time_zone\n"
GOOD_ROWS = (
    "ana.garcia@hospital.example,Ana,García,resident,PGY-1,,,\n"
    "ben.okafor@hospital.example,Ben,Okafor,resident,pgy2,,,\n"
    "sam.lee@hospital.example,Sam,Lee,resident,PGY-4,,,\n"
    "sam.lee@hospital.example,Sam,Lee,faculty,PGY-4,Internal Medicine,,\n"
    "rita.shah@hospital.example,Rita,Shah,faculty,,internal-medicine,Associate Professor,America/Chicago\n"
)
GOOD_CSV = HEADER + GOOD_ROWS
NEW_EMAILS = {
    "ana.garcia@hospital.example",
    "ben.okafor@hospital.example",
    "sam.lee@hospital.example",
    "rita.shah@hospital.example",
}


def _counts():
    return (
        User.objects.count(),
        Membership.objects.count(),
        MenteeProfile.objects.count(),
        MentorProfile.objects.count(),
    )


def _import(program, coordinator, text: str, *, django_capture_on_commit_callbacks):
    """Preview and apply ``text``, running whatever was queued for after the commit."""
    roster_import = roster_import_preview(
        program=program, uploaded_by=coordinator, filename="roster.csv", data=text.encode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        return roster_import_apply(roster_import=roster_import, actor=coordinator)


def _invite(program, coordinator, *, django_capture_on_commit_callbacks):
    """The roster's invite step, running the invitation tasks queued for after the commit."""
    with django_capture_on_commit_callbacks(execute=True):
        return roster_invite_all(program=program, actor=coordinator)


# --- Parsing.


def test_parse_counts_a_clean_file(program, coordinator):
    preview = roster_parse(program=program, data=GOOD_CSV.encode())

    assert preview.errors == []
    assert (preview.create_count, preview.update_count, preview.unchanged_count) == (5, 0, 0)
    assert preview.people_count == 4
    assert preview.invitation_count == 4


@pytest.mark.parametrize("value", ["PGY-1", "PGY1", "pgy-1", "pgy 1", "1", " PGY-1 "])
def test_pgy_is_read_leniently(program, value):
    preview = roster_parse(program=program, data=(HEADER + f"a@hospital.example,A,B,resident,{value},,,\n").encode())

    assert preview.errors == []
    assert preview.rows[0].career_stage.code == "PGY-1"


def test_fellow_is_a_pgy_value(program):
    preview = roster_parse(program=program, data=(HEADER + "a@hospital.example,A,B,resident,Fellow,,,\n").encode())

    assert preview.rows[0].career_stage.code == "FELLOW"


def test_header_is_case_insensitive_and_in_any_order(program):
    data = "Role,Last Name,EMAIL,First_Name,PGY\nresident,Adams,ANA@Hospital.example,Ana,PGY-3\n"

    preview = roster_parse(program=program, data=data.encode())

    assert preview.errors == []
    row = preview.rows[0]
    assert (row.email, row.first_name, row.last_name, row.career_stage.code) == (
        "ana@hospital.example",
        "Ana",
        "Adams",
        "PGY-3",
    )


def test_same_person_as_resident_and_faculty_is_not_a_duplicate(program):
    preview = roster_parse(program=program, data=GOOD_CSV.encode())

    assert [r.role for r in preview.rows if r.email == "sam.lee@hospital.example"] == ["resident", "faculty"]


def test_unknown_columns_are_ignored_with_a_notice_naming_them_and_export_columns_silently(program):
    data = (
        HEADER.strip()
        + ",phone,start_date,status,medhub_id\n"
        + ("a@hospital.example,A,B,resident,PGY-1,,,,555-0100,2026-07-01,active,MH123\n")
    )

    preview = roster_parse(program=program, data=data.encode())

    assert preview.errors == []
    assert preview.notices == ["Ignored 3 columns: phone, start_date, medhub_id."]
    assert (preview.rows[0].email, preview.rows[0].career_stage.code) == ("a@hospital.example", "PGY-1")


def test_two_columns_that_mean_the_same_are_refused(program):
    data = HEADER.strip() + ",Speciality\n" + "a@hospital.example,A,B,resident,PGY-1,,,,x\n"

    preview = roster_parse(program=program, data=data.encode())

    assert [e.message for e in preview.errors] == [
        "The columns “specialty” and “Speciality” both mean specialty; keep one of them."
    ]


def test_every_bad_row_is_listed_with_its_line_column_and_reason(program):
    data = HEADER + (
        "ana.garcia@hospital.example,Ana,García,resident,PGY-1,,,\n"
        "not-an-email,Bo,Bad,resident,PGY-1,,,\n"
        ",No,Mail,resident,PGY-1,,,\n"
        "c@hospital.example,Cy,Col,surgeon,,,,\n"
        "d@hospital.example,Di,Dee,faculty,,,,\n"
        "e@hospital.example,Ed,Eng,resident,PGY-2,,Professor,\n"
        "f@hospital.example,Fi,Fox,faculty,,Internal Medicine,Dean,Mars/Olympus\n"
    )

    preview = roster_parse(program=program, data=data.encode())

    assert [(e.line, e.column, e.message) for e in preview.errors] == [
        (3, "email", "“not-an-email” is not a valid e-mail address."),
        (4, "email", "The e-mail address is missing."),
        (5, "role", "Role must be resident or faculty, not “surgeon”."),
        (6, "specialty", "Faculty need a specialty, e.g. Internal Medicine."),
        (7, "academic_rank", "Academic rank is for faculty; leave it empty for residents."),
        (
            8,
            "academic_rank",
            "Unknown academic rank “Dean”. Use Instructor, Assistant Professor, Associate Professor or Professor.",
        ),
        (8, "time_zone", "Unknown time zone “Mars/Olympus”. Use a name such as America/New_York."),
    ]
    assert not preview.is_valid


def test_the_templates_example_rows_are_refused(program):
    data = b"".join(",".join(row).encode() + b"\n" for row in roster_services.roster_template_rows())

    preview = roster_parse(program=program, data=data)

    assert {e.message for e in preview.errors} == {"This is an example row from the template; delete it."}


def test_semicolon_separated_files_from_european_excel_are_read(program):
    data = HEADER.replace(",", ";") + "a@hospital.example;A;B;resident;PGY-1;;;\n"

    assert roster_parse(program=program, data=data.encode()).errors == []


def test_oversize_data_is_refused_by_the_service_too(program, coordinator, settings):
    settings.ROSTER_MAX_UPLOAD_BYTES = 10

    with pytest.raises(ValidationError):
        roster_import_preview(program=program, uploaded_by=coordinator, filename="r.csv", data=GOOD_CSV.encode())
    assert not RosterImport.objects.exists()


def test_a_failure_part_way_through_rolls_everything_back(program, coordinator, monkeypatch):
    before = _counts()
    roster_import = roster_import_preview(
        program=program, uploaded_by=coordinator, filename="roster.csv", data=GOOD_CSV.encode()
    )

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    # Users and memberships are written by then; profiles fail.
    monkeypatch.setattr(roster_services, "_apply_profiles", fail)
    with pytest.raises(RuntimeError):
        roster_import_apply(roster_import=roster_import, actor=coordinator)

    assert _counts() == before
    roster_import.refresh_from_db()
    assert roster_import.status == RosterImport.Status.PREVIEWED


def test_import_creates_people_memberships_and_profiles(program, coordinator, django_capture_on_commit_callbacks):
    result = _import(
        program, coordinator, GOOD_CSV, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
    )

    ana = User.objects.get(email="ana.garcia@hospital.example")
    assert (ana.first_name, ana.last_name, ana.time_zone) == ("Ana", "García", program.time_zone)
    assert not ana.has_usable_password()
    assert ana.mentee_profile.career_stage.code == "PGY-1"
    assert User.objects.get(email="ben.okafor@hospital.example").mentee_profile.career_stage.code == "PGY-2"
    sam = User.objects.get(email="sam.lee@hospital.example")
    assert set(sam.memberships.values_list("role", flat=True)) == {"resident", "faculty"}
    assert sam.mentee_profile.career_stage.code == "PGY-4"
    assert (sam.mentor_profile.specialty.slug, sam.mentor_profile.career_stage.code) == ("internal-medicine", "PGY-4")
    rita = User.objects.get(email="rita.shah@hospital.example")
    assert rita.time_zone == "America/Chicago"
    assert (rita.mentor_profile.specialty.name, rita.mentor_profile.academic_rank.name) == (
        "Internal Medicine",
        "Associate Professor",
    )
    assert Membership.objects.filter(program=program, user__email__in=NEW_EMAILS).count() == 5
    applied = result.roster_import
    assert (applied.status, applied.row_count, applied.created_count, applied.updated_count) == ("applied", 5, 5, 0)
    assert applied.applied_at is not None
    # Importing e-mails no one: four people wait for the roster's invite step.
    assert (result.to_invite, result.to_ask) == (4, 0)
    assert mail.outbox == []
    assert not User.objects.filter(email__in=NEW_EMAILS, invited_at__isnull=False).exists()


def test_the_invite_step_sends_once_per_person_and_a_second_click_sends_nothing(
    program, coordinator, django_capture_on_commit_callbacks
):
    _import(program, coordinator, GOOD_CSV, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    assert mail.outbox == []

    first = _invite(program, coordinator, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    second = _invite(program, coordinator, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)

    assert sorted(m.to[0] for m in mail.outbox) == sorted(NEW_EMAILS)  # Sam once, though listed twice
    assert all(User.objects.get(email=e).invited_at for e in NEW_EMAILS)
    assert (first.invited, second.invited) == (4, 0)


def test_importing_the_same_file_twice_creates_nothing_and_sends_no_second_invitation(
    program, coordinator, django_capture_on_commit_callbacks
):
    _import(program, coordinator, GOOD_CSV, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    _invite(program, coordinator, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    after_first = _counts()
    sent = len(mail.outbox)

    second = roster_parse(program=program, data=GOOD_CSV.encode())
    result = _import(
        program, coordinator, GOOD_CSV, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
    )

    assert (second.create_count, second.update_count, second.unchanged_count) == (0, 0, 5)
    assert second.invitation_count == 0
    assert _counts() == after_first
    assert len(mail.outbox) == sent == 4
    assert (result.roster_import.created_count, result.roster_import.unchanged_count) == (0, 5)
    assert result.to_invite == 0


def test_a_double_submitted_confirm_applies_once(program, coordinator, django_capture_on_commit_callbacks):
    roster_import = roster_import_preview(
        program=program, uploaded_by=coordinator, filename="roster.csv", data=GOOD_CSV.encode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        roster_import_apply(roster_import=roster_import, actor=coordinator)
    after_first = _counts()

    with pytest.raises(ValidationError) as excinfo:
        roster_import_apply(roster_import=roster_import, actor=coordinator)

    assert excinfo.value.messages == ["This file has already been imported."]
    assert _counts() == after_first
    assert mail.outbox == []


def test_only_a_coordinator_of_the_program_can_apply(program, coordinator, other_coordinator):
    roster_import = roster_import_preview(
        program=program, uploaded_by=coordinator, filename="roster.csv", data=GOOD_CSV.encode()
    )
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        roster_import_apply(roster_import=roster_import, actor=other_coordinator)
    assert not User.objects.filter(email__in=NEW_EMAILS).exists()


def test_reimport_leaves_people_who_have_signed_in_as_they_are(
    program, coordinator, resident, django_capture_on_commit_callbacks
):
    # Alice has set a password: her name, zone and profile are hers, PGY year included.
    data = HEADER + "ALICE@hospital.example,Alicia,Adams-Smith,resident,PGY-2,,,America/Denver\n"

    preview = roster_parse(program=program, data=data.encode())
    _import(program, coordinator, data, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)

    assert (preview.rows[0].action, preview.rows[0].changes) == ("member", [])
    resident.refresh_from_db()
    assert (resident.first_name, resident.last_name, resident.time_zone) == ("Alice", "Adams", "America/New_York")
    assert resident.mentee_profile.career_stage.code == "PGY-1"
    assert mail.outbox == []  # she has a password: no invitation


def test_reimport_moves_up_a_year_the_programs_own_people_who_have_not_signed_in(
    program, coordinator, django_capture_on_commit_callbacks
):
    _import(program, coordinator, GOOD_CSV, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    data = HEADER + "ana.garcia@hospital.example,Ana,García,resident,PGY-2,,,\n"

    preview = roster_parse(program=program, data=data.encode())
    _import(program, coordinator, data, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)

    assert (preview.update_count, preview.rows[0].changes) == (1, ["PGY: PGY-1 (intern) → PGY-2"])
    assert User.objects.get(email="ana.garcia@hospital.example").mentee_profile.career_stage.code == "PGY-2"


def test_existing_user_from_another_program_is_asked_to_join_and_nothing_of_theirs_changes(
    program, coordinator, outsider, django_capture_on_commit_callbacks
):
    data = HEADER + f"{outsider.email},Olivia,Olsen,resident,PGY-3,,,\n"

    preview = roster_parse(program=program, data=data.encode())
    result = _import(program, coordinator, data, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)

    assert (preview.create_count, preview.invite_count, preview.rows[0].changes) == (0, 1, [])
    assert User.objects.filter(email=outsider.email).count() == 1
    assert set(outsider.memberships.values_list("program__slug", flat=True)) == {"gs"}
    # Asked only on the invite step, like everyone else.
    assert result.to_ask == 1 and not ProgramInvitation.objects.exists() and mail.outbox == []
    assert roster_services.roster_invitations(program).to_ask == 1

    invited = _invite(program, coordinator, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    again = _invite(program, coordinator, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)

    invitation = ProgramInvitation.objects.get(user=outsider)
    assert (invitation.program, invitation.role, invitation.status) == (program, "resident", "pending")
    assert (invitation.first_name, invitation.career_stage.code) == ("Olivia", "PGY-3")  # as the file said
    assert (invited.asked, again.asked) == (1, 0)
    assert [m.to for m in mail.outbox] == [[outsider.email]]
    assert roster_services.roster_invitations(program).to_ask == 0


# --- The invitation works end to end.


def test_invitation_link_sets_a_password_and_the_person_can_log_in(
    program, coordinator, client, django_capture_on_commit_callbacks
):
    _import(program, coordinator, GOOD_CSV, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    _invite(program, coordinator, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    message = next(m for m in mail.outbox if m.to == ["ana.garcia@hospital.example"])
    path = re.search(r"https?://[^/\s]+(/accounts/invitation/\S+/)", message.body).group(1)

    response = client.get(path, follow=True)  # the token moves out of the URL into the session
    assert response.status_code == 200 and response.context["validlink"]
    set_password_url = response.redirect_chain[-1][0]
    new_password = "a-long-and-private-phrase-7"
    response = client.post(set_password_url, {"new_password1": new_password, "new_password2": new_password})
    assert response.status_code == 302

    client.logout()
    response = client.post(
        reverse("accounts:login"), {"login": "ana.garcia@hospital.example", "password": new_password}
    )
    assert response.status_code == 302 and response.url == reverse("matching:dashboard")
    assert User.objects.get(email="ana.garcia@hospital.example").has_usable_password()


# --- Scale.


def test_a_5000_row_import_is_applied_in_bulk(program, coordinator, django_capture_on_commit_callbacks, monkeypatch):
    # The apply itself, in this process (a file this long otherwise goes to a task: test_roster_task.py).
    monkeypatch.setattr(roster_services, "BACKGROUND_ROWS", 10_000)
    stages = ["PGY-1", "PGY-2", "PGY-3", "PGY-4", "PGY-5"]
    lines = [HEADER]
    for n in range(4000):
        lines.append(f"resident{n}@hospital.example,Res{n},Ident,resident,{stages[n % 5]},,,\n")
    for n in range(1000):
        lines.append(f"faculty{n}@hospital.example,Fac{n},Ulty,faculty,,Internal Medicine,Professor,\n")
    data = "".join(lines).encode()
    before = _counts()

    started = time.perf_counter()
    roster_import = roster_import_preview(program=program, uploaded_by=coordinator, filename="big.csv", data=data)
    previewed = time.perf_counter()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = roster_import_apply(roster_import=roster_import, actor=coordinator)
    applied = time.perf_counter()
    # Measured on the development machine (SQLite): preview ≈ 0.1 s, apply ≈ 1 s, mostly the
    # bulk inserts (inviting is the roster's next step, one UPDATE per person).
    print(f"5,000 rows: preview {previewed - started:.2f}s, apply {applied - previewed:.2f}s")

    assert _counts() == (before[0] + 5000, before[1] + 5000, before[2] + 4000, before[3] + 1000)
    assert result.roster_import.created_count == 5000
    assert callbacks == []  # no invitation: that is the next step
    assert MenteeProfile.objects.filter(career_stage=CareerStage.objects.get(code="PGY-3")).count() == 800

    again = roster_parse(program=program, data=data)
    # Unchanged, and still to be invited: importing again invites no one either.
    assert (again.create_count, again.unchanged_count, again.invitation_count) == (0, 5000, 5000)
