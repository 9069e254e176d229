"""The time-zone select: the likely zones first, the common US ones next, then the rest A to Z."""

import pytest
from django.urls import reverse

from accounts.forms import AccountForm
from accounts.models import TIME_ZONE_CHOICES, InstitutionRole
from core.zones import COMMON_US_ZONES, zone_choices
from tests.factories import UserFactory


def _flat(choices):
    values = []
    for value, label in choices:
        values += [v for v, _ in label] if isinstance(label, list) else [value]
    return values


def test_the_likely_zones_come_first_then_the_us_group_then_the_rest():
    choices = zone_choices(["Europe/Madrid", "America/Chicago", None, "Mars/Base", "Europe/Madrid"])

    assert choices[:2] == [("Europe/Madrid", "Europe/Madrid"), ("America/Chicago", "Central (America/Chicago)")]
    (us_group, us), (other_group, rest) = choices[2:]
    assert us_group == "Common US time zones" and other_group == "All other time zones"
    assert [z for z, _ in us] == [z for z, _ in COMMON_US_ZONES if z != "America/Chicago"]
    assert us[0] == ("America/New_York", "Eastern (America/New York)")
    assert rest[0][0] == "Africa/Abidjan" and [z for z, _ in rest] == sorted(z for z, _ in rest)
    # Every zone once, and the same set the model accepts.
    assert sorted(_flat(choices)) == sorted(v for v, _ in TIME_ZONE_CHOICES)
    assert len(_flat(choices)) == len(set(_flat(choices)))


def test_with_nothing_likely_the_us_zones_still_lead():
    assert _flat(zone_choices())[0] == "America/New_York"


@pytest.mark.django_db
def test_the_account_form_offers_the_persons_zone_then_their_programs(program, resident):
    program.time_zone = "America/Denver"
    program.save(update_fields=["time_zone"])
    resident.time_zone = "Europe/Madrid"
    resident.save(update_fields=["time_zone"])

    form = AccountForm(instance=resident)

    assert _flat(form.fields["time_zone"].choices)[:2] == ["Europe/Madrid", "America/Denver"]
    # A zone from the long tail is still accepted.
    bound = AccountForm({"first_name": "A", "last_name": "B", "time_zone": "Asia/Tokyo"}, instance=resident)
    assert bound.is_valid(), bound.errors


@pytest.mark.django_db
def test_the_program_form_offers_the_programs_zone_then_the_administrators(client_for, program):
    program.time_zone = "America/Phoenix"
    program.save(update_fields=["time_zone"])
    admin = UserFactory(time_zone="Europe/Lisbon")
    InstitutionRole.objects.create(institution=program.institution, user=admin)

    html = client_for(admin).get(reverse("accounts:program-edit", args=[program.slug])).content.decode()
    select = html[html.index('name="time_zone"') :]
    select = select[: select.index("</select>")]

    first, second = select.index('value="America/Phoenix"'), select.index('value="Europe/Lisbon"')
    assert first < second < select.index('<optgroup label="Common US time zones">')
    assert select.index('<optgroup label="Common US time zones">') < select.index('value="Africa/Abidjan"')
    assert 'value="America/Phoenix" selected' in select

    new = client_for(admin).get(reverse("accounts:institution-program-new", args=[program.institution.slug]))
    new_select = new.content.decode().split('name="time_zone"')[1]
    # A new program: the institution's zone (its first program's) first.
    assert new_select.index('value="America/Phoenix"') < new_select.index('value="Europe/Lisbon"')
