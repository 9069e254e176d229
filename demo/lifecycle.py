"""The demo's mentorships: every step of the lifecycle, ready on first login.

``demo.people`` seeds the people; ``seed_lifecycle()`` then plays a dozen short
stories through the services (requests, mentorships, meetings, the plan, check-ins),
so the audit trail and the notifications are the ones real use would leave:

- attending@ has two requests waiting (one with her question asked and answered), one
  mentee (resident@'s classmate) with an agreement, three goals, two resources, a
  meeting held last month and one confirmed for next week, and free spots;
- resident@ has no mentor and no pending request, only an earlier, kindly declined one,
  so the demo can walk "find a mentor, request" from scratch;
- nearpeer@ mentors an intern (a proposed meeting waits for the intern to pick a time)
  and has completed her own career mentorship early, with a thank-you note;
- other residents in both programs have mentorships and check-ins; one asked to be
  rematched.

Idempotent: each story is one pair of people and is skipped when the pair already has
a request or a mentorship, so a re-run changes nothing and what people do while
exploring the demo survives. Deterministic: the people are chosen from
``demo.people.demo_cast()`` by what the story needs (program, year, interests,
overlapping availability), and times are relative to now, in each person's own time
zone, taken from their weekly availability with ``suggest_slots``.

The services stamp every event with the real time. A demo needs a past, so once a
service has made a change, the story moves that change's timestamps back to when it
happened in the story (requests, start and end of mentorships, check-ins, goals,
resources, notifications). Audit entries keep the real time: they record when the
seed made the change. Where a service refuses a past time (proposing or confirming a
meeting that has already happened), the rows are written directly, as the services
would leave them; marking it held and the notes then go through the services.

Nobody is e-mailed: the notifications stay in the app (the bell), and are marked
e-mailed before the transaction commits, so the e-mail tasks, which claim un-e-mailed
rows only, find nothing to send.
"""

import logging
import zoneinfo
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Membership, Program, User
from audit.services import audit_log
from demo.people import DEMO_DOMAIN, WELLNESS, DemoDataError, Person, demo_cast
from matching.models import (
    ActionItem,
    CheckIn,
    EvaluatorRole,
    Kind,
    Meeting,
    MeetingSlot,
    Mentorship,
    MentorshipRequest,
    Message,
    Notification,
    Resource,
)
from matching.scheduling import suggest_slots
from matching.services.conflicts import evaluator_role_add, exception_grant
from matching.services.meetings import meeting_confirm, meeting_mark_held, meeting_propose, meeting_update_notes
from matching.services.mentorships import mentorship_create, mentorship_end, mentorship_leave_thank_you
from matching.services.messages import message_post
from matching.services.plan import (
    action_item_create,
    action_item_update,
    agreement_update,
    checkin_submit,
    resource_share,
)
from matching.services.requests import (
    request_accept,
    request_answer,
    request_ask_question,
    request_create,
    request_decline,
)

RESIDENT_LOGIN = f"resident@{DEMO_DOMAIN}"
ATTENDING = f"attending@{DEMO_DOMAIN}"
NEARPEER = f"nearpeer@{DEMO_DOMAIN}"
COORDINATOR = f"coordinator@{DEMO_DOMAIN}"
# Mentors in the stories, from demo.people.MENTORS.
IYER = "rajesh.iyer@demo.mentormatch.org"
THOMPSON = "grace.thompson@demo.mentormatch.org"
HADDAD = "omar.haddad@demo.mentormatch.org"
HERNANDEZ = "luis.hernandez@demo.mentormatch.org"
KIM = "daniel.kim@demo.mentormatch.org"
TURNER = "michael.turner@demo.mentormatch.org"
MORALES = "ana-lucia.morales@demo.mentormatch.org"
FISCHER = "hannah.fischer@demo.mentormatch.org"
JOHNSON = "marcus.johnson@demo.mentormatch.org"
REYES = "jonathan.reyes@demo.mentormatch.org"
MITCHELL = "karen.mitchell@demo.mentormatch.org"  # the IM program director

CARDIOLOGY = "internal-medicine-cardiovascular-disease"
SUBSPECIALTY = {
    "nephrology": "internal-medicine-nephrology",
    "id": "internal-medicine-infectious-disease",
    "surgical critical care": "general-surgery-surgical-critical-care",
    "surgical oncology": "general-surgery-complex-general-surgical-oncology",
    "vascular": "general-surgery-vascular-surgery",
    "thoracic": "thoracic-surgery",
}

VIDEO, IN_PERSON, PHONE = Meeting.Format.VIDEO, Meeting.Format.IN_PERSON, Meeting.Format.PHONE


# --- Who plays which part: chosen from the cast, the same people on every run.


def _overlap_minutes(a: Person, b: Person) -> int:
    """Minutes a week both are free; both in the same program, so the same time zone."""
    total = 0
    for day_a, start_a, end_a in a.windows:
        for day_b, start_b, end_b in b.windows:
            if day_a == day_b:
                start, end = max(start_a, start_b), min(end_a, end_b)
                if start < end:
                    total += (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return total


def _busy_days_soon(person: Person, days: int = 42) -> int:
    return sum(min(length, days - first) for first, length, _ in person.busy if first < days)


def cast_parts() -> dict[str, str]:
    """Each part in the stories, as an e-mail: the best fit from the cast for what the
    story says about them, else anyone free in that program (the stories still work)."""
    cast = demo_cast()
    by_email = {p.email: p for p in cast}
    for email in (RESIDENT_LOGIN, ATTENDING, NEARPEER, COORDINATOR):
        if email not in by_email:
            raise DemoDataError(f"{email} is missing from the demo cast.")
    # Residents with a filled-in profile; the demo logins play their own parts.
    residents = [
        p for p in cast if p.mentee and p.mentee.goals_text and p.windows and p.email not in (RESIDENT_LOGIN, NEARPEER)
    ]
    taken: set[str] = set()

    def pick(program: str, stages: set[str], score=lambda p: 0) -> str:
        pool = [p for p in residents if p.email not in taken and (program, Membership.Role.RESIDENT) in p.roles]
        if not pool:
            raise DemoDataError(f"The demo cast has too few {program} residents for the mentorship stories.")
        # max() keeps the first of equals: cast order breaks ties.
        best = max(pool, key=lambda p: (p.mentee.stage in stages, score(p)))
        taken.add(best.email)
        return best.email

    def wants(p: Person, *, subspecialty=None, goals=()):
        return (subspecialty in p.mentee.subspecialty_interests if subspecialty else False) + sum(
            goal in p.mentee.goals for goal in goals
        )

    attending, nearpeer = by_email[ATTENDING], by_email[NEARPEER]
    parts = {}
    parts["classmate"] = pick(
        "im", {"PGY-1"}, lambda p: (_overlap_minutes(p, attending) > 0, wants(p, subspecialty=CARDIOLOGY))
    )
    parts["applicant"] = pick(
        "im",
        {"PGY-2", "PGY-3"},
        lambda p: (wants(p, subspecialty=CARDIOLOGY), wants(p, goals=["Fellowship application"])),
    )
    parts["intern_cardio"] = pick("im", {"PGY-1"}, lambda p: wants(p, subspecialty=CARDIOLOGY))
    parts["rematch"] = pick("im", {"PGY-2"}, lambda p: wants(p, subspecialty=SUBSPECIALTY["nephrology"]))
    parts["thompson_mentee"] = pick("im", {"PGY-2"}, lambda p: wants(p, goals=["Teaching", WELLNESS]))
    parts["kim_mentee"] = pick("im", {"PGY-1"}, lambda p: wants(p, goals=["Board preparation"]))
    parts["hernandez_mentee"] = pick(
        "im",
        {"PGY-2", "PGY-3"},
        lambda p: (wants(p, subspecialty=SUBSPECIALTY["id"]), wants(p, goals=["Global health"])),
    )
    # The intern nearpeer@ mentors: the most evenings in common, the fewest busy weeks.
    parts["intern"] = pick("gs", {"PGY-1"}, lambda p: (_overlap_minutes(p, nearpeer), -_busy_days_soon(p)))
    parts["turner_mentee"] = pick(
        "gs", {"PGY-2", "PGY-3"}, lambda p: wants(p, subspecialty=SUBSPECIALTY["surgical critical care"])
    )
    parts["johnson_mentee"] = pick(
        "gs", {"PGY-3"}, lambda p: wants(p, goals=["Leadership", "Job search and contracts"])
    )
    parts["morales_mentee"] = pick(
        "gs",
        {"PGY-4", "PGY-5"},
        lambda p: (wants(p, subspecialty=SUBSPECIALTY["surgical oncology"]), wants(p, goals=["Research"])),
    )
    parts["fischer_mentee"] = pick("gs", {"PGY-1", "PGY-2"}, lambda p: wants(p, subspecialty=SUBSPECIALTY["vascular"]))
    parts["reyes_applicant"] = pick(
        "gs",
        {"PGY-3", "PGY-4", "PGY-5"},
        lambda p: (wants(p, subspecialty=SUBSPECIALTY["thoracic"]), wants(p, goals=["Fellowship application"])),
    )
    return parts


# --- Time: relative to now, in people's own zones, from their availability.


def _zone(user) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(user.time_zone)


def _week_start(now: datetime, tz, weeks_ahead: int) -> datetime:
    """Monday 00:00 (in ``tz``) ``weeks_ahead`` weeks from this week's."""
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)
    return datetime.combine(monday, time.min, tzinfo=tz)


def _free_times(mentee, mentor, *, start: datetime, horizons=(7,), count=1, duration=30) -> list[datetime]:
    """Up to ``count`` times from ``start`` when both are free, looking further ahead
    (``horizons``, in days) until there are enough. Without enough in common, the
    mentor's own free times fill in: that is what they would offer."""
    times: list[datetime] = []
    for days in horizons:
        times = suggest_slots(
            mentee=mentee, mentor=mentor, start=start, days=days, count=count, duration_minutes=duration
        )
        if len(times) >= count:
            return times
    # suggest_slots with the mentor on both sides: the mentor's availability alone.
    own = suggest_slots(
        mentee=mentor, mentor=mentor, start=start, days=horizons[-1], count=count, duration_minutes=duration
    )
    times = sorted(set(times) | set(own))[:count]
    if not times:  # the mentor cleared their availability: noon on the first weekday
        day = start.astimezone(_zone(mentor)).date() + timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        times = [datetime.combine(day, time(12), tzinfo=_zone(mentor)).astimezone(UTC)]
    return times


def _weeks_earlier(when: datetime, weeks: int, tz) -> datetime:
    """The same weekday and wall-clock time ``weeks`` weeks earlier in ``tz`` (across a DST change too)."""
    local = when.astimezone(tz)
    return datetime.combine(local.date() - timedelta(weeks=weeks), local.time(), tzinfo=tz).astimezone(UTC)


# --- Small steps the stories share.


def _set(obj, **fields):
    """Move fields a service (or auto_now) stamped with the real time to the story's time."""
    type(obj).objects.filter(pk=obj.pk).update(**fields)
    for name, value in fields.items():
        setattr(obj, name, value)


@dataclass
class _Stories:
    now: datetime
    users: dict[str, User]
    parts: dict[str, str]
    skipped: list[str] = field(default_factory=list)

    def ago(self, days: float = 0, hours: float = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours)

    def who(self, part_or_email: str) -> User:
        return self.users[self.parts.get(part_or_email, part_or_email)]

    @contextmanager
    def dated(self, when: datetime, *, read: bool | None = None):
        """Notifications the service calls inside send are dated ``when``. Unless ``read``
        says otherwise, those older than two days are read by now; recent ones wait in the bell."""
        last = Notification.objects.aggregate(last=Max("pk"))["last"] or 0
        yield
        if read is None:
            read = when < self.now - timedelta(days=2)
        read_at = min(when + timedelta(hours=3), self.now) if read else None
        Notification.objects.filter(pk__gt=last).update(created_at=when, read_at=read_at)

    # Requests and mentorships.

    def request(self, mentee, mentor, message, *, sent, kind=Kind.CAREER) -> MentorshipRequest:
        with self.dated(sent):
            request = request_create(mentee=mentee, mentor=mentor, kind=kind, message=message)
        days = settings.MENTORMATCH["REQUEST_EXPIRY_DAYS"]
        _set(request, created_at=sent, expires_at=sent + timedelta(days=days))
        return request

    def accepted(self, mentee, mentor, message, note, *, sent, accepted, kind=Kind.CAREER) -> Mentorship:
        request = self.request(mentee, mentor, message, sent=sent, kind=kind)
        with self.dated(accepted):
            mentorship = request_accept(request=request, actor=mentor, note=note)
        _set(request, resolved_at=accepted)
        _set(mentorship, started_at=accepted)
        return mentorship

    def assigned(self, mentee, mentor, *, kind, started) -> Mentorship:
        """A coordinator pairs them (how near-peer mentors are usually assigned)."""
        mentorship = mentorship_create(
            mentee=mentee,
            mentor=mentor,
            program=self._program_of(mentee),
            kind=kind,
            source=Mentorship.Source.COORDINATOR,
            actor=self.users[COORDINATOR],
        )
        _set(mentorship, started_at=started)
        return mentorship

    def _program_of(self, resident):
        return Membership.objects.select_related("program").get(user=resident, role=Membership.Role.RESIDENT).program

    def ended(self, mentorship, *, by, when, reason, completed=False, rematch=False):
        with self.dated(when):
            mentorship_end(mentorship=mentorship, actor=by, reason=reason, completed=completed, rematch=rematch)
        _set(mentorship, ended_at=when)

    # Meetings.

    def held(self, mentorship, *, start, notes, notes_by, format=VIDEO, location="", duration=30) -> Meeting:
        """A meeting that took place. meeting_propose and meeting_confirm refuse past
        times, so the proposal and its confirmation are written as those services
        leave them (a confirmed meeting, its slot, their audit entries); the services
        then mark it held and share the notes."""
        proposer = mentorship.mentor
        meeting = Meeting.objects.create(
            mentorship=mentorship,
            proposed_by=proposer,
            status=Meeting.Status.CONFIRMED,
            start=start,
            format=format,
            location=location,
            duration_minutes=duration,
        )
        MeetingSlot.objects.create(meeting=meeting, start=start)
        snapshot = {"status": Meeting.Status.CONFIRMED, "start": start.isoformat(), "sequence": 0}
        audit_log(
            actor=proposer,
            action="meeting.propose",
            obj=meeting,
            program=mentorship.program,
            after={**snapshot, "status": Meeting.Status.PROPOSED, "start": None, "slots": [start.isoformat()]},
        )
        audit_log(
            actor=mentorship.mentee, action="meeting.confirm", obj=meeting, program=mentorship.program, after=snapshot
        )
        end = start + timedelta(minutes=duration)
        with self.dated(end):
            meeting_mark_held(meeting=meeting, actor=proposer)
        with self.dated(end + timedelta(hours=2)):
            meeting_update_notes(meeting=meeting, actor=notes_by, notes=notes)
        _set(meeting, created_at=start - timedelta(days=6), updated_at=end + timedelta(hours=2))
        return meeting

    def confirmed(self, mentorship, slots, *, format=VIDEO, location="", proposed, confirmed) -> Meeting:
        """Proposed by the mentor, the first time confirmed by the mentee."""
        with self.dated(proposed):
            meeting = meeting_propose(
                mentorship=mentorship, actor=mentorship.mentor, slots=slots, format=format, location=location
            )
        with self.dated(confirmed):
            meeting = meeting_confirm(meeting=meeting, actor=mentorship.mentee, start=slots[0])
        _set(meeting, created_at=proposed)
        return meeting

    # The plan and check-ins.

    def agreement(self, mentorship, *, by, when, **fields):
        with self.dated(when):
            agreement_update(mentorship=mentorship, actor=by, **fields)

    def checkins(self, mentorship, entries):
        """``entries``: (author, rating, comment, days ago), oldest first. One per person
        per month is the rule, so each is moved back before the author's next one."""
        for author, rating, comment, days_ago in entries:
            checkin = checkin_submit(mentorship=mentorship, actor=author, rating=rating, comment=comment)
            if days_ago:
                _set(checkin, created_at=self.ago(days=days_ago))

    def goal(self, mentorship, *, title, owner, by, created, due=None, done=None) -> ActionItem:
        with self.dated(created):
            item = action_item_create(mentorship=mentorship, actor=by, title=title, due_date=due, owner=owner)
        _set(item, created_at=created)
        if done:
            with self.dated(done):
                action_item_update(item=item, actor=owner, status=ActionItem.Status.DONE)
            _set(item, completed_at=done)
        return item

    def resource(self, mentorship, *, title, url, note, shared) -> Resource:
        with self.dated(shared):
            resource = resource_share(mentorship=mentorship, actor=mentorship.mentor, title=title, url=url, note=note)
        _set(resource, created_at=shared)
        return resource

    def messages(self, thread, entries):
        """The pair's conversation: ``(author, body, when, read)`` each, oldest first; an
        unread one waits in the other person's bell."""
        for author, body, when, read in entries:
            with self.dated(when, read=read):
                message = message_post(thread=thread, author=author, body=body)
            _set(message, created_at=when, read_at=min(when + timedelta(hours=2), self.now) if read else None)

    def attending_and_her_mentee(self, mentee, mentor):
        m = self.accepted(
            mentee,
            mentor,
            f"Hi Dr. Vasquez, I'm {mentee.first_name}, one of the new interns. I don't know yet where I'm headed "
            "and I'd like a mentor who has watched a lot of residents choose. Could we meet once a month?",
            "Welcome to Lakeside! Happy to. Let's start with a conversation about what you enjoy most so far.",
            sent=self.ago(days=58),
            accepted=self.ago(days=57),
        )
        self.agreement(
            m,
            by=mentor,
            when=self.ago(days=56),
            cadence="monthly",
            preferred_channel="Teams, or a text for quick questions",
            expectations=(
                "We meet once a month for 30 minutes, by video on Thursday evenings or over coffee before clinic. "
                f"{mentee.first_name} sets the agenda; Elena answers messages within a couple of days."
            ),
            first_goals="Find a direction by the spring of intern year. Start one small project you can finish.",
        )
        tz = _zone(mentor)
        # Next week's meeting, when both are free; last month's was at the same weekly time.
        upcoming = _free_times(mentee, mentor, start=_week_start(self.now, tz, 1), count=2)
        held_on = _weeks_earlier(upcoming[0], 5, tz)
        self.held(
            m,
            start=held_on,
            notes_by=mentee,
            notes=(
                "Talked through intern year so far and what I want from the next two years.\n"
                "- Elena suggested one question from the echo database rather than a new project.\n"
                "- I'll shadow in the echo lab on a Friday morning.\n"
                "- Next time: my CV, and a first look at the data."
            ),
        )
        self.goal(
            m,
            title="Shadow in the echo lab on a Friday morning",
            owner=mentee,
            by=mentor,
            created=held_on + timedelta(days=1),
            due=(held_on + timedelta(days=14)).date(),
            done=held_on + timedelta(days=12),
        )
        self.goal(
            m,
            title="Pick a research question from the echo database",
            owner=mentee,
            by=mentee,
            created=held_on + timedelta(days=1),
            due=self.now.date() - timedelta(days=5),
        )
        self.goal(
            m,
            title="Introduce me to the cardiology fellowship program director",
            owner=mentor,
            by=mentee,
            created=held_on + timedelta(days=1),
            due=self.now.date() + timedelta(days=21),
        )
        self.resource(
            m,
            title="NRMP: how the fellowship Match works",
            url="https://www.nrmp.org/",
            note="Worth ten minutes now, even two years out: the timeline shapes what to do in PGY-2.",
            shared=held_on + timedelta(days=2),
        )
        self.resource(
            m,
            title="ACC Fellows in Training section",
            url="https://www.acc.org/",
            note="Free for residents: webinars on research, applications and the first job.",
            shared=self.ago(days=9),
        )
        self.checkins(
            m,
            [
                (mentee, 5, "Elena makes time and remembers what we talked about.", 33),
                (mentor, 4, "", 33),
                (mentee, 5, "", 0),
            ],
        )
        self.confirmed(m, upcoming, format=VIDEO, proposed=self.ago(days=3), confirmed=self.ago(days=2))
        self.messages(
            m,
            [
                (
                    mentee,
                    "I found the echo database query guide: https://www.asecho.org/ — is this the one you meant?",
                    self.ago(days=4),
                    True,
                ),
                (
                    mentor,
                    "Yes, that's it. Start with the 2019–2023 studies; ask Sam in the lab for access.",
                    self.ago(days=4, hours=-3),
                    True,
                ),
                (
                    mentee,
                    "Got access today, thank you! I'll bring a first list of questions next week.",
                    self.ago(days=1),
                    True,
                ),
                (
                    mentor,
                    "Great. Could you also send me your CV before we meet? I'd like to read it first.",
                    self.ago(hours=20),
                    True,
                ),
                (
                    mentee,
                    "Here it is: https://example.org/cv-draft — a first draft, so be honest!",
                    self.ago(hours=5),
                    False,
                ),
            ],
        )

    def request_with_a_question(self, mentee, mentor):
        request = self.request(
            mentee,
            mentor,
            f"Dear Dr. Vasquez, I'm {mentee.first_name}, a {mentee.mentee_profile.career_stage.code} applying to "
            "cardiology fellowship this cycle. I read that you see a lot of applications; I'd be grateful for "
            "honest feedback on mine and help choosing programs.",
            sent=self.ago(days=3),
        )
        with self.dated(self.ago(days=2), read=True):  # read: the answer came the next day
            request_ask_question(
                request=request,
                actor=mentor,
                question="Happy to help. Do you have a research project you can show by the time you apply, "
                "and who is writing your letters?",
            )
        with self.dated(self.ago(days=1)):
            request_answer(
                request=request,
                actor=mentee,
                answer="A retrospective project on heart-failure readmissions, abstract submitted to the spring "
                "meeting; letters from my program director and two ward attendings, and I'm hoping for a third "
                "from cardiology.",
            )
        _set(request, question_asked_at=self.ago(days=2), answered_at=self.ago(days=1))
        # The question and the answer are the first messages of the request's thread.
        question, answer = Message.objects.filter(request=request).order_by("pk")
        _set(question, created_at=self.ago(days=2), read_at=self.ago(days=1, hours=2))
        _set(answer, created_at=self.ago(days=1))  # unread: waiting for Dr. Vasquez

    def request_waiting(self, mentee, mentor):
        self.request(
            mentee,
            mentor,
            f"Hi Dr. Vasquez, I'm {mentee.first_name}, an intern. Cardiology is the field I keep coming back to, "
            "and I'd love a mentor in it from the start. Could we meet before clinic some morning?",
            sent=self.ago(hours=20),
        )

    def resident_declined_kindly(self, mentee, mentor):
        request = self.request(
            mentee,
            mentor,
            "Dear Dr. Iyer, I'm Jordan, an intern. My MICU month made me wonder about pulm/crit, and I'd value a "
            "mentor who could help me decide between it and cardiology.",
            sent=self.ago(days=12),
        )
        self.messages(
            request,
            [
                (
                    mentor,
                    "Thank you, Jordan. Before I answer: have you done a cardiology elective yet?",
                    self.ago(days=11),
                    True,
                ),
                (mentee, "Not yet: it's on my schedule for February.", self.ago(days=11, hours=-4), True),
                (
                    mentor,
                    "Then talk to Dr. Vasquez before February; she can help you make the most of that month.",
                    self.ago(days=10, hours=1),
                    False,
                ),
            ],
        )
        with self.dated(self.ago(days=10)):
            request_decline(
                request=request,
                actor=mentor,
                note="Thank you for such a thoughtful message, Jordan. With cardiology as your first choice, "
                "Dr. Vasquez would serve you better than I can, and she has room this year. And if the MICU keeps "
                "pulling at you, find me on rounds any morning: my door is open.",
            )
        _set(request, resolved_at=self.ago(days=10))

    def nearpeer_completed_early(self, mentee, mentor):
        m = self.accepted(
            mentee,
            mentor,
            "Dr. Morales, I'm Zoe, a PGY-3. I'm set on surgical oncology and want to be a strong applicant in two "
            "years: research, letters and the right rotations.",
            "I'd be glad to. Let's plan backwards from the application.",
            sent=self.ago(days=300),
            accepted=self.ago(days=298),
        )
        self.agreement(
            m,
            by=mentee,
            when=self.ago(days=297),
            cadence="monthly",
            preferred_channel="E-mail",
            first_goals="A research project with an abstract by spring; the fellowship application plan.",
        )
        tz = _zone(mentor)
        at = _free_times(mentee, mentor, start=_week_start(self.now, tz, 1))[0]
        self.held(
            m,
            start=_weeks_earlier(at, 17, tz),
            notes_by=mentee,
            format=IN_PERSON,
            location="Dr. Morales's office",
            notes="Went through my application plan line by line. Personal statement draft is done; letters "
            "asked. We agreed I'm ready, so we'll close the mentorship early.",
        )
        self.ended(
            m,
            by=mentee,
            when=self.ago(days=50),
            completed=True,
            reason="We finished what we set out to do ahead of schedule: the application plan is set and my "
            "personal statement is drafted.",
        )
        with self.dated(self.ago(days=49)):
            mentorship_leave_thank_you(
                mentorship=m,
                actor=mentee,
                note="Thank you, Dr. Morales, for the early mornings, the honest red ink on my drafts, and "
                "for telling me I was ready before I believed it.",
            )

    def nearpeer_mentors_an_intern(self, mentee, mentor):
        m = self.assigned(mentee, mentor, kind=Kind.NEAR_PEER, started=self.ago(days=25))
        self.agreement(
            m,
            by=mentor,
            when=self.ago(days=24),
            cadence="biweekly",
            preferred_channel="Text",
            first_goals="Get comfortable on call; an ABSITE study plan that survives nights.",
        )
        # Zoe proposes times; the intern picks one. Her SICU month may push them out.
        slots = _free_times(mentee, mentor, start=self.now + timedelta(hours=12), horizons=(14, 42), count=3)
        with self.dated(self.ago(hours=5)):
            meeting = meeting_propose(
                mentorship=m,
                actor=mentor,
                slots=slots,
                format=IN_PERSON,
                location="Resident lounge, 4th floor",
            )
        _set(meeting, created_at=self.ago(hours=5))
        self.checkins(m, [(mentee, 4, "Zoe answers my texts at 2 a.m. and never makes me feel silly.", 0)])
        self.messages(
            m,
            [
                (
                    mentor,
                    "Proposed a few times for our next coffee. Pick whichever suits your call schedule.",
                    self.ago(hours=5),
                    True,
                ),
                (
                    mentee,
                    "Thanks! Any of them except Thursday, I'm post-call. Bringing my ABSITE plan.",
                    self.ago(hours=2),
                    False,
                ),
            ],
        )

    def thompson(self, mentee, mentor):
        m = self.accepted(
            mentee,
            mentor,
            f"Dr. Thompson, I'm {mentee.first_name}. I love teaching on the wards and want to know whether a "
            "clinician-educator career is realistic for me.",
            "It is, and I'd love to help you build it.",
            sent=self.ago(days=97),
            accepted=self.ago(days=95),
        )
        tz = _zone(mentor)
        at = _free_times(mentee, mentor, start=_week_start(self.now, tz, 1))[0]
        self.held(
            m,
            start=_weeks_earlier(at, 4, tz),
            notes_by=mentor,
            format=IN_PERSON,
            location="Hospitalist office",
            notes="Talked about the teaching portfolio and the chief-resident question. Next: observe a "
            "morning report and give feedback.",
        )
        self.checkins(m, [(mentee, 4, "", 33), (mentee, 5, "", 0), (mentor, 5, "", 0)])

    def kim(self, mentee, mentor):
        m = self.assigned(mentee, mentor, kind=Kind.NEAR_PEER, started=self.ago(days=70))
        self.checkins(m, [(mentor, 4, "Meeting every other week; boards plan is on track.", 33), (mentee, 5, "", 0)])

    def hernandez(self, mentee, mentor):
        m = self.accepted(
            mentee,
            mentor,
            f"Dr. Hernandez, I'm {mentee.first_name}. I'd like to do a research project in infectious disease, "
            "ideally one with a public-health angle.",
            "Come by the clinic on Tuesday; we have data waiting for someone like you.",
            sent=self.ago(days=152),
            accepted=self.ago(days=150),
            kind=Kind.RESEARCH,
        )
        self.checkins(
            m, [(mentee, 4, "Good progress on the project; hard to meet during the MICU.", 33), (mentor, 4, "", 0)]
        )

    def rematch_requested(self, mentee, mentor):
        m = self.accepted(
            mentee,
            mentor,
            f"Dr. Haddad, I'm {mentee.first_name}, a PGY-2 thinking about nephrology. Would you mentor me?",
            "With pleasure.",
            sent=self.ago(days=132),
            accepted=self.ago(days=130),
        )
        self.checkins(
            m,
            [
                (mentee, 3, "We've had to cancel twice.", 70),
                (mentee, 2, "Our schedules never line up.", 40),
                (mentor, 3, "Hard to find a time; my clinic days are her call days.", 40),
            ],
        )
        self.ended(
            m,
            by=mentee,
            when=self.ago(days=6),
            rematch=True,
            reason="Dr. Haddad has been generous, but his clinic days are my call days and we've cancelled three "
            "times. No fault on either side; I'd like a mentor whose schedule fits mine.",
        )

    def turner(self, mentee, mentor):
        m = self.accepted(
            mentee,
            mentor,
            f"Dr. Turner, I'm {mentee.first_name}. I'm drawn to trauma and critical care and want to get better "
            "and calmer in the trauma bay.",
            "Glad to. We'll start with your next trauma call.",
            sent=self.ago(days=112),
            accepted=self.ago(days=110),
        )
        tz = _zone(mentor)
        at = _free_times(mentee, mentor, start=_week_start(self.now, tz, 2))[0]
        self.held(
            m,
            start=_weeks_earlier(at, 4, tz),
            notes_by=mentor,
            format=PHONE,
            notes="Debriefed the MVC from last week's call. Reading: ATLS chapter on shock; try leading one "
            "primary survey per shift.",
        )
        self.checkins(m, [(mentee, 5, "", 33), (mentor, 5, "", 33), (mentee, 5, "", 0)])
        self.confirmed(
            m,
            [at],
            format=IN_PERSON,
            location="Trauma bay conference room",
            proposed=self.ago(days=4),
            confirmed=self.ago(days=3),
        )

    def johnson(self, mentee, mentor):
        m = self.accepted(
            mentee,
            mentor,
            f"Dr. Johnson, I'm {mentee.first_name}, a PGY-3. I'd like help thinking about leadership and, "
            "eventually, my first job.",
            "Let's do it.",
            sent=self.ago(days=82),
            accepted=self.ago(days=80),
        )
        self.checkins(m, [(mentee, 3, "We've only met once; trauma nights made it hard.", 33)])

    def morales(self, mentee, mentor):
        m = self.accepted(
            mentee,
            mentor,
            f"Dr. Morales, I'm {mentee.first_name}. I'm planning research years in surgical oncology and would "
            "love to join your outcomes group.",
            "Welcome aboard. Let's find you a question.",
            sent=self.ago(days=47),
            accepted=self.ago(days=45),
            kind=Kind.RESEARCH,
        )
        self.checkins(m, [(mentee, 5, "", 0)])

    def fischer(self, mentee, mentor):
        self.accepted(
            mentee,
            mentor,
            f"Dr. Fischer, I'm {mentee.first_name}. Vascular surgery is high on my list and I'd like to hear what "
            "the career is really like.",
            "Of course. Let's talk about it over coffee.",
            sent=self.ago(days=23),
            accepted=self.ago(days=21),
        )

    def request_to_reyes(self, mentee, mentor):
        self.request(
            mentee,
            mentor,
            f"Dr. Reyes, I'm {mentee.first_name}. I'm serious about cardiothoracic surgery and would be honoured "
            "to be your mentee this year.",
            sent=self.ago(days=5),
        )


# --- Running them.

# One pair each: (the mentee's part or e-mail, the mentor's e-mail, the story), in order.
STORIES = [
    ("classmate", ATTENDING, _Stories.attending_and_her_mentee),
    ("applicant", ATTENDING, _Stories.request_with_a_question),
    ("intern_cardio", ATTENDING, _Stories.request_waiting),
    (RESIDENT_LOGIN, IYER, _Stories.resident_declined_kindly),
    (NEARPEER, MORALES, _Stories.nearpeer_completed_early),
    ("intern", NEARPEER, _Stories.nearpeer_mentors_an_intern),
    ("thompson_mentee", THOMPSON, _Stories.thompson),
    ("kim_mentee", KIM, _Stories.kim),
    ("hernandez_mentee", HERNANDEZ, _Stories.hernandez),
    ("rematch", HADDAD, _Stories.rematch_requested),
    ("turner_mentee", TURNER, _Stories.turner),
    ("johnson_mentee", JOHNSON, _Stories.johnson),
    ("morales_mentee", MORALES, _Stories.morales),
    ("fischer_mentee", FISCHER, _Stories.fischer),
    ("reyes_applicant", REYES, _Stories.request_to_reyes),
]


def _seed_conflicts(stories) -> None:
    """Karen Mitchell directs the IM program, so the engine keeps her from its residents. Grace
    Thompson joined its competency committee after she began mentoring her resident, who chose to
    keep her: an explicit exception. Recorded once, after the stories (they start mentorships)."""
    coordinator = stories.users[COORDINATOR]
    im = Program.objects.get(slug="im")
    if EvaluatorRole.objects.filter(program=im).exists():
        return
    with stories.dated(stories.ago(days=30)):
        for email, role in ((MITCHELL, EvaluatorRole.Role.PROGRAM_DIRECTOR), (THOMPSON, EvaluatorRole.Role.CCC_MEMBER)):
            evaluator = User.objects.filter(email=email).first()
            if evaluator is not None:
                entry, _ = evaluator_role_add(program=im, actor=coordinator, user=evaluator, role=role)
                _set(entry, created_at=stories.ago(days=30))
    thompson_mentee = stories.who("thompson_mentee")
    if Mentorship.objects.filter(mentee=thompson_mentee, mentor__email=THOMPSON).exists():
        with stories.dated(stories.ago(days=29)):
            entry = exception_grant(
                program=im,
                actor=coordinator,
                mentee=thompson_mentee,
                mentor=stories.users[THOMPSON],
                reason="Paired before Dr Thompson joined the CCC; the resident asked to keep her. "
                "She recuses herself from this resident's reviews.",
            )
        _set(entry, created_at=stories.ago(days=29))


@dataclass
class LifecycleResult:
    created: Counter
    summary: str
    skipped: list[str]

    @property
    def changed(self) -> bool:
        return any(self.created.values())


COUNTED = [
    ("mentorship requests", MentorshipRequest),
    ("mentorships", Mentorship),
    ("meetings", Meeting),
    ("action items", ActionItem),
    ("resources", Resource),
    ("check-ins", CheckIn),
    ("evaluator roles", EvaluatorRole),
]


def _counts() -> dict[str, int]:
    return {label: model.objects.count() for label, model in COUNTED}


def lifecycle_summary() -> str:
    """One line: where the demo's mentorships stand."""
    mentorships = Mentorship.objects.filter(mentee__email__endswith=f"@{DEMO_DOMAIN}")
    active = mentorships.filter(status=Mentorship.Status.ACTIVE).count()
    ended = mentorships.exclude(status=Mentorship.Status.ACTIVE).count()
    pending = MentorshipRequest.objects.filter(
        mentee__email__endswith=f"@{DEMO_DOMAIN}", status=MentorshipRequest.Status.PENDING
    ).count()
    meetings = Meeting.objects.filter(mentorship__in=mentorships).count()
    return f"Mentorships: {active} active, {ended} ended; requests: {pending} pending; meetings: {meetings}."


@contextmanager
def _quiet_tasks():
    """Without a broker the e-mail tasks run in-process when the transaction commits,
    one log line each (and kombu's warning about the in-memory broker). They find
    every notification already marked e-mailed and send nothing, so keep the console
    to the summary."""
    levels = {"celery.app.trace": logging.WARNING, "kombu.connection": logging.ERROR}
    saved = {name: logging.getLogger(name).level for name in levels}
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def seed_lifecycle() -> LifecycleResult:
    """Play each story whose pair has neither a request nor a mentorship yet. Run after
    ``demo.people.seed_demo()``: the people must exist."""
    with _quiet_tasks(), transaction.atomic():
        return _seed_lifecycle(timezone.now())


def _seed_lifecycle(now: datetime) -> LifecycleResult:
    parts = cast_parts()
    emails = {COORDINATOR} | {email for mentee, mentor, _ in STORIES for email in (parts.get(mentee, mentee), mentor)}
    users = {u.email: u for u in User.objects.filter(email__in=emails)}
    missing = sorted(emails - set(users))
    if missing:
        raise DemoDataError(f"Seed the demo people first; missing: {', '.join(missing)}.")

    # The services stamp the real time, so the stories count back from it too.
    stories = _Stories(now=now, users=users, parts=parts)
    before = _counts()
    first_new_notification = (Notification.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
    pairs = {
        *MentorshipRequest.objects.filter(mentee__in=users.values()).values_list("mentee_id", "mentor_id"),
        *Mentorship.objects.filter(mentee__in=users.values()).values_list("mentee_id", "mentor_id"),
    }
    for mentee_part, mentor_email, story in STORIES:
        mentee, mentor = stories.who(mentee_part), users[mentor_email]
        if (mentee.pk, mentor.pk) in pairs:
            continue  # played before, or the pair met while someone explored the demo
        try:
            with transaction.atomic():
                story(stories, mentee, mentor)
        except (ValidationError, PermissionDenied) as error:
            # Someone changed the demo by hand (a full mentor, a new mentorship); leave this story out.
            reason = "; ".join(getattr(error, "messages", None) or [str(error) or type(error).__name__])
            stories.skipped.append(f"{mentee.full_name} and {mentor.full_name} ({reason})")

    _seed_conflicts(stories)

    # In the app, not in anyone's inbox: see the module docstring.
    Notification.objects.filter(pk__gte=first_new_notification, emailed_at__isnull=True).update(emailed_at=stories.now)
    after = _counts()
    created = Counter({label: after[label] - before[label] for label, _ in COUNTED})
    return LifecycleResult(created=created, summary=lifecycle_summary(), skipped=stories.skipped)
