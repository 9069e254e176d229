"""Issue 15, the roster: filters kept in the session from an earlier visit are named, with a
way to clear them; and the import says plainly that the columns it ignores are not kept, so
they will not be in the export (we store only the columns we use)."""

import pytest
from django.urls import reverse

from accounts.roster import roster_import_preview

pytestmark = pytest.mark.django_db

NOTE = "Showing the filters from your last visit"


def _roster_url(program):
    return reverse("accounts:roster", args=[program.slug])


def _names(response):
    return [m.user.first_name for m in response.context["members"]]


@pytest.fixture
def client(client_for, coordinator):
    return client_for(coordinator)


@pytest.fixture
def kept_faculty_filter(client, program, resident, attending):
    """The coordinator filtered the roster to faculty on an earlier visit."""
    client.post(_roster_url(program), {"role": "faculty"})
    return client


def test_coming_back_to_a_filtered_roster_names_the_kept_filters_and_offers_to_clear_them(kept_faculty_filter, program):
    # Arriving from elsewhere: a bookmark, the program menu, the dashboard.
    page = kept_faculty_filter.get(_roster_url(program), HTTP_REFERER="http://testserver/")

    html = page.content.decode()
    assert _names(page) == ["Carol"]
    assert NOTE in html
    note = html[html.index('class="message message-info kept-filters-note"') :]
    note = note[: note.index("</form>")]
    assert 'name="clear"' in note and "Clear filters" in note


def test_clear_filters_shows_everyone_again_without_the_note(kept_faculty_filter, program):
    response = kept_faculty_filter.post(_roster_url(program), {"clear": "1"})
    page = kept_faculty_filter.get(response["Location"])

    assert response.status_code == 303
    assert _names(page) == ["Alice", "Carol"]
    assert NOTE not in page.content.decode()


def test_no_note_right_after_filtering_or_while_paging(kept_faculty_filter, program):
    # The browser's GET after the filter form's redirect, and a page link, come from the roster itself.
    same_page = f"http://testserver{_roster_url(program)}"

    after_filtering = kept_faculty_filter.get(_roster_url(program), HTTP_REFERER=same_page)
    paging = kept_faculty_filter.get(_roster_url(program), {"page": 1}, HTTP_REFERER=f"{same_page}?page=2")

    assert _names(after_filtering) == ["Carol"]
    assert NOTE not in after_filtering.content.decode()
    assert NOTE not in paging.content.decode()


def test_a_referer_from_another_site_with_the_same_path_does_not_hide_the_note(kept_faculty_filter, program):
    page = kept_faculty_filter.get(
        _roster_url(program), HTTP_REFERER=f"https://elsewhere.example{_roster_url(program)}"
    )

    assert NOTE in page.content.decode()


def test_no_note_when_no_filters_are_kept(client, program, resident):
    page = client.get(_roster_url(program))

    assert NOTE not in page.content.decode()


def test_the_preview_says_ignored_columns_are_not_kept_and_not_in_the_export(client, program, coordinator):
    roster_import = roster_import_preview(
        program=program,
        uploaded_by=coordinator,
        filename="medhub.csv",
        data=b"email,first_name,last_name,role,medhub_id\nann@hospital.example,Ann,Lee,resident,MH-1\n",
    )

    page = client.get(reverse("accounts:roster-import-preview", args=[program.slug, roster_import.pk]))

    html = page.content.decode()
    assert "Ignored 1 column: medhub_id." in html
    assert "This column is not kept." in html and "roster-ignored-not-kept" in html
    assert "will not be in the roster export" in html


def test_no_not_kept_warning_when_every_column_is_read(client, program, coordinator):
    roster_import = roster_import_preview(
        program=program,
        uploaded_by=coordinator,
        filename="roster.csv",
        data=b"email,first_name,last_name,role\nann@hospital.example,Ann,Lee,resident\n",
    )

    page = client.get(reverse("accounts:roster-import-preview", args=[program.slug, roster_import.pk]))

    assert "roster-ignored-not-kept" not in page.content.decode()


def test_the_import_page_says_other_columns_are_not_kept_or_exported(client, program):
    html = client.get(reverse("accounts:roster-import", args=[program.slug])).content.decode()

    assert "are ignored and not kept" in html
    assert "they will not be in the roster export" in html
