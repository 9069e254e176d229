"""The Programs page: one order with the dashboard (by name), and an import link that says
Excel works too.

Personas from tests/conftest.py: a coordinator of Internal Medicine."""

import pytest
from django.urls import reverse

from accounts.models import Membership
from tests.factories import MembershipFactory, ProgramFactory

pytestmark = pytest.mark.django_db


def test_programs_are_listed_by_name_on_the_programs_page_and_the_dashboard(client_for, program, coordinator):
    # Created after Internal Medicine (higher ids) but named before and after it.
    for name in ["Zoonoses Fellowship", "Anesthesiology Residency"]:
        MembershipFactory(user=coordinator, program=ProgramFactory(name=name), role=Membership.Role.COORDINATOR)
    client = client_for(coordinator)
    expected = ["Anesthesiology Residency", program.name, "Zoonoses Fellowship"]
    assert sorted(expected) == expected

    listed = [p.name for p in client.get(reverse("accounts:programs")).context["programs"]]
    on_dashboard = [p.name for p in client.get(reverse("matching:dashboard")).context["coordinated_programs"]]
    assert listed == on_dashboard == expected


def test_the_import_link_names_csv_and_excel(client_for, program, coordinator):
    html = client_for(coordinator).get(reverse("accounts:programs")).content.decode()
    assert "Import a roster (CSV or Excel)" in html and "Import a CSV" not in html
