"""Issue 5's journeys: a coordinator reads and searches the audit trail and nudges a quiet pair;
an attending opens their mentoring portfolio and prints it."""

import zoneinfo
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import AcademicRank
from audit.models import AuditEntry
from matching.models import ActionItem, Meeting, Mentorship
from matching.services.conflicts import conflict_add
from matching.services.requests import request_accept, request_create, request_decline
from tests.factories import PASSWORD

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_coordinator_searches_the_trail_and_nudges_a_pair(
    page, shot, program, coordinator, resident, other_resident, attending, other_attending
):
    request = request_create(mentee=resident, mentor=attending, kind="career", message="Hello")
    mentorship = request_accept(request=request, actor=attending, note="Glad to")
    declined = request_create(mentee=other_resident, mentor=attending, kind="research", message="Hi")
    request_decline(request=declined, actor=attending, note="My research spots are full until July")
    conflict_add(
        program=program,
        actor=coordinator,
        mentee=other_resident,
        mentor=other_attending,
        reason="=Her program director",
    )

    log_in(page, coordinator.email, PASSWORD)
    page.get_by_role("link", name="Programs").click()
    page.get_by_role("link", name="Audit trail").first.click()
    page.get_by_role("heading", name="Audit trail").wait_for()
    shot("audit-trail")
    table = page.get_by_role("table")
    assert table.get_by_text("Kept a pair apart (conflict of interest)").count() == 1
    assert table.get_by_text("Declined a request").count() == 1

    page.get_by_label("Search:", exact=True).fill(resident.first_name)
    page.get_by_role("button", name="Search").click()
    page.get_by_text("matching entries").wait_for()
    shot("audit-search-alice")
    assert "?" not in page.url and resident.first_name not in page.url  # the search is POSTed, kept in the session
    assert page.get_by_role("table").get_by_text("Declined a request").count() == 0

    page.get_by_label("Kind of action:", exact=True).select_option(label="Conflicts of interest")
    page.get_by_label("Search:", exact=True).fill("")
    page.get_by_role("button", name="Search").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Export these 1 entries (CSV)").click()
    content = open(download.value.path(), "rb").read()
    assert content.startswith(b"\xef\xbb\xbf") and b"'=Her program director" in content

    # The pair has not met: nudge them from their mentorship page.
    page.goto(mentorship.get_absolute_url())
    shot("mentorship-with-nudge-button")
    page.get_by_role("button", name="Nudge to meet").click()
    page.get_by_text("each got a friendly e-mail reminder").wait_for()
    shot("nudged")
    assert page.get_by_text("Nudged recently").count() == 1
    assert AuditEntry.objects.filter(action="mentorship.nudge", actor=coordinator).count() == 1


def test_attending_prints_their_mentoring_portfolio(page, shot, program, resident, other_resident, attending):
    attending.mentor_profile.academic_rank = AcademicRank.objects.get(name="Associate Professor")
    attending.mentor_profile.save()
    now = timezone.now()
    year_ago = now - timedelta(days=300)
    alice = Mentorship.objects.create(mentee=resident, mentor=attending, program=program, started_at=year_ago)
    bob = Mentorship.objects.create(
        mentee=other_resident,
        mentor=attending,
        program=program,
        kind="research",
        started_at=year_ago,
        status="completed",
        ended_at=now - timedelta(days=20),
        thank_you_note="Thank you for a year of patient advice: the abstract got in!",
    )
    for i, (m, minutes) in enumerate([(alice, 30), (alice, 45), (bob, 60), (bob, 90)]):
        Meeting.objects.create(
            mentorship=m,
            proposed_by=m.mentee,
            status="held",
            start=now - timedelta(days=200 - 30 * i),
            duration_minutes=minutes,
        )
    ActionItem.objects.create(
        mentorship=bob,
        title="Submit the abstract to ACP",
        owner=other_resident,
        created_by=other_resident,
        status="done",
        completed_at=now - timedelta(days=60),
    )

    log_in(page, attending.email, PASSWORD)
    page.get_by_role("link", name="Your mentoring portfolio").click()
    today = timezone.localtime(now, zoneinfo.ZoneInfo(attending.time_zone)).date()
    page.get_by_label("From:", exact=True).fill((today - timedelta(days=365)).isoformat())
    page.get_by_label("To:", exact=True).fill(today.isoformat())
    page.get_by_role("button", name="Show").click()
    page.get_by_role("heading", name=f"Mentoring portfolio: {attending.full_name}").wait_for()
    # The button is shown by a deferred script: wait for it rather than look once.
    expect(page.get_by_role("button", name="Print or save as PDF")).to_be_visible()
    shot("portfolio")
    assert "3.75" in page.locator(".portfolio-totals").inner_text()  # 30 + 45 + 60 + 90 minutes

    page.emulate_media(media="print")
    shot("portfolio-print")
    assert not page.locator(".site-header").is_visible()
    assert not page.get_by_role("button", name="Print or save as PDF").is_visible()
