"""Meeting times: how a time reads for each person, and suggestions from two people's weekly
availability.

Each person's weekly windows are in their own time zone, and are turned into
instants date by date with that zone's rules, so a window "Monday 09:00–12:00"
lands on the right UTC hours on both sides of a daylight-saving change. Busy
blocks are whole days in the person's own zone. Both people's confirmed meetings
are taken out. Everything is computed in UTC; the result is deterministic.
"""

import zoneinfo
from datetime import UTC, date, datetime, timedelta

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import AvailabilityWindow, BusyBlock
from core.bounds import format_day, format_instant

from .models import Meeting

Interval = tuple[datetime, datetime]


def meeting_url(meeting) -> str:
    return reverse("matching:meeting-detail", kwargs={"pk": meeting.pk})


def format_in_zone(when: datetime, user) -> str:
    """``when`` as ``user`` reads it: in their own time zone, with its abbreviation (as
    stored, in UTC, for a far-off time their zone cannot hold)."""
    return format_instant(when, user.time_zone)


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """Both lists sorted and non-overlapping."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _subtract(free: list[Interval], taken: list[Interval]) -> list[Interval]:
    out = []
    for start, end in free:
        pieces = [(start, end)]
        for t_start, t_end in taken:
            pieces = [
                piece
                for p_start, p_end in pieces
                for piece in ((p_start, min(p_end, t_start)), (max(p_start, t_end), p_end))
                if piece[0] < piece[1]
            ]
        out.extend(pieces)
    return out


def _free_intervals(windows, busy_days: set[date], tz: zoneinfo.ZoneInfo, begin: datetime, end: datetime):
    """``windows`` (weekday, start time, end time) on every local date in range, as UTC intervals."""
    intervals = []
    day = begin.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    while day <= last:
        if day not in busy_days:
            for weekday, w_start, w_end in windows:
                if weekday == day.weekday():
                    # The zone's offset on this very date (fold=0 for a repeated hour).
                    local_start = datetime.combine(day, w_start, tzinfo=tz)
                    local_end = datetime.combine(day, w_end, tzinfo=tz)
                    intervals.append((local_start.astimezone(UTC), local_end.astimezone(UTC)))
        day += timedelta(days=1)
    return _merge(intervals)


def _busy_days(blocks, tz, begin, end) -> set[date]:
    first = begin.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    days = set()
    for block in blocks:
        day = max(block.start_date, first)
        while day <= min(block.end_date, last):
            days.add(day)
            day += timedelta(days=1)
    return days


def _spread(candidates: list[datetime], *, count: int, duration: timedelta, tz) -> list[datetime]:
    """Pick ``count`` times, the earliest of each different day first, then the
    earliest that don't overlap the picks."""
    picks: list[datetime] = []
    days_used: set[date] = set()
    for candidate in candidates:
        day = candidate.astimezone(tz).date()
        if day not in days_used:
            picks.append(candidate)
            days_used.add(day)
            if len(picks) == count:
                return sorted(picks)
    for candidate in candidates:
        if len(picks) == count:
            break
        if all(abs(candidate - pick) >= duration for pick in picks):
            picks.append(candidate)
    return sorted(picks)


def _people_free(people, begin: datetime, end: datetime, *, busy_days_off: bool = True):
    """Each person's free UTC intervals in [begin, end) from their weekly windows (without their
    busy days unless ``busy_days_off`` is False), and their busy blocks in range: (free, blocks),
    each keyed by person id."""
    windows = {person.pk: [] for person in people}
    for w in AvailabilityWindow.objects.filter(user__in=people).order_by("weekday", "start"):
        windows[w.user_id].append((w.weekday, w.start, w.end))
    blocks = {person.pk: [] for person in people}
    busy = BusyBlock.objects.filter(
        user__in=people, end_date__gte=begin.date() - timedelta(days=1), start_date__lte=end.date() + timedelta(days=1)
    ).order_by("start_date", "pk")
    for block in busy:
        blocks[block.user_id].append(block)
    free = {}
    for person in people:
        tz = zoneinfo.ZoneInfo(person.time_zone)
        days_off = _busy_days(blocks[person.pk], tz, begin, end) if busy_days_off else set()
        free[person.pk] = _free_intervals(windows[person.pk], days_off, tz, begin, end)
    return free, blocks


def _both(free: dict) -> list[Interval]:
    shared = None
    for mine in free.values():
        shared = mine if shared is None else _intersect(shared, mine)
    return shared or []


def _window(start: datetime, days: int) -> tuple[datetime, datetime]:
    if timezone.is_naive(start):
        raise ValueError("start must be an aware datetime.")
    begin = max(start, timezone.now()).astimezone(UTC)
    return begin, begin + timedelta(days=days)


def suggest_slots(
    *,
    mentee,
    mentor,
    start: datetime,
    days: int = 14,
    duration_minutes: int = 30,
    count: int = 3,
    step_minutes: int = 30,
) -> list[datetime]:
    """Up to ``count`` start times (aware, UTC) from ``start`` over the next ``days``
    when both people are free for ``duration_minutes``, spread over different days
    when possible. Never in the past."""
    begin, end = _window(start, days)
    duration, step = timedelta(minutes=duration_minutes), timedelta(minutes=step_minutes)
    people = [mentee, mentor]
    free, _ = _people_free(people, begin, end)
    free = _subtract(_both(free), _merge(_confirmed_meetings(people, begin, end)))

    candidates = []
    for f_start, f_end in free:
        t = f_start
        while t + duration <= f_end:
            if begin <= t and t + duration <= end:
                candidates.append(t)
            t += step
    return _spread(candidates, count=count, duration=duration, tz=zoneinfo.ZoneInfo(mentee.time_zone))


def _confirmed_meetings(people, begin: datetime, end: datetime) -> list[Interval]:
    involving = Q(mentorship__mentee__in=people) | Q(mentorship__mentor__in=people)
    confirmed = (
        Meeting.objects.filter(involving, status=Meeting.Status.CONFIRMED, start__lt=end)
        .filter(start__gte=begin - timedelta(minutes=240))
        .values_list("start", "duration_minutes")
        .order_by("start")
    )
    return [(s.astimezone(UTC), s.astimezone(UTC) + timedelta(minutes=d)) for s, d in confirmed]


def why_no_slots(*, viewer, other, start: datetime, days: int = 14, duration_minutes: int = 30) -> list[str]:
    """Why ``suggest_slots`` found no time, in the viewer's words, most basic reason first: the
    weekly availability does not overlap; or away days (the viewer's named by their label, the
    other person's by their dates only) and confirmed meetings take the shared time, or leave
    none as long as the meeting: then how long the longest free time left is."""
    begin, end = _window(start, days)
    people = [viewer, other]
    weekly, blocks = _people_free(people, begin, end, busy_days_off=False)
    name = other.first_name or other.full_name
    if not _both(weekly):
        return [f"Your weekly availability and {name}'s don't overlap in the next {days} days."]
    away_free, _ = _people_free(people, begin, end)
    meetings = _merge(_confirmed_meetings(people, begin, end))
    free = [
        (max(a, begin), min(b, end)) for a, b in _subtract(_both(away_free), meetings) if min(b, end) > max(a, begin)
    ]
    reasons = []
    first, last = begin.astimezone(zoneinfo.ZoneInfo(viewer.time_zone)).date(), end.date()
    for block in blocks[viewer.pk]:
        if block.end_date >= first and block.start_date <= last:
            reasons.append(f"You are away {format_days(block.start_date, block.end_date)} ({block.label}).")
    for block in blocks[other.pk]:
        if block.end_date >= first and block.start_date <= last:
            reasons.append(f"{name} is away {format_days(block.start_date, block.end_date)}.")
    if meetings:
        reasons.append("Confirmed meetings take some of the shared time.")
    if free:
        minutes = int(max(b - a for a, b in free).total_seconds() // 60)
        if minutes < duration_minutes:
            reasons.append(f"The longest time you are both free is {minutes} minutes: choose a shorter length.")
    return reasons or ["Away days or confirmed meetings take every shared time."]


def format_days(first: date, last: date) -> str:
    return format_day(first) if first == last else f"{format_day(first)} – {format_day(last)}"


def outside_weekly_availability(slots, *, duration_minutes: int, people) -> dict[datetime, list]:
    """For each start time in ``slots`` (aware), the people among ``people`` whose weekly
    availability does not hold the whole meeting (``duration_minutes`` from it), each read
    in their own time zone on that date (daylight saving included). Busy blocks are not
    looked at: this is about the hours someone keeps, not the days they are away.

    Someone who has given no weekly windows at all is never listed: they have not said when
    they are free. A slot inside everyone's availability is left out of the answer. One
    query, whatever the number of slots."""
    people = list(people)
    slots = [slot.astimezone(UTC) for slot in slots]
    if not slots or not people:
        return {}
    duration = timedelta(minutes=duration_minutes)
    windows: dict[int, list] = {person.pk: [] for person in people}
    for w in AvailabilityWindow.objects.filter(user__in=people).order_by("weekday", "start"):
        windows[w.user_id].append((w.weekday, w.start, w.end))
    outside: dict[datetime, list] = {}
    for slot in slots:
        for person in people:
            if not windows[person.pk]:
                continue
            tz = zoneinfo.ZoneInfo(person.time_zone)
            try:
                end = slot + duration
                free = _free_intervals(windows[person.pk], set(), tz, slot, end)
            except OverflowError:
                # A time at the end of the calendar (year 9999, stored before the bounds): no
                # week holds it, and saying so would only hide the form's own refusal of it.
                continue
            if not any(f_start <= slot and end <= f_end for f_start, f_end in free):
                outside.setdefault(slot, []).append(person)
    return outside
