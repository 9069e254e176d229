"""Issue 2's journey: a coordinator imports a roster; a new resident accepts the
invitation and completes a profile. Screenshots land in artifacts/screenshots/."""

import re

import pytest
from django.core import mail

from accounts.models import MenteeProfile, User
from tests.factories import PASSWORD

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROSTER_CSV = """email,first_name,last_name,role,pgy,specialty,academic_rank,time_zone
priya.shah@hospital.example,Priya,Shah,resident,PGY-1,,,America/New_York
marcus.lee@hospital.example,Marcus,Lee,resident,PGY-2,,,
helen.okafor@hospital.example,Helen,Okafor,faculty,,Internal Medicine,Associate Professor,
"""


def test_coordinator_imports_roster_and_resident_completes_profile(page, shot, program, coordinator, tmp_path):
    roster_file = tmp_path / "roster.csv"
    roster_file.write_text(ROSTER_CSV, encoding="utf-8")

    # The coordinator imports the roster.
    log_in(page, coordinator.email, PASSWORD)
    page.get_by_role("heading", name="Programs you coordinate").wait_for()
    shot("coordinator-dashboard")
    page.get_by_role("link", name="Import your roster").click()
    page.get_by_label("Roster file (.xlsx or .csv)").set_input_files(str(roster_file))
    page.get_by_role("button", name="Check the file").click()
    # The confirm is above the rows and again below them: the first one.
    page.get_by_role("button", name="Add 3").first.wait_for()
    shot("import-preview")
    page.get_by_role("button", name="Add 3").first.click()
    page.get_by_text("Priya").first.wait_for()
    shot("roster-after-import")
    assert User.objects.filter(memberships__program=program).distinct().count() == 4  # three imported + the coordinator
    assert mail.outbox == []  # importing e-mails no one; inviting is the next step
    page.get_by_role("button", name="Invite the 3 people who have not been invited").click()
    page.get_by_text("Invitations are on their way to 3 people.").wait_for()
    page.get_by_role("button", name="Log out").click()

    # Priya follows the link in her invitation and sets a password.
    invitation = next(m for m in mail.outbox if m.to == ["priya.shah@hospital.example"])
    link = re.search(r"https?://\S+/accounts/invitation/\S+/", invitation.body).group(0)
    page.goto(re.sub(r"^https?://[^/]+", "", link))
    page.get_by_role("heading", name="Welcome to MentorMatch").wait_for()
    page.get_by_label("New password:", exact=True).fill("sunrise-rounds-2026")
    page.get_by_label("New password confirmation:").fill("sunrise-rounds-2026")
    shot("set-first-password")
    page.get_by_role("button", name="Set password and continue").click()

    # Her dashboard says what her profile lacks; she completes it.
    page.get_by_text("Your mentee profile is").wait_for()
    shot("resident-dashboard-incomplete")
    page.get_by_role("link", name="Complete your mentee profile").first.click()
    page.get_by_label("Fellowship application", exact=True).check()
    page.get_by_label("Research", exact=True).check()
    page.get_by_label("Point-of-care ultrasound").check()
    page.get_by_label("English", exact=True).check()
    page.get_by_label("Video", exact=True).check()
    page.get_by_label("What you hope to get from mentorship").fill(
        "Advice on a cardiology fellowship and a first research project."
    )
    shot("mentee-profile-form")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Your mentee profile is saved.").wait_for()

    page.get_by_role("link", name="Edit availability").click()
    page.locator("select[name='form-0-weekday']").select_option(label="Tuesday")
    page.locator("input[name='form-0-start']").fill("18:00")
    page.locator("input[name='form-0-end']").fill("19:30")
    page.get_by_role("button", name="Save availability").click()
    page.get_by_text("Your weekly availability is saved.").wait_for()
    shot("resident-profile")

    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("link", name="Find a mentor").first.wait_for()
    assert page.get_by_text("Your mentee profile is").count() == 0
    shot("resident-dashboard-complete")

    profile = MenteeProfile.objects.get(user__email="priya.shah@hospital.example")
    assert profile.career_stage.code == "PGY-1"
    assert set(profile.goals.values_list("slug", flat=True)) == {"fellowship-application", "research"}


def test_wrong_password_shows_error_and_keeps_email(page, shot, resident):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(resident.email)
    page.get_by_label("Password").fill("not-my-password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("alert").wait_for()
    shot("login-error")
    assert page.get_by_label("E-mail").input_value() == resident.email
    assert "match an account" in page.get_by_role("alert").inner_text()
