"""Issue 15, programs in the product: the site's superuser (who passes the institution
administrator's rule) goes from the Programs page to the institution, creates a program,
edits it, adds a coordinator by e-mail; the new coordinator follows the invitation and their
roster page opens. At a desktop and a phone size."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import InstitutionRole, Membership, Program, User
from audit.models import AuditEntry
from tests.factories import PASSWORD, MembershipFactory, UserFactory

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT_PASSWORD = "night-float-ledger-77"


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_a_superuser_creates_a_program_and_names_its_coordinator(page, shot, program, coordinator, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    User.objects.create_superuser("admin@hospital.example", ROOT_PASSWORD, first_name="Site", last_name="Admin")
    mail.outbox.clear()

    log_in(page, "admin@hospital.example", ROOT_PASSWORD)
    page.goto("/programs/")
    expect(page.get_by_text("Your institution: General Hospital")).to_be_visible()
    shot("programs-page")
    page.get_by_role("link", name="manage programs").click()
    expect(page.get_by_role("heading", name="General Hospital", level=1)).to_be_visible()
    expect(page.get_by_text("Cora Cole")).to_be_visible()  # the existing program's coordinator
    shot("institution")

    # A 500-character name and a Martian time zone are refused beside their fields.
    page.get_by_role("link", name="New program").click()
    # (The field's maxlength stops a browser at 200; a pasted or scripted name may not be.)
    page.locator("#id_name").evaluate("input => input.removeAttribute('maxlength')")
    page.get_by_label("Name").fill("x" * 500)
    page.get_by_label("Specialty").select_option(label="General Surgery")
    page.locator("#id_time_zone").evaluate(
        "select => { const o = new Option('Mars/Base', 'Mars/Base'); select.add(o); select.value = 'Mars/Base'; }"
    )
    page.get_by_role("button", name="Create program").click()
    expect(page.get_by_text("at most 200 characters").first).to_be_visible()
    expect(page.get_by_text("“Mars/Base” is not a time zone we know").first).to_be_visible()
    shot("new-program-errors")

    page.get_by_label("Name").fill("General Surgery Residency")
    page.get_by_label("Time zone").select_option("America/Chicago")
    page.get_by_role("button", name="Create program").click()
    expect(page.get_by_text("General Surgery Residency is created.")).to_be_visible()
    created = Program.objects.get(name="General Surgery Residency")
    assert (created.slug, created.time_zone, created.institution) == (
        "general-surgery-residency",
        "America/Chicago",
        program.institution,
    )

    # Edit: a new name, the slug stays.
    page.get_by_role("link", name="Edit program").click()
    page.get_by_label("Name").fill("Surgery Residency")
    shot("edit-program")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Surgery Residency is saved.")).to_be_visible()
    created.refresh_from_db()
    assert (created.name, created.slug) == ("Surgery Residency", "general-surgery-residency")

    # A coordinator by e-mail: nobody has this address, so an account and an invitation.
    page.get_by_role("link", name="Coordinators of Surgery Residency").click()
    page.get_by_label("E-mail address").fill("sam.surgeon@hospital.example")
    page.get_by_role("button", name="Add coordinator").click()
    expect(page.get_by_text("give their first name").first).to_be_visible()
    page.get_by_label("First name").fill("Sam")
    page.get_by_label("Last name").fill("Surgeon")
    page.get_by_role("button", name="Add coordinator").click()
    expect(page.get_by_text("Sam Surgeon now coordinates Surgery Residency")).to_be_visible()
    shot("coordinators")
    assert AuditEntry.objects.filter(program=created, action="program.coordinator_add").count() == 1
    page.context.clear_cookies()  # log out (on a phone the button is in the menu)

    # Sam follows the invitation and opens the roster of the program.
    invitation = next(m for m in mail.outbox if m.to == ["sam.surgeon@hospital.example"])
    assert "Surgery Residency" in invitation.subject
    link = re.search(r"https?://\S+/accounts/invitation/\S+/", invitation.body).group(0)
    page.goto(re.sub(r"^https?://[^/]+", "", link))
    page.get_by_label("New password:", exact=True).fill("scrub-in-sunrise-2026")
    page.get_by_label("New password confirmation:").fill("scrub-in-sunrise-2026")
    page.get_by_role("button", name="Set password and continue").click()
    page.wait_for_url(re.compile(r"^(?!.*invitation).*$"))
    page.goto("/programs/")
    page.get_by_role("link", name="Surgery Residency").first.click()
    expect(page.get_by_role("heading", name="Roster")).to_be_visible()
    expect(page.get_by_text("Surgery Residency · General Hospital")).to_be_visible()
    shot("new-coordinators-roster")
    sam = User.objects.get(email="sam.surgeon@hospital.example")
    assert Membership.objects.filter(user=sam, program=created, role="coordinator").exists()


# Long, unbroken words: what widened the phone page before (a coordinator's address in the
# programs' cards was as wide as its longest word).
LONG_EMAIL = "christopher.alexander.montgomery-wellington@department-of-surgery.general-hospital.example"


def test_an_administrator_finds_the_institution_in_the_menu_and_no_page_scrolls_sideways(
    page, shot, program, coordinator
):
    """Iris administers General Hospital and coordinates nothing: the main menu has the
    institution's page. At 390 px no institution page is wider than the screen; tables become
    cards, long addresses wrap."""
    page.set_viewport_size({"width": 390, "height": 844})
    iris = UserFactory(email="iris@hospital.example", first_name="Iris", last_name="Ito")
    InstitutionRole.objects.create(institution=program.institution, user=iris)
    wide = UserFactory(email=LONG_EMAIL, first_name="", last_name="")
    MembershipFactory(user=wide, program=program, role=Membership.Role.COORDINATOR)
    long_name = Program.objects.create(
        institution=program.institution,
        name="Cardiothoracic Surgery Integrated Residency Program at General Hospital Main Campus",
        slug="cardiothoracic-surgery-integrated-residency-program-general-main",
        specialty=program.specialty,
        time_zone="America/Argentina/ComodRivadavia",
    )

    log_in(page, iris.email, PASSWORD)
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Institution").click()
    expect(page.get_by_role("heading", name="General Hospital", level=1)).to_be_visible()
    expect(page.get_by_text(LONG_EMAIL)).to_be_visible()

    pages = [f"/institutions/{program.institution.slug}/", f"/institutions/{program.institution.slug}/programs/new/"]
    for slug in (program.slug, long_name.slug):
        pages += [f"/programs/{slug}/edit/", f"/programs/{slug}/coordinators/"]
    for url in pages:
        page.goto(url)
        expect(page.locator("h1")).to_be_visible()
        width, screen = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
        assert width <= screen, f"{url} is {width} px wide on a {screen} px screen"
        shot(re.sub(r"\W+", "-", url.strip("/")))
