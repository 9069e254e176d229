"""A typed meeting time outside someone's weekly availability: a hint and a "Send anyway"
step before anything is sent, which works without JavaScript, keeps everything typed and
still sends once however often it is pressed.

Alice (resident) is in New York, free 9 am–5 pm on the day chosen; Carol (attending) is in
Los Angeles, free 9 am–5 pm there (noon–8 pm in New York). Times below are typed by Alice,
so they are New York wall-clock times.
"""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AvailabilityWindow
from matching.models import Meeting
from matching.services.meetings import meeting_propose
from tests.matching.factories import MentorshipFactory

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def day() -> date:
    # Ten days ahead: in the future, within the scheduling bounds, any weekday.
    return (timezone.now() + timedelta(days=10)).astimezone(NEW_YORK).date()


@pytest.fixture
def mentorship(resident, attending, program, day):
    attending.time_zone = "America/Los_Angeles"
    attending.save(update_fields=["time_zone"])
    for person in (resident, attending):
        AvailabilityWindow.objects.create(user=person, weekday=day.weekday(), start=time(9), end=time(17))
    return MentorshipFactory(mentee=resident, mentor=attending, program=program)


def _propose(client, mentorship, day, hour, minute=0, **extra):
    data = {
        "custom_1": f"{day:%Y-%m-%d}T{hour:02d}:{minute:02d}",
        "duration_minutes": "30",
        "format": "video",
        "location": "Room 4B",
        **extra,
    }
    return client.post(reverse("matching:meeting-propose", kwargs={"pk": mentorship.pk}), data)


def _send_anyway_value(response) -> str:
    """The "Send anyway" button's value, read from the page as a browser would."""
    values = set(re.findall(r'name="send_anyway" value="([^"]+)"', response.content.decode()))
    assert len(values) == 1, values
    return values.pop()


LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def _at(day: date, hour: int, minute: int = 0) -> str:
    """Alice's typed New York time as the hint writes it, with Carol's Los Angeles clock beside
    it (the same day here: every time below is after 3 am in New York)."""
    when = datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK)
    theirs = when.astimezone(LOS_ANGELES)
    return f"{when:%a} {day.day} {when:%b %Y, %H:%M %Z} ({theirs:%H:%M %Z} for Carol Chen)"


def _mine(day: date, hour: int, minute: int = 0) -> str:
    when = datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK)
    return f"{when:%a} {day.day} {when:%b %Y, %H:%M %Z}"


class TestTheHint:
    def test_3_am_is_outside_both_and_nothing_is_sent(self, mentorship, resident, client_for, day):
        response = _propose(client_for(resident), mentorship, day, 3)
        html = response.content.decode()
        assert response.status_code == 200
        # 3 am in New York is midnight in Los Angeles: each read in their own zone.
        assert (f"{_at(day, 3)} is outside both your weekly availability and Carol Chen&#x27;s.") in html
        assert "Send anyway" in html
        assert not Meeting.objects.exists()

    def test_outside_only_the_other_persons_availability_says_theirs(self, mentorship, resident, client_for, day):
        # 10 am in New York, 7 am in Los Angeles: Alice is free, Carol is not.
        html = _propose(client_for(resident), mentorship, day, 10).content.decode()
        assert (f"{_at(day, 10)} is outside Carol Chen&#x27;s weekly availability.") in html
        assert "both" not in html.split('id="availability-hint"', 1)[1].split("</div>", 1)[0]
        assert not Meeting.objects.exists()

    def test_outside_only_the_proposers_availability_says_yours(self, mentorship, resident, client_for, day):
        # 6 pm in New York, 3 pm in Los Angeles: Carol is free, Alice is not.
        html = _propose(client_for(resident), mentorship, day, 18).content.decode()
        assert f"{_mine(day, 18)} is outside your weekly availability." in html
        assert not Meeting.objects.exists()

    def test_the_whole_meeting_must_fit_not_only_its_start(self, mentorship, resident, client_for, day):
        # 4:45 pm for 30 minutes runs past Alice's 5 pm.
        html = _propose(client_for(resident), mentorship, day, 16, 45).content.decode()
        assert f"{_mine(day, 16, 45)} is outside your weekly availability." in html
        assert not Meeting.objects.exists()

    def test_a_time_inside_both_is_sent_at_once(self, mentorship, resident, client_for, day):
        # 1 pm in New York, 10 am in Los Angeles; 4:30 pm ends exactly at Alice's 5 pm.
        for hour, minute in ((13, 0), (16, 30)):
            response = _propose(client_for(resident), mentorship, day, hour, minute)
            assert response.status_code == 302, response.content.decode()
        assert Meeting.objects.count() == 2

    def test_no_hint_about_someone_who_gave_no_weekly_availability(
        self, mentorship, resident, attending, client_for, day
    ):
        AvailabilityWindow.objects.filter(user=attending).delete()
        # 10 am: inside Alice's hours; Carol has said nothing, so nothing to warn about.
        assert _propose(client_for(resident), mentorship, day, 10).status_code == 302
        assert Meeting.objects.count() == 1

    def test_suggested_times_are_not_questioned(self, mentorship, resident, client_for):
        page = client_for(resident).get(reverse("matching:meeting-propose", kwargs={"pk": mentorship.pk}))
        suggestion = page.context["form"].fields["suggested"].choices[0][0]
        response = client_for(resident).post(
            reverse("matching:meeting-propose", kwargs={"pk": mentorship.pk}),
            {"suggested": [suggestion], "duration_minutes": "30", "format": "video"},
        )
        assert response.status_code == 302
        assert Meeting.objects.count() == 1


class TestSendAnyway:
    def test_everything_typed_is_kept_on_the_confirm_step(self, mentorship, resident, client_for, day):
        response = _propose(client_for(resident), mentorship, day, 3, duration_minutes="45", once="abc123")
        html = response.content.decode()
        assert f'value="{day:%Y-%m-%d}T03:00"' in html
        assert 'value="Room 4B"' in html
        assert '<option value="45" selected>' in html
        # The one-time value of the first sending, so the confirm step is the same sending.
        assert 'name="once" value="abc123"' in html

    def test_send_anyway_sends_once_however_often_it_is_pressed(self, mentorship, resident, client_for, day):
        client = client_for(resident)
        first = _propose(client, mentorship, day, 3, once="tap-tap")
        value = _send_anyway_value(first)
        sent = _propose(client, mentorship, day, 3, once="tap-tap", send_anyway=value)
        again = _propose(client, mentorship, day, 3, once="tap-tap", send_anyway=value)
        meeting = Meeting.objects.get()
        assert sent.status_code == again.status_code == 302
        assert sent["Location"] == again["Location"] == reverse("matching:meeting-detail", kwargs={"pk": meeting.pk})
        assert [s.start.astimezone(NEW_YORK).hour for s in meeting.slots.all()] == [3]
        assert meeting.location == "Room 4B"

    def test_changing_the_time_on_the_confirm_step_asks_again(self, mentorship, resident, client_for, day):
        client = client_for(resident)
        value = _send_anyway_value(_propose(client, mentorship, day, 3, once="x1"))
        # Now 4 am, still outside: the "Send anyway" was for 3 am, so the hint comes back.
        response = _propose(client, mentorship, day, 4, once="x1", send_anyway=value)
        assert response.status_code == 200
        assert f"{_at(day, 4)} is outside both" in response.content.decode()
        assert not Meeting.objects.exists()

    def test_changing_the_length_on_the_confirm_step_asks_again(self, mentorship, resident, client_for, day):
        client = client_for(resident)
        # 4:30 pm for 30 minutes fits; its hint only appears at 45 minutes, then at 60 it is asked again.
        value = _send_anyway_value(_propose(client, mentorship, day, 16, 30, duration_minutes="45"))
        response = _propose(client, mentorship, day, 16, 30, duration_minutes="60", send_anyway=value)
        assert response.status_code == 200 and not Meeting.objects.exists()
        assert _propose(client, mentorship, day, 16, 30, duration_minutes="45", send_anyway=value).status_code == 302

    def test_rescheduling_gets_the_same_step(self, mentorship, resident, attending, client_for, day):
        meeting = meeting_propose(
            mentorship=mentorship,
            actor=resident,
            slots=[datetime.combine(day, time(13), tzinfo=NEW_YORK)],
        )
        url = reverse("matching:meeting-reschedule", kwargs={"pk": meeting.pk})
        # Carol types 11 pm in Los Angeles: 2 am in New York.
        data = {"custom_1": f"{day:%Y-%m-%d}T23:00", "once": "r1"}
        first = client_for(attending).post(url, data)
        assert first.status_code == 200
        assert "is outside both your weekly availability and Alice Adams&#x27;s" in first.content.decode()
        assert [s.start.astimezone(NEW_YORK).hour for s in meeting.slots.all()] == [13]
        sent = client_for(attending).post(url, {**data, "send_anyway": _send_anyway_value(first)})
        assert sent.status_code == 302
        assert [s.start.astimezone(ZoneInfo("America/Los_Angeles")).hour for s in meeting.slots.all()] == [23]


def test_the_one_confirming_sees_which_proposed_times_are_outside_their_hours(
    client_for, resident, attending, mentorship, day
):
    """Alice sent a 3 am time anyway (New York): Carol, confirming in Los Angeles, is told that
    one falls outside her weekly availability; the 1 pm one (10 am for her) is not marked."""
    night = datetime.combine(day, time(3), NEW_YORK)
    afternoon = datetime.combine(day, time(13), NEW_YORK)
    meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=[night, afternoon], duration_minutes=30)

    page = client_for(attending).get(reverse("matching:meeting-detail", kwargs={"pk": meeting.pk}))

    labels = {
        datetime.fromisoformat(value): label for value, label in page.context["confirm_form"].fields["start"].choices
    }
    assert labels[night].endswith("— outside your weekly availability")
    assert "outside" not in labels[afternoon]
    assert "outside your weekly availability" in page.content.decode()
