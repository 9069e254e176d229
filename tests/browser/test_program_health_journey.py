"""Issue 5's journey: a coordinator opens the dashboard, goes to program health, follows
"PGY-1s have no career mentor" to the list, assigns a mentor with a reason, and finds the
entry in the audit trail."""

import re

import pytest
from playwright.sync_api import expect

from audit.models import AuditEntry
from matching.models import Mentorship
from tests.factories import PASSWORD, MembershipFactory, MenteeProfileFactory, UserFactory

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "Asked for a cardiology mentor at orientation."


def test_coordinator_follows_the_gap_assigns_a_mentor_and_sees_the_audit_entry(
    page, shot, program, coordinator, resident, attending
):
    for first in ("Priya", "Marcus"):  # two more PGY-1s without a mentor
        intern = UserFactory(first_name=first, last_name="Intern")
        MembershipFactory(user=intern, program=program, role="resident")
        MenteeProfileFactory(user=intern)

    log_in(page, coordinator.email, PASSWORD)
    page.get_by_role("link", name="Program health").first.click()
    expect(page.get_by_role("heading", name="Program health")).to_be_visible()
    shot("health")

    page.get_by_role("link", name="3 PGY-1s have no career mentor").click()
    expect(page.get_by_role("heading", name="Residents with no career mentor")).to_be_visible()
    assert re.search(r"unpaired=career&pgy=PGY-1$", page.url), page.url
    shot("no-career-mentor")

    row = page.get_by_role("row").filter(has_text=resident.full_name)
    row.get_by_text("Assign a mentor").click()
    # The assign form has a page of its own, which keeps the list's filters for the way back.
    expect(page.get_by_role("heading", name=f"Assign a mentor to {resident.full_name}")).to_be_visible()
    mentor_select = page.get_by_label("Mentor:", exact=True)
    option = mentor_select.locator("option", has_text=attending.full_name).text_content()  # with open spots
    mentor_select.select_option(label=option)
    page.get_by_label("Kind of mentorship").select_option(label="Career")
    page.get_by_label("Reason (kept in the audit trail)").fill(REASON)
    shot("assign-form")
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_text(f"{resident.full_name}'s career mentor is now {attending.full_name}")).to_be_visible()
    assert re.search(r"unpaired=career&pgy=PGY-1$", page.url), page.url  # back on the same filtered list
    expect(page.get_by_role("row").filter(has_text=resident.full_name)).to_have_count(0)
    shot("assigned")
    assert Mentorship.objects.filter(mentee=resident, mentor=attending, kind="career", status="active").exists()

    page.get_by_role("navigation", name=program.name).get_by_role("link", name="Audit trail").click()
    entry = page.get_by_role("row").filter(has_text=REASON)
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Started a mentorship")
    expect(entry).to_contain_text(coordinator.full_name)
    shot("audit-trail")
    assert AuditEntry.objects.filter(
        program=program, actor=coordinator, action="mentorship.start", reason=REASON
    ).exists()
