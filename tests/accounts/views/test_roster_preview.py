"""The roster preview of a long file: counts and the confirm button first, every problem
listed before anything else, the rows a page at a time, and a confirm that applies the
whole kept file, and only the plan its button named."""

import re

import pytest
from django.urls import reverse

from accounts.models import Membership, RosterImport
from accounts.roster import roster_import_apply, roster_import_preview

pytestmark = pytest.mark.django_db

HEADER = "email,first_name,last_name,role,pgy,phone,start_date\n"


def _rows(count, start=0, pgy="PGY-1"):
    return "".join(
        f"r{i}@hospital.example,First{i},Last{i},resident,{pgy},555-01{i:02d},2026-07-01\n"
        for i in range(start, start + count)
    )


def _preview_url(program, roster_import, page=None):
    url = reverse("accounts:roster-import-preview", args=[program.slug, roster_import.pk])
    return f"{url}?page={page}" if page else url


def _members(program):
    return Membership.objects.filter(program=program).exclude(role=Membership.Role.COORDINATOR).count()


def _row_emails(page):
    """The addresses in the rows table, in the order shown."""
    table = page[page.index('<table aria-labelledby="rows-h"') :]
    table = table[: table.index("</table>")]
    cells = re.findall(r'<td data-label="E-mail" class="roster-email">(.+?)</td>', table)
    return [cell.replace("<wbr>", "") for cell in cells]  # the address may wrap at "@" and dots


@pytest.fixture
def client(client_for, coordinator):
    return client_for(coordinator)


@pytest.fixture
def big_import(program, coordinator):
    return roster_import_preview(
        program=program, uploaded_by=coordinator, filename="big.csv", data=(HEADER + _rows(120)).encode()
    )


def test_the_counts_and_the_confirm_button_come_before_the_rows(client, program, big_import):
    page = client.get(_preview_url(program, big_import)).content.decode()

    rows_at = page.index('<table aria-labelledby="rows-h"')
    assert page.index("<dt>To add</dt><dd>120</dd>") < rows_at
    assert page.index("<dt>Ignored columns</dt>") < rows_at
    buttons = [m.start() for m in re.finditer(r"<button type=\"submit\">Add 120</button>", page)]
    # One above the rows, where a phone sees it first, and one below for whoever read them all.
    assert len(buttons) == 2
    assert buttons[0] < rows_at < buttons[1]
    assert page.index("Upload a different file") < rows_at


def test_the_preview_shows_fifty_rows_a_page_and_says_the_button_imports_all(client, program, big_import):
    first = client.get(_preview_url(program, big_import)).content.decode()
    last = client.get(_preview_url(program, big_import, page=3)).content.decode()

    assert _row_emails(first) == [f"r{i}@hospital.example" for i in range(50)]
    assert _row_emails(last) == [f"r{i}@hospital.example" for i in range(100, 120)]
    assert "Rows 1–50 of 120" in first
    assert "The button imports all 120, not only this page." in first
    assert '<a href="?page=2" rel="next">' in first
    # Every page offers the same confirm: the whole file.
    assert '<input type="hidden" name="expected" value="Add 120">' in last


def test_confirming_from_a_page_of_the_preview_imports_every_row(client, program, big_import):
    page = client.get(_preview_url(program, big_import, page=3)).content.decode()
    action = re.search(r'<form method="post" action="([^"]+)" class="form-actions roster-confirm">', page).group(1)

    response = client.post(action, {"expected": "Add 120"}, follow=True)

    assert "Imported 120 rows from big.csv: 120 added, 0 updated, 0 unchanged." in response.content.decode()
    assert _members(program) == 120
    big_import.refresh_from_db()
    assert big_import.status == RosterImport.Status.APPLIED


def test_rows_that_change_people_come_before_new_and_unchanged_ones(client, program, coordinator):
    # Three people on the roster already; the new file moves the last of them to PGY-2.
    first = roster_import_preview(
        program=program, uploaded_by=coordinator, filename="a.csv", data=(HEADER + _rows(3)).encode()
    )
    roster_import_apply(roster_import=first, actor=coordinator)
    data = HEADER + _rows(2) + _rows(60, start=3) + _rows(1, start=2, pgy="PGY-2")
    second = roster_import_preview(program=program, uploaded_by=coordinator, filename="b.csv", data=data.encode())

    page = client.get(_preview_url(program, second)).content.decode()
    shown = _row_emails(page)

    assert shown[0] == "r2@hospital.example"  # the update, from the file's last line
    assert shown[1:] == [f"r{i}@hospital.example" for i in range(3, 52)]  # then the new people, in file order
    assert "r0@hospital.example" in _row_emails(client.get(_preview_url(program, second, page=2)).content.decode())
    assert ">Add 60, update 1</button>" in page


def test_every_problem_is_listed_first_even_in_a_long_file(client, program, coordinator):
    # 60 bad addresses at the end of a long file: more than a page of rows, all of them listed.
    data = HEADER + _rows(100) + "".join(f"bad{i}@,B{i},Ad{i},resident,PGY-1,,\n" for i in range(60))
    roster_import = roster_import_preview(
        program=program, uploaded_by=coordinator, filename="bad.csv", data=data.encode()
    )

    page = client.get(_preview_url(program, roster_import)).content.decode()

    problems_at = page.index("<caption>Problems</caption>")
    assert page.index("<table") == page.index("<table", problems_at - 200)  # the first table on the page
    assert page.index("Nothing can be imported yet: 60 problems in a file of 160 rows") < problems_at
    assert page.index("Upload a corrected file") < problems_at
    for i in range(60):
        assert f"“bad{i}@” is not a valid e-mail address." in page
    assert page.index("“bad59@”") < page.index("How the file was read")
    assert 'name="expected"' not in page


def test_a_confirm_is_refused_when_the_roster_changed_since_the_preview(client, program, coordinator, big_import):
    # Another coordinator imports some of the same people after this preview was shown.
    other = roster_import_preview(
        program=program, uploaded_by=coordinator, filename="other.csv", data=(HEADER + _rows(20)).encode()
    )
    roster_import_apply(roster_import=other, actor=coordinator)

    response = client.post(_preview_url(program, big_import), {"expected": "Add 120"}, follow=True)

    page = response.content.decode()
    assert "The roster changed since this preview" in page
    assert ">Add 100</button>" in page  # the new plan, to confirm again
    assert _members(program) == 20
    big_import.refresh_from_db()
    assert big_import.status == RosterImport.Status.PREVIEWED

    client.post(_preview_url(program, big_import), {"expected": "Add 100"})
    assert _members(program) == 120


def test_the_summary_counts_the_ignored_columns(client, program, big_import):
    page = client.get(_preview_url(program, big_import)).content.decode()

    assert '<dt>Ignored columns</dt><dd><a href="#notices-h">2</a></dd>' in page
    assert "Ignored 2 columns: phone, start_date." in page


def test_a_long_file_is_not_queued_when_the_roster_changed_since_the_preview(
    client, program, coordinator, big_import, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("accounts.roster.BACKGROUND_ROWS", 100)  # 120 rows go to the task
    other = roster_import_preview(
        program=program, uploaded_by=coordinator, filename="other.csv", data=(HEADER + _rows(20)).encode()
    )
    roster_import_apply(roster_import=other, actor=coordinator)

    with django_capture_on_commit_callbacks() as queued:
        response = client.post(_preview_url(program, big_import), {"expected": "Add 120"}, follow=True)

    assert "The roster changed since this preview" in response.content.decode()
    assert queued == []
    big_import.refresh_from_db()
    assert big_import.status == RosterImport.Status.PREVIEWED
