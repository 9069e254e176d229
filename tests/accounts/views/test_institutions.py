"""Institution administrators' pages and API (accounts/views/institutions.py,
accounts/api/institutions.py): 404 for another institution's administrator, 403 for a
member of one of its programs, errors beside the field."""

import pytest
from django.urls import reverse

from accounts.models import Membership, Program, Specialty

pytestmark = pytest.mark.django_db


def _pages(program):
    i, p = program.institution.slug, program.slug
    return [
        reverse("accounts:institution", args=[i]),
        reverse("accounts:institution-program-new", args=[i]),
        reverse("accounts:program-edit", args=[p]),
        reverse("accounts:program-coordinators", args=[p]),
    ]


def test_the_administrator_sees_programs_coordinators_and_counts(client_for, admin, program, coordinator, resident):
    page = client_for(admin).get(reverse("accounts:institution", args=[program.institution.slug]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Internal Medicine Residency" in html and "Cora Cole" in html and "Internal Medicine" in html
    assert reverse("accounts:roster", args=["im"]) in html


@pytest.mark.parametrize(
    ("who", "code"), [("other_admin", 404), ("outsider", 404), ("coordinator", 403), ("resident", 403)]
)
def test_others_get_404_and_members_403(request, client_for, program, who, code):
    c = client_for(request.getfixturevalue(who))
    for url in _pages(program):
        assert c.get(url).status_code == code, url
        assert c.post(url, {"name": "X"}).status_code == code, url


def test_another_institutions_program_is_404_to_me(client_for, api_for, admin, other_program):
    assert client_for(admin).get(reverse("accounts:program-edit", args=[other_program.slug])).status_code == 404
    assert api_for(admin).get(f"/api/v1/programs/{other_program.slug}/coordinators/").status_code == 404


def test_anonymous_is_sent_to_sign_in(client, program):
    response = client.get(_pages(program)[0])
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_creating_a_program_then_its_coordinators_page(client_for, admin, program):
    c = client_for(admin)
    new_url = _pages(program)[1]
    form = c.get(new_url)
    assert 'value="America/New_York" selected' in form.content.decode()  # the first program's zone
    surgery = Specialty.objects.get(slug="general-surgery")
    once = form.context["form"].initial["once"]
    data = {"name": "Surgery Residency", "specialty": surgery.pk, "time_zone": "America/Chicago", "once": once}
    response = c.post(new_url, data)
    created = Program.objects.get(name="Surgery Residency")
    assert response.status_code == 302 and response["Location"] == _pages(created)[3]
    again = c.post(new_url, data)  # a double tap: the same page, one program
    assert again.status_code == 302 and Program.objects.filter(name="Surgery Residency").count() == 1


def test_absurd_values_show_beside_their_fields(client_for, admin, program):
    data = {"name": "x" * 500, "specialty": "999999", "time_zone": "Mars/Base", "slug": "im"}
    response = client_for(admin).post(_pages(program)[1], data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "ACGME list" in errors["specialty"][0] and "Mars/Base" in errors["time_zone"][0]
    data["specialty"] = Specialty.objects.get(slug="general-surgery").pk
    data["time_zone"] = "Europe/London"
    errors = client_for(admin).post(_pages(program)[1], data).context["form"].errors
    assert "at most 200 characters (this one has 500)" in errors["name"][0]
    data["name"] = "Surgery"
    errors = client_for(admin).post(_pages(program)[1], data).context["form"].errors
    assert "“im” is taken" in errors["slug"][0]
    assert 'class="error-summary"' in client_for(admin).post(_pages(program)[1], data).content.decode()


def test_editing_keeps_the_slug(client_for, admin, program):
    data = {"name": "IM Residency", "specialty": program.specialty.pk, "time_zone": "Europe/Madrid", "slug": "new"}
    response = client_for(admin).post(_pages(program)[2], data)
    assert response.status_code == 302
    program.refresh_from_db()
    assert (program.name, program.time_zone, program.slug) == ("IM Residency", "Europe/Madrid", "im")


def test_adding_and_removing_coordinators_on_the_page(client_for, admin, program, coordinator, resident):
    c = client_for(admin)
    url = _pages(program)[3]
    assert c.post(url, {"email": resident.email}).status_code == 302
    assert Membership.objects.filter(user=resident, program=program, role="coordinator").exists()
    remove = reverse("accounts:program-coordinator-remove", args=[program.slug])
    c.post(remove, {"user": coordinator.pk})
    assert not Membership.objects.filter(user=coordinator, program=program, role="coordinator").exists()
    c.post(remove, {"user": resident.pk})  # the last one stays
    assert Membership.objects.filter(user=resident, program=program, role="coordinator").exists()
    missing = c.post(url, {"email": "nobody@hospital.example"})
    assert missing.status_code == 400 and "first name" in missing.content.decode()


def test_the_programs_page_links_superusers_and_admins_to_their_institution(client_for, program, coordinator):
    from accounts.models import User

    root = User.objects.create_superuser("root@hospital.example", "pw-long-enough-123", first_name="R", last_name="S")
    html = client_for(root).get(reverse("accounts:programs")).content.decode()
    assert "Your institution: <strong>General Hospital</strong>" in html
    assert f'<a href="{reverse("accounts:programs")}" aria-current="page">Programs</a>' in html  # in the nav too
    assert reverse("accounts:institution", args=[program.institution.slug]) in html
    assert "Your institution" not in client_for(coordinator).get(reverse("accounts:programs")).content.decode()


# --- The API.


def _api(program, *rest):
    """``_api(program)``: the institution's programs; ``_api(program, slug, *more)``: one program's."""
    if not rest:
        return f"/api/v1/institutions/{program.institution.slug}/programs/"
    slug, *more = rest
    return f"/api/v1/programs/{slug}/" + "".join(f"{part}/" for part in (more or ["settings"]))


def test_api_lists_creates_and_updates_programs(api_for, admin, program, coordinator):
    api = api_for(admin)
    listed = api.get(_api(program)).json()["results"]
    assert listed[0]["slug"] == "im" and listed[0]["coordinators"][0]["email"] == coordinator.email
    created = api.post(_api(program), {"name": "Surgery Residency", "specialty": "general-surgery"}, format="json")
    assert created.status_code == 201 and created.json()["time_zone"] == "America/New_York"
    assert created.json()["slug"] == "surgery-residency"
    updated = api.patch(_api(program, "surgery-residency"), {"time_zone": "Europe/Madrid"}, format="json")
    assert updated.status_code == 200 and updated.json()["time_zone"] == "Europe/Madrid"


def test_api_refuses_absurd_values_by_field(api_for, admin, program):
    response = api_for(admin).post(
        _api(program), {"name": "x" * 500, "specialty": "no-such", "time_zone": "Mars/Base"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"name", "specialty", "time_zone"}


def test_api_coordinators_add_list_remove(api_for, admin, program, coordinator, resident):
    api = api_for(admin)
    added = api.post(_api(program, "im", "coordinators"), {"email": resident.email}, format="json")
    assert added.status_code == 201
    assert api.post(_api(program, "im", "coordinators"), {"email": resident.email}, format="json").status_code == 200
    emails = {c["email"] for c in api.get(_api(program, "im", "coordinators")).json()["results"]}
    assert emails == {coordinator.email, resident.email}
    assert api.delete(_api(program, "im", "coordinators", coordinator.pk)).status_code == 204
    assert api.delete(_api(program, "im", "coordinators", resident.pk)).status_code == 409  # the last one


@pytest.mark.parametrize(("who", "code"), [("other_admin", 404), ("outsider", 404), ("coordinator", 403)])
def test_api_others_get_404_and_members_403(request, api_for, program, who, code):
    api = api_for(request.getfixturevalue(who))
    programs = Program.objects.count()
    assert api.get(_api(program)).status_code == code
    assert api.post(_api(program), {"name": "X", "specialty": "general-surgery"}, format="json").status_code == code
    assert api.patch(_api(program, "im"), {"name": "X"}, format="json").status_code == code
    assert api.get(_api(program, "im", "coordinators")).status_code == code
    assert Program.objects.count() == programs


def test_the_institution_page_and_api_cost_the_same_for_one_program_or_five(client_for, api_for, admin, program):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import MembershipFactory, ProgramFactory

    c, api = client_for(admin), api_for(admin)
    c.get(reverse("accounts:institution", args=[program.institution.slug]))  # the first request after login writes more

    def cost():
        with CaptureQueriesContext(connection) as page:
            assert c.get(reverse("accounts:institution", args=[program.institution.slug])).status_code == 200
        with CaptureQueriesContext(connection) as listed:
            assert api.get(_api(program)).status_code == 200
        return len(page), len(listed)

    before = cost()
    for _ in range(4):
        extra = ProgramFactory(institution=program.institution)
        MembershipFactory(program=extra, role=Membership.Role.COORDINATOR)
        MembershipFactory(program=extra, role=Membership.Role.RESIDENT)
    assert cost() == before
