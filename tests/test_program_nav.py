"""Every program page opens with the same navigation across the program's sections, the
current one marked for assistive technology (aria-current), not by colour alone."""

import re

import pytest
from django.urls import reverse

from accounts.roster import roster_import_preview

pytestmark = pytest.mark.django_db

SECTIONS = {
    "matching:program-health": "Health",
    "matching:pairings": "Pairings",
    "matching:match-runs": "Match runs",
    "accounts:roster": "Roster",
    "matching:conflicts": "Conflicts of interest",
    "matching:audit": "Audit trail",
}


@pytest.mark.parametrize("route", SECTIONS)
def test_each_section_links_to_all_and_marks_itself(client_for, coordinator, program, route):
    body = client_for(coordinator).get(reverse(route, args=[program.slug])).content.decode()
    nav = re.search(r'<nav class="program-nav".*?</nav>', body, re.S).group(0)

    for other, label in SECTIONS.items():
        assert f'href="{reverse(other, args=[program.slug])}"' in nav, label
    current = re.findall(r'<a href="([^"]+)" aria-current="page">([^<]+)</a>', nav)
    assert current == [(reverse(route, args=[program.slug]), SECTIONS[route])]


def _nav(body):
    return re.search(r'<nav class="program-nav".*?</nav>', body, re.S).group(0)


def _roster_subpages(program, coordinator):
    roster_import = roster_import_preview(
        program=program,
        uploaded_by=coordinator,
        filename="r.csv",
        data=b"email,first_name,last_name,role,pgy\nana@hospital.example,Ana,Ruiz,resident,PGY-1\n",
    )
    return {
        "import": reverse("accounts:roster-import", args=[program.slug]),
        "preview": reverse("accounts:roster-import-preview", args=[program.slug, roster_import.pk]),
    }


@pytest.mark.parametrize("subpage", ["import", "preview"])
def test_roster_subpages_show_the_program_nav_with_the_roster_current(client_for, coordinator, program, subpage):
    url = _roster_subpages(program, coordinator)[subpage]

    nav = _nav(client_for(coordinator).get(url).content.decode())

    for route, label in SECTIONS.items():
        assert f'href="{reverse(route, args=[program.slug])}"' in nav, label
    current = re.findall(r'<a href="([^"]+)" aria-current="page">([^<]+)</a>', nav)
    assert current == [(reverse("accounts:roster", args=[program.slug]), "Roster")]
