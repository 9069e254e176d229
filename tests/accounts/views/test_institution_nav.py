"""The main navigation's link to an institution's page, for its administrators only, and the
program form's page shared by creating and editing (accounts/views/institutions.py)."""

import re

import pytest
from django.urls import reverse

from accounts.models import Institution, InstitutionRole, Program

pytestmark = pytest.mark.django_db


def _main_nav(client, url=None):
    body = client.get(url or reverse("matching:dashboard")).content.decode()
    return re.search(r'<nav class="main-nav".*?</nav>', body, re.S).group(0)


def test_an_administrator_who_coordinates_nothing_has_the_institution_in_the_nav(client_for, admin, program):
    institution_url = reverse("accounts:institution", args=[program.institution.slug])
    nav = _main_nav(client_for(admin))
    assert f'<a href="{institution_url}" >Institution</a>' in nav
    assert reverse("accounts:programs") not in nav  # they coordinate nothing: that page is 403 to them
    # On the institution's page the link is marked as the current one.
    assert f'<a href="{institution_url}" aria-current="page">Institution</a>' in _main_nav(
        client_for(admin), institution_url
    )


def test_an_administrator_of_two_institutions_sees_each_by_name(client_for, admin, program, other_program):
    InstitutionRole.objects.create(institution=other_program.institution, user=admin)
    nav = _main_nav(client_for(admin))
    links = re.findall(r'<a href="/institutions/([^/]+)/" >([^<]+)</a>', nav)
    expected = sorted(
        (
            (i.slug, i.name)
            for i in Institution.objects.filter(pk__in=[program.institution_id, other_program.institution_id])
        ),
        key=lambda pair: pair[1],
    )
    assert links == expected


@pytest.mark.parametrize("who", ["coordinator", "resident", "attending", "outsider"])
def test_people_who_administer_nothing_have_no_institution_link(request, client_for, program, who):
    nav = _main_nav(client_for(request.getfixturevalue(who)))
    assert "/institutions/" not in nav and "Institution" not in nav


def test_the_institution_page_does_not_link_an_administrator_to_the_programs_page(client_for, admin, program):
    """The Programs page is for coordinators (403 to Ada): no breadcrumb leads there."""
    c = client_for(admin)
    edit_url = reverse("accounts:program-edit", args=[program.slug])
    for url in (reverse("accounts:institution", args=[program.institution.slug]), edit_url):
        body = c.get(url).content.decode()
        assert f'href="{reverse("accounts:programs")}"' not in body, url


# --- One page for creating and editing a program.


def test_the_edit_page_has_no_web_address_and_refuses_beside_the_field(client_for, admin, program, other_program):
    c = client_for(admin)
    url = reverse("accounts:program-edit", args=[program.slug])
    page = c.get(url)
    assert page.status_code == 200 and "slug" not in page.context["form"].fields
    assert page.context["form"].initial["name"] == program.name
    Program.objects.create(
        institution=program.institution, name="Surgery", slug="surgery", specialty=program.specialty, time_zone="UTC"
    )
    data = {"name": "surgery", "specialty": program.specialty.pk, "time_zone": "Europe/Madrid"}
    refused = c.post(url, data)
    assert refused.status_code == 400
    assert "already has a program called “surgery”" in refused.context["form"].errors["name"][0]
    program.refresh_from_db()
    assert program.name == "Internal Medicine Residency" and program.time_zone != "Europe/Madrid"


def test_the_new_program_page_offers_the_web_address(client_for, admin, program):
    page = client_for(admin).get(reverse("accounts:institution-program-new", args=[program.institution.slug]))
    assert page.status_code == 200 and "slug" in page.context["form"].fields and page.context["program"] is None
