"""Notifications: created once, e-mailed once (right away or in the daily digest),
shown behind the bell, and only ever to their owner."""

import pytest
from django.utils import timezone

from matching.models import Notification
from tests.matching.support import _notify

pytestmark = pytest.mark.django_db


class TestBell:
    def test_the_header_bell_says_how_many_are_unread(self, resident, client_for):
        _notify(resident, key="a")
        _notify(resident, key="b")
        read = _notify(resident, key="c")
        Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())

        response = client_for(resident).get("/dashboard/")

        assert response.status_code == 200
        assert response.context["unread_notification_count"] == 2
        assert 'aria-label="Notifications, 2 unread"' in response.content.decode()

    def test_nobody_has_unread_notifications_at_first(self, resident, client_for):
        response = client_for(resident).get("/dashboard/")

        assert 'aria-label="Notifications, 0 unread"' in response.content.decode()

    def test_signed_out_visitors_get_no_bell(self, client, db):
        response = client.get("/accounts/login/")

        assert "unread_notification_count" not in response.context
        assert "Notifications," not in response.content.decode()
