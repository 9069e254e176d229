"""Roster pages: who may see them, the list and its filters, export, template, re-invite."""

import csv
import io

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import CareerStage, Membership, RosterImport
from accounts.roster import roster_import_preview
from core.csv import csv_safe
from tests.factories import MembershipFactory, MenteeProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

GOOD_CSV = (
    "email,first_name,last_name,role,pgy,specialty\n"
    "ana.garcia@hospital.example,Ana,García,resident,PGY-1,\n"
    "rita.shah@hospital.example,Rita,Shah,faculty,,Internal Medicine\n"
)


def _url(name, program, *args):
    return reverse(f"accounts:{name}", args=[program.slug, *args])


def _roster_urls(program, roster_import, membership):
    return {
        "roster": ("get", _url("roster", program)),
        "roster-export": ("get", _url("roster-export", program)),
        "roster-template": ("get", _url("roster-template", program)),
        "roster-import": ("get", _url("roster-import", program)),
        "roster-import-preview": ("get", _url("roster-import-preview", program, roster_import.pk)),
        "roster-import-apply": ("post", _url("roster-import-preview", program, roster_import.pk)),
        "roster-reinvite": ("post", _url("roster-reinvite", program, membership.pk)),
    }


PAGES = [
    "roster",
    "roster-export",
    "roster-template",
    "roster-import",
    "roster-import-preview",
    "roster-import-apply",
    "roster-reinvite",
]


@pytest.fixture
def program_b_pages(other_program, other_coordinator, outsider):
    roster_import = roster_import_preview(
        program=other_program, uploaded_by=other_coordinator, filename="gs.csv", data=GOOD_CSV.encode()
    )
    membership = Membership.objects.get(user=outsider, program=other_program)
    return _roster_urls(other_program, roster_import, membership)


@pytest.fixture
def program_a_pages(program, coordinator, resident):
    roster_import = roster_import_preview(
        program=program, uploaded_by=coordinator, filename="im.csv", data=GOOD_CSV.encode()
    )
    membership = Membership.objects.get(user=resident, program=program)
    return _roster_urls(program, roster_import, membership)


# --- Who may see what.


@pytest.mark.parametrize("page", PAGES)
def test_coordinator_of_program_a_gets_404_for_program_b(page, client_for, coordinator, program_b_pages):
    method, url = program_b_pages[page]

    response = getattr(client_for(coordinator), method)(url)

    assert response.status_code == 404
    assert RosterImport.objects.get().status == RosterImport.Status.PREVIEWED
    assert mail.outbox == []


def test_coordinator_cannot_reach_program_bs_import_through_program_as_url(client_for, coordinator, program):
    """The import id is looked up within the program in the URL, not on its own."""
    other = roster_import_preview(program=program, uploaded_by=coordinator, filename="a.csv", data=GOOD_CSV.encode())
    from accounts.models import Program

    gs = Program.objects.create(name="GS", slug="gs2", specialty=program.specialty, institution=program.institution)
    MembershipFactory(user=coordinator, program=gs, role=Membership.Role.COORDINATOR)

    response = client_for(coordinator).get(_url("roster-import-preview", gs, other.pk))

    assert response.status_code == 404


@pytest.mark.parametrize("persona", ["resident", "attending"])
@pytest.mark.parametrize("page", PAGES)
def test_residents_and_attendings_get_403_on_roster_pages(page, persona, request, client_for, program_a_pages):
    method, url = program_a_pages[page]

    response = getattr(client_for(request.getfixturevalue(persona)), method)(url)

    # core/access.py: they belong to the program, so they know it exists.
    assert response.status_code == 403


@pytest.mark.parametrize("persona", ["resident", "attending"])
def test_residents_and_attendings_get_403_on_the_program_list(persona, request, client_for):
    response = client_for(request.getfixturevalue(persona)).get(reverse("accounts:programs"))

    assert response.status_code == 403


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_visitors_are_sent_to_log_in(page, client, program_a_pages):
    method, url = program_a_pages[page]

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login") + "?next=")


def test_program_list_shows_only_the_programs_a_coordinator_coordinates(client_for, coordinator, other_program):
    response = client_for(coordinator).get(reverse("accounts:programs"))

    assert response.status_code == 200
    assert "Internal Medicine Residency" in response.content.decode()
    assert "General Surgery Residency" not in response.content.decode()


def test_a_superuser_sees_every_program_on_the_program_list_and_in_the_api(
    client_for, api_for, program, other_program, coordinator
):
    """The rules let a superuser into every program's pages; the Programs link lists them all,
    not only those they coordinate (none, here), and the API's list says the same."""
    admin = UserFactory(email="root@hospital.example", is_superuser=True, is_staff=True)
    client = client_for(admin)

    body = client.get(reverse("accounts:programs")).content.decode()

    assert "All programs" in body and "You coordinate no program" not in body
    for listed in (program, other_program):
        assert reverse("accounts:roster", args=[listed.slug]) in body
        assert client.get(reverse("accounts:roster", args=[listed.slug])).status_code == 200
    slugs = [p["slug"] for p in api_for(admin).get("/api/v1/programs/").json()["results"]]
    assert slugs == [other_program.slug, program.slug]  # by name: General Surgery, Internal Medicine
    # A coordinator's list is unchanged: their own program only.
    assert [p["slug"] for p in api_for(coordinator).get("/api/v1/programs/").json()["results"]] == [program.slug]


# --- The roster list.


@pytest.fixture
def roster(program, resident, other_resident, attending, coordinator):
    """Alice (active), Bob (PGY-3, invited), Carol (faculty, active), Ned (not invited)."""
    bob_profile = other_resident.mentee_profile
    bob_profile.career_stage = CareerStage.objects.get(code="PGY-3")
    bob_profile.save()
    other_resident.set_unusable_password()
    other_resident.invited_at = timezone.now()
    other_resident.save()
    ned = UserFactory(email="ned@hospital.example", first_name="Ned", last_name="Nash", password="!unusable")
    MembershipFactory(user=ned, program=program, role=Membership.Role.RESIDENT)
    MenteeProfileFactory(user=ned)
    return {"alice": resident, "bob": other_resident, "carol": attending, "ned": ned}


def _search(client, program, query):
    """The roster after submitting its filter form: a POST, then the page it redirects to (or,
    for invalid filters, the POST's own answer with the errors)."""
    return client.post(_url("roster", program), query, follow=True)


def _names(response):
    return [m.user.first_name for m in response.context["members"]]


def test_roster_lists_residents_and_faculty_but_not_coordinators(client_for, coordinator, program, roster, outsider):
    response = client_for(coordinator).get(_url("roster", program))

    assert response.status_code == 200
    assert _names(response) == ["Alice", "Bob", "Carol", "Ned"]  # by last name; no Cora, no Olivia


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"role": "faculty"}, ["Carol"]),
        ({"role": "resident"}, ["Alice", "Bob", "Ned"]),
        ({"pgy": "PGY-3"}, ["Bob"]),
        ({"status": "active"}, ["Alice", "Carol"]),
        ({"status": "invited"}, ["Bob"]),
        ({"status": "not_invited"}, ["Ned"]),
        ({"q": "brown"}, ["Bob"]),
        ({"q": "NED@hospital"}, ["Ned"]),
        ({"q": "alice adams"}, ["Alice"]),
        ({"role": "resident", "status": "active"}, ["Alice"]),
        ({"role": "nonsense"}, ["Alice", "Bob", "Carol", "Ned"]),  # an invalid filter is shown, not applied
    ],
)
def test_roster_filters(client_for, coordinator, program, roster, query, expected):
    response = _search(client_for(coordinator), program, query)

    assert _names(response) == expected


def test_roster_is_paginated_by_25_and_page_links_carry_only_the_page(client_for, coordinator, program):
    for n in range(30):
        MembershipFactory(user=UserFactory(last_name=f"Zeta{n:02d}"), program=program, role=Membership.Role.FACULTY)
    MembershipFactory(user=UserFactory(last_name="Resident"), program=program, role=Membership.Role.RESIDENT)
    client = client_for(coordinator)

    response = _search(client, program, {"role": "faculty"})
    second = client.get(_url("roster", program), {"page": 2})

    assert len(response.context["members"]) == 25
    html = response.content.decode()
    assert 'href="?page=2"' in html and "?role=" not in html and "&amp;role=" not in html
    # The kept filter still applies on page 2: 30 faculty, not 31 people.
    assert len(second.context["members"]) == 5


def test_a_search_is_kept_in_the_session_and_the_browser_is_sent_to_the_plain_url(
    client_for, coordinator, program, roster
):
    client = client_for(coordinator)

    response = client.post(_url("roster", program), {"q": "ned@hospital.example", "role": "resident"})

    assert response.status_code == 303 and response["Location"] == _url("roster", program)
    assert client.session[f"filters:roster:{program.pk}"] == {"q": "ned@hospital.example", "role": "resident"}
    page = client.get(_url("roster", program))
    assert _names(page) == ["Ned"]
    assert page.context["form"]["q"].value() == "ned@hospital.example"  # the box shows what is applied


def test_an_invalid_search_shows_the_error_and_keeps_nothing(client_for, coordinator, program, roster):
    client = client_for(coordinator)
    client.post(_url("roster", program), {"role": "faculty"})

    response = client.post(_url("roster", program), {"q": "x" * 101, "role": "resident"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-describedby="id_q_error"' in html and 'id="id_q_error"' in html
    assert client.session[f"filters:roster:{program.pk}"] == {"role": "faculty"}  # the earlier search, untouched
    assert _names(response) == ["Carol"]


def test_clear_drops_the_kept_search(client_for, coordinator, program, roster):
    client = client_for(coordinator)
    client.post(_url("roster", program), {"role": "faculty"})
    assert _names(client.get(_url("roster", program))) == ["Carol"]  # control: the filter was kept

    response = client.post(_url("roster", program), {"clear": "1", "role": "faculty"})

    assert response.status_code == 303 and response["Location"] == _url("roster", program)
    assert f"filters:roster:{program.pk}" not in client.session
    assert _names(client.get(_url("roster", program))) == ["Alice", "Bob", "Carol", "Ned"]


def test_a_search_in_the_query_string_is_dropped_not_echoed(client_for, coordinator, program, roster):
    response = client_for(coordinator).get(_url("roster", program), {"q": "ned@hospital.example", "page": "2"})

    assert response.status_code == 303 and response["Location"] == _url("roster", program) + "?page=2"


def test_each_program_keeps_its_own_search(client_for, coordinator, program, other_program, roster):
    MembershipFactory(user=coordinator, program=other_program, role=Membership.Role.COORDINATOR)
    MembershipFactory(user=UserFactory(first_name="Gus"), program=other_program, role=Membership.Role.FACULTY)
    client = client_for(coordinator)

    client.post(_url("roster", program), {"role": "resident"})

    assert _names(client.get(_url("roster", program))) == ["Alice", "Bob", "Ned"]
    assert _names(client.get(_url("roster", other_program))) == ["Gus"]


def _add_residents(program, n):
    for _ in range(n):
        user = UserFactory()
        MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
        MenteeProfileFactory(user=user)


def test_roster_query_count_does_not_grow_with_rows(client_for, coordinator, program, django_assert_max_num_queries):
    client = client_for(coordinator)
    _add_residents(program, 1)
    client.get(_url("roster", program))  # warm up: last_seen is written once per 5 minutes

    # Request: 1 session, 2 user. View: 3 program, 4 manage_roster permission (coordinates_program),
    # 5 count for the paginator, 6 the page of members with users, profiles and their
    # vocabularies (select_related), 7 the invitations to join waiting for an answer,
    # 8 the invite step's counts (never invited, to re-invite, invited today), 9 applied files
    # naming existing accounts still to ask (none: no plan of their rows).
    # Template: 10 roles for the navigation, 11-12 the viewer's own mentee/mentor profile
    # (context processor), 13 the unread notification count (the bell's context processor).
    # Response: 14-16 the session save (SESSION_SAVE_EVERY_REQUEST: savepoint, update, release).
    with django_assert_max_num_queries(16) as one_row:
        client.get(_url("roster", program))

    _add_residents(program, 24)
    with django_assert_max_num_queries(16) as full_page:
        response = client.get(_url("roster", program))

    assert len(response.context["members"]) == 25
    assert len(full_page) == len(one_row)


def test_empty_roster_links_to_the_import(client_for, coordinator, program):
    response = client_for(coordinator).get(_url("roster", program))

    assert response.context["roster_is_empty"]
    assert "No one is on this roster yet" in response.content.decode()
    assert f'href="{_url("roster-import", program)}"' in response.content.decode()


def test_no_match_is_not_mistaken_for_an_empty_roster(client_for, coordinator, program, roster):
    response = _search(client_for(coordinator), program, {"q": "zzz"})

    assert not response.context["roster_is_empty"]
    assert "No one matches these filters" in response.content.decode()


# --- Export and template.


def _csv_rows(response):
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark, for Excel
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_export_is_exactly_the_filtered_list_with_iso_dates(client_for, coordinator, program, roster):
    client = client_for(coordinator)
    client.post(_url("roster", program), {"role": "resident"})
    # The export reads the kept filters, on every page; a query string is not where they are.
    response = client.get(_url("roster-export", program), {"role": "faculty", "page": 2})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="im-roster-')
    rows = _csv_rows(response)
    assert rows[0] == [
        "email",
        "first_name",
        "last_name",
        "role",
        "pgy",
        "specialty",
        "academic_rank",
        "time_zone",
        "status",
        "invited_on",
        "last_seen_on",
    ]
    assert [r[0] for r in rows[1:]] == ["alice@hospital.example", "bob@hospital.example", "ned@hospital.example"]
    bob = rows[2]
    assert bob[3:5] == ["resident", "PGY-3"]
    assert bob[8:10] == ["invited", timezone.localdate().isoformat()]


def test_export_escapes_spreadsheet_formulas(client_for, coordinator, program):
    for first, last in [('=HYPERLINK("http://evil")', "+1"), ("@SUM(A1)", "-2"), ("\tTab", "\rReturn")]:
        user = UserFactory(first_name=first, last_name=last)
        MembershipFactory(user=user, program=program, role=Membership.Role.FACULTY)

    rows = _csv_rows(client_for(coordinator).get(_url("roster-export", program)))

    cells = {cell for row in rows[1:] for cell in row[1:3]}
    assert cells == {'\'=HYPERLINK("http://evil")', "'+1", "'@SUM(A1)", "'-2", "'\tTab", "'\rReturn"}


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ana", "Ana"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
    ],
)
def test_csv_safe(value, expected):
    assert csv_safe(value) == expected


def test_exported_roster_can_be_imported_again_unchanged(client_for, coordinator, program, roster):
    client = client_for(coordinator)
    exported = client.get(_url("roster-export", program)).content

    response = client.post(
        _url("roster-import", program), {"file": SimpleUploadedFile("roster.csv", exported)}, follow=True
    )

    preview = response.context["preview"]
    assert preview.errors == []
    assert (preview.create_count, preview.update_count, preview.unchanged_count) == (0, 0, 4)


def test_template_download_has_the_columns(client_for, coordinator, program):
    response = client_for(coordinator).get(_url("roster-template", program))

    rows = _csv_rows(response)
    assert rows[0] == ["email", "first_name", "last_name", "role", "pgy", "specialty", "academic_rank", "time_zone"]
    assert response["Content-Disposition"] == 'attachment; filename="roster-template.csv"'


# --- Upload, preview, confirm.


def test_import_page_documents_the_columns_and_links_the_template(client_for, coordinator, program):
    response = client_for(coordinator).get(_url("roster-import", program))

    page = response.content.decode()
    for column in ["email", "first_name", "last_name", "role", "pgy", "specialty", "academic_rank", "time_zone"]:
        assert f"<code>{column}</code>" in page
    assert _url("roster-template", program) in page
    assert 'enctype="multipart/form-data"' in page
    assert '<label for="id_file">' in page


def test_upload_errors_are_tied_to_the_file_field(client_for, coordinator, program):
    response = client_for(coordinator).post(
        _url("roster-import", program),
        {"file": SimpleUploadedFile("r.csv", b"\x81\x8d")},  # not UTF-8 nor cp1252
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert 'aria-invalid="true"' in page
    assert 'id="id_file_error"' in page
    assert 'aria-describedby="id_file_helptext id_file_error"' in page
    assert '<a href="#id_file">' in page  # the error summary links to the field


def test_upload_preview_and_confirm(client_for, coordinator, program, django_capture_on_commit_callbacks):
    client = client_for(coordinator)

    response = client.post(
        _url("roster-import", program), {"file": SimpleUploadedFile("residents.csv", GOOD_CSV.encode())}, follow=True
    )
    page = response.content.decode()
    assert "<dt>To add</dt><dd>2</dd>" in page and "Importing e-mails no one" in page
    assert ">Add 2</button>" in page
    roster_import = RosterImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("roster-import-preview", program, roster_import.pk), follow=True)

    assert response.redirect_chain[-1][0] == _url("roster", program)
    page = response.content.decode()
    assert (
        "Imported 2 rows from residents.csv: 2 added, 0 updated, 0 unchanged. No one has been e-mailed: "
        "invite 2 people from the roster when you are ready." in page
    )
    assert "Invite the 2 people who have not been invited" in page
    assert mail.outbox == []
    # The preview page of an applied import says so, without a button to import again.
    page = client.get(_url("roster-import-preview", program, roster_import.pk)).content.decode()
    assert "This file was imported on" in page
    assert ">Add 2</button>" not in page


def test_a_second_confirm_of_the_same_import_is_refused(
    client_for, coordinator, program, django_capture_on_commit_callbacks
):
    client = client_for(coordinator)
    roster_import = roster_import_preview(
        program=program, uploaded_by=coordinator, filename="r.csv", data=GOOD_CSV.encode()
    )
    url = _url("roster-import-preview", program, roster_import.pk)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
        response = client.post(url, follow=True)

    assert "This file has already been imported." in response.content.decode()
    assert Membership.objects.filter(program=program).exclude(role="coordinator").count() == 2
    assert mail.outbox == []


# --- Re-invite.


def test_resend_invitation_sends_a_fresh_link(
    client_for, coordinator, program, roster, django_capture_on_commit_callbacks
):
    bob = roster["bob"]
    membership = Membership.objects.get(user=bob, program=program)
    next_url = _url("roster", program) + "?status=invited"

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(coordinator).post(_url("roster-reinvite", program, membership.pk), {"next": next_url})

    assert response.status_code == 302 and response.url == next_url
    assert [m.to for m in mail.outbox] == [["bob@hospital.example"]]
    assert "/accounts/invitation/" in mail.outbox[0].body


def test_resend_invitation_to_an_active_member_sends_nothing(client_for, coordinator, program, roster):
    membership = Membership.objects.get(user=roster["alice"], program=program)

    response = client_for(coordinator).post(_url("roster-reinvite", program, membership.pk), follow=True)

    assert "Alice Adams has already taken their account (signed in, or set a password)." in response.content.decode()
    assert mail.outbox == []


def test_resend_invitation_ignores_an_offsite_next_url(client_for, coordinator, program, roster):
    membership = Membership.objects.get(user=roster["ned"], program=program)

    response = client_for(coordinator).post(
        _url("roster-reinvite", program, membership.pk), {"next": "https://evil.example/"}
    )

    assert response.url == _url("roster", program)


def test_resend_invitation_needs_post(client_for, coordinator, program, roster):
    membership = Membership.objects.get(user=roster["ned"], program=program)

    response = client_for(coordinator).get(_url("roster-reinvite", program, membership.pk))

    assert response.status_code == 405


def test_coordinators_cannot_be_reinvited_from_the_roster(client_for, coordinator, program):
    membership = Membership.objects.get(user=coordinator, program=program)

    response = client_for(coordinator).post(_url("roster-reinvite", program, membership.pk))

    assert response.status_code == 404


def test_the_roster_shows_only_what_the_coordinator_typed_and_withdraws(
    client_for, invitation, other_coordinator, resident
):
    client = client_for(other_coordinator)
    page = client.get(reverse("accounts:roster", args=["gs"])).content.decode()
    assert "A., Alicia" in page and "Adams" not in page

    client.post(reverse("accounts:roster-invitation-withdraw", args=["gs", invitation.pk]))

    invitation.refresh_from_db()
    assert invitation.status == "withdrawn"
    assert "A., Alicia" not in client.get(reverse("accounts:roster", args=["gs"])).content.decode()


def test_withdrawing_an_invitation_takes_a_second_step(client_for, invitation, other_coordinator):
    page = client_for(other_coordinator).get(reverse("accounts:roster", args=["gs"])).content.decode()
    action = reverse("accounts:roster-invitation-withdraw", args=["gs", invitation.pk])
    # The form sits inside a closed disclosure: the first tap opens it, the second withdraws.
    disclosure = page[page.index('<details class="confirm-disclosure">') :]
    disclosure = disclosure[: disclosure.index("</details>")]
    assert f'action="{action}"' in disclosure
    assert "Withdraw the invitation</button>" in disclosure


def test_a_superuser_who_coordinates_nothing_is_pointed_to_the_admin_not_to_an_administrator(client_for):
    from tests.factories import UserFactory

    admin = UserFactory(is_superuser=True, is_staff=True)

    page = client_for(admin).get(reverse("accounts:programs")).content.decode()

    assert "Ask an administrator" not in page
    assert 'href="/admin/"' in page
