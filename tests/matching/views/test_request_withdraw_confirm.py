"""Withdrawing a request asks first: GET and a POST without ``confirm=yes`` show what it does
and change nothing; the confirmation's POST withdraws, once, however often it is pressed.
Only the resident who asked may (``matching.withdraw_request`` in matching/rules.py).

Alice (resident) asks Carol (attending); Cora coordinates the program; Olivia is elsewhere.
"""

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from matching.models import MentorshipRequest
from matching.services.requests import request_accept
from matching.views import requests as request_views
from tests.matching.support import _ask

pytestmark = pytest.mark.django_db


def _url(req):
    return reverse("matching:request-withdraw", args=[req.pk])


def _messages(client, response):
    return [str(m) for m in client.get(response["Location"]).context["messages"]]


def _withdrawals(req):
    return AuditEntry.objects.filter(action="request.withdraw", object_id=str(req.pk)).count()


def _status(req):
    req.refresh_from_db()
    return req.status


def test_the_request_page_sends_to_the_confirmation_not_straight_to_withdrawing(client_for, resident, attending):
    req = _ask(resident, attending)
    html = client_for(resident).get(req.get_absolute_url()).content.decode()
    form = html.split('id="withdraw-h"', 1)[1].split("</form>", 1)[0]
    assert f'action="{_url(req)}"' in form
    assert 'name="confirm"' not in form


@pytest.mark.parametrize("method", ["get", "post"])
def test_get_or_a_first_post_asks_and_changes_nothing(client_for, resident, attending, method):
    req = _ask(resident, attending)
    response = getattr(client_for(resident), method)(_url(req))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Withdraw your request to Carol Chen?" in html
    assert '<input type="hidden" name="confirm" value="yes">' in html
    assert "Yes, withdraw my request" in html and f'href="{req.get_absolute_url()}"' in html
    assert _status(req) == "pending" and _withdrawals(req) == 0


def test_a_confirm_other_than_yes_still_only_asks(client_for, resident, attending):
    req = _ask(resident, attending)
    assert client_for(resident).post(_url(req), {"confirm": "1"}).status_code == 200
    assert _status(req) == "pending"


def test_confirming_withdraws(client_for, resident, attending):
    req = _ask(resident, attending)
    client = client_for(resident)
    response = client.post(_url(req), {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == req.get_absolute_url()
    assert "You withdrew your request to Carol Chen." in _messages(client, response)
    assert _status(req) == "withdrawn" and _withdrawals(req) == 1


def test_a_double_tap_withdraws_once_and_the_second_is_told_kindly(client_for, resident, attending):
    req = _ask(resident, attending)
    client = client_for(resident)
    _messages(client, client.post(_url(req), {"confirm": "yes"}))
    again = client.post(_url(req), {"confirm": "yes"})
    assert again.status_code == 302 and again["Location"] == req.get_absolute_url()
    assert _messages(client, again) == ["You withdrew your request to Carol Chen."]
    assert _withdrawals(req) == 1


def test_a_tap_that_loses_the_race_to_another_is_told_kindly(client_for, resident, attending, monkeypatch):
    """The second tap read the request while it was still pending; the first withdrew it before
    the second's service took the lock. The service refuses; the page says it is done."""
    req = _ask(resident, attending)
    real_object_for = request_views.object_for

    def read_then_lose_the_race(*args, **kwargs):
        stale = real_object_for(*args, **kwargs)
        MentorshipRequest.objects.filter(pk=stale.pk).update(status=MentorshipRequest.Status.WITHDRAWN)
        return stale

    monkeypatch.setattr(request_views, "object_for", read_then_lose_the_race)
    client = client_for(resident)
    response = client.post(_url(req), {"confirm": "yes"})
    assert response.status_code == 302
    assert _messages(client, response) == ["You withdrew your request to Carol Chen."]
    assert _withdrawals(req) == 0  # the race's winner was the update above, not a second withdrawal


def test_an_answered_request_cannot_be_withdrawn_and_says_why(client_for, resident, attending):
    req = _ask(resident, attending)
    request_accept(request=req, actor=attending)
    client = client_for(resident)
    for send in (lambda: client.get(_url(req)), lambda: client.post(_url(req), {"confirm": "yes"})):
        response = send()
        assert response.status_code == 302
        assert _messages(client, response) == ["This request is already accepted."]
    assert _status(req) == "accepted"


@pytest.mark.parametrize("method", ["get", "post"])
def test_only_the_resident_who_asked(client_for, resident, attending, coordinator, outsider, other_resident, method):
    req = _ask(resident, attending)
    data = {"confirm": "yes"} if method == "post" else {}
    # Those who see the request are refused (403); anyone else is not told it exists (404).
    assert getattr(client_for(attending), method)(_url(req), data).status_code == 403
    assert getattr(client_for(coordinator), method)(_url(req), data).status_code == 403
    assert getattr(client_for(outsider), method)(_url(req), data).status_code == 404
    assert getattr(client_for(other_resident), method)(_url(req), data).status_code == 404
    assert _status(req) == "pending" and _withdrawals(req) == 0


def test_the_api_needs_no_confirmation_and_a_repeat_changes_nothing(api_for, resident, attending):
    req = _ask(resident, attending)
    api = api_for(resident)
    first = api.post(f"/api/v1/requests/{req.pk}/withdraw/", {}, format="json")
    repeat = api.post(f"/api/v1/requests/{req.pk}/withdraw/", {}, format="json")
    assert first.status_code == 200 and first.json()["status"] == "withdrawn"
    assert repeat.status_code == 409
    assert _status(req) == "withdrawn" and _withdrawals(req) == 1
