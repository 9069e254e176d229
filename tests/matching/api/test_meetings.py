"""The meetings API: the same services and rules as the pages.

Alice (resident, New York) and Carol (attending) are paired; Cora coordinates their
program; Olivia (outsider) is a resident elsewhere.
"""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from icalendar import Calendar

from accounts.models import AvailabilityWindow
from matching.models import Meeting
from matching.services.meetings import meeting_confirm, meeting_propose
from tests.matching.itip import calendar_part
from tests.matching.support import _in

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposed(mentorship, resident):
    return meeting_propose(mentorship=mentorship, actor=resident, slots=[_in(3), _in(4)])


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class TestList:
    def test_propose_then_list(self, mentorship, resident, attending, api_for, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            response = api_for(resident).post(
                f"/api/v1/mentorships/{mentorship.pk}/meetings/",
                {"slots": [_in(3).isoformat(), _in(5).isoformat()], "duration_minutes": 45, "format": "phone"},
                format="json",
            )
        assert response.status_code == 201, response.data
        body = response.json()
        assert body["status"] == "proposed" and body["duration_minutes"] == 45 and body["can_confirm"] is False
        assert [_parse(s) for s in body["slots"]] == [_in(3), _in(5)]
        assert body["ics_url"].endswith(f"/api/v1/meetings/{body['id']}/ics/")
        # Two times open: the e-mail lists them; the calendar part waits for the confirmation.
        assert [m.to for m in mail.outbox] == [[attending.email]] and calendar_part(mail.outbox[0]) is None

        listed = api_for(attending).get(f"/api/v1/mentorships/{mentorship.pk}/meetings/").json()
        assert listed["count"] == 1
        assert listed["results"][0]["can_confirm"] is True

    def test_times_without_an_offset_are_read_in_the_callers_zone(self, mentorship, attending, api_for):
        attending.time_zone = "America/Los_Angeles"
        attending.save(update_fields=["time_zone"])
        day = _in(10).date()
        response = api_for(attending).post(
            f"/api/v1/mentorships/{mentorship.pk}/meetings/", {"slots": [f"{day}T10:00:00"]}, format="json"
        )
        assert response.status_code == 201, response.data
        start = Meeting.objects.get().slots.get().start
        assert start.astimezone(UTC).hour in (17, 18)  # 10:00 PDT or PST
        assert start.astimezone(timezone.get_fixed_timezone(0)).date() == day

    def test_field_errors_have_field_keys(self, mentorship, resident, api_for):
        api = api_for(resident)
        url = f"/api/v1/mentorships/{mentorship.pk}/meetings/"
        too_many = api.post(url, {"slots": [_in(n).isoformat() for n in range(3, 7)]}, format="json")
        assert too_many.status_code == 400 and "slots" in too_many.json()
        past = api.post(url, {"slots": [(timezone.now() - timedelta(days=1)).isoformat()]}, format="json")
        assert past.status_code == 400 and "has already passed" in past.json()["slots"][0]

    def test_ended_mentorship_is_refused(self, mentorship, resident, api_for):
        mentorship.status = "ended"
        mentorship.save(update_fields=["status"])
        response = api_for(resident).post(
            f"/api/v1/mentorships/{mentorship.pk}/meetings/", {"slots": [_in(3).isoformat()]}, format="json"
        )
        assert response.status_code == 409 and "has ended" in response.json()["detail"]

    def test_scoped_list_and_query_budget(self, proposed, mentorship, resident, outsider, coordinator, api_for):
        for n in range(5, 8):
            meeting_propose(mentorship=mentorship, actor=resident, slots=[_in(n)])
        api = api_for(resident)
        with CaptureQueriesContext(connection) as queries:
            response = api.get(f"/api/v1/mentorships/{mentorship.pk}/meetings/")
        assert response.json()["count"] == 4
        # mentorship; count; meetings with people (joined); their slots.
        assert len(queries) == 4, [q["sql"] for q in queries]
        assert api_for(coordinator).get(f"/api/v1/mentorships/{mentorship.pk}/meetings/").json()["count"] == 4
        assert api_for(outsider).get(f"/api/v1/mentorships/{mentorship.pk}/meetings/").status_code == 404

    def test_coordinator_cannot_propose_and_outsider_gets_404(self, mentorship, coordinator, outsider, api_for):
        data = {"slots": [_in(3).isoformat()]}
        url = f"/api/v1/mentorships/{mentorship.pk}/meetings/"
        assert api_for(coordinator).post(url, data, format="json").status_code == 403
        assert api_for(outsider).post(url, data, format="json").status_code == 404
        assert not Meeting.objects.exists()


class TestActions:
    def test_confirm(self, proposed, attending, api_for):
        response = api_for(attending).post(
            f"/api/v1/meetings/{proposed.pk}/confirm/", {"start": _in(4).isoformat()}, format="json"
        )
        assert response.status_code == 200, response.data
        assert response.json()["status"] == "confirmed" and _parse(response.json()["start"]) == _in(4)

    def test_proposer_cannot_confirm(self, proposed, resident, api_for):
        response = api_for(resident).post(
            f"/api/v1/meetings/{proposed.pk}/confirm/", {"start": _in(3).isoformat()}, format="json"
        )
        assert response.status_code == 409
        assert response.json() == {"detail": "Only Carol Chen can confirm: you proposed these times."}

    def test_a_time_not_proposed_names_the_field(self, proposed, attending, api_for):
        response = api_for(attending).post(
            f"/api/v1/meetings/{proposed.pk}/confirm/", {"start": _in(9).isoformat()}, format="json"
        )
        assert response.status_code == 400 and response.json() == {"start": ["Choose one of the proposed times."]}

    def test_coordinator_cannot_confirm_and_outsider_gets_404(self, proposed, coordinator, outsider, api_for):
        data = {"start": _in(3).isoformat()}
        assert (
            api_for(coordinator).post(f"/api/v1/meetings/{proposed.pk}/confirm/", data, format="json").status_code
            == 403
        )
        assert (
            api_for(outsider).post(f"/api/v1/meetings/{proposed.pk}/confirm/", data, format="json").status_code == 404
        )
        assert api_for(outsider).get(f"/api/v1/meetings/{proposed.pk}/").status_code == 404
        assert api_for(coordinator).get(f"/api/v1/meetings/{proposed.pk}/").status_code == 200

    def test_reschedule_cancel_and_the_ics(self, proposed, attending, resident, api_for):
        api = api_for(attending)
        rescheduled = api.post(
            f"/api/v1/meetings/{proposed.pk}/reschedule/", {"slots": [_in(8).isoformat()]}, format="json"
        )
        assert rescheduled.status_code == 200 and rescheduled.json()["sequence"] == 1
        assert rescheduled.json()["proposed_by"]["id"] == attending.pk
        cancelled = api.post(f"/api/v1/meetings/{proposed.pk}/cancel/", {"reason": "Clinic overran"}, format="json")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        again = api.post(f"/api/v1/meetings/{proposed.pk}/cancel/", {}, format="json")
        assert again.status_code == 409 and "already cancelled" in again.json()["detail"]

        invite = api_for(resident).get(f"/api/v1/meetings/{proposed.pk}/ics/")
        assert invite.status_code == 200 and invite["Content-Type"].startswith("text/calendar")
        calendar = Calendar.from_ical(invite.content)
        assert str(calendar["METHOD"]) == "CANCEL"
        assert calendar.walk("VEVENT")[0]["SEQUENCE"] == 2

    def test_ics_with_a_calendar_accept_header(self, proposed, resident, outsider, api_for):
        api = api_for(resident)
        assert api.get(f"/api/v1/meetings/{proposed.pk}/ics/", HTTP_ACCEPT="text/calendar").status_code == 200
        assert (
            api_for(outsider).get(f"/api/v1/meetings/{proposed.pk}/ics/", HTTP_ACCEPT="text/calendar").status_code
            == 404
        )

    def test_held_and_notes(self, proposed, attending, resident, coordinator, api_for):
        meeting_confirm(meeting=proposed, actor=attending, start=_in(3))
        api = api_for(resident)
        early = api.post(f"/api/v1/meetings/{proposed.pk}/held/")
        assert early.status_code == 409 and "once it has started" in early.json()["detail"]
        Meeting.objects.filter(pk=proposed.pk).update(start=timezone.now() - timedelta(hours=1))
        assert api.post(f"/api/v1/meetings/{proposed.pk}/held/").json()["status"] == "held"
        etag = api.get(f"/api/v1/meetings/{proposed.pk}/")["ETag"]
        notes = api.post(
            f"/api/v1/meetings/{proposed.pk}/notes/",
            {"notes": "Next: IRB form."},
            format="json",
            headers={"If-Match": etag},
        )
        assert notes.status_code == 200 and notes.json()["notes"] == "Next: IRB form."
        # Shared notes are the pair's: the coordinator sees the meeting, not its notes.
        assert api_for(coordinator).get(f"/api/v1/meetings/{proposed.pk}/").json()["notes"] is None
        assert (
            api_for(coordinator)
            .post(f"/api/v1/meetings/{proposed.pk}/notes/", {"notes": "x"}, format="json", headers={"If-Match": "*"})
            .status_code
            == 403
        )


class TestSuggestions:
    def test_suggestions_for_the_pair_only(self, mentorship, resident, attending, coordinator, outsider, api_for):
        for person in (resident, attending):
            for weekday in range(7):
                AvailabilityWindow.objects.create(user=person, weekday=weekday, start=time(9), end=time(17))
        response = api_for(resident).get(
            f"/api/v1/mentorships/{mentorship.pk}/meeting-suggestions/?duration_minutes=60"
        )
        assert response.status_code == 200
        body = response.json()
        assert len(body["slots"]) == 3 and body["duration_minutes"] == 60
        assert body["time_zones"] == {"mentee": "America/New_York", "mentor": "America/New_York"}
        assert len({_parse(s).date() for s in body["slots"]}) == 3  # spread over days
        url = f"/api/v1/mentorships/{mentorship.pk}/meeting-suggestions/"
        assert api_for(coordinator).get(url).status_code == 403
        assert api_for(outsider).get(url).status_code == 404
        assert api_for(resident).get(url + "?duration_minutes=5").status_code == 400
