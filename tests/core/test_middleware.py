"""The warning people see when their change was saved but the broker was down. The broker is
made unreachable by making ``delay`` raise what Celery raises then."""

import pytest
from django.urls import reverse
from kombu.exceptions import OperationalError
from rest_framework.test import APIClient

from core.middleware import PROCESSING_DELAYED_HEADER, PROCESSING_DELAYED_MESSAGE
from matching.models import MentorshipRequest, Notification
from matching.tasks import send_notification_email

MESSAGE = "I'm a PGY-1 thinking about cardiology fellowship and would value your advice."


@pytest.fixture
def broker_down(monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(send_notification_email, "delay", unreachable)


# --- What the person sees.


@pytest.mark.django_db(transaction=True)
class TestDelayedMessage:
    def test_a_request_sent_while_the_broker_is_down_is_saved_and_says_email_is_delayed(
        self, broker_down, client_for, resident, attending
    ):
        client = client_for(resident)
        response = client.post(
            reverse("matching:request-create", args=[attending.pk]), {"kind": "research", "message": MESSAGE}
        )
        assert response.status_code == 302
        request = MentorshipRequest.objects.get(mentee=resident, mentor=attending)
        assert request.status == "pending"
        # The notification is the outbox: recorded, not yet e-mailed.
        assert Notification.objects.filter(user=attending, emailed_at__isnull=True).exists()
        assert response[PROCESSING_DELAYED_HEADER] == "true"
        page = client.get(response["Location"])
        assert PROCESSING_DELAYED_MESSAGE in [str(m) for m in page.context["messages"]]
        # Shown once; the next request, with the broker still down but nothing enqueued, is clean.
        again = client.get(response["Location"])
        assert PROCESSING_DELAYED_MESSAGE not in [str(m) for m in again.context["messages"]]
        assert PROCESSING_DELAYED_HEADER not in again

    def test_control_with_the_broker_up_there_is_no_warning(self, client_for, resident, attending, mailoutbox):
        client = client_for(resident)
        response = client.post(
            reverse("matching:request-create", args=[attending.pk]), {"kind": "research", "message": MESSAGE}
        )
        assert response.status_code == 302 and PROCESSING_DELAYED_HEADER not in response
        assert [m.to for m in mailoutbox] == [[attending.email]]
        page = client.get(response["Location"])
        assert PROCESSING_DELAYED_MESSAGE not in [str(m) for m in page.context["messages"]]

    def test_the_api_answers_with_a_header_and_leaves_no_message(self, broker_down, resident, attending):
        api = APIClient()
        api.force_login(resident)
        response = api.post(
            "/api/v1/requests/", {"mentor": attending.pk, "kind": "research", "message": MESSAGE}, format="json"
        )
        assert response.status_code == 201, response.content
        assert response[PROCESSING_DELAYED_HEADER] == "true"
        assert MentorshipRequest.objects.filter(mentee=resident, mentor=attending).exists()
        page = api.get(reverse("matching:dashboard"))
        assert PROCESSING_DELAYED_MESSAGE not in [str(m) for m in page.context["messages"]]
