"""Who works with whom: requests, mentorships, meetings, plans, check-ins, notifications, match runs.

Invariants the database enforces (the services add locked checks on top):
- at most one pending request per (mentee, mentor); nobody requests themselves;
- at most one active mentorship per (mentee, mentor) and per (mentee, kind);
- a mentor's active mentorships never exceed capacity (a locked count in
  ``mentorship_services``; capacity itself is checked >= 0 on MentorProfile).
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Program
from core.bounds import shift

USER = settings.AUTH_USER_MODEL


class Kind(models.TextChoices):
    """Kinds of mentorship: a resident may have a small team, one mentor per kind."""

    CAREER = "career", "Career"
    RESEARCH = "research", "Research"
    WELLNESS = "wellness", "Wellness"
    NEAR_PEER = "near_peer", "Near-peer"


class MentorshipRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Expired"
        # The mentor stopped accepting mentees while the request was open.
        CLOSED = "closed", "Closed"

    mentee = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="requests_sent")
    mentor = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="requests_received")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="mentorship_requests")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CAREER)
    message = models.TextField(max_length=2000)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # The mentor may ask one question before answering; the mentee replies.
    question = models.TextField(blank=True, max_length=2000)
    question_asked_at = models.DateTimeField(null=True, blank=True)
    answer = models.TextField(blank=True, max_length=2000)
    answered_at = models.DateTimeField(null=True, blank=True)
    response_note = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    mentorship = models.OneToOneField(
        "Mentorship", null=True, blank=True, on_delete=models.SET_NULL, related_name="request"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["mentee", "mentor"], condition=Q(status="pending"), name="request_one_pending_per_pair"
            ),
            models.CheckConstraint(condition=~Q(mentee=F("mentor")), name="request_not_to_self"),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["mentor", "status"]),
            models.Index(fields=["mentee", "status"]),
        ]

    def __str__(self):
        return f"{self.mentee} → {self.mentor} ({self.get_kind_display()}, {self.get_status_display()})"

    def save(self, *args, **kwargs):
        if self.expires_at is None:
            days = settings.MENTORMATCH["REQUEST_EXPIRY_DAYS"]
            self.expires_at = (self.created_at or timezone.now()) + timedelta(days=days)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("matching:request-detail", kwargs={"pk": self.pk})

    @property
    def is_pending(self):
        return self.status == self.Status.PENDING

    # Guards: the services check these under a row lock before changing state.
    def can_accept(self):
        return self.is_pending

    def can_decline(self):
        return self.is_pending

    def can_withdraw(self):
        return self.is_pending

    def can_ask_question(self):
        return self.is_pending and not self.question

    def can_answer(self):
        return self.is_pending and bool(self.question) and not self.answer


class Mentorship(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        ENDED = "ended", "Ended"

    class Source(models.TextChoices):
        REQUEST = "request", "Request"
        MATCH_RUN = "match_run", "Match run"
        COORDINATOR = "coordinator", "Coordinator"
        INTRODUCTION = "introduction", "Introduction"

    mentee = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="mentorships_as_mentee")
    mentor = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="mentorships_as_mentor")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="mentorships")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CAREER)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.REQUEST)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    end_reason = models.TextField(blank=True, max_length=2000)
    # No-fault flag for the coordinator: the mentee would like another mentor.
    rematch_requested = models.BooleanField(default=False)
    # The mentee's thank-you note, kept by the mentor (e.g. for a teaching portfolio).
    thank_you_note = models.TextField(blank=True, max_length=4000)
    last_checkin_prompt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["mentee", "mentor"], condition=Q(status="active"), name="mentorship_one_active_per_pair"
            ),
            models.UniqueConstraint(
                fields=["mentee", "kind"], condition=Q(status="active"), name="mentorship_one_active_per_kind"
            ),
            models.CheckConstraint(condition=~Q(mentee=F("mentor")), name="mentorship_not_self"),
        ]
        indexes = [models.Index(fields=["mentor", "status"]), models.Index(fields=["program", "status"])]

    def __str__(self):
        return f"{self.mentor} mentors {self.mentee} ({self.get_kind_display()})"

    def get_absolute_url(self):
        return reverse("matching:mentorship-detail", kwargs={"pk": self.pk})

    @property
    def is_active(self):
        return self.status == self.Status.ACTIVE

    def can_end(self):
        return self.is_active

    def other_party(self, user):
        return self.mentor if user.pk == self.mentee_id else self.mentee


class Agreement(models.Model):
    """What the pair agreed when they started: shown at the top of the mentorship page."""

    class Cadence(models.TextChoices):
        WEEKLY = "weekly", "Every week"
        BIWEEKLY = "biweekly", "Every two weeks"
        MONTHLY = "monthly", "Every month"
        QUARTERLY = "quarterly", "Every three months"
        AD_HOC = "ad_hoc", "When needed"

    mentorship = models.OneToOneField(Mentorship, on_delete=models.CASCADE, related_name="agreement")
    cadence = models.CharField(max_length=20, choices=Cadence.choices, default=Cadence.MONTHLY)
    preferred_channel = models.CharField(max_length=200, blank=True, help_text="e.g. Teams, e-mail, text")
    expectations = models.TextField(blank=True, max_length=4000)
    first_goals = models.TextField(blank=True, max_length=4000)
    updated_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic concurrency (core/concurrency.py): a save names the version it started from.
    version = models.PositiveIntegerField(default=1)

    def __str__(self):
        return f"Agreement for {self.mentorship}"


class Meeting(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        CONFIRMED = "confirmed", "Confirmed"
        HELD = "held", "Held"
        CANCELLED = "cancelled", "Cancelled"

    class Format(models.TextChoices):
        IN_PERSON = "in-person", "In person"
        VIDEO = "video", "Video"
        PHONE = "phone", "Phone"

    mentorship = models.ForeignKey(Mentorship, on_delete=models.CASCADE, related_name="meetings")
    proposed_by = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    format = models.CharField(max_length=20, choices=Format.choices, default=Format.VIDEO)
    duration_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(10), MaxValueValidator(240)]
    )
    location = models.CharField(max_length=255, blank=True)
    video_url = models.URLField(blank=True)
    # Stored in UTC; shown to each person in their own time zone.
    start = models.DateTimeField(null=True, blank=True, help_text="The confirmed start.")
    notes = models.TextField(blank=True, max_length=8000, help_text="Shared notes, after the meeting.")
    # iCalendar identity: the UID never changes; SEQUENCE grows on each reschedule/cancel.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    # Optimistic concurrency for what either person edits (notes, place, video link).
    version = models.PositiveIntegerField(default=1)
    reminded_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="proposed") | Q(status="cancelled") | Q(start__isnull=False),
                name="meeting_confirmed_has_start",
            ),
        ]
        indexes = [models.Index(fields=["status", "start"])]

    def __str__(self):
        return f"Meeting {self.get_status_display().lower()} for {self.mentorship}"

    @property
    def end(self):
        # A start written before the bounds (year 9999) ends at the last instant, not in a crash.
        return shift(self.start, timedelta(minutes=self.duration_minutes)) if self.start else None

    def can_confirm(self):
        return self.status == self.Status.PROPOSED

    def can_reschedule(self):
        return self.status in (self.Status.PROPOSED, self.Status.CONFIRMED)

    def can_cancel(self):
        return self.status in (self.Status.PROPOSED, self.Status.CONFIRMED)

    def can_mark_held(self):
        return self.status == self.Status.CONFIRMED and self.start is not None and self.start <= timezone.now()


class MeetingSlot(models.Model):
    """One of the 1–3 times proposed for a meeting."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="slots")
    start = models.DateTimeField()

    class Meta:
        ordering = ["start"]
        constraints = [models.UniqueConstraint(fields=["meeting", "start"], name="meeting_slot_unique")]

    def __str__(self):
        return f"{self.start:%Y-%m-%d %H:%M} UTC"


class ActionItem(models.Model):
    """A goal in the pair's action plan."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    mentorship = models.ForeignKey(Mentorship, on_delete=models.CASCADE, related_name="action_items")
    title = models.CharField(max_length=200)
    due_date = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="action_items")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["status", "due_date", "id"]

    def __str__(self):
        return self.title

    @property
    def is_open(self):
        return self.status in (self.Status.OPEN, self.Status.IN_PROGRESS)

    @property
    def is_overdue(self):
        return self.is_open and self.due_date is not None and self.due_date < timezone.localdate()


class Resource(models.Model):
    """A link the mentor shares: an article, a course, a fellowship, an opportunity."""

    mentorship = models.ForeignKey(Mentorship, on_delete=models.CASCADE, related_name="resources")
    shared_by = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    url = models.URLField(max_length=500)
    note = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.title


class Message(models.Model):
    """One message in the pair's private thread: a mentorship's, or a request's while the
    mentor decides. Only the two people read it (coordinators do not). The author may edit
    it for ``EDIT_WINDOW`` and delete it (kept as "deleted", the text gone)."""

    EDIT_WINDOW = timedelta(minutes=10)

    mentorship = models.ForeignKey(Mentorship, null=True, blank=True, on_delete=models.CASCADE, related_name="messages")
    request = models.ForeignKey(
        MentorshipRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(max_length=4000)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # When the other person (the thread has two) first saw it.
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(mentorship__isnull=False, request__isnull=True)
                | Q(mentorship__isnull=True, request__isnull=False),
                name="message_in_one_thread",
            ),
        ]
        indexes = [
            models.Index(fields=["mentorship", "created_at"]),
            models.Index(fields=["request", "created_at"]),
            models.Index(fields=["read_at", "author"]),
        ]

    def __str__(self):
        return f"Message by {self.author} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def is_deleted(self):
        return self.deleted_at is not None


class CalendarFeed(models.Model):
    """A person's secret calendar address (``webcal://…/feed/<token>.ics``) with all their
    meetings. Regenerating replaces the token, so the old address stops working."""

    user = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Calendar feed of {self.user}"


class Introduction(models.Model):
    """A mentor's warm introduction of their mentee to a colleague in the directory."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED_MEETING = "accepted_meeting", "Accepted: a meeting"
        ACCEPTED_MENTORSHIP = "accepted_mentorship", "Accepted: a mentorship"
        DECLINED = "declined", "Declined"

    mentorship = models.ForeignKey(Mentorship, on_delete=models.CASCADE, related_name="introductions")
    colleague = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="introductions_received")
    note = models.TextField(max_length=2000)
    kind = models.CharField(
        max_length=20, choices=Kind.choices, default=Kind.RESEARCH, help_text="The kind of mentorship proposed."
    )
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.PENDING)
    response_note = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["mentorship", "colleague"], condition=Q(status="pending"), name="introduction_one_pending"
            ),
        ]

    def __str__(self):
        return f"Introduction of {self.mentorship.mentee} to {self.colleague}"


class CheckIn(models.Model):
    """A short rating of how the mentorship is going. Confidential: the program's
    coordinators see it; the other person never does."""

    mentorship = models.ForeignKey(Mentorship, on_delete=models.CASCADE, related_name="checkins")
    author = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="checkins")
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5), name="checkin_rating_1_to_5"),
        ]

    def __str__(self):
        return f"Check-in {self.rating}/5 by {self.author}"


class Notification(models.Model):
    """One event for one person: shown in the app (the bell) and e-mailed.

    ``dedup_key`` is unique: creating the same notification twice (a re-delivered
    task, a retried request) is a no-op, and so is e-mailing it twice.

    The row is also its e-mail's outbox: a sender leases it (``email_claimed_at``, counting
    ``email_attempts``), sends, and only then sets ``emailed_at``. A failed send gives the
    lease back; a sender that died holding it loses it after ``notifications.EMAIL_LEASE``.
    """

    class Delivery(models.TextChoices):
        IMMEDIATE = "immediate", "Right away"
        DIGEST = "digest", "In a daily digest"
        # Unsubscribed (the link in every notification e-mail): the bell only. A meeting's
        # calendar invitation still comes, or the person's calendar would be wrong.
        NONE = "none", "Never: only here in MentorMatch"

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=50)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    dedup_key = models.CharField(max_length=200, unique=True)
    # Meeting e-mails carry the meeting's .ics invitation (or its cancellation).
    meeting = models.ForeignKey("Meeting", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"]), models.Index(fields=["emailed_at", "created_at"])]

    def __str__(self):
        return f"{self.event} for {self.user}: {self.title}"


class NotificationPreference(models.Model):
    user = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="notification_preference")
    delivery = models.CharField(
        max_length=20, choices=Notification.Delivery.choices, default=Notification.Delivery.IMMEDIATE
    )

    def __str__(self):
        return f"{self.user}: {self.get_delivery_display()}"


# --- Cohort match runs.


class MatchRun(models.Model):
    """One cohort match: who, how, and what came out. The row is also the task's outbox:
    a run is created QUEUED, the task claims it with a conditional UPDATE, and a periodic
    sweeper enqueues again the runs whose message never reached the broker.

    Invariant (database): at most one RUNNING run per program.
    """

    class Algorithm(models.TextChoices):
        STABLE = "stable", "Stable (the Match's deferred acceptance)"
        OPTIMAL = "optimal", "Optimal (most matches, then best total fit)"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="match_runs")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CAREER)
    algorithm = models.CharField(max_length=20, choices=Algorithm.choices, default=Algorithm.STABLE)
    # All seven component weights (engine.Weights), as given; the engine normalises them.
    weights = models.JSONField(default=dict, blank=True)
    mentees = models.ManyToManyField(USER, related_name="match_runs_as_mentee", blank=True)
    mentors = models.ManyToManyField(USER, related_name="match_runs_as_mentor", blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    stats = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # Cohort members may rank each other until this moment; the run starts after it.
    ranking_deadline = models.DateTimeField(null=True, blank=True)
    round = models.PositiveSmallIntegerField(default=1)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="next_rounds")
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # How many times a task claimed this run. It is also the claim's fencing token: only the
    # holder of the latest attempt may record progress or the result.
    attempts = models.PositiveSmallIntegerField(default=0)
    # The Celery task id holding the claim. A delivery with this same id while the run is
    # RUNNING is the broker redelivering the message of a worker that died (acks_late).
    claimed_by_task = models.CharField(max_length=255, blank=True)
    # What the run read when it was computed (``match_runs.freshness``): pairings, capacity,
    # conflicts and profile versions of its cohort. A run whose inputs changed is out of date.
    inputs = models.JSONField(default=dict, blank=True, editable=False)
    # Spots a coordinator added to a mentor for this run only, {mentor id: extra spots},
    # when an override went over the mentor's capacity on purpose.
    extra_spots = models.JSONField(default=dict, blank=True)
    # The run this one repeats with the same settings (a re-run of an out-of-date run).
    rerun_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns")
    # The run whose ranking window collected the ranked lists this run uses, copied into this
    # run's own rankings (``match_runs.services``: a start that reuses them, or a re-run). Null
    # when the run collected its own in a window of its own, or used none.
    rankings_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rankings_reused_by"
    )
    # A discarded run: kept, with its audit trail, but out of the way and never published.
    archived_at = models.DateTimeField(null=True, blank=True)
    archived_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The last reminder sent to the cohort members who had not submitted their ranking.
    ranking_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["program"], condition=Q(status="running"), name="match_run_one_running_per_program"
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="match_run_progress_0_to_100"),
            models.CheckConstraint(condition=Q(round__gte=1), name="match_run_round_from_1"),
        ]
        indexes = [models.Index(fields=["status", "created_at"]), models.Index(fields=["program", "-created_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} match #{self.pk} for {self.program} ({self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("matching:match-run-detail", args=[self.pk])

    @property
    def is_published(self):
        return self.published_at is not None

    def ranking_window_open(self, now=None):
        return (
            self.status == self.Status.QUEUED
            and self.ranking_deadline is not None
            and (now or timezone.now()) < self.ranking_deadline
        )

    @property
    def is_archived(self):
        return self.archived_at is not None

    # Guards: the services check these under a row lock.
    def can_review(self):
        """Proposals may be accepted, rejected or overridden (an out-of-date run is refused
        as well, by ``match_runs.freshness``, which needs queries)."""
        return self.status == self.Status.SUCCEEDED and not self.is_published and not self.is_archived

    def can_archive(self):
        """Discarded: anything that is neither waiting, running nor published."""
        return self.status not in (self.Status.QUEUED, self.Status.RUNNING) and not self.is_published

    def can_rerun(self):
        """Computed again with the same settings: a finished run nobody published or discarded."""
        return self.can_archive() and not self.is_archived

    def extra_spots_for(self, mentor_id):
        """Spots a coordinator added to this mentor for this run only."""
        return int((self.extra_spots or {}).get(str(mentor_id), 0))

    def can_publish(self):
        return self.can_review()

    def can_start_second_round(self):
        return self.status == self.Status.SUCCEEDED and self.is_published


class MatchProposal(models.Model):
    """The engine's proposal for one mentee of a run (mentor null = unmatched), and the
    coordinator's decision on it. ``rank_obtained`` and ``mentor_rank`` come from people's
    confidential rankings: coordinators may see them, residents never."""

    class Decision(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        OVERRIDDEN = "overridden", "Overridden"
        REJECTED = "rejected", "Rejected"

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="proposals")
    mentee = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    mentor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(null=True, blank=True)
    # Place of the mentor in the mentee's own list (as submitted, or in score order).
    rank_obtained = models.PositiveSmallIntegerField(null=True, blank=True)
    # Place of the mentee in the mentor's submitted list; null when the mentor did not rank.
    mentor_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    # {"score": …, "components": [{"name", "label", "value", "points", "max_points", "reason"}, …]}
    explanation = models.JSONField(default=dict, blank=True)
    # Why the engine left the mentee unmatched: for coordinators ("… paired with the resident") and,
    # once published, for the mentee ("… paired with you"). Neither reveals anyone's ranking.
    why_not = models.TextField(blank=True)
    why_not_for_mentee = models.TextField(blank=True)
    decision = models.CharField(max_length=20, choices=Decision.choices, default=Decision.PENDING)
    override_mentor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decision_note = models.TextField(blank=True, max_length=2000)
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "mentee_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "mentee"], name="match_proposal_one_per_mentee"),
            models.CheckConstraint(
                condition=~Q(decision="overridden") | Q(override_mentor__isnull=False),
                name="match_proposal_override_has_mentor",
            ),
        ]

    def __str__(self):
        return f"{self.mentee} → {self.final_mentor or 'unmatched'} (run {self.run_id})"

    @property
    def final_mentor(self):
        """The mentor publishing would pair the mentee with (if the decision stands)."""
        return self.override_mentor if self.decision == self.Decision.OVERRIDDEN else self.mentor

    @property
    def final_mentor_id(self):
        return self.override_mentor_id if self.decision == self.Decision.OVERRIDDEN else self.mentor_id

    @property
    def decision_label(self) -> str:
        """The decision as the review page and the CSV say it: an unmatched resident nobody has
        decided about yet is "No mentor proposed", not "Pending" (there is nothing to accept)."""
        if self.decision == self.Decision.PENDING and self.mentor_id is None:
            return "No mentor proposed"
        return self.get_decision_display()


class MatchRanking(models.Model):
    """One entry of a cohort member's confidential ranking in a run's ranking window:
    ``position`` 1 is the best; ``never`` means "do not pair me with this person"."""

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="rankings")
    author = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(null=True, blank=True)
    never = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run", "author", "never", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "author", "target"], name="match_ranking_one_per_target"),
            models.UniqueConstraint(
                fields=["run", "author", "position"], condition=Q(never=False), name="match_ranking_one_per_position"
            ),
            models.CheckConstraint(
                condition=(Q(never=True) & Q(position__isnull=True)) | (Q(never=False) & Q(position__gte=1)),
                name="match_ranking_position_or_never",
            ),
            models.CheckConstraint(condition=~Q(author=F("target")), name="match_ranking_not_self"),
        ]

    def __str__(self):
        return f"Ranking by {self.author} in run {self.run_id}"


class RankingSubmission(models.Model):
    """A cohort member's explicit "Submit my list" in a run's ranking window (an empty list
    is a submission too: "no preference"). The entries are ``MatchRanking`` rows; this row
    says the person is done, and when. Editable until the deadline (``updated_at``)."""

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="ranking_submissions")
    author = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    ranked = models.PositiveSmallIntegerField(default=0)
    never = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["run", "submitted_at"]
        constraints = [models.UniqueConstraint(fields=["run", "author"], name="ranking_submission_one_per_author")]

    def __str__(self):
        return f"Ranking submitted by {self.author} in run {self.run_id}"


# --- Conflicts of interest.


class EvaluatorRole(models.Model):
    """A faculty member who evaluates the program's residents. Power differential is a known
    failure of residency mentoring: the engine and the request flow keep evaluators away from
    their program's residents, unless a coordinator grants a ``PairingException`` for a pair."""

    class Role(models.TextChoices):
        PROGRAM_DIRECTOR = "program_director", "Program director"
        ASSOCIATE_PD = "associate_pd", "Associate program director"
        CCC_MEMBER = "ccc_member", "Clinical competency committee member"

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="evaluator_roles")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="evaluator_roles")
    role = models.CharField(max_length=30, choices=Role.choices)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["program", "user_id", "role"]
        constraints = [
            models.UniqueConstraint(fields=["program", "user", "role"], name="evaluator_role_once"),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.program}"


class ConflictOfInterest(models.Model):
    """A (mentee, mentor) pair of a program that must never be paired, and why. The reason is
    for coordinators only; the two people are told only that the pairing is not available."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="conflicts")
    mentee = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    mentor = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField(max_length=1000)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "conflicts of interest"
        constraints = [
            models.UniqueConstraint(fields=["program", "mentee", "mentor"], name="conflict_once_per_pair"),
            models.CheckConstraint(condition=~Q(mentee=F("mentor")), name="conflict_not_self"),
        ]

    def __str__(self):
        return f"Do not pair {self.mentee} with {self.mentor} ({self.program})"


class PairingException(models.Model):
    """A coordinator's explicit, logged permission for an evaluator of the program to mentor
    one of its residents anyway."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="pairing_exceptions")
    mentee = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    mentor = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField(max_length=1000)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "mentee", "mentor"], name="pairing_exception_once_per_pair"),
        ]

    def __str__(self):
        return f"{self.mentor} may mentor {self.mentee} ({self.program})"
