"""Issue 15's roster journey: a coordinator imports what the program's system exported, an
Excel-saved .xlsx with aliased headers and extra columns, sees what was understood, applies
it (no one is e-mailed) and invites everyone in one click. At a desktop and a phone size."""

import io

import openpyxl
import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import Membership
from tests.factories import PASSWORD

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PEOPLE = [
    # Last Name, First Name, Email Address, Position, PGY Level, Specialty, Phone, Start Date, MedHub ID
    ("García", "Renée", "renee.garcia@hospital.example", "Resident", 1, None, "555-0101", "2026-07-01", 9001),
    ("Okafor", "Ben", "ben.okafor@hospital.example", "Resident", 2, None, "555-0102", "2025-07-01", 9002),
    ("O’Neil", "Siobhán", "siobhan.oneil@hospital.example", "Resident", 3.0, None, None, None, 9003),
    ("Shah", "Rita", "rita.shah@hospital.example", "Attending", None, "Internal Medicine", None, None, 9004),
]


def _workbook(path):
    """What Excel saves: a first sheet with the export's headers, numbers as numbers, a
    formatted empty row at the end, and a second sheet that is not read."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Roster"
    sheet.append(
        [
            "Last Name",
            "First Name",
            "Email Address",
            "Position",
            "PGY Level",
            "Specialty",
            "Phone",
            "Start Date",
            "medhub_id",
        ]
    )
    for row in PEOPLE:
        sheet.append(list(row))
    sheet.append([None] * 9)
    workbook.create_sheet("Notes").append(["Exported from MedHub"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_a_roster_from_an_excel_saved_xlsx_with_extra_columns(page, shot, program, coordinator, tmp_path, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    workbook = _workbook(tmp_path / "MedHub roster export.xlsx")

    log_in(page, coordinator.email, PASSWORD)
    page.goto(f"/programs/{program.slug}/roster/")
    page.get_by_role("link", name="Import a roster").click()
    shot("import-page")
    page.get_by_label("Roster file (.xlsx or .csv)").set_input_files(str(workbook))
    page.get_by_role("button", name="Check the file").click()

    # The preview says how it read the file and what it understood of each row.
    notices = page.get_by_role("region", name="How the file was read")
    expect(notices).to_contain_text("Read the first sheet, “Roster”, of 2")
    expect(notices).to_contain_text("Ignored 3 columns: Phone, Start Date, medhub_id.")
    expect(notices).to_contain_text("“Email Address” as email")
    table = page.get_by_role("table", name="What the file says, as read")
    expect(table).to_contain_text("García, Renée")
    expect(table).to_contain_text("O’Neil, Siobhán")
    expect(table).to_contain_text("PGY-3")
    expect(table).to_contain_text("Internal Medicine")
    # The confirm sits above the rows and again below them.
    expect(page.get_by_role("button", name="Add 4")).to_have_count(2)
    apply = page.get_by_role("button", name="Add 4").first
    expect(apply).to_be_in_viewport()
    shot("preview")

    apply.click()
    expect(page.get_by_text("No one has been e-mailed")).to_be_visible()
    assert Membership.objects.filter(program=program).exclude(role="coordinator").count() == 4
    assert mail.outbox == []
    invite = page.get_by_role("button", name="Invite the 4 people who have not been invited")
    expect(invite).to_be_visible()
    shot("roster-to-invite")

    invite.click()
    expect(page.get_by_text("Invitations are on their way to 4 people.")).to_be_visible()
    expect(page.get_by_role("button", name="Invite the 4 people who have not been invited")).to_have_count(0)
    shot("roster-invited")
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p[2] for p in PEOPLE)
    # Nothing on the page is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]


def test_a_430_row_preview_fits_a_phone_with_the_confirm_on_the_first_screen(
    page, shot, program, coordinator, tmp_path
):
    """A program's whole roster at once: the phone's preview is a few screens of counts, the
    confirm and a page of rows, not 60,000 px of cards with the button at the very end."""
    page.set_viewport_size({"width": 390, "height": 844})
    rows = "".join(
        f"person{i}@hospital.example,First{i},Lastname-{i},{'faculty' if i % 4 == 0 else 'resident'},"
        f"{'' if i % 4 == 0 else f'PGY-{i % 3 + 1}'},{'Internal Medicine' if i % 4 == 0 else ''},555-{i:04d}\n"
        for i in range(430)
    )
    csv_file = tmp_path / "everyone.csv"
    csv_file.write_text("email,first_name,last_name,role,pgy,specialty,phone\n" + rows)

    log_in(page, coordinator.email, PASSWORD)
    page.goto(f"/programs/{program.slug}/roster/import/")
    page.get_by_label("Roster file (.xlsx or .csv)").set_input_files(str(csv_file))
    page.get_by_role("button", name="Check the file").click()

    apply = page.get_by_role("button", name="Add 430").first
    expect(apply).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollHeight") < 8000
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.get_by_role("navigation", name=program.name).get_by_role("link", name="Roster")).to_have_attribute(
        "aria-current", "page"
    )
    shot("preview-430-phone")

    page.get_by_role("link", name="Next →").click()
    expect(page.get_by_text("Rows 51–100 of 430")).to_be_visible()
    page.get_by_role("button", name="Add 430").last.click()
    expect(page.get_by_text("Imported 430 rows from everyone.csv: 430 added")).to_be_visible()
    assert Membership.objects.filter(program=program).exclude(role="coordinator").count() == 430
