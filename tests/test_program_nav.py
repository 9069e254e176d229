"""Every program page opens with the same navigation across the program's sections, the
current one marked for assistive technology (aria-current), not by colour alone."""

import re

import pytest
from django.urls import reverse

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
