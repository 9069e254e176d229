"""Program health: is mentoring working in one program, and who needs help?

Pure reads for one program's coordinators (the page ``/programs/<slug>/health/`` and the
API ``/api/v1/programs/<slug>/health/`` show the same figures). Nothing here changes
state or checks permissions: the callers ask ``matching.view_program_health`` first.

Two kinds of figure:

- **Right now** (a snapshot at ``now``): residents without an active mentor, mentor load,
  pairings with no recent meeting, re-match requests still waiting. The academic-year
  filter does not change them (there is no history of capacities or career stages to
  rebuild a past snapshot from).
- **In the academic year** (July 1 – June 30 in the program's time zone, e.g. "2026–27",
  up to ``now`` for the current year): the request funnel and median time to answer,
  meeting cadence, re-match requests made, check-in satisfaction and comments.

The PGY filter narrows every resident-side figure to residents whose career stage (their
*current* one) has that code; mentor load counts all of a mentor's mentees whatever their
year, because capacity does.

A bounded number of queries (about a dozen), whatever the program's size: counts and
averages are aggregated in the database; a median and the month buckets of a window
are computed from one narrow ``values_list`` each.

Check-in confidentiality: an average is shown only for a group with at least
``ANONYMITY_THRESHOLD`` responses. Suppressing small groups alone is not enough, since a
hidden group could be worked out by subtraction (overall minus the shown groups, or the
whole program minus one PGY year), so a shown group is hidden too when that would leave
fewer than the threshold to be inferred ("complementary suppression"). Individual
comments are listed for coordinators only, without their ratings.
"""

from __future__ import annotations

import statistics
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Case, CharField, Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import CareerStage, Membership, Program

from .match_runs.selectors import CapacityShortfall, capacity_shortfall
from .models import CheckIn, Kind, Meeting, Mentorship, MentorshipRequest
from .selectors import mentor_spots
from .selectors.pairings import STALE_AFTER

ANONYMITY_THRESHOLD = 3
STALE_AFTER_DAYS = STALE_AFTER.days  # one definition of a stale pairing: selectors/pairings.py
# A pairing-month: the average month, so that 12 of them make a year.
MONTH_DAYS = 365.25 / 12
# Academic years start on July 1.
YEAR_START_MONTH = 7
NO_STAGE = ""  # residents whose PGY year is not set

Request = MentorshipRequest.Status


# --- Periods and filters.


@dataclass(frozen=True)
class AcademicYear:
    """July 1 of ``start_year`` (00:00, program time) up to, not including, the next July 1."""

    start_year: int
    start: datetime
    end: datetime

    @classmethod
    def of(cls, start_year: int, tz) -> AcademicYear:
        start = datetime(start_year, YEAR_START_MONTH, 1, tzinfo=tz)
        return cls(start_year, start, datetime(start_year + 1, YEAR_START_MONTH, 1, tzinfo=tz))

    @property
    def label(self) -> str:
        return f"{self.start_year}–{(self.start_year + 1) % 100:02d}"

    def __str__(self):
        return self.label


def program_zone(program: Program):
    try:
        return zoneinfo.ZoneInfo(program.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


def academic_year_containing(moment: datetime, tz) -> int:
    """The start year of the academic year ``moment`` falls in, in ``tz``."""
    local = moment.astimezone(tz)
    return local.year if local.month >= YEAR_START_MONTH else local.year - 1


def academic_years_with_data(program: Program, *, now: datetime | None = None) -> list[int]:
    """Start years from the first mentorship or request of the program to the current
    year, newest first; just the current year for a program with no activity yet. One query."""
    now = now or timezone.now()
    tz = program_zone(program)
    firsts = (
        Program.objects.filter(pk=program.pk)
        .annotate(
            first_mentorship=Subquery(
                Mentorship.objects.filter(program=OuterRef("pk")).order_by("started_at").values("started_at")[:1]
            ),
            first_request=Subquery(
                MentorshipRequest.objects.filter(program=OuterRef("pk")).order_by("created_at").values("created_at")[:1]
            ),
        )
        .values_list("first_mentorship", "first_request")
        .get()
    )
    current = academic_year_containing(now, tz)
    dates = [d for d in firsts if d is not None]
    first = min(academic_year_containing(min(dates), tz), current) if dates else current
    return list(range(current, first - 1, -1))


def pgy_choices(program: Program) -> list[tuple[str, str]]:
    """(code, name) of the career stages the program's residents are at, in career order. One query."""
    stages = (
        CareerStage.objects.filter(
            menteeprofile__user__memberships__program=program,
            menteeprofile__user__memberships__role=Membership.Role.RESIDENT,
        )
        .distinct()
        .order_by("order", "name")
    )
    return [(s.code, s.code) for s in stages]


@dataclass(frozen=True)
class Period:
    """What the figures cover: the academic year, its window so far, the PGY filter."""

    year: AcademicYear
    pgy: str
    now: datetime

    @property
    def window_start(self) -> datetime:
        return self.year.start

    @property
    def window_end(self) -> datetime:
        """The year's end, or now for the current year (nothing has happened after now)."""
        return min(self.year.end, self.now)

    @property
    def is_current(self) -> bool:
        return self.year.start <= self.now < self.year.end


# --- The figures.


@dataclass(frozen=True)
class Person:
    id: int
    full_name: str


def _person(row, prefix) -> Person:
    first, last = row[f"{prefix}__first_name"], row[f"{prefix}__last_name"]
    return Person(row[f"{prefix}_id"], f"{first} {last}".strip())


@dataclass
class KindGap:
    """Residents of one PGY year with no active mentorship of ``kind``."""

    kind: str
    label: str
    residents: list[Person]

    @property
    def count(self) -> int:
        return len(self.residents)


@dataclass
class CoverageRow:
    """One PGY year (``stage`` "" = year not set; "all" = the total row)."""

    stage: str
    label: str
    residents: int
    without_mentor: list[Person]
    by_kind: list[KindGap]

    @property
    def without_mentor_count(self) -> int:
        return len(self.without_mentor)

    @property
    def with_mentor_count(self) -> int:
        return self.residents - self.without_mentor_count

    def gap(self, kind) -> KindGap:
        return next(g for g in self.by_kind if g.kind == kind)


@dataclass
class GapList:
    """The residents missing one thing (``key``: "none" = any mentor, else a kind), by PGY year."""

    key: str
    label: str
    count: int
    groups: list[tuple[str, list[Person]]]


@dataclass
class Coverage:
    """Right now: the program's residents (active users with a resident membership) with no
    active mentorship at all, and with none of each kind K, by PGY year.

    ``to_match``: for each kind, the residents a run of it would match (every PGY year,
    whatever the filter, as readiness counts them): those ``match_cohort.left_out_reasons``
    keeps, with a mentee profile and no active mentorship of the kind."""

    rows: list[CoverageRow]
    total: CoverageRow
    to_match: dict[str, int] = field(default_factory=dict)

    @property
    def gap_lists(self) -> list[GapList]:
        lists = [
            GapList(
                "none",
                "No mentor at all",
                self.total.without_mentor_count,
                [(r.label, r.without_mentor) for r in self.rows if r.without_mentor],
            )
        ]
        for i, (kind, label) in enumerate(Kind.choices):
            lists.append(
                GapList(
                    kind,
                    f"No {label.lower()} mentor",
                    self.total.by_kind[i].count,
                    [(r.label, r.by_kind[i].residents) for r in self.rows if r.by_kind[i].residents],
                )
            )
        return lists


# Why a mentor's spots cannot go to this program's residents (matching.selectors.mentor_spots
# decides, for readiness too): they evaluate them, or a do-not-pair entry keeps them apart
# from every one of them.
KEPT_APART_EVALUATOR = mentor_spots.EVALUATOR
KEPT_APART_CONFLICTS = mentor_spots.CONFLICTS

# A mentor's load band, from where ``MentorSpots.band`` counts them (the precedence of the
# reason readiness gives): kept apart first, whatever their load, as readiness lists them.
_LOAD_BAND = {
    mentor_spots.KEPT_APART_BAND: "kept-apart",
    mentor_spots.OVER_CAPACITY: "over",
    mentor_spots.NOT_ACCEPTING: "closed",
    mentor_spots.CAPACITY_ZERO: "zero",
    mentor_spots.FULL: "full",
}


@dataclass
class MentorLoadRow:
    mentor: Person
    spots: mentor_spots.MentorSpots

    @property
    def active(self) -> int:
        return self.spots.active

    @property
    def capacity(self) -> int:
        return self.spots.capacity

    @property
    def accepting(self) -> bool:
        return self.spots.accepting

    @property
    def kept_apart(self) -> str:
        """ "", KEPT_APART_EVALUATOR or KEPT_APART_CONFLICTS."""
        return self.spots.kept_apart

    @property
    def status(self) -> str:
        """The load band, one per mentor, in the order of the reason readiness gives: kept-apart
        (from every resident of the program, whatever their load), over (active > capacity, after
        a capacity was lowered), closed (not accepting mentees), zero (a capacity of 0), full
        (active = capacity), idle (no mentee) or open (room left)."""
        band = _LOAD_BAND.get(self.spots.band)
        if band:
            return band
        return "idle" if self.active == 0 else "open"

    @property
    def status_label(self) -> str:
        return dict(LOAD_BANDS)[self.status]

    @property
    def free_spots(self) -> int:
        """Capacity left, for a mentor accepting mentees, whoever may take it."""
        return self.spots.free

    @property
    def open_spots(self) -> int:
        """Spots this program's residents can request: none from a mentor kept apart from them."""
        return self.spots.open

    @property
    def kept_apart_label(self) -> str:
        return mentor_spots.REASON_LABELS[self.kept_apart] if self.kept_apart else ""

    @property
    def reason(self) -> str:
        """Why this program's residents can take no spot from them (the reason readiness gives), or ""."""
        return self.spots.reason

    @property
    def reason_label(self) -> str:
        return self.spots.reason_label

    @property
    def load_label(self) -> str:
        """What their own load says, kept apart or not ("Not accepting"), or ""."""
        return mentor_spots.REASON_LABELS.get(self.spots.load_reason, "")


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: a key, what it is called, how many."""

    key: str
    label: str
    count: int


# The bands of a reason readiness also gives carry its words (selectors.mentor_spots).
LOAD_BANDS = [
    ("idle", "No mentees yet"),
    ("open", "Has room"),
    ("full", mentor_spots.REASON_LABELS[mentor_spots.FULL]),
    ("closed", mentor_spots.REASON_LABELS[mentor_spots.NOT_ACCEPTING]),
    ("zero", mentor_spots.REASON_LABELS[mentor_spots.CAPACITY_ZERO]),
    ("over", mentor_spots.REASON_LABELS[mentor_spots.OVER_CAPACITY]),
    ("kept-apart", mentor_spots.KEPT_APART_LABEL),
]


@dataclass
class MentorLoad:
    """Right now: the program's mentors (``selectors.mentor_spots``: anyone of the program with a
    mentor profile, as readiness and the start form count them), their active mentorships (in
    every program: capacity is one number across them) against capacity."""

    mentors: list[MentorLoadRow]

    @property
    def capacity(self) -> int:
        return sum(m.capacity for m in self.mentors)

    @property
    def active(self) -> int:
        return sum(m.active for m in self.mentors)

    @property
    def open_spots(self) -> int:
        return sum(m.open_spots for m in self.mentors)

    @property
    def kept_apart_spots(self) -> int:
        """Free spots of mentors kept apart from every resident of the program: not open to them."""
        return sum(m.free_spots for m in self.mentors if m.kept_apart)

    @property
    def kept_apart(self) -> int:
        return sum(1 for m in self.mentors if m.kept_apart)

    def band_count(self, band) -> int:
        return sum(1 for m in self.mentors if m.status == band)

    @property
    def bands(self) -> list[Bar]:
        return [Bar(key, label, self.band_count(key)) for key, label in LOAD_BANDS]

    def load_count(self, reason) -> int:
        """Mentors whose own load gives ``reason`` (a ``mentor_spots`` load reason), kept apart or not."""
        return sum(1 for m in self.mentors if m.spots.load_reason == reason)

    @property
    def over_capacity(self) -> int:
        return self.load_count(mentor_spots.OVER_CAPACITY)

    @property
    def at_or_over_capacity(self) -> int:
        """Full or over capacity by their own load: an evaluator with too many mentees has them still."""
        return self.load_count(mentor_spots.FULL) + self.over_capacity


@dataclass
class Funnel:
    """Requests created in the period: how they ended (so far).

    ``median_answer`` = the median of resolved_at − created_at over the accepted and
    declined requests among them (the mentor answered); None when there are none.
    Expired, withdrawn and closed requests got no answer and are not in the median."""

    sent: int
    accepted: int
    declined: int
    expired: int
    withdrawn: int
    closed: int
    pending: int
    answered: int
    median_answer: timedelta | None

    @property
    def steps(self) -> list[Bar]:
        return [
            Bar("sent", "Sent", self.sent),
            Bar("accepted", "Accepted", self.accepted),
            Bar("declined", "Declined", self.declined),
            Bar("expired", "Expired unanswered", self.expired),
            Bar("withdrawn", "Withdrawn", self.withdrawn),
            # Closed by the app, never by a person's answer: the resident got a mentor of that kind
            # (a request accepted, a pairing, a published match), the mentor stopped accepting or a
            # conflict was recorded, or one of the two left the program (the page says so).
            Bar("closed", "Closed: no longer possible", self.closed),
            Bar("pending", "Still pending", self.pending),
        ]

    @property
    def median_answer_hours(self) -> float | None:
        return None if self.median_answer is None else self.median_answer.total_seconds() / 3600

    @property
    def median_answer_days(self) -> float | None:
        return None if self.median_answer is None else self.median_answer.total_seconds() / 86400

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted ÷ answered (accepted + declined)."""
        return self.accepted / self.answered if self.answered else None

    @property
    def acceptance_percent(self) -> float | None:
        return None if self.acceptance_rate is None else 100 * self.acceptance_rate


@dataclass
class MonthCount:
    year: int
    month: int
    count: int

    @property
    def label(self) -> str:
        return datetime(self.year, self.month, 1).strftime("%b %Y")

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass
class Cadence:
    """Meeting cadence in the period = meetings held ÷ pairing-months.

    ``held``: meetings with status held whose start falls in the period window.
    ``pairing_months``: the days each of the program's pairings was active inside the
    window (from its start to its end, or to now while active), summed, ÷ 30.44.
    ``pairings``: how many pairings were active at some point in the window."""

    held: int
    pairings: int
    pairing_months: float
    by_month: list[MonthCount]

    @property
    def per_pairing_month(self) -> float | None:
        return self.held / self.pairing_months if self.pairing_months else None


@dataclass
class StalePairing:
    mentorship_id: int
    mentee: Person
    mentor: Person
    kind: str
    kind_label: str
    started_at: datetime
    last_meeting_at: datetime | None
    days_without_meeting: int


@dataclass
class Stale:
    """Right now: an active pairing is stale when it has no meeting held or confirmed in
    the last 60 days, counting from its start if it never had one. "Last meeting" is the
    latest start among its held and confirmed meetings, so a confirmed meeting ahead
    counts as recent: the pair has booked. Most quiet first."""

    active_pairings: int
    pairings: list[StalePairing]

    @property
    def count(self) -> int:
        return len(self.pairings)


@dataclass
class RematchRequest:
    mentorship_id: int
    mentee: Person
    mentor: Person
    kind: str
    kind_label: str
    requested_at: datetime
    waiting: bool


@dataclass
class Rematch:
    """Re-match requests: mentorships the resident ended asking for another mentor.
    ``requested`` counts those ended in the period; ``waiting`` those (whenever made) whose
    resident still has no active mentorship of that kind now. The list holds both."""

    requests: list[RematchRequest]
    requested: int

    @property
    def waiting(self) -> int:
        return sum(1 for r in self.requests if r.waiting)


FEW = "few"
COMPLEMENT = "complement"
HIDDEN_REASONS = {
    FEW: f"Fewer than {ANONYMITY_THRESHOLD} responses: hidden to protect anonymity.",
    COMPLEMENT: "Hidden so that a smaller group's answers can't be worked out from it.",
}


@dataclass
class RatingGroup:
    """Check-ins of one group: how many, and their average rating when it may be shown."""

    key: str
    label: str
    responses: int
    rating_sum: int
    hidden_reason: str = ""

    @property
    def hidden(self) -> bool:
        return bool(self.hidden_reason)

    @property
    def average(self) -> float | None:
        if self.hidden or not self.responses:
            return None
        return self.rating_sum / self.responses

    @property
    def hidden_text(self) -> str:
        return HIDDEN_REASONS.get(self.hidden_reason, "")


@dataclass
class Satisfaction:
    """Check-ins submitted in the period on the program's mentorships (resident side:
    written by the mentee; mentor side: by the mentor), with the average rating (1–5)
    per group where it may be shown, and the count of each rating overall."""

    overall: RatingGroup
    by_side: list[RatingGroup]
    by_kind: list[RatingGroup]
    distribution: list[int] | None  # responses rating 1, 2, 3, 4, 5; None when hidden
    threshold: int = ANONYMITY_THRESHOLD


# The residents-versus-spots gap is told for a run of the kind readiness opens on.
GAP_KIND = Kind.CAREER


@dataclass
class ProgramHealth:
    program: Program
    period: Period
    coverage: Coverage
    load: MentorLoad
    funnel: Funnel
    cadence: Cadence
    stale: Stale
    rematch: Rematch
    satisfaction: Satisfaction
    pgy_choices: list[tuple[str, str]] = field(default_factory=list)
    academic_years: list[int] = field(default_factory=list)

    @property
    def spots_gap(self) -> CapacityShortfall:
        """The residents a career run would match against the open spots of the program's mentors:
        readiness's warning (``Readiness.capacity``), the same numbers from the same rules; true
        when there are more residents than spots. Every PGY year."""
        return capacity_shortfall(self.coverage.to_match.get(GAP_KIND, 0), self.load.open_spots)


# --- Computing them.


def _mentee_stage(prefix: str = "mentee") -> str:
    return f"{prefix}__mentee_profile__career_stage__code"


def program_period(
    program: Program, *, academic_year: int | None = None, pgy: str = "", now: datetime | None = None
) -> Period:
    """The period the filters select: ``academic_year`` (a start year; default the current one) and ``pgy``."""
    now = now or timezone.now()
    tz = program_zone(program)
    year = academic_year if academic_year is not None else academic_year_containing(now, tz)
    return Period(year=AcademicYear.of(year, tz), pgy=pgy, now=now)


@dataclass(frozen=True)
class FilterChoices:
    """What the filters offer: academic years with data (newest first) and PGY years."""

    academic_years: list[int]
    pgy: list[tuple[str, str]]


def filter_choices(program: Program, *, now: datetime | None = None) -> FilterChoices:
    return FilterChoices(academic_years_with_data(program, now=now), pgy_choices(program))


def program_health(
    program: Program,
    *,
    academic_year: int | None = None,
    pgy: str = "",
    now: datetime | None = None,
    choices: FilterChoices | None = None,
) -> ProgramHealth:
    """Every figure for ``program``; ``academic_year`` is a start year (default: the current
    one), ``pgy`` a career-stage code ("" for every year). Callers that validated the
    filters against ``filter_choices()`` pass them in, to save reading them twice."""
    now = now or timezone.now()
    tz = program_zone(program)
    choices = choices or filter_choices(program, now=now)
    period = program_period(program, academic_year=academic_year, pgy=pgy, now=now)
    active_pairings = _active_pairings(program, pgy)
    stages = choices.pgy
    return ProgramHealth(
        program=program,
        period=period,
        coverage=_coverage(program, pgy),
        load=_mentor_load(program),
        funnel=_funnel(program, period),
        cadence=_cadence(program, period, tz),
        stale=_stale(active_pairings, now),
        rematch=_rematch(program, period),
        # A year asked for is a year that can be shown, whether or not it is in the filter's list.
        satisfaction=_satisfaction(program, period, {code for code, _ in stages} | ({pgy} if pgy else set())),
        pgy_choices=stages,
        academic_years=choices.academic_years,
    )


def _active_pairings(program, pgy) -> list[dict]:
    """The program's active mentorships, with both people and the latest start among their
    held and confirmed meetings. One query."""
    pairings = Mentorship.objects.filter(program=program, status=Mentorship.Status.ACTIVE)
    if pgy:
        pairings = pairings.filter(**{_mentee_stage(): pgy})
    return list(
        pairings.annotate(
            last_meeting_at=Max(
                "meetings__start", filter=Q(meetings__status__in=[Meeting.Status.HELD, Meeting.Status.CONFIRMED])
            )
        )
        .order_by()
        .values(
            "id",
            "kind",
            "started_at",
            "last_meeting_at",
            "mentee_id",
            "mentee__first_name",
            "mentee__last_name",
            "mentor_id",
            "mentor__first_name",
            "mentor__last_name",
        )
    )


def _coverage(program, pgy) -> Coverage:
    """A mentorship of kind K in any program counts: a resident has one mentor per kind (the
    database allows one active mentorship per resident and kind), so the pairings page's
    "without a K mentor" list is the same people. One query: the residents of every PGY year
    (``to_match`` counts them all), each with a flag per kind; the filter applies after."""
    residents = Membership.objects.filter(program=program, role=Membership.Role.RESIDENT, user__is_active=True)
    has_kind = {
        f"has_{kind}": Exists(
            Mentorship.objects.filter(mentee=OuterRef("user_id"), kind=kind, status=Mentorship.Status.ACTIVE)
        )
        for kind in Kind.values
    }
    rows = list(
        residents.annotate(**has_kind)
        .order_by("user__last_name", "user__first_name", "user_id")
        .values(
            "user_id",
            "user__first_name",
            "user__last_name",
            _mentee_stage("user"),
            "user__mentee_profile__career_stage__order",
            "user__mentee_profile__id",
            *has_kind,
        )
    )
    # As left_out_reasons leaves them (deactivated accounts are not in ``residents``).
    to_match = {
        kind: sum(1 for row in rows if row["user__mentee_profile__id"] is not None and not row[f"has_{kind}"])
        for kind in Kind.values
    }
    if pgy:
        rows = [row for row in rows if row[_mentee_stage("user")] == pgy]

    stages: dict[str, tuple] = {}  # code -> (order, [(person, kinds)])
    for row in rows:
        code = row[_mentee_stage("user")] or NO_STAGE
        order = row["user__mentee_profile__career_stage__order"]
        entry = stages.setdefault(code, (order if code else 10_000, []))
        entry[1].append((_person(row, "user"), {kind for kind in Kind.values if row[f"has_{kind}"]}))

    def make_row(stage, label, people) -> CoverageRow:
        return CoverageRow(
            stage=stage,
            label=label,
            residents=len(people),
            without_mentor=[p for p, kinds in people if not kinds],
            by_kind=[KindGap(k, lbl, [p for p, kinds in people if k not in kinds]) for k, lbl in Kind.choices],
        )

    ordered = sorted(stages.items(), key=lambda item: (item[1][0], item[0]))
    return Coverage(
        rows=[make_row(code, code or "Year not set", people) for code, (_, people) in ordered],
        total=make_row("all", "All residents", [x for _, (_, people) in ordered for x in people]),
        to_match=to_match,
    )


def _mentor_load(program) -> MentorLoad:
    rows = mentor_spots.program_mentor_spots(program).values(
        "user_id",
        "user__first_name",
        "user__last_name",
        "capacity",
        "accepting_mentees",
        "active_mentee_count",
        "is_evaluator",
        "residents_kept_apart",
        "program_residents",
    )
    mentors = [MentorLoadRow(_person(r, "user"), mentor_spots.MentorSpots.of(r)) for r in rows]
    # Who needs attention first: over capacity, then full, then by name.
    order = {"over": 0, "full": 1, "closed": 2, "zero": 3, "kept-apart": 4, "open": 5, "idle": 6}
    mentors.sort(key=lambda m: order[m.status])
    return MentorLoad(mentors)


def _requests_in(program, period) -> QuerySet[MentorshipRequest]:
    requests = MentorshipRequest.objects.filter(
        program=program, created_at__gte=period.window_start, created_at__lt=period.year.end
    )
    if period.pgy:
        requests = requests.filter(**{_mentee_stage(): period.pgy})
    return requests


def _funnel(program, period) -> Funnel:
    requests = _requests_in(program, period)
    counts = requests.order_by().aggregate(
        sent=Count("pk"),
        **{status.value: Count("pk", filter=Q(status=status)) for status in Request},
    )
    answered = list(
        requests.filter(status__in=[Request.ACCEPTED, Request.DECLINED], resolved_at__isnull=False)
        .order_by()
        .values_list("created_at", "resolved_at")
    )
    median = (
        timedelta(seconds=statistics.median((resolved - created).total_seconds() for created, resolved in answered))
        if answered
        else None
    )
    return Funnel(
        sent=counts["sent"],
        accepted=counts[Request.ACCEPTED],
        declined=counts[Request.DECLINED],
        expired=counts[Request.EXPIRED],
        withdrawn=counts[Request.WITHDRAWN],
        closed=counts[Request.CLOSED],
        pending=counts[Request.PENDING],
        answered=len(answered),
        median_answer=median,
    )


def _cadence(program, period, tz) -> Cadence:
    start, end = period.window_start, period.window_end
    held = Meeting.objects.filter(
        mentorship__program=program, status=Meeting.Status.HELD, start__gte=start, start__lt=end
    )
    pairings = Mentorship.objects.filter(program=program, started_at__lt=end).filter(
        Q(status=Mentorship.Status.ACTIVE, ended_at__isnull=True) | Q(ended_at__gt=start)
    )
    if period.pgy:
        held = held.filter(**{_mentee_stage("mentorship__mentee"): period.pgy})
        pairings = pairings.filter(**{_mentee_stage(): period.pgy})
    per_month = {
        (row["month"].astimezone(tz).year, row["month"].astimezone(tz).month): row["n"]
        for row in held.annotate(month=TruncMonth("start", tzinfo=tz))
        .order_by()
        .values("month")
        .annotate(n=Count("pk"))
    }
    days = 0.0
    active_count = 0
    for started, ended in pairings.order_by().values_list("started_at", "ended_at"):
        overlap = (min(ended or end, end) - max(started, start)).total_seconds() / 86400
        if overlap > 0:
            days += overlap
            active_count += 1
    months = []
    if end > start:
        y, m = start.year, start.month
        last = (end - timedelta(microseconds=1)).astimezone(tz)
        while (y, m) <= (last.year, last.month):
            months.append(MonthCount(y, m, per_month.get((y, m), 0)))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return Cadence(
        held=sum(per_month.values()), pairings=active_count, pairing_months=days / MONTH_DAYS, by_month=months
    )


def _stale(active_pairings, now) -> Stale:
    cutoff = now - STALE_AFTER
    labels = dict(Kind.choices)
    stale = []
    for p in active_pairings:
        last = p["last_meeting_at"] or p["started_at"]
        if last < cutoff:
            stale.append(
                StalePairing(
                    mentorship_id=p["id"],
                    mentee=_person(p, "mentee"),
                    mentor=_person(p, "mentor"),
                    kind=p["kind"],
                    kind_label=labels.get(p["kind"], p["kind"]),
                    started_at=p["started_at"],
                    last_meeting_at=p["last_meeting_at"],
                    days_without_meeting=(now - last).days,
                )
            )
    stale.sort(key=lambda s: (-s.days_without_meeting, s.mentee.full_name))
    return Stale(active_pairings=len(active_pairings), pairings=stale)


def _rematch(program, period) -> Rematch:
    has_new_mentor = Mentorship.objects.filter(
        mentee=OuterRef("mentee_id"), kind=OuterRef("kind"), status=Mentorship.Status.ACTIVE
    )
    in_window = Q(ended_at__gte=period.window_start, ended_at__lt=period.year.end)
    rows = Mentorship.objects.filter(program=program, rematch_requested=True).annotate(waiting=~Exists(has_new_mentor))
    if period.pgy:
        rows = rows.filter(**{_mentee_stage(): period.pgy})
    rows = (
        rows.filter(in_window | Q(waiting=True))
        .annotate(in_period=Case(When(in_window, then=Value("y")), default=Value(""), output_field=CharField()))
        .order_by("-ended_at", "-id")
        .values(
            "id",
            "kind",
            "ended_at",
            "waiting",
            "in_period",
            "mentee_id",
            "mentee__first_name",
            "mentee__last_name",
            "mentor_id",
            "mentor__first_name",
            "mentor__last_name",
        )
    )
    labels = dict(Kind.choices)
    requests, requested = [], 0
    for r in rows:
        requested += bool(r["in_period"])
        requests.append(
            RematchRequest(
                mentorship_id=r["id"],
                mentee=_person(r, "mentee"),
                mentor=_person(r, "mentor"),
                kind=r["kind"],
                kind_label=labels.get(r["kind"], r["kind"]),
                requested_at=r["ended_at"],
                waiting=r["waiting"],
            )
        )
    return Rematch(requests=requests, requested=requested)


# --- Check-ins.

SIDES = [("resident", "Residents' check-ins"), ("mentor", "Mentors' check-ins")]


def checkins_in(program, period, *, pgy: str | None = None) -> QuerySet[CheckIn]:
    """Check-ins submitted in the period on the program's mentorships (``pgy``: the
    period's filter unless given; "" for every year)."""
    pgy = period.pgy if pgy is None else pgy
    checkins = CheckIn.objects.filter(
        mentorship__program=program, created_at__gte=period.window_start, created_at__lt=period.year.end
    )
    if pgy:
        checkins = checkins.filter(**{_mentee_stage("mentorship__mentee"): pgy})
    return checkins


def _side():
    return Case(
        When(author_id=F("mentorship__mentee_id"), then=Value("resident")),
        default=Value("mentor"),
        output_field=CharField(),
    )


ALL_YEARS = "*"


def _cells(checkins) -> dict[tuple[str, str, str, int], int]:
    """Responses per (resident's PGY year, kind, side, rating), every year at once: one
    grouped query, from which every group's count and sum follow."""
    stage = _mentee_stage("mentorship__mentee")
    rows = (
        checkins.annotate(side=_side())
        .order_by()
        .values(stage, "mentorship__kind", "side", "rating")
        .annotate(n=Count("pk"))
    )
    return {(r[stage] or NO_STAGE, r["mentorship__kind"], r["side"], r["rating"]): r["n"] for r in rows}


def _group(cells, stage, dim, key, label) -> RatingGroup:
    def match(cell_stage, kind, side):
        return (stage == ALL_YEARS or cell_stage == stage) and (
            dim == "all" or (dim == "side" and side == key) or (dim == "kind" and kind == key)
        )

    chosen = [(rating, n) for (s, kind, side, rating), n in cells.items() if match(s, kind, side)]
    return RatingGroup(key, label, responses=sum(n for _, n in chosen), rating_sum=sum(r * n for r, n in chosen))


GROUP_TYPES = (
    [("all", "all", "All check-ins")]
    + [("side", k, lbl) for k, lbl in SIDES]
    + [("kind", k, lbl) for k, lbl in Kind.choices]
)


def _hide_complements(parent, parts) -> bool:
    """``parts`` partition ``parent``. While ``parent`` is shown, the hidden parts' total
    can be worked out from it: hide the smallest shown parts until that total is 0 or at
    least the threshold. While ``parent`` is hidden, it could be rebuilt by adding up its
    parts: keep at least one of them hidden. True when something more was hidden."""
    changed = False
    while True:
        shown = [g for g in parts if g.responses and not g.hidden]
        hidden = sum(g.responses for g in parts if g.hidden)
        leaks = 0 < hidden < ANONYMITY_THRESHOLD if not parent.hidden else parent.responses and not hidden
        if not (leaks and shown):
            return changed
        min(shown, key=lambda g: g.responses).hidden_reason = COMPLEMENT
        changed = True


def _protected(cells, listed_stages) -> dict[tuple[str, str, str], RatingGroup]:
    """Every group a coordinator can display (all years and each listed PGY year × overall,
    each side, each kind), with the threshold applied, then complementary suppression
    repeated over every partition until nothing changes: within a year, sides and kinds
    partition its overall; across years, each group type partitions its all-years group.
    Groups of years that cannot be chosen in the filter are never shown, so count as hidden."""
    stages = sorted({s for s, *_ in cells} | set(listed_stages))
    table = {}
    for stage in [ALL_YEARS, *stages]:
        for dim, key, label in GROUP_TYPES:
            g = _group(cells, stage, dim, key, label)
            if 0 < g.responses < ANONYMITY_THRESHOLD:
                g.hidden_reason = FEW
            elif g.responses and stage != ALL_YEARS and stage not in listed_stages:
                g.hidden_reason = COMPLEMENT
            table[(stage, dim, key)] = g
    partitions = []
    for stage in [ALL_YEARS, *stages]:
        overall = table[(stage, "all", "all")]
        partitions.append((overall, [table[(stage, "side", k)] for k, _ in SIDES]))
        partitions.append((overall, [table[(stage, "kind", k)] for k, _ in Kind.choices]))
    for dim, key, _ in GROUP_TYPES:
        partitions.append((table[(ALL_YEARS, dim, key)], [table[(s, dim, key)] for s in stages]))
    while any([_hide_complements(parent, parts) for parent, parts in partitions]):
        pass
    return table


def _satisfaction(program, period, listed_stages) -> Satisfaction:
    cells = _cells(checkins_in(program, period, pgy=""))
    table = _protected(cells, listed_stages)
    stage = period.pgy or ALL_YEARS
    overall = table[(stage, "all", "all")]
    distribution = None
    if overall.responses and not overall.hidden:
        distribution = [
            sum(n for (s, _, _, r), n in cells.items() if r == rating and stage in (ALL_YEARS, s))
            for rating in range(1, 6)
        ]
    return Satisfaction(
        overall=overall,
        by_side=[table[(stage, "side", k)] for k, _ in SIDES],
        by_kind=[table[(stage, "kind", k)] for k, _ in Kind.choices],
        distribution=distribution,
    )


def checkin_comments(program: Program, period: Period) -> QuerySet[CheckIn]:
    """The period's check-ins that carry a comment, newest first, with both people: for the
    program's coordinators only (the other party never sees them). Their ratings are not
    shown beside them, or the averages' threshold would mean nothing."""
    return (
        checkins_in(program, period)
        .exclude(comment="")
        .annotate(side=_side())
        .select_related("author", "mentorship__mentee", "mentorship__mentor")
        .order_by("-created_at", "-id")
    )
