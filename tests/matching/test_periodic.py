"""Periodic scans: each claims its rows once, respects its time window, and the
beat schedule names tasks that exist."""

import importlib
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from matching import tasks
from matching.models import Meeting, Mentorship, MentorshipRequest, Notification
from matching.periodic import checkins_prompt_monthly, meetings_remind_tomorrow
from matching.services.requests import requests_expire, requests_remind

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def _request(resident, attending, program, **fields):
    return MentorshipRequest.objects.create(
        mentee=resident, mentor=attending, program=program, message="Could you mentor me?", **fields
    )


def _mentorship(resident, attending, program, *, started_days_ago=60, **fields):
    return Mentorship.objects.create(
        mentee=resident, mentor=attending, program=program, started_at=NOW - timedelta(days=started_days_ago), **fields
    )


def _meeting(mentorship, *, starts_in, status=Meeting.Status.CONFIRMED, **fields):
    return Meeting.objects.create(
        mentorship=mentorship, proposed_by=mentorship.mentee, status=status, start=NOW + starts_in, **fields
    )


class TestRequestExpiry:
    def test_an_overdue_request_expires_and_the_mentee_is_told_once(self, resident, attending, program):
        request = _request(resident, attending, program, expires_at=NOW - timedelta(hours=1))

        assert requests_expire(now=NOW) == 1
        assert requests_expire(now=NOW) == 0

        request.refresh_from_db()
        assert request.status == MentorshipRequest.Status.EXPIRED
        notification = Notification.objects.get(user=resident)
        assert notification.event == "request.expired"
        assert notification.url == request.get_absolute_url()
        assert Notification.objects.count() == 1

    def test_a_request_still_in_time_stays_pending(self, resident, attending, program):
        request = _request(resident, attending, program, expires_at=NOW + timedelta(hours=1))

        assert requests_expire(now=NOW) == 0

        request.refresh_from_db()
        assert request.status == MentorshipRequest.Status.PENDING
        assert not Notification.objects.exists()

    def test_the_task_runs_the_scan(self, resident, attending, program):
        _request(resident, attending, program, expires_at=timezone.now() - timedelta(minutes=1))

        assert tasks.expire_requests.delay().get() == 1


class TestRequestReminders:
    def test_the_mentor_is_reminded_once_before_expiry(self, resident, attending, program):
        _request(resident, attending, program, expires_at=NOW + timedelta(days=2))

        assert requests_remind(now=NOW) == 1
        assert requests_remind(now=NOW) == 0

        assert list(Notification.objects.values_list("user", "event")) == [(attending.pk, "request.reminder")]

    def test_a_request_far_from_expiry_is_not_reminded_yet(self, resident, attending, program):
        _request(resident, attending, program, expires_at=NOW + timedelta(days=10))

        assert requests_remind(now=NOW) == 0


class TestMeetingReminders:
    def test_both_people_are_reminded_once_of_a_meeting_tomorrow(
        self, resident, attending, program, django_capture_on_commit_callbacks
    ):
        meeting = _meeting(_mentorship(resident, attending, program), starts_in=timedelta(hours=23))

        with django_capture_on_commit_callbacks(execute=True):
            assert meetings_remind_tomorrow(now=NOW) == 1
            assert meetings_remind_tomorrow(now=NOW) == 0
            assert meetings_remind_tomorrow(now=NOW + timedelta(hours=1)) == 0

        reminders = Notification.objects.filter(event="meeting.reminder")
        assert sorted(reminders.values_list("user", flat=True)) == sorted([resident.pk, attending.pk])
        assert {n.dedup_key for n in reminders} == {
            f"meeting:{meeting.pk}:reminder:0:{resident.pk}",
            f"meeting:{meeting.pk}:reminder:0:{attending.pk}",
        }
        assert "Carol Chen" in reminders.get(user=resident).title
        assert reminders.get(user=resident).url == f"/meetings/{meeting.pk}/"
        meeting.refresh_from_db()
        assert meeting.reminded_at == NOW
        assert sorted(m.to[0] for m in mail.outbox) == sorted([resident.email, attending.email])

    @pytest.mark.parametrize("starts_in", [timedelta(hours=25), timedelta(minutes=30), -timedelta(hours=2)])
    def test_meetings_outside_tomorrows_window_are_left_alone(self, resident, attending, program, starts_in):
        meeting = _meeting(_mentorship(resident, attending, program), starts_in=starts_in)

        assert meetings_remind_tomorrow(now=NOW) == 0

        meeting.refresh_from_db()
        assert meeting.reminded_at is None

    def test_a_meeting_is_reminded_when_it_comes_into_the_window(self, resident, attending, program):
        _meeting(_mentorship(resident, attending, program), starts_in=timedelta(hours=26))

        assert meetings_remind_tomorrow(now=NOW) == 0
        assert meetings_remind_tomorrow(now=NOW + timedelta(hours=3)) == 1

    @pytest.mark.parametrize("status", [Meeting.Status.PROPOSED, Meeting.Status.CANCELLED])
    def test_only_confirmed_meetings_are_reminded(self, resident, attending, program, status):
        _meeting(_mentorship(resident, attending, program), starts_in=timedelta(hours=20), status=status)

        assert meetings_remind_tomorrow(now=NOW) == 0

    def test_the_reminder_shows_the_time_in_each_persons_zone(self, resident, attending, program):
        attending.time_zone = "America/Los_Angeles"
        attending.save(update_fields=["time_zone"])
        start = datetime(2031, 3, 5, 15, 0, tzinfo=UTC)  # 10:00 in New York, 7:00 in LA
        _meeting(_mentorship(resident, attending, program), starts_in=start - NOW)

        meetings_remind_tomorrow(now=start - timedelta(hours=20))

        assert "10:00 EST" in Notification.objects.get(user=resident).title
        assert "07:00 PST" in Notification.objects.get(user=attending).title


class TestCheckinPrompts:
    def test_both_people_are_asked_once(self, resident, attending, program):
        mentorship = _mentorship(resident, attending, program, started_days_ago=20)

        assert checkins_prompt_monthly(now=NOW) == 1
        assert checkins_prompt_monthly(now=NOW) == 0
        assert checkins_prompt_monthly(now=NOW + timedelta(days=29)) == 0

        prompts = Notification.objects.filter(event="checkin.due")
        assert sorted(prompts.values_list("user", flat=True)) == sorted([resident.pk, attending.pk])
        assert {n.title for n in prompts} == {"How is your mentorship going?"}
        assert all(n.url == f"/mentorships/{mentorship.pk}/" for n in prompts)
        mentorship.refresh_from_db()
        assert mentorship.last_checkin_prompt_at == NOW

    def test_asked_again_a_month_later(self, resident, attending, program):
        _mentorship(resident, attending, program, last_checkin_prompt_at=NOW - timedelta(days=30))

        assert checkins_prompt_monthly(now=NOW) == 1
        assert Notification.objects.filter(event="checkin.due").count() == 2

    def test_not_asked_within_the_month(self, resident, attending, program):
        _mentorship(resident, attending, program, last_checkin_prompt_at=NOW - timedelta(days=29))

        assert checkins_prompt_monthly(now=NOW) == 0

    def test_a_new_pair_settles_in_for_two_weeks_first(self, resident, attending, program):
        _mentorship(resident, attending, program, started_days_ago=13)

        assert checkins_prompt_monthly(now=NOW) == 0
        assert checkins_prompt_monthly(now=NOW + timedelta(days=1)) == 1

    def test_an_ended_mentorship_is_not_prompted(self, resident, attending, program):
        _mentorship(resident, attending, program, status=Mentorship.Status.ENDED, ended_at=NOW - timedelta(days=1))

        assert checkins_prompt_monthly(now=NOW) == 0


class TestBeatSchedule:
    def test_every_scheduled_task_exists_and_is_registered(self):
        from config.celery import app

        schedule = app.conf.beat_schedule
        assert {entry["task"] for entry in schedule.values()} >= {
            "matching.tasks.expire_requests",
            "matching.tasks.remind_requests",
            "matching.tasks.remind_meetings_tomorrow",
            "matching.tasks.prompt_checkins",
            "matching.tasks.send_daily_digests",
        }
        for entry in schedule.values():
            module, name = entry["task"].rsplit(".", 1)
            task = getattr(importlib.import_module(module), name)
            assert task.name == entry["task"]
            assert entry["task"] in app.tasks

    def test_digests_go_out_at_seven_in_the_apps_time_zone(self, settings):
        from config.celery import app

        digest = app.conf.beat_schedule["send-daily-digests"]["schedule"]
        assert digest.hour == {7} and digest.minute == {0}
        assert str(app.timezone) == settings.TIME_ZONE
