"""Nudges: the coordinators' weekly digest, and the one-click reminder to a quiet pair.

The digest tests run at a fixed instant, NOW: Monday March 10, 2025, 12:00 UTC, which is
8:00 a.m. in New York (daylight time since the 9th), where UserFactory puts everyone.
"""

from datetime import datetime, timedelta

import pytest

from audit.models import AuditEntry
from tests.matching.support import _api

pytestmark = pytest.mark.django_db


def test_the_api_nudges_once_a_week(pairing, coordinator):
    first = _api(coordinator).post(f"/api/v1/mentorships/{pairing.pk}/nudge/")
    assert first.status_code == 200
    body = first.json()
    nudged = datetime.fromisoformat(body["nudged_at"])
    assert body["mentorship"] == pairing.pk
    assert datetime.fromisoformat(body["next_nudge_from"]) - nudged == timedelta(days=7)
    again = _api(coordinator).post(f"/api/v1/mentorships/{pairing.pk}/nudge/")
    assert again.status_code == 409 and "again from" in again.json()["detail"]


def test_the_api_hides_or_refuses_a_pairing_others_cannot_nudge(pairing, other_coordinator, resident):
    assert _api(other_coordinator).post(f"/api/v1/mentorships/{pairing.pk}/nudge/").status_code == 404
    assert _api(resident).post(f"/api/v1/mentorships/{pairing.pk}/nudge/").status_code == 403
    assert not AuditEntry.objects.filter(action="mentorship.nudge").exists()
