"""The roster import pages: bad files are uploaded through the page, as a coordinator would,
and each test asserts the exact message shown and that nobody was imported. (The roster list
and its other pages are in test_roster.py, whose sample file differs.)"""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import (
    Membership,
    MenteeProfile,
    MentorProfile,
    RosterImport,
    User,
)
from accounts.roster import CP1252_NOTICE, NOT_UTF8_MESSAGE, XLSX_CORRUPT_MESSAGE, roster_import_apply

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


def _counts():
    return (
        User.objects.count(),
        Membership.objects.count(),
        MenteeProfile.objects.count(),
        MentorProfile.objects.count(),
    )


def _upload(client, program, data: bytes, filename="roster.csv"):
    """Upload through the page, following the redirect to the preview when there is one."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(filename, data, content_type="text/csv")
    return client.post(reverse("accounts:roster-import", args=[program.slug]), {"file": upload}, follow=True)


@pytest.fixture
def coordinator_client(client_for, coordinator):
    return client_for(coordinator)


# --- Bad files, through the page: the exact message, and nobody imported.


def _assert_preview_shows(response, message):
    assert response.status_code == 200
    assert response.templates[0].name == "accounts/roster/preview.html"
    assert message in response.content.decode()
    assert "Nothing can be imported yet" in response.content.decode()
    assert not re.search(r"<button[^>]*>(Add|Update|Ask) \d+", response.content.decode())


def test_import_rejects_a_missing_column_and_imports_nothing(program, coordinator_client):
    before = _counts()
    data = "first_name,last_name,role,pgy\nAna,García,resident,PGY-1\n"

    response = _upload(coordinator_client, program, data.encode())

    _assert_preview_shows(response, "Missing column: email (or a column named like E-mail, Email Address")
    assert _counts() == before


def test_import_rejects_a_bad_email_and_imports_nothing(program, coordinator_client):
    before = _counts()

    response = _upload(coordinator_client, program, (GOOD_CSV + "ana.garcia@,Ana,G,resident,PGY-1,,,\n").encode())

    _assert_preview_shows(response, "“ana.garcia@” is not a valid e-mail address.")
    assert _counts() == before


def test_import_rejects_a_duplicate_row_and_imports_nothing(program, coordinator_client):
    before = _counts()
    data = GOOD_CSV + "ANA.GARCIA@hospital.example,Ana,García,resident,PGY-2,,,\n"

    response = _upload(coordinator_client, program, data.encode())

    _assert_preview_shows(response, "Duplicate: ana.garcia@hospital.example is listed as resident on line 2 already.")
    assert _counts() == before


def test_import_rejects_unknown_specialty_and_imports_nothing(program, coordinator_client):
    before = _counts()
    data = HEADER + "x@hospital.example,Xu,Xi,faculty,,Cardiac Wizardry,,\n"

    response = _upload(coordinator_client, program, data.encode())

    _assert_preview_shows(
        response, "Unknown specialty “Cardiac Wizardry”. Use an ACGME specialty name, e.g. Internal Medicine."
    )
    assert _counts() == before


def test_import_rejects_unknown_pgy_and_imports_nothing(program, coordinator_client):
    before = _counts()
    data = HEADER + "x@hospital.example,Xu,Xi,resident,PGY-9,,,\n"

    response = _upload(coordinator_client, program, data.encode())

    _assert_preview_shows(response, "Unknown PGY value “PGY-9”. Use PGY-1 … PGY-7 or Fellow.")
    assert _counts() == before


def test_import_rejects_residents_without_a_pgy_column_and_imports_nothing(program, coordinator_client):
    before = _counts()
    data = "email,first_name,last_name,role\nx@hospital.example,Xu,Xi,resident\ny@hospital.example,Yu,Yi,resident\n"

    response = _upload(coordinator_client, program, data.encode())

    _assert_preview_shows(response, "Missing column: pgy (residents need a PGY year).")
    assert response.content.decode().count("Missing column: pgy") == 1  # once, not on every row
    assert _counts() == before


def test_import_reads_a_windows_1252_file_and_says_so(program, coordinator_client):
    # Excel's plain "CSV" on Windows: cp1252, where é and the “smart quotes” are single bytes UTF-8 cannot decode.
    data = (HEADER + "rene.lefevre@hospital.example,René,“Lefèvre”,resident,PGY-1,,,\n").encode("cp1252")

    response = _upload(coordinator_client, program, data)

    assert response.status_code == 200
    row = response.context["preview"].rows[0]
    assert (row.first_name, row.last_name) == ("René", "“Lefèvre”")
    assert response.context["preview"].notices == [CP1252_NOTICE]
    assert "The file was read as Windows-1252" in response.content.decode()
    assert "Lefèvre" in RosterImport.objects.get().content


def test_import_rejects_a_file_that_is_neither_utf8_nor_windows_1252_and_stores_nothing(program, coordinator_client):
    before = _counts()
    # 0x81 is unassigned in Windows-1252 and invalid alone in UTF-8.
    data = HEADER.encode() + b"x@hospital.example,Ren\x81,L,resident,PGY-1,,,\n"

    response = _upload(coordinator_client, program, data)

    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [NOT_UTF8_MESSAGE]
    assert "In Excel choose File › Save As › CSV UTF-8" in response.content.decode()
    assert _counts() == before
    assert not RosterImport.objects.exists()


def test_import_accepts_excel_utf8_with_bom(
    program, coordinator, coordinator_client, django_capture_on_commit_callbacks
):
    data = "\ufeff".encode() + GOOD_CSV.encode()

    response = _upload(coordinator_client, program, data)

    assert response.status_code == 200
    assert response.context["preview"].errors == []
    assert ">Add 5</button>" in response.content.decode()
    roster_import = RosterImport.objects.get()
    assert roster_import.content.startswith("email,")  # the mark is not kept
    with django_capture_on_commit_callbacks(execute=True):
        roster_import_apply(roster_import=roster_import, actor=coordinator)
    assert User.objects.get(email="ana.garcia@hospital.example").last_name == "García"


def test_import_rejects_an_empty_file_and_stores_nothing(program, coordinator_client):
    before = _counts()

    response = _upload(coordinator_client, program, b"")

    assert response.status_code == 400
    assert response.context["form"].errors["file"] == ["The file is empty."]
    assert _counts() == before
    assert not RosterImport.objects.exists()


def test_import_rejects_a_header_without_rows_and_imports_nothing(program, coordinator_client):
    before = _counts()

    response = _upload(coordinator_client, program, HEADER.encode())

    _assert_preview_shows(response, "The file has a header row but nobody in it.")
    assert _counts() == before


def test_import_rejects_an_oversize_file_and_stores_nothing(program, coordinator_client, settings):
    settings.ROSTER_MAX_UPLOAD_BYTES = 1000
    before = _counts()

    data = (HEADER + GOOD_ROWS * 10).encode()[:2048]

    response = _upload(coordinator_client, program, data)

    assert response.status_code == 400
    # Cut off while it streamed, before its size was known.
    assert response.context["form"].errors["file"] == [
        "The file is larger than the limit of 1000\xa0bytes. Split it into smaller files."
    ]
    assert _counts() == before
    assert not RosterImport.objects.exists()


def test_import_rejects_a_damaged_workbook_and_stores_nothing(program, coordinator_client):
    before = _counts()

    response = _upload(coordinator_client, program, b"PK\x03\x04" + b"\x00" * 100, filename="roster.xlsx")

    assert response.context["form"].errors["file"] == [XLSX_CORRUPT_MESSAGE]
    assert _counts() == before
    assert not RosterImport.objects.exists()


# --- Applying: all or nothing, once.


def test_one_bad_row_among_good_ones_imports_nothing(program, coordinator, coordinator_client):
    before = _counts()
    data = GOOD_CSV + "zed@hospital.example,Zed,Zee,resident,PGY-12,,,\n"
    response = _upload(coordinator_client, program, data.encode())
    _assert_preview_shows(response, "Unknown PGY value “PGY-12”.")

    # Posting the confirm form anyway (an old tab, a crafted request) is refused.
    roster_import = RosterImport.objects.get()
    response = coordinator_client.post(
        reverse("accounts:roster-import-preview", args=[program.slug, roster_import.pk]), follow=True
    )

    assert "The file has 1 problem(s); nothing was imported." in response.content.decode()
    assert _counts() == before
    assert mail.outbox == []
    roster_import.refresh_from_db()
    assert roster_import.status == RosterImport.Status.PREVIEWED
