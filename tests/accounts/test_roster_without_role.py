"""A residents-only export with no role column (MedHub: Last Name, First Name, Email Address,
PGY Level, medhub_id): the rows with a PGY level are read as residents and the preview says so;
a row without one needs a role. And a file refused for its header still says how many rows it has."""

import pytest
from django.urls import reverse

from accounts.models import Membership
from accounts.roster import roster_import_preview, roster_parse

pytestmark = pytest.mark.django_db

MEDHUB = "Last Name,First Name,Email Address,PGY Level,medhub_id\n"


def _residents(count):
    return "".join(f"Last{i},First{i},r{i}@hospital.example,PGY-{i % 3 + 1},MH{100000 + i}\n" for i in range(count))


def test_without_a_role_column_the_rows_with_a_pgy_level_are_residents(program):
    preview = roster_parse(program=program, data=(MEDHUB + _residents(150)).encode())

    assert preview.errors == []
    assert preview.record_count == 150 and len(preview.rows) == 150
    assert {row.role for row in preview.rows} == {Membership.Role.RESIDENT}
    assert [row.career_stage.code for row in preview.rows[:3]] == ["PGY-1", "PGY-2", "PGY-3"]
    assert "No role column: the 150 rows with a PGY level are read as residents." in preview.notices


def test_without_a_role_column_a_row_with_no_pgy_level_needs_a_role(program):
    data = MEDHUB + _residents(2) + "Shah,Rita,rita.shah@hospital.example,,MH9\n"

    preview = roster_parse(program=program, data=data.encode())

    assert [(e.line, e.column) for e in preview.errors] == [(4, "role")]
    assert preview.errors[0].message == (
        "No PGY level, and the file has no role column: give this row a PGY level if they are a resident, "
        "or add a role column (resident or faculty)."
    )
    assert preview.record_count == 3
    assert "No role column: the 2 rows with a PGY level are read as residents." in preview.notices


def test_a_role_column_still_decides_when_there_is_one(program):
    # Faculty with a PGY (a near-peer mentor) stays faculty: the PGY reading is only for files without roles.
    data = "email,first_name,last_name,role,pgy,specialty\na@hospital.example,A,B,faculty,PGY-3,Internal Medicine\n"

    preview = roster_parse(program=program, data=data.encode())

    assert preview.errors == [] and preview.rows[0].role == Membership.Role.FACULTY
    assert not any(notice.startswith("No role column") for notice in preview.notices)


def test_without_role_or_pgy_column_the_role_column_is_missing_and_the_rows_are_counted(program):
    data = "Last Name,First Name,Email Address,medhub_id\n" + "".join(
        f"L{i},F{i},p{i}@hospital.example,MH{i}\n" for i in range(150)
    )

    preview = roster_parse(program=program, data=data.encode())

    assert [e.message for e in preview.errors] == [
        "Missing column: role (or a column named like Role, Position, Position Type; a file of residents only "
        "may have a PGY column instead)."
    ]
    # The file is refused for its header, yet its length is the real one (it said 0).
    assert preview.record_count == 150


def test_the_preview_page_says_how_the_residents_were_read(client_for, coordinator, program):
    kept = roster_import_preview(
        program=program, uploaded_by=coordinator, filename="medhub.csv", data=(MEDHUB + _residents(150)).encode()
    )
    url = reverse("accounts:roster-import-preview", args=[program.slug, kept.pk])

    page = client_for(coordinator).get(url).content.decode()

    assert "No role column: the 150 rows with a PGY level are read as residents." in page
    assert "<dt>To add</dt><dd>150</dd>" in page


def test_a_preview_refused_for_its_header_shows_the_real_row_count(client_for, coordinator, program):
    data = "Last Name,First Name,Email Address\n" + "".join(f"L{i},F{i},p{i}@hospital.example\n" for i in range(7))
    kept = roster_import_preview(program=program, uploaded_by=coordinator, filename="x.csv", data=data.encode())
    url = reverse("accounts:roster-import-preview", args=[program.slug, kept.pk])

    page = client_for(coordinator).get(url).content.decode()

    assert "Missing column: role" in page
    assert "in a file of 7 rows" in page
    assert "<dt>Rows in the file</dt><dd>7</dd>" in page
