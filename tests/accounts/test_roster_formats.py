"""What programs export, read as they are (accounts/roster.py: ``roster_read``, ``_read_header``):
header aliases, ignored columns named in a notice, a byte-order mark, semicolons, Windows-1252,
and .xlsx workbooks (good, damaged, password-protected, too long)."""

import datetime
import io

import openpyxl
import pytest

from accounts import roster
from accounts.roster import (
    CP1252_NOTICE,
    XLS_MESSAGE,
    XLSX_CORRUPT_MESSAGE,
    XLSX_PROTECTED_MESSAGE,
    roster_import_preview,
    roster_parse,
)

pytestmark = pytest.mark.django_db


def _xlsx(rows, *, sheets=None) -> bytes:
    """A workbook whose first sheet holds ``rows`` (lists of cell values), as Excel would save it."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Residents"
    for row in rows:
        sheet.append(row)
    for title in sheets or []:
        workbook.create_sheet(title).append(["not", "read"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- Headers.


@pytest.mark.parametrize(
    "header",
    [
        "Email Address,First Name,Last Name,Role,PGY Level",
        "E-mail,Given Name,Surname,Position,Post Graduate Year",
        "EMAIL_ADDRESS,first name,LAST-NAME,role,pgy",
        "  e-mail address ,First.Name,Family Name,Type,Training Level",
    ],
)
def test_headers_programs_export_are_read_by_their_aliases(program, header):
    data = f"{header}\nana.garcia@hospital.example,Ana,García,Resident,PGY 2\n"

    preview = roster_parse(program=program, data=data.encode())

    assert preview.errors == []
    row = preview.rows[0]
    assert (row.email, row.first_name, row.last_name, row.role, row.career_stage.code) == (
        "ana.garcia@hospital.example",
        "Ana",
        "García",
        "resident",
        "PGY-2",
    )


def test_the_notice_says_which_headers_were_read_as_which_column(program):
    data = "Email Address,First Name,Surname,role,PGY Level\na@hospital.example,A,B,resident,1\n"

    preview = roster_parse(program=program, data=data.encode())

    assert preview.notices == [
        # "First Name" is first_name but for case and spacing: not worth a mention.
        "Read “Email Address” as email, “Surname” as last_name, “PGY Level” as pgy."
    ]


def test_unknown_columns_are_ignored_and_named_and_their_values_are_not_checked(program):
    data = (
        "email,first_name,last_name,role,pgy,phone,start_date,medhub_id\n"
        "a@hospital.example,A,B,resident,PGY-1,not a phone,yesterday,??\n"
    )

    preview = roster_parse(program=program, data=data.encode())

    assert preview.errors == []
    assert preview.notices == ["Ignored 3 columns: phone, start_date, medhub_id."]
    assert len(preview.rows) == 1


@pytest.mark.parametrize(
    ("value", "role", "stage"),
    [
        ("Attending", "faculty", None),
        ("Teaching Faculty", "faculty", None),
        ("Intern", "resident", "PGY-1"),
        ("Fellow", "resident", "FELLOW"),
        ("House Staff", "resident", "PGY-1"),
    ],
)
def test_role_values_programs_use_are_read(program, value, role, stage):
    pgy = "" if stage in (None, "FELLOW") else "Intern"
    specialty = "Internal Medicine" if role == "faculty" else ""
    data = f"email,first_name,last_name,role,pgy,specialty\na@hospital.example,A,B,{value},{pgy},{specialty}\n"

    preview = roster_parse(program=program, data=data.encode())

    assert preview.errors == []
    assert preview.rows[0].role == role
    assert (preview.rows[0].career_stage.code if preview.rows[0].career_stage else None) == stage


def test_a_missing_column_names_its_aliases(program):
    preview = roster_parse(program=program, data=b"Name,Role\nAna,resident\n")

    assert [e.message for e in preview.errors] == [
        "Missing column: email (or a column named like E-mail, Email Address, E-mail Address).",
        "Missing column: first_name (or a column named like First Name, Given Name, First).",
        "Missing column: last_name (or a column named like Last Name, Surname, Family Name).",
    ]
    assert preview.notices == ["Ignored 1 column: Name."]


# --- Encodings and separators.


def test_a_byte_order_mark_and_semicolons_are_read(program):
    data = "\ufeffE-mail;First Name;Last Name;Role;PGY\na@hospital.example;Zoë;Ødegård;resident;PGY-3\n"

    preview = roster_parse(program=program, data=data.encode("utf-8"))

    assert preview.errors == []
    assert (preview.rows[0].first_name, preview.rows[0].last_name) == ("Zoë", "Ødegård")


def test_windows_1252_from_excel_is_detected_with_a_notice(program):
    # Excel on Windows, "CSV (Comma delimited)": é and “smart quotes” are single cp1252 bytes.
    text = "Email Address,First Name,Last Name,Role,PGY\nrene@hospital.example,René,“Lefèvre” O’Neil,resident,1\n"

    preview = roster_parse(program=program, data=text.encode("cp1252"))

    assert preview.errors == []
    assert (preview.rows[0].first_name, preview.rows[0].last_name) == ("René", "“Lefèvre” O’Neil")
    assert preview.notices[0] == CP1252_NOTICE


def test_utf8_is_not_mistaken_for_windows_1252(program):
    preview = roster_parse(
        program=program, data="email,first_name,last_name,role,pgy\na@h.example,René,L,resident,1\n".encode()
    )

    assert preview.rows[0].first_name == "René"
    assert CP1252_NOTICE not in preview.notices


# --- Workbooks.


def test_an_xlsx_is_read_from_its_first_sheet_with_numbers_and_dates_as_text(program):
    data = _xlsx(
        [
            ["Email Address", "Last Name", "First Name", "Position", "PGY Level", "Start Date", "Phone"],
            ["ana.garcia@hospital.example", "García", "Ana", "Resident", 1, datetime.datetime(2026, 7, 1), 5550100],
            ["ben.okafor@hospital.example", "Okafor", "Ben", "Resident", 2.0, None, None],
            [None, None, None, None, None, None, None],  # an empty row between: skipped
            ["rita.shah@hospital.example", "Shah", "Rita", "Attending", None, None, None, None],
            [None] * 7,
            [None] * 7,  # Excel's formatted, empty trailing rows
        ],
        sheets=["Faculty", "Notes"],
    )

    preview = roster_parse(program=program, data=data, filename="MedHub export.xlsx")

    # Rita is faculty without a specialty column: that is the file's only problem.
    assert [e.message for e in preview.errors] == ["Missing column: specialty (faculty need a specialty)."]
    read = roster.roster_read(filename="export.xlsx", data=data)
    assert read.text.splitlines()[1] == "ana.garcia@hospital.example,García,Ana,Resident,1,2026-07-01,5550100"
    assert read.notices == ("Read the first sheet, “Residents”, of 3; the others are ignored.",)


def test_an_xlsx_preview_is_kept_as_csv_text_and_names_what_it_ignored(program, coordinator):
    data = _xlsx(
        [
            ["Email Address", "Last Name", "First Name", "Position", "PGY Level", "medhub_id"],
            ["ana.garcia@hospital.example", "García", "Ana", "Resident", "PGY-1", 123],
        ]
    )

    roster_import = roster_import_preview(program=program, uploaded_by=coordinator, filename="r.xlsx", data=data)

    assert roster_import.content.startswith("Email Address,Last Name,First Name,Position,PGY Level,medhub_id\n")
    plan = roster.roster_import_plan(roster_import)
    assert plan.errors == [] and plan.create_count == 1
    assert "Ignored 1 column: medhub_id." in plan.notices


def test_a_workbook_renamed_to_csv_is_read_as_a_workbook(program):
    data = _xlsx([["email", "first_name", "last_name", "role", "pgy"], ["a@hospital.example", "A", "B", "resident", 3]])

    preview = roster_parse(program=program, data=data, filename="roster.csv")

    assert preview.errors == [] and preview.rows[0].career_stage.code == "PGY-3"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04" + b"\x00" * 200, XLSX_CORRUPT_MESSAGE),
        (b"this is not a workbook at all", XLSX_CORRUPT_MESSAGE),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200, XLSX_PROTECTED_MESSAGE),  # Excel's encrypted container
    ],
    ids=["damaged zip", "not a zip", "password-protected"],
)
def test_a_workbook_that_cannot_be_read_gets_one_plain_error(program, data, message):
    preview = roster_parse(program=program, data=data, filename="roster.xlsx")

    assert [e.message for e in preview.errors] == [message]


def test_a_zip_that_is_not_a_workbook_gets_the_plain_error(program):
    out = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")

    preview = roster_parse(program=program, data=out.getvalue(), filename="roster.xlsx")

    assert [e.message for e in preview.errors] == [XLSX_CORRUPT_MESSAGE]


def test_an_old_xls_is_refused_with_how_to_save_it(program):
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200

    as_xls = roster_parse(program=program, data=ole, filename="r.xls")
    renamed = roster_parse(program=program, data=ole, filename="r.csv")

    assert as_xls.errors[0].message.startswith("Choose a .csv or .xlsx file.")
    assert [e.message for e in renamed.errors] == [XLS_MESSAGE]


def test_an_xlsx_over_the_row_limit_is_refused_whole_without_reading_on(program, settings, monkeypatch):
    settings.ROSTER_MAX_ROWS = 50
    rows = [["email", "first_name", "last_name", "role", "pgy"]]
    rows += [[f"p{i}@hospital.example", "P", str(i), "resident", "PGY-1"] for i in range(2000)]
    data = _xlsx(rows)
    converted = []
    real = roster._xlsx_cell
    monkeypatch.setattr(roster, "_xlsx_cell", lambda v: converted.append(v) or real(v))

    preview = roster_parse(program=program, data=data, filename="big.xlsx")

    assert [e.message for e in preview.errors] == [
        "The file has more than 50 people in it; the limit is 50 rows per file. Split it into smaller files."
    ]
    assert len(converted) <= 5 * 52  # the header and 51 rows read, not 2,000


def test_an_xlsx_that_unpacks_too_large_is_refused_before_it_is_opened(program, monkeypatch):
    monkeypatch.setattr(roster, "XLSX_MAX_UNPACKED_BYTES", 1000)
    data = _xlsx([["email"], ["x" * 5000]])

    preview = roster_parse(program=program, data=data, filename="r.xlsx")

    assert [e.message for e in preview.errors] == [
        "This workbook is too large once unpacked. Keep only the roster's sheet and columns, "
        "or save it as CSV UTF-8 (Comma delimited)."
    ]


def test_an_empty_workbook_is_empty(program):
    preview = roster_parse(program=program, data=_xlsx([]), filename="r.xlsx")

    assert [e.message for e in preview.errors] == ["The file is empty."]
