"""Meeting pages: propose (suggested times in the viewer's own time zone), the meeting
page (confirm, reschedule, cancel, held, notes), the .ics download, the section on the
mentorship page, and who may see and do what.

Alice (resident) is in New York; Carol (attending) is moved to Los Angeles here.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from accounts.models import AvailabilityWindow
from matching.models import Meeting, Mentorship
from matching.selectors.meetings import meetings_of
from matching.services.meetings import meeting_confirm, meeting_propose
from tests.matching.factories import MentorshipFactory
from tests.matching.itip import calendar_part
from tests.matching.support import _in

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")


def _day_after_us_dst_change() -> date:
    first = date(timezone.now().year + 1, 3, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 + 1)


@pytest.fixture
def mentorship(resident, attending, program):
    attending.time_zone = "America/Los_Angeles"
    attending.save(update_fields=["time_zone"])
    return MentorshipFactory(mentee=resident, mentor=attending, program=program)


@pytest.fixture
def proposed(mentorship, resident):
    return meeting_propose(
        mentorship=mentorship, actor=resident, slots=[_in(3), _in(4)], video_url="https://meet.example/ac"
    )


def _url(name, obj):
    return reverse(f"matching:{name}", kwargs={"pk": obj.pk})


class TestTimeZones:
    def test_each_person_sees_the_meeting_in_their_own_time(self, mentorship, resident, attending, client_for):
        start = datetime.combine(_day_after_us_dst_change(), time(13, 0), tzinfo=NEW_YORK)
        meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=[start])
        meeting_confirm(meeting=meeting, actor=attending, start=start)

        alice_sees = client_for(resident).get(_url("meeting-detail", meeting)).content.decode()
        assert "13:00 EDT" in alice_sees
        assert "10:00 PDT for Carol Chen (America/Los Angeles)" in alice_sees
        assert "America/New York" in alice_sees  # says which time zone

        carol_sees = client_for(attending).get(_url("meeting-detail", meeting)).content.decode()
        assert "10:00 PDT" in carol_sees
        assert "13:00 EDT for Alice Adams (America/New York)" in carol_sees

        # Zones are named as the profile's menu names them, never by their IANA key.
        for page in (alice_sees, carol_sees):
            assert "America/New_York" not in page and "America/Los_Angeles" not in page
        propose = client_for(resident).get(_url("meeting-propose", mentorship)).content.decode()
        assert "your time zone, America/New York (Carol is in America/Los Angeles)" in propose
        shared = client_for(resident).get(reverse("matching:mentorship-detail", args=[mentorship.pk])).content.decode()
        assert "Times in your time zone, America/New York." in shared

        invite = client_for(attending).get(_url("meeting-ics", meeting))
        assert invite["Content-Type"] == "text/calendar; charset=utf-8"
        event = Calendar.from_ical(invite.content).walk("VEVENT")[0]
        assert event.decoded("DTSTART") == start.astimezone(UTC)
        assert event.decoded("DTSTART").hour == 17

    def test_a_typed_time_is_read_in_the_viewers_time_zone(self, mentorship, attending, client_for):
        day = _day_after_us_dst_change()
        response = client_for(attending).post(
            _url("meeting-propose", mentorship),
            {"custom_1": f"{day:%Y-%m-%d}T10:00", "duration_minutes": "30", "format": "video"},
        )
        meeting = Meeting.objects.get()
        assert response.status_code == 302 and response["Location"] == _url("meeting-detail", meeting)
        assert meeting.slots.get().start == datetime.combine(day, time(17, 0), tzinfo=UTC)  # 10:00 PDT

    def test_suggestions_are_labelled_in_the_viewers_time_zone(self, mentorship, resident, attending, client_for):
        for person, hours in ((resident, (12, 14)), (attending, (9, 11))):
            for weekday in range(7):
                AvailabilityWindow.objects.create(
                    user=person, weekday=weekday, start=time(hours[0]), end=time(hours[1])
                )
        page = client_for(attending).get(_url("meeting-propose", mentorship)).content.decode()
        assert 'type="checkbox" name="suggested"' in page
        # Carol's 09:00 (Los Angeles) is Alice's 12:00 (New York).
        assert "09:00 P" in page and "(12:00 E" in page and "for Alice Adams" in page
        assert 'type="datetime-local"' in page


class TestProposePage:
    def test_picking_suggestions_and_a_custom_time(self, mentorship, resident, attending, client_for):
        suggested = _in(5).isoformat()
        response = client_for(resident).post(
            _url("meeting-propose", mentorship),
            {
                "suggested": [suggested],
                "custom_1": (_in(6).astimezone(NEW_YORK)).strftime("%Y-%m-%dT%H:%M"),
                "duration_minutes": "45",
                "format": "in-person",
                "location": "Cafeteria",
            },
        )
        meeting = Meeting.objects.get()
        assert response.status_code == 302
        assert [s.start for s in meeting.slots.all()] == [_in(5), _in(6)]
        assert (meeting.duration_minutes, meeting.format, meeting.location) == (45, "in-person", "Cafeteria")

    def test_more_than_three_times_are_refused_with_a_message(self, mentorship, resident, client_for):
        response = client_for(resident).post(
            _url("meeting-propose", mentorship),
            {
                "suggested": [_in(3).isoformat(), _in(4).isoformat()],
                "custom_1": "2030-01-01T10:00",
                "custom_2": "2030-01-02T10:00",
                "duration_minutes": "30",
                "format": "video",
            },
        )
        assert response.status_code == 400  # refused, the page again with everything typed
        assert "Propose at most 3 times; you chose 4." in response.content.decode()
        assert not Meeting.objects.exists()

    def test_a_past_time_is_refused(self, mentorship, resident, client_for):
        response = client_for(resident).post(
            _url("meeting-propose", mentorship),
            {"custom_1": "2020-01-01T10:00", "duration_minutes": "30", "format": "video"},
        )
        assert "has already passed" in response.content.decode()
        assert not Meeting.objects.exists()

    def test_nothing_chosen(self, mentorship, resident, client_for):
        # Nothing suggested (no weekly availability): the typed times are the only ones.
        response = client_for(resident).post(
            _url("meeting-propose", mentorship), {"duration_minutes": "30", "format": "video"}
        )
        html = response.content.decode()
        assert "Enter a time for the meeting." in html and "Tick a suggested time" not in html
        assert ">A time:</label>" in html and ">A third time:</label>" in html

    def test_nothing_chosen_among_suggestions(self, mentorship, resident, attending, client_for):
        from accounts.models import AvailabilityWindow

        attending.time_zone = resident.time_zone
        attending.save(update_fields=["time_zone"])
        for person in (resident, attending):
            for day in AvailabilityWindow.Weekday.values:
                AvailabilityWindow.objects.create(user=person, weekday=day, start="09:00", end="17:00")
        response = client_for(resident).post(
            _url("meeting-propose", mentorship), {"duration_minutes": "30", "format": "video"}
        )
        html = response.content.decode()
        assert "Tick a suggested time or enter one of your own." in html
        assert ">Another time:</label>" in html and ">Another time (3):</label>" in html

    def test_an_ended_mentorship_sends_you_back(self, mentorship, resident, client_for):
        Mentorship.objects.filter(pk=mentorship.pk).update(status=Mentorship.Status.ENDED)
        response = client_for(resident).get(_url("meeting-propose", mentorship))
        assert response.status_code == 302 and response["Location"] == mentorship.get_absolute_url()


class TestMeetingPage:
    def test_the_other_person_confirms_with_a_radio_button(
        self, proposed, attending, resident, client_for, django_capture_on_commit_callbacks
    ):
        client = client_for(attending)
        page = client.get(_url("meeting-detail", proposed)).content.decode()
        assert 'type="radio" name="start"' in page
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(_url("meeting-confirm", proposed), {"start": _in(4).isoformat()})
        assert response.status_code == 302
        proposed.refresh_from_db()
        assert (proposed.status, proposed.start) == ("confirmed", _in(4))
        (message,) = [m for m in mail.outbox if m.to == [resident.email]]
        assert calendar_part(message)[0] == "REQUEST"

    def test_the_proposer_has_no_confirm_form_and_is_refused(self, proposed, resident, client_for):
        client = client_for(resident)
        page = client.get(_url("meeting-detail", proposed)).content.decode()
        assert 'name="start"' not in page
        assert "Carol Chen will confirm one" in page
        response = client.post(_url("meeting-confirm", proposed), {"start": _in(3).isoformat()})
        assert response.status_code == 400  # the refusal is on the form
        assert "Only Carol Chen can confirm: you proposed these times." in response.content.decode()
        proposed.refresh_from_db()
        assert proposed.status == "proposed"

    def test_reschedule_from_the_page(self, proposed, attending, client_for):
        client = client_for(attending)
        assert client.get(_url("meeting-reschedule", proposed)).status_code == 200
        response = client.post(
            _url("meeting-reschedule", proposed),
            {"custom_1": _in(8).astimezone(ZoneInfo("America/Los_Angeles")).strftime("%Y-%m-%dT%H:%M")},
        )
        assert response.status_code == 302
        proposed.refresh_from_db()
        assert (proposed.sequence, proposed.proposed_by, [s.start for s in proposed.slots.all()]) == (
            1,
            attending,
            [_in(8)],
        )

    def test_cancel_with_a_reason_then_again(self, proposed, resident, client_for):
        client = client_for(resident)
        response = client.post(_url("meeting-cancel", proposed), {"reason": "Exam week"})
        assert response.status_code == 302
        proposed.refresh_from_db()
        assert proposed.status == "cancelled"
        again = client.post(_url("meeting-cancel", proposed), {"reason": ""})
        assert "already cancelled" in again.content.decode()

    def test_mark_held_then_shared_notes(self, proposed, attending, resident, client_for):
        meeting_confirm(meeting=proposed, actor=attending, start=_in(3))
        client = client_for(resident)
        client.post(_url("meeting-held", proposed))
        proposed.refresh_from_db()
        assert proposed.status == "confirmed"  # not started yet
        Meeting.objects.filter(pk=proposed.pk).update(start=timezone.now() - timedelta(hours=1))
        page = client.get(_url("meeting-detail", proposed)).content.decode()
        assert "Mark as held" in page and 'name="notes"' in page
        client.post(_url("meeting-held", proposed))
        response = client.post(_url("meeting-notes", proposed), {"notes": "Next: abstract for the spring meeting."})
        assert response.status_code == 302
        proposed.refresh_from_db()
        assert (proposed.status, proposed.notes) == ("held", "Next: abstract for the spring meeting.")
        assert (
            "abstract for the spring meeting"
            in client_for(attending).get(_url("meeting-detail", proposed)).content.decode()
        )

    def test_page_query_budget(self, proposed, attending, client_for):
        client = client_for(attending)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_url("meeting-detail", proposed)).status_code == 200
        # session, user, the meeting with its people (one join), its slots; plus the
        # header's own (roles, bell) which belong to the base template.
        assert len(queries) <= 12, [q["sql"] for q in queries]


class TestPermissions:
    @pytest.mark.parametrize("name", ["meeting-detail", "meeting-ics", "meeting-reschedule"])
    def test_outsider_and_another_resident_get_404(self, proposed, outsider, other_resident, client_for, name):
        for person in (outsider, other_resident):
            assert client_for(person).get(_url(name, proposed)).status_code == 404

    def test_outsider_cannot_act_either(self, proposed, outsider, client_for):
        client = client_for(outsider)
        assert client.post(_url("meeting-confirm", proposed), {"start": _in(3).isoformat()}).status_code == 404
        assert client.post(_url("meeting-cancel", proposed)).status_code == 404
        assert client.get(_url("meeting-propose", proposed.mentorship)).status_code == 404

    def test_coordinator_sees_but_cannot_confirm(self, proposed, coordinator, client_for):
        client = client_for(coordinator)
        page = client.get(_url("meeting-detail", proposed))
        assert page.status_code == 200
        assert 'name="start"' not in page.content.decode() and "Cancel meeting" not in page.content.decode()
        assert client.post(_url("meeting-confirm", proposed), {"start": _in(3).isoformat()}).status_code == 403
        assert client.post(_url("meeting-cancel", proposed)).status_code == 403
        assert client.get(_url("meeting-propose", proposed.mentorship)).status_code == 403
        proposed.refresh_from_db()
        assert proposed.status == "proposed"

    def test_actions_need_post(self, proposed, attending, client_for):
        assert client_for(attending).get(_url("meeting-confirm", proposed)).status_code == 405

    def test_anonymous_is_sent_to_log_in(self, proposed, client):
        assert client.get(_url("meeting-detail", proposed)).status_code == 302


class TestSection:
    def test_upcoming_and_past_with_a_propose_link(self, proposed, mentorship, resident, attending, rf):
        done = meeting_propose(mentorship=mentorship, actor=attending, slots=[_in(2)])
        meeting_confirm(meeting=done, actor=resident, start=_in(2))
        Meeting.objects.filter(pk=done.pk).update(start=timezone.now() - timedelta(days=3), status="held")
        request = rf.get("/")
        request.user = resident
        html = render_to_string(
            "matching/meetings/_section.html",
            {"mentorship": mentorship, "meetings": meetings_of(mentorship), "user": resident},
            request=request,
        )
        upcoming, past = html.split("Past and cancelled")
        assert "Upcoming" in upcoming and _url("meeting-detail", proposed) in upcoming
        assert _url("meeting-detail", done) in past
        assert "Waiting for Carol Chen to pick a time." in upcoming
        assert reverse("matching:meeting-propose", kwargs={"pk": mentorship.pk}) in html

    def test_no_meetings_yet(self, mentorship, resident, rf):
        request = rf.get("/")
        request.user = resident
        html = render_to_string(
            "matching/meetings/_section.html",
            {"mentorship": mentorship, "meetings": meetings_of(mentorship), "user": resident},
            request=request,
        )
        assert "No meetings yet." in html


def test_where_a_meeting_gave_no_place_or_link(mentorship, resident, attending, client_for):
    """Before the meeting, "not given yet" invites adding them; after it, it is simply said."""
    meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=[_in(3)])
    meeting_confirm(meeting=meeting, actor=attending, start=_in(3))
    page = client_for(resident).get(_url("meeting-detail", meeting)).content.decode()
    assert "Not given yet: add them below once you've agreed." in page
    Meeting.objects.filter(pk=meeting.pk).update(status="held", start=timezone.now() - timedelta(hours=2))
    page = client_for(resident).get(_url("meeting-detail", meeting)).content.decode()
    assert "None were given." in page and "Not given yet" not in page
