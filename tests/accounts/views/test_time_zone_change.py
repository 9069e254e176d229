"""Changing your time zone asks what your weekly availability should keep: its local times
(9 am stays 9 am) or its moments (the same hours, on the new zone's clock)."""

from datetime import date, time

import pytest
from django.urls import reverse

from accounts.models import AvailabilityWindow, User
from accounts.services import KEEP_MOMENTS, _availability_move_zone

pytestmark = pytest.mark.django_db

ACCOUNT = reverse("accounts:account-edit")
TUESDAY, WEDNESDAY = 1, 2


def _windows(user):
    return list(
        AvailabilityWindow.objects.filter(user=user).order_by("weekday", "start").values_list("weekday", "start", "end")
    )


def _post(client, user, zone, keep):
    return client.post(
        ACCOUNT,
        {"first_name": user.first_name, "last_name": user.last_name, "time_zone": zone, "keep_availability": keep},
    )


def test_the_question_is_asked_only_of_someone_with_weekly_availability(client_for, resident):
    assert "keep_availability" not in client_for(resident).get(ACCOUNT).context["form"].fields
    AvailabilityWindow.objects.create(user=resident, weekday=TUESDAY, start=time(9), end=time(10))
    html = client_for(resident).get(ACCOUNT).content.decode()
    assert "If you change your time zone, your weekly availability should" in html
    assert "Keep its local times (9 am stays 9 am" in html


def test_keeping_local_times_leaves_9_am_at_9_am(client_for, resident):
    AvailabilityWindow.objects.create(user=resident, weekday=TUESDAY, start=time(9), end=time(10))
    response = _post(client_for(resident), resident, "America/Los_Angeles", "local_times")
    assert response.status_code == 302
    assert User.objects.get(pk=resident.pk).time_zone == "America/Los_Angeles"
    assert _windows(resident) == [(TUESDAY, time(9), time(10))]


def test_keeping_moments_moves_the_windows_onto_the_new_clock(client_for, resident):
    # New York 9–10 am is 6–7 am in Los Angeles (both sides change clocks on the same days).
    AvailabilityWindow.objects.create(user=resident, weekday=TUESDAY, start=time(9), end=time(10))
    response = _post(client_for(resident), resident, "America/Los_Angeles", "moments")
    assert response.status_code == 302
    assert _windows(resident) == [(TUESDAY, time(6), time(7))]


def test_a_window_that_now_crosses_midnight_is_split(resident):
    # Tuesday 5–7 pm in New York runs 11 pm–1 am in Madrid (December: six hours apart).
    AvailabilityWindow.objects.create(user=resident, weekday=TUESDAY, start=time(17), end=time(19))
    _availability_move_zone(
        user=resident, old_zone="America/New_York", new_zone="Europe/Madrid", today=date(2026, 12, 4)
    )
    assert _windows(resident) == [(TUESDAY, time(23), time(23, 59)), (WEDNESDAY, time(0), time(1))]


def test_the_same_zone_moves_nothing(client_for, resident):
    AvailabilityWindow.objects.create(user=resident, weekday=TUESDAY, start=time(9), end=time(10))
    _post(client_for(resident), resident, resident.time_zone, KEEP_MOMENTS)
    assert _windows(resident) == [(TUESDAY, time(9), time(10))]


def test_the_api_asks_the_same_question(api_for, resident):
    AvailabilityWindow.objects.create(user=resident, weekday=TUESDAY, start=time(9), end=time(10))
    api = api_for(resident)
    # Without the field: local times are kept, as on the page's default.
    assert api.patch("/api/v1/me/", {"time_zone": "America/Chicago"}, format="json").status_code == 200
    assert _windows(resident) == [(TUESDAY, time(9), time(10))]
    # Chicago 9–10 am is 7–8 am in Los Angeles.
    response = api.patch(
        "/api/v1/me/", {"time_zone": "America/Los_Angeles", "keep_availability": "moments"}, format="json"
    )
    assert response.status_code == 200 and "keep_availability" not in response.json()
    assert _windows(resident) == [(TUESDAY, time(7), time(8))]
    bad = api.patch("/api/v1/me/", {"time_zone": "Europe/Madrid", "keep_availability": "both"}, format="json")
    assert bad.status_code == 400 and "keep_availability" in bad.json()
    assert User.objects.get(pk=resident.pk).time_zone == "America/Los_Angeles"
