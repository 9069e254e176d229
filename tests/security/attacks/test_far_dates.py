"""Issue 11, finding 7: a meeting in year 9999.

The attack: Alice proposes a meeting for 31 December 9999 through the API; it was accepted
(201). From then on its .ics, its confirmation, the pair's meeting lists and the program's
audit trail (for a coordinator east of UTC) answered 500 for everyone: no clock east of UTC,
and no meeting end, fits in year 9999. The same went for any date a person types.

Now every date people write is bounded (``core.bounds``: meetings and ranking deadlines
from today to two years ahead, due dates and busy blocks a year back to two years ahead) in
the form, the API and the service; and rows written before the bounds are read without a
crash, each time shown as stored.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar
from rest_framework.test import APIClient

from accounts.models import BusyBlock
from audit.services import audit_log
from core.bounds import PLANNED_DAY, SCHEDULED
from matching.match_runs.services import match_run_create
from matching.models import ActionItem, MatchRun, Meeting, MeetingSlot
from matching.notifications import notify
from matching.services.meetings import meeting_confirm, meeting_propose, meeting_reschedule
from matching.services.plan import action_item_create, action_item_update
from tests.matching.factories import ActionItemFactory, MentorshipFactory
from tests.matching.itip import calendar_part

pytestmark = pytest.mark.django_db

# The last minutes a datetime can hold, in UTC: any zone east of UTC, or 30 minutes more, overflows.
FAR = datetime(9999, 12, 31, 23, 30, tzinfo=UTC)
FAR_DAY = date(9999, 12, 31)


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _soon(days=3):
    return (timezone.now() + timedelta(days=days)).replace(second=0, microsecond=0)


def _beyond_two_years():
    return timezone.now() + timedelta(days=2 * 366 + 2)


@pytest.fixture
def mentorship(resident, attending, program):
    return MentorshipFactory(mentee=resident, mentor=attending, program=program)


# --- Writing: refused at the form, the API and the service.


@pytest.mark.parametrize("slot", ["9999-12-31T23:30:00Z", "beyond two years"], ids=["9999", "2y+"])
def test_the_api_refuses_a_meeting_in_year_9999_naming_the_field(mentorship, resident, slot):
    slot = _beyond_two_years().isoformat() if slot == "beyond two years" else slot
    response = api(resident).post(f"/api/v1/mentorships/{mentorship.pk}/meetings/", {"slots": [slot]}, format="json")
    assert response.status_code == 400, response.content
    assert "slots" in response.json()
    assert not Meeting.objects.exists()


def test_control_a_meeting_within_two_years_is_accepted(mentorship, resident):
    soon = timezone.now() + timedelta(days=700)
    response = api(resident).post(
        f"/api/v1/mentorships/{mentorship.pk}/meetings/", {"slots": [soon.isoformat()]}, format="json"
    )
    assert response.status_code == 201, response.content


def test_the_page_shows_the_error_beside_the_time_typed(mentorship, resident, client_for):
    response = client_for(resident).post(
        reverse("matching:meeting-propose", args=[mentorship.pk]),
        {"custom_1": "9999-12-31T23:30", "duration_minutes": "30", "format": "video"},
    )
    assert response.status_code == 400  # a refused form, shown again (core.forms.form_status)
    assert response.context["form"].errors["custom_1"] == [SCHEDULED.message(resident.time_zone)]
    assert not Meeting.objects.exists()


def test_the_service_refuses_too_whoever_calls_it(mentorship, resident, attending):
    # West of UTC, late on 31 December 9999 has no UTC instant at all.
    for far in (FAR, FAR.astimezone(timezone.get_fixed_timezone(-300)).replace(hour=23)):
        with pytest.raises(ValidationError) as refused:
            meeting_propose(mentorship=mentorship, actor=resident, slots=[far])
        assert "slots" in refused.value.message_dict
    meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=[_soon()])
    with pytest.raises(ValidationError) as refused:
        meeting_reschedule(meeting=meeting, actor=attending, slots=[FAR])
    assert "slots" in refused.value.message_dict


@pytest.mark.parametrize("due", ["9999-12-31", "2000-01-01"])
def test_a_goal_due_in_year_9999_or_long_ago_is_refused_page_api_and_service(
    mentorship, resident, attending, client_for, due
):
    response = api(resident).post(
        f"/api/v1/mentorships/{mentorship.pk}/action-items/", {"title": "Submit", "due_date": due}, format="json"
    )
    assert response.status_code == 400 and "due_date" in response.json()
    page = client_for(resident).post(
        reverse("matching:action-item-create", args=[mentorship.pk]),
        {"title": "Submit", "due_date": due, "owner": resident.pk},
    )
    assert page.context["action_item_form"].errors["due_date"] == [PLANNED_DAY.message(resident.time_zone)]
    with pytest.raises(ValidationError) as refused:
        action_item_create(
            mentorship=mentorship, actor=resident, title="Submit", due_date=date.fromisoformat(due), owner=resident
        )
    assert "due_date" in refused.value.message_dict
    assert not ActionItem.objects.exists()


def test_a_goal_long_overdue_can_still_be_marked_done(mentorship, resident):
    old = ActionItemFactory(mentorship=mentorship, due_date=timezone.localdate() - timedelta(days=500))
    assert action_item_update(item=old, actor=resident, status="done").status == "done"
    url = f"/api/v1/action-items/{old.pk}/"
    # A goal is a shared text: written against the ETag last read (core/concurrency.py).
    etag = api(resident).get(url)["ETag"]
    response = api(resident).patch(
        url, {"due_date": old.due_date.isoformat(), "status": "open"}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200, response.content
    # Moving it, though, is bounded.
    response = api(resident).patch(url, {"due_date": "9999-12-31"}, format="json", HTTP_IF_MATCH=response["ETag"])
    assert response.status_code == 400 and "due_date" in response.json()


def test_a_ranking_deadline_in_year_9999_is_refused(program, coordinator, resident, attending):
    body = {
        "kind": "career",
        "mentee_ids": [resident.pk],
        "mentor_ids": [attending.pk],
        "ranking_deadline": FAR.isoformat(),
    }
    response = api(coordinator).post(f"/api/v1/programs/{program.slug}/match-runs/", body, format="json")
    assert response.status_code == 400 and "ranking_deadline" in response.json()
    with pytest.raises(ValidationError) as refused:
        match_run_create(
            program=program,
            actor=coordinator,
            kind="career",
            algorithm="stable",
            mentee_ids=[resident.pk],
            mentor_ids=[attending.pk],
            ranking_deadline=FAR,
        )
    assert "ranking_deadline" in refused.value.message_dict
    assert not MatchRun.objects.exists()


def test_a_busy_block_in_year_9999_is_refused(resident):
    block = BusyBlock(user=resident, start_date=FAR_DAY - timedelta(days=1), end_date=FAR_DAY, label="Away")
    with pytest.raises(ValidationError) as refused:
        block.full_clean()
    assert "start_date" in refused.value.message_dict
    block.start_date = timezone.localdate()
    with pytest.raises(ValidationError) as refused:
        block.full_clean()
    assert "end_date" in refused.value.message_dict


# --- Reading rows written before the bounds: nothing may 500.


@pytest.fixture
def far_rows(mentorship, resident, program, coordinator):
    """A confirmed meeting, a proposed one and a ranking deadline in year 9999, written
    directly (as before the fix), and the audit entry the proposal left."""
    confirmed = Meeting.objects.create(mentorship=mentorship, proposed_by=resident, status="confirmed", start=FAR)
    proposed = Meeting.objects.create(mentorship=mentorship, proposed_by=resident)
    MeetingSlot.objects.create(meeting=proposed, start=FAR)
    audit_log(
        actor=resident,
        action="meeting.propose",
        obj=proposed,
        program=program,
        after={"status": "proposed", "slots": [FAR.isoformat()]},
    )
    run = MatchRun.objects.create(program=program, ranking_deadline=FAR, created_by=coordinator)
    run.mentees.set([resident])
    run.mentors.set([mentorship.mentor])
    return confirmed, proposed, run


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_nothing_that_shows_a_far_date_answers_500(
    far_rows, mentorship, resident, attending, coordinator, program, client_for, zone
):
    for person in (resident, attending, coordinator):
        person.time_zone = zone
        person.save(update_fields=["time_zone"])
    confirmed, proposed, run = far_rows
    pages = {
        attending: [
            reverse("matching:meeting-detail", args=[confirmed.pk]),
            reverse("matching:meeting-detail", args=[proposed.pk]),
            reverse("matching:meeting-ics", args=[confirmed.pk]),
            reverse("matching:meeting-ics", args=[proposed.pk]),
            mentorship.get_absolute_url(),
            reverse("matching:dashboard"),
        ],
        resident: [reverse("matching:match-run-rank", args=[run.pk]), reverse("matching:dashboard")],
        coordinator: [
            reverse("matching:audit", args=[program.slug]),
            reverse("matching:audit-export", args=[program.slug]),
            reverse("matching:pairings", args=[program.slug]),
            reverse("matching:pairings-export", args=[program.slug]),
            reverse("matching:match-run-detail", args=[run.pk]),
            reverse("matching:ranking-window", args=[run.pk]),
            mentorship.get_absolute_url(),
        ],
    }
    for person, urls in pages.items():
        for url in urls:
            assert client_for(person).get(url).status_code == 200, (person.first_name, url)
    apis = {
        attending: [
            f"/api/v1/mentorships/{mentorship.pk}/meetings/",
            f"/api/v1/meetings/{confirmed.pk}/",
            f"/api/v1/meetings/{confirmed.pk}/ics/",
            f"/api/v1/meetings/{proposed.pk}/ics/",
        ],
        coordinator: [f"/api/v1/programs/{program.slug}/audit/", f"/api/v1/match-runs/{run.pk}/"],
    }
    for person, urls in apis.items():
        for url in urls:
            assert api(person).get(url).status_code == 200, (person.first_name, url)


def test_the_ics_of_a_far_meeting_shows_it_as_stored(far_rows, client_for, attending):
    confirmed, _, _ = far_rows
    event = Calendar.from_ical(client_for(attending).get(reverse("matching:meeting-ics", args=[confirmed.pk])).content)
    vevent = event.walk("VEVENT")[0]
    assert vevent.decoded("dtstart") == FAR
    assert vevent.decoded("dtend") > FAR  # the last instant a datetime holds, not a crash


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_confirming_a_time_proposed_in_year_9999_is_refused_not_a_crash(far_rows, attending, client_for, zone):
    attending.time_zone = zone
    attending.save(update_fields=["time_zone"])
    _, proposed, _ = far_rows
    body = {"start": FAR.isoformat()}
    page = client_for(attending).post(reverse("matching:meeting-confirm", args=[proposed.pk]), body)
    assert page.status_code == 400
    assert SCHEDULED.message(zone) in page.context["confirm_form"].errors["start"]
    response = api(attending).post(f"/api/v1/meetings/{proposed.pk}/confirm/", body, format="json")
    assert response.status_code == 400 and "start" in response.json()
    with pytest.raises(ValidationError):
        meeting_confirm(meeting=proposed, actor=attending, start=FAR)
    proposed.refresh_from_db()
    assert proposed.status == "proposed"


def test_the_far_meetings_email_still_goes_out_with_its_invitation(
    far_rows, attending, django_capture_on_commit_callbacks
):
    confirmed, _, _ = far_rows
    attending.time_zone = "Asia/Tokyo"
    attending.save(update_fields=["time_zone"])
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(
            event="meeting.confirmed", user=attending, title="Your meeting", url="/", dedup_key="far", meeting=confirmed
        )
    assert [m.to for m in mail.outbox] == [[attending.email]]
    assert calendar_part(mail.outbox[0])[0] == "REQUEST"
    notification.refresh_from_db()
    assert notification.emailed_at is not None
