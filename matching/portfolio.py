"""A mentor's teaching portfolio: a record of their mentoring over a period, for promotion
dossiers and teaching credit. Reads only; the page, its CSV and the API show the same rows.

Over the period (whole days in the mentor's time zone, both ends included):
- mentees: every mentorship of theirs that was active at some point in it and that counts
  (``counts_as_mentored``: it lasted ``MIN_DAYS`` days, or had a meeting held);
- meetings held: meetings marked held whose start falls in it, with their durations;
- goals reached: action items of their mentorships marked done in it (by completion date);
- thank-you notes: the notes mentees left on mentorships that finished (completed or
  ended) in it.
Goals and notes of a mentorship that does not count are left out with it.
Meeting notes and check-ins are not part of it: they belong to the pair, or to the
program's coordinators.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import MentorProfile
from core.bounds import format_day

from .models import ActionItem, Meeting, Mentorship

# Academic years run from July 1 to June 30.
YEAR_START_MONTH = 7

# A promotion committee counts a mentee mentored, not a pairing undone minutes after it was
# made (a mis-click, a coordinator's correction): a mentorship counts once it has lasted
# MIN_DAYS (start to end, or to now while active), or sooner once a meeting was held.
MIN_DAYS = 30
COUNTING_RULE = f"A mentee counts once the mentorship has lasted {MIN_DAYS} days or had a meeting held."


def counts_as_mentored(mentorship: Mentorship, *, had_meeting_held: bool, now: datetime) -> bool:
    """Whether ``mentorship`` counts in its mentor's portfolio: exactly ``MIN_DAYS`` is enough."""
    if had_meeting_held:
        return True
    return (mentorship.ended_at or now) - mentorship.started_at >= timedelta(days=MIN_DAYS)


def _span(length: timedelta) -> str:
    """ "2 minutes", "5 hours", "12 days": how long, roughly, in the largest whole unit."""
    for unit, size in (("day", timedelta(days=1)), ("hour", timedelta(hours=1)), ("minute", timedelta(minutes=1))):
        if length >= size or unit == "minute":
            n = length // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
    raise AssertionError  # pragma: no cover


def _not_counted_why(mentorship: Mentorship, *, now: datetime, tz) -> str:
    if mentorship.ended_at is not None:
        return f"ended after {_span(mentorship.ended_at - mentorship.started_at)}, with no meeting held"
    started = mentorship.started_at.astimezone(tz).date()
    counts_from = (mentorship.started_at + timedelta(days=MIN_DAYS)).astimezone(tz).date()
    return (
        f"started {format_day(started)}, no meeting held yet: counts from {format_day(counts_from)}, "
        "or once a meeting is held"
    )


def _had_meeting_held(mentorship_ref: str = "pk") -> Exists:
    return Exists(Meeting.objects.filter(mentorship=OuterRef(mentorship_ref), status=Meeting.Status.HELD))


def last_twelve_months(today: date) -> tuple[date, date]:
    """The 365 days up to ``today``: the default period, which always holds the recent mentoring
    (a last complete academic year is empty for a mentor who began this July)."""
    return today - timedelta(days=364), today


def last_academic_year(today: date) -> tuple[date, date]:
    """The last complete academic year before ``today``."""
    start_year = today.year - 1 if today.month >= YEAR_START_MONTH else today.year - 2
    return date(start_year, YEAR_START_MONTH, 1), date(start_year + 1, YEAR_START_MONTH, 1) - timedelta(days=1)


def current_academic_year(today: date) -> tuple[date, date]:
    """The academic year ``today`` is in, up to ``today``."""
    start_year = today.year if today.month >= YEAR_START_MONTH else today.year - 1
    return date(start_year, YEAR_START_MONTH, 1), today


def hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"))


@dataclass
class MenteeRow:
    mentorship: Mentorship
    mentee: str
    stage: str
    kind: str
    program: str
    started: date
    ended: date | None
    status: str
    meetings_held: int = 0
    minutes: int = 0
    goals_reached: int = 0
    # For a mentorship that does not count (yet): why, in a few words.
    not_counted_why: str = ""

    @property
    def hours(self) -> Decimal:
        return hours(self.minutes)


@dataclass(frozen=True)
class MeetingRow:
    held_on: date
    mentee: str
    minutes: int
    format: str

    @property
    def hours(self) -> Decimal:
        return hours(self.minutes)


@dataclass(frozen=True)
class GoalRow:
    reached_on: date
    mentee: str
    title: str


@dataclass(frozen=True)
class ThanksRow:
    finished_on: date
    mentee: str
    note: str


@dataclass
class Portfolio:
    mentor: object
    rank: str
    specialty: str
    start: date
    end: date
    mentees: list[MenteeRow] = field(default_factory=list)
    meetings: list[MeetingRow] = field(default_factory=list)
    goals: list[GoalRow] = field(default_factory=list)
    thanks: list[ThanksRow] = field(default_factory=list)
    # Mentorships in the period that do not count (``counts_as_mentored``), each with why:
    # shown apart on the page, in no total, the CSV or the API.
    not_counted: list[MenteeRow] = field(default_factory=list)

    @property
    def meetings_held(self) -> int:
        return len(self.meetings)

    @property
    def minutes(self) -> int:
        return sum(m.minutes for m in self.meetings)

    @property
    def hours(self) -> Decimal:
        return hours(self.minutes)

    @property
    def counting_note(self) -> str:
        """The rule in one line, with how many mentorships it left out of this period."""
        if not self.not_counted:
            return COUNTING_RULE
        n = len(self.not_counted)
        left_out = f"{n} mentorship{'' if n == 1 else 's'} under {MIN_DAYS} days with no meeting held"
        return f"{COUNTING_RULE} Not counted here: {left_out}."

    @property
    def is_empty(self) -> bool:
        return not (self.mentees or self.not_counted or self.meetings or self.goals or self.thanks)


def mentor_rank(profile) -> str:
    """How a dossier names the mentor's position: academic rank, else (near-peer) career stage."""
    if profile is None:
        return ""
    if profile.academic_rank_id:
        return profile.academic_rank.name
    return profile.career_stage.name if profile.career_stage_id else ""


def mentor_portfolio(mentor, *, start: date, end: date, now: datetime | None = None) -> Portfolio:
    """``mentor``'s own record from ``start`` to ``end`` (both included), as of ``now``
    (which decides whether an active mentorship has lasted long enough to count). Five
    queries (the profile with its rank, then one per list), whatever the number of rows."""
    now = now or timezone.now()
    tz = mentor.zone
    since = datetime.combine(start, time.min, tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    profile = (
        MentorProfile.objects.select_related("academic_rank", "career_stage", "specialty").filter(user=mentor).first()
    )
    portfolio = Portfolio(
        mentor=mentor,
        rank=mentor_rank(profile),
        specialty=profile.specialty.name if profile and profile.specialty_id else "",
        start=start,
        end=end,
    )

    def local(when) -> date:
        return when.astimezone(tz).date()

    mentorships = (
        Mentorship.objects.filter(mentor=mentor, started_at__lt=until)
        .exclude(ended_at__lt=since)
        .select_related("mentee__mentee_profile__career_stage", "program")
        .annotate(had_meeting_held=_had_meeting_held())
        .order_by("started_at", "pk")
    )
    rows = {}
    for m in mentorships:
        stage = getattr(getattr(m.mentee, "mentee_profile", None), "career_stage", None)
        row = MenteeRow(
            mentorship=m,
            mentee=m.mentee.full_name,
            stage=stage.code if stage else "",
            kind=m.get_kind_display(),
            program=m.program.name,
            started=local(m.started_at),
            ended=local(m.ended_at) if m.ended_at else None,
            status=m.get_status_display(),
        )
        if counts_as_mentored(m, had_meeting_held=m.had_meeting_held, now=now):
            rows[m.pk] = row
        else:
            row.not_counted_why = _not_counted_why(m, now=now, tz=tz)
            portfolio.not_counted.append(row)
    portfolio.mentees = list(rows.values())

    meetings = (
        Meeting.objects.filter(mentorship__mentor=mentor, status=Meeting.Status.HELD, start__gte=since, start__lt=until)
        .select_related("mentorship__mentee")
        .order_by("start", "pk")
    )
    for meeting in meetings:
        portfolio.meetings.append(
            MeetingRow(
                local(meeting.start),
                meeting.mentorship.mentee.full_name,
                meeting.duration_minutes,
                meeting.get_format_display(),
            )
        )
        row = rows.get(meeting.mentorship_id)
        if row is not None:
            row.meetings_held += 1
            row.minutes += meeting.duration_minutes

    goals = (
        ActionItem.objects.filter(
            mentorship__mentor=mentor, status=ActionItem.Status.DONE, completed_at__gte=since, completed_at__lt=until
        )
        .select_related("mentorship__mentee")
        .annotate(had_meeting_held=_had_meeting_held("mentorship"))
        .order_by("completed_at", "pk")
    )
    for goal in goals:
        if not counts_as_mentored(goal.mentorship, had_meeting_held=goal.had_meeting_held, now=now):
            continue
        portfolio.goals.append(GoalRow(local(goal.completed_at), goal.mentorship.mentee.full_name, goal.title))
        row = rows.get(goal.mentorship_id)
        if row is not None:
            row.goals_reached += 1

    thanked = (
        Mentorship.objects.filter(mentor=mentor, ended_at__gte=since, ended_at__lt=until)
        .exclude(status=Mentorship.Status.ACTIVE)
        .exclude(thank_you_note="")
        .select_related("mentee")
        .annotate(had_meeting_held=_had_meeting_held())
        .order_by("ended_at", "pk")
    )
    portfolio.thanks = [
        ThanksRow(local(m.ended_at), m.mentee.full_name, m.thank_you_note)
        for m in thanked
        if counts_as_mentored(m, had_meeting_held=m.had_meeting_held, now=now)
    ]
    return portfolio


EXPORT_COLUMNS = [
    "Record",
    "Date",
    "Mentee",
    "PGY / stage",
    "Kind",
    "Program",
    "Started",
    "Ended",
    "Meetings held",
    "Hours",
    "Goals reached",
    "Detail",
]


def portfolio_export_rows(portfolio: Portfolio):
    """The CSV's header and rows (not yet escaped): one row per mentee, meeting held, goal
    reached and thank-you note, then the totals. Dates ISO 8601; hours to two decimals."""
    yield list(EXPORT_COLUMNS)
    for r in portfolio.mentees:
        yield [
            "Mentee",
            "",
            r.mentee,
            r.stage,
            r.kind,
            r.program,
            r.started.isoformat(),
            r.ended.isoformat() if r.ended else "",
            r.meetings_held,
            f"{r.hours}",
            r.goals_reached,
            r.status,
        ]
    for m in portfolio.meetings:
        yield ["Meeting held", m.held_on.isoformat(), m.mentee, "", "", "", "", "", 1, f"{m.hours}", "", m.format]
    for g in portfolio.goals:
        yield ["Goal reached", g.reached_on.isoformat(), g.mentee, "", "", "", "", "", "", "", 1, g.title]
    for t in portfolio.thanks:
        yield ["Thank-you note", t.finished_on.isoformat(), t.mentee, "", "", "", "", "", "", "", "", t.note]
    yield [
        "Total",
        f"{portfolio.start.isoformat()}/{portfolio.end.isoformat()}",
        f"{len(portfolio.mentees)} mentees",
        "",
        "",
        "",
        "",
        "",
        portfolio.meetings_held,
        f"{portfolio.hours}",
        len(portfolio.goals),
        f"{len(portfolio.thanks)} thank-you notes",
    ]
