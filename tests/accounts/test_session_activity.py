"""A session lasts SESSION_COOKIE_AGE after its last request, but is saved (its expiry moved) only
once per few minutes of activity, not on every request (accounts.middleware.SessionActivityMiddleware)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import SESSION_REFRESH
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("accounts:api-tokens")


def _expiry(client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


def _shift_clock(monkeypatch, by):
    """Django's clock and the cache's (the session is read from the cache first)."""
    import time

    real_now, real_time = timezone.now, time.time
    monkeypatch.setattr(timezone, "now", lambda: real_now() + by)
    monkeypatch.setattr(time, "time", lambda: real_time() + by.total_seconds())


def test_a_busy_session_is_saved_once_per_refresh_period_and_its_expiry_follows_activity(client_for, monkeypatch):
    client = client_for(UserFactory())
    client.get(PAGE)  # the first signed-in request stamps the session
    first = _expiry(client)

    client.get(PAGE)
    assert _expiry(client) == first  # within the period: not saved again

    _shift_clock(monkeypatch, SESSION_REFRESH + timedelta(seconds=1))
    client.get(PAGE)
    moved = _expiry(client)
    assert moved - first >= SESSION_REFRESH
    assert moved > timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE) - timedelta(minutes=1)


def test_a_session_idle_past_its_age_is_signed_out(client_for, monkeypatch):
    client = client_for(UserFactory())
    assert client.get(PAGE).status_code == 200
    _shift_clock(monkeypatch, timedelta(seconds=settings.SESSION_COOKIE_AGE) + SESSION_REFRESH)
    # Redis expires its copy by its own clock, which no monkeypatch moves: as it would have by now.
    cache.delete(SessionStore(client.session.session_key).cache_key)
    response = client.get(PAGE)
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_each_session_keeps_itself_alive(client_for, monkeypatch):
    """The stamp is the session's own: a laptop's activity does not stand in for a phone's."""
    user = UserFactory()
    laptop, phone = client_for(user), client_for(user)
    laptop.get(PAGE)
    phone.get(PAGE)
    phone_first = _expiry(phone)
    _shift_clock(monkeypatch, SESSION_REFRESH + timedelta(seconds=1))
    laptop.get(PAGE)
    phone.get(PAGE)
    assert _expiry(phone) > phone_first
