"""Periodic scans (celery beat; the schedule is in config/celery.py).

Reminders come from scanning the database, never from long countdowns: a Redis
broker re-delivers tasks with a long ETA. Each row is claimed with a conditional
UPDATE before anyone is notified, so overlapping or repeated runs notify once.
Every function takes ``now`` so tests can freeze time.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import Meeting, Mentorship
from .notifications import notify
from .scheduling import format_in_zone, meeting_url

# A meeting is reminded once, on the first (hourly) scan that finds it starting within
# the next day: about 24 hours before. One confirmed within the last hour before it
# starts gets no reminder; the confirmation itself has just told both people.
MEETING_REMINDER_WINDOW = (timedelta(hours=1), timedelta(hours=24))
CHECKIN_INTERVAL = timedelta(days=30)
# New pairs settle in before they are asked how it's going.
CHECKIN_FIRST_AFTER = timedelta(days=14)


def meetings_remind_tomorrow(*, now=None) -> int:
    """Remind both people, the day before, of each confirmed meeting that starts 1–24 hours
    from ``now``, once per meeting. Returns the number of meetings reminded."""
    now = now or timezone.now()
    earliest, latest = (now + offset for offset in MEETING_REMINDER_WINDOW)
    due = Meeting.objects.filter(
        status=Meeting.Status.CONFIRMED, reminded_at__isnull=True, start__gt=earliest, start__lte=latest
    ).values_list("pk", flat=True)
    reminded = 0
    for pk in list(due):
        with transaction.atomic():
            if not Meeting.objects.filter(pk=pk, status=Meeting.Status.CONFIRMED, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                continue
            meeting = Meeting.objects.select_related("mentorship__mentee", "mentorship__mentor").get(pk=pk)
            mentorship = meeting.mentorship
            for user in (mentorship.mentee, mentorship.mentor):
                other = mentorship.other_party(user)
                notify(
                    event="meeting.reminder",
                    user=user,
                    url=meeting_url(meeting),
                    title=f"Reminder: you meet {other.full_name} on {format_in_zone(meeting.start, user)}",
                    body=_meeting_details(meeting),
                    # Per person, and per version of the meeting: a rescheduled meeting
                    # (higher sequence) whose reminded_at is cleared is reminded again.
                    dedup_key=f"meeting:{pk}:reminder:{meeting.sequence}:{user.pk}",
                )
            reminded += 1
    return reminded


def checkins_prompt_monthly(*, now=None) -> int:
    """Ask both people in each active mentorship, started at least two weeks ago, how
    it is going: at most once every 30 days. Returns the number of mentorships prompted."""
    now = now or timezone.now()
    due_filter = Q(status=Mentorship.Status.ACTIVE) & (
        Q(last_checkin_prompt_at__isnull=True) | Q(last_checkin_prompt_at__lte=now - CHECKIN_INTERVAL)
    )
    due = Mentorship.objects.filter(due_filter, started_at__lte=now - CHECKIN_FIRST_AFTER).values_list("pk", flat=True)
    prompted = 0
    for pk in list(due):
        with transaction.atomic():
            if not Mentorship.objects.filter(due_filter, pk=pk).update(last_checkin_prompt_at=now):
                continue
            mentorship = Mentorship.objects.select_related("mentee", "mentor").get(pk=pk)
            for user in (mentorship.mentee, mentorship.mentor):
                other = mentorship.other_party(user)
                notify(
                    event="checkin.due",
                    user=user,
                    url=mentorship.get_absolute_url(),
                    title="How is your mentorship going?",
                    body=f"Take a minute to rate how things are going with {other.full_name}. "
                    "Only your program's coordinators see your answer, never the other person.",
                    dedup_key=f"mentorship:{pk}:checkin:{now:%Y%m%d}:{user.pk}",
                )
            prompted += 1
    return prompted


def _meeting_details(meeting) -> str:
    details = [f"{meeting.get_format_display()}, {meeting.duration_minutes} minutes."]
    if meeting.location:
        details.append(f"Where: {meeting.location}")
    if meeting.video_url:
        details.append(f"Video link: {meeting.video_url}")
    return "\n".join(details)
