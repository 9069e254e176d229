"""Busy blocks — dated time away (nights, an ICU month, vacation) that meeting suggestions
avoid — and the calendars they are imported from.

A person adds, edits and removes their own blocks; the page, the API and the daily task all
call these functions. Each change locks the person's row (``core.locking``), validates like
the model (``BusyBlock.clean``: days within ``PLANNED_DAY``, the end not before the start),
saves, and writes the audit entry.

**Imports.** Rotation schedules (Amion, QGenda, a hospital's Outlook) publish iCalendar. A
person uploads an ``.ics`` file (imported once) or gives a feed address (``http``, ``https``
or ``webcal``), fetched now and refreshed daily (``busy_calendars_refresh_due``). Events are
read with ``icalendar``; recurring ones are expanded with ``recurring_ical_events`` over
``IMPORT_WINDOW`` (a month back to a year ahead, inside ``PLANNED_DAY``), so a weekly call
night becomes one block per week and nothing is unbounded. Free (TRANSP:TRANSPARENT) and
cancelled events are skipped. An import replaces that calendar's blocks as a whole, in one
transaction: a refresh that fails (bad address, bad file, too big, too slow) records the
error on the calendar and changes no block. Imported blocks belong to their source: they are
edited there, and removing the calendar removes them.

**Fetching safely.** The address comes from a person, so the fetch must not reach inside
our network (SSRF): every address the host resolves to must be public — no loopback,
private, link-local (cloud metadata), multicast or reserved ranges — and the connection goes
to the checked address (no second DNS answer can swap it). Redirects are followed a few
times, each checked the same way. The body is capped at ``BUSY_CALENDAR_MAX_BYTES`` and
each socket operation at ``BUSY_CALENDAR_TIMEOUT`` seconds (the whole body at three times
that). ``BUSY_CALENDAR_ALLOW_PRIVATE_HOSTS`` lifts the address check, for tests and closed
intranets only.
"""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import recurring_ical_events  # type: ignore[import-untyped]
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from icalendar import Calendar

from audit.services import audit_log
from core.bounds import PLANNED_DAY
from core.locking import locked

from .models import BusyBlock, BusyCalendar, User

# Imported events from a month back (a block in progress) to a year ahead.
IMPORT_WINDOW = (timedelta(days=30), timedelta(days=365))
# More events than any rotation schedule has in that window: a bigger file is refused.
MAX_IMPORTED_BLOCKS = 1000
MAX_CALENDARS = 10
MAX_REDIRECTS = 3
SCHEMES = {"http": "http", "https": "https", "webcal": "https", "webcals": "https"}
REFRESH_EVERY = timedelta(hours=20)  # the daily task refreshes each feed about once a day

Field = str


class CalendarImportError(Exception):
    """Why a calendar could not be read, in words for its owner."""


@dataclass(frozen=True)
class ImportedEvent:
    uid: str
    start_date: date
    end_date: date
    label: str


# --- Blocks a person types.


def _lock_user(user: User) -> User:
    return locked(User.objects).get(pk=user.pk)


def _check_owner(actor: User, obj: BusyBlock | BusyCalendar) -> None:
    if obj.user_id != actor.pk:
        raise PermissionDenied


def _clean_block(block: BusyBlock) -> None:
    block.label = (block.label or "").strip()
    if not block.label:
        raise ValidationError({"label": "Say what the block is, e.g. Night float, ICU or Vacation."})
    block.full_clean(exclude=["user", "calendar", "external_uid"])


def _snapshot(block: BusyBlock) -> dict:
    return {"start_date": block.start_date.isoformat(), "end_date": block.end_date.isoformat(), "label": block.label}


@transaction.atomic
def busy_block_create(*, user: User, start_date: date, end_date: date, label: str) -> BusyBlock:
    user = _lock_user(user)
    block = BusyBlock(user=user, start_date=start_date, end_date=end_date, label=label)
    _clean_block(block)
    block.save()
    audit_log(actor=user, action="busy_block.create", obj=block, after=_snapshot(block))
    return block


def _own_typed_block(block: BusyBlock, actor: User) -> BusyBlock:
    _lock_user(actor)
    block = BusyBlock.objects.select_related("calendar").get(pk=block.pk)
    _check_owner(actor, block)
    if block.calendar is not None:
        raise ValidationError(
            f"This block comes from the calendar “{block.calendar.name}”: change it there, "
            "or remove that calendar to remove its blocks."
        )
    return block


@transaction.atomic
def busy_block_update(*, block: BusyBlock, actor: User, start_date: date, end_date: date, label: str) -> BusyBlock:
    block = _own_typed_block(block, actor)
    before = _snapshot(block)
    block.start_date, block.end_date, block.label = start_date, end_date, label
    _clean_block(block)
    block.save(update_fields=["start_date", "end_date", "label"])
    audit_log(actor=actor, action="busy_block.update", obj=block, before=before, after=_snapshot(block))
    return block


@transaction.atomic
def busy_block_delete(*, block: BusyBlock, actor: User) -> None:
    block = _own_typed_block(block, actor)
    audit_log(actor=actor, action="busy_block.delete", obj=block, before=_snapshot(block))
    block.delete()


# --- Reading iCalendar.


def _as_date(value: date | datetime, zone: ZoneInfo) -> date:
    if isinstance(value, datetime):
        if timezone.is_naive(value):  # floating time: the person's own
            value = value.replace(tzinfo=zone)
        return value.astimezone(zone).date()
    return value


def parse_busy_calendar(content: bytes, *, zone: str, now: datetime | None = None) -> list[ImportedEvent]:
    """The busy events of an iCalendar file within ``IMPORT_WINDOW``; raises
    ``CalendarImportError`` for anything that is not a readable calendar."""
    tz = ZoneInfo(zone)
    now = now or timezone.now()
    today = now.astimezone(tz).date()
    first, last = today - IMPORT_WINDOW[0], today + IMPORT_WINDOW[1]
    lowest, highest = PLANNED_DAY.days(zone, now=now)
    try:
        calendar = Calendar.from_ical(content)
    except Exception:
        raise CalendarImportError("This is not an iCalendar (.ics) file.") from None
    if getattr(calendar, "name", "") != "VCALENDAR":
        raise CalendarImportError("This is not an iCalendar (.ics) file.")
    try:
        events = recurring_ical_events.of(calendar).between(first, last + timedelta(days=1))
    except Exception:
        raise CalendarImportError("The calendar's events or repeat rules could not be read.") from None
    occurrences: list[ImportedEvent] = []
    for event in events:
        if str(event.get("TRANSP", "")).upper() == "TRANSPARENT" or str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        if "DTSTART" not in event:
            continue
        start_value = event.decoded("DTSTART")
        end_value = event.decoded("DTEND") if "DTEND" in event else None
        start = _as_date(start_value, tz)
        if end_value is None:
            end = start
        elif isinstance(end_value, datetime):
            # A timed event ending at midnight does not take the next day.
            end = _as_date(end_value - timedelta(microseconds=1), tz)
        else:
            end = end_value - timedelta(days=1)  # all-day DTEND is exclusive
        end = max(start, end)
        # Clip to the window the model accepts.
        start, end = max(start, lowest), min(end, highest)
        if end < start:
            continue
        label = " ".join(str(event.get("SUMMARY", "") or "Busy").split())[:120] or "Busy"
        uid = str(event.get("UID", "")) or f"{label}@{start.isoformat()}"
        occurrences.append(ImportedEvent(uid=uid, start_date=start, end_date=end, label=label))
        if len(occurrences) > MAX_IMPORTED_BLOCKS:
            raise CalendarImportError(
                f"The calendar has more than {MAX_IMPORTED_BLOCKS} events in the coming year: "
                "export only your own schedule."
            )
    # A recurring event's occurrences share its UID: each is told apart by its first day.
    per_uid: dict[str, int] = {}
    for occurrence in occurrences:
        per_uid[occurrence.uid] = per_uid.get(occurrence.uid, 0) + 1
    imported: dict[str, ImportedEvent] = {}
    for occurrence in occurrences:
        uid = occurrence.uid
        if per_uid[uid] > 1:
            uid = f"{uid[:240]}#{occurrence.start_date.isoformat()}"
        imported[uid[:255]] = ImportedEvent(
            uid=uid[:255], start_date=occurrence.start_date, end_date=occurrence.end_date, label=occurrence.label
        )
    return sorted(imported.values(), key=lambda e: (e.start_date, e.end_date, e.uid))


# --- Fetching a calendar address.


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback)


def normalize_calendar_url(url: str) -> str:
    """``url`` with webcal:// as https://; refuses other schemes and credentials."""
    url = (url or "").strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or not parts.hostname:
        raise CalendarImportError("Give the calendar's address starting with https://, http:// or webcal://.")
    if parts.username or parts.password:
        raise CalendarImportError("Give the address without a user name or password in it.")
    return parts._replace(scheme=SCHEMES[scheme]).geturl()


def _resolve(host: str, port: int) -> str:
    """One checked address of ``host`` to connect to."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise CalendarImportError(f"The server {host} could not be found.") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise CalendarImportError(f"The server {host} could not be found.")
    if not getattr(settings, "BUSY_CALENDAR_ALLOW_PRIVATE_HOSTS", False) and not all(map(_public, addresses)):
        raise CalendarImportError("That address points inside a private network: give a public calendar address.")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked ``address``, whatever the name would resolve to now."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS: the certificate is checked against the host name."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def fetch_calendar(url: str) -> bytes:
    """GET ``url`` safely (see the module docstring); raises ``CalendarImportError``."""
    limit = settings.BUSY_CALENDAR_MAX_BYTES
    timeout = settings.BUSY_CALENDAR_TIMEOUT
    url = normalize_calendar_url(url)
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        https = parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        host = parts.hostname or ""  # normalize_calendar_url refused a URL without one
        address = _resolve(host, port)
        connection_class = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
        connection = connection_class(host, port, address=address, timeout=timeout)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:
            connection.request(
                "GET", path, headers={"Accept": "text/calendar, */*;q=0.5", "User-Agent": "MentorMatch calendar import"}
            )
            response = connection.getresponse()
            if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
                url = normalize_calendar_url(urljoin(url, response.getheader("Location")))
                continue
            if response.status != 200:
                raise CalendarImportError(f"The calendar's server answered {response.status} {response.reason}.")
            declared = response.getheader("Content-Length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise CalendarImportError(f"The calendar is larger than {limit // 1024:,} KB.")
            # Each read waits at most ``timeout``; the whole body, at most a few times that
            # (a server dripping a byte at a time must not hold a worker for hours).
            deadline = time.monotonic() + 3 * timeout
            chunks, size = [], 0
            while chunk := response.read(64 * 1024):
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    raise CalendarImportError(f"The calendar is larger than {limit // 1024:,} KB.")
                if time.monotonic() > deadline:
                    raise CalendarImportError("The calendar's server took too long to answer.")
            return b"".join(chunks)
        except CalendarImportError:
            raise
        except TimeoutError:
            raise CalendarImportError("The calendar's server took too long to answer.") from None
        except (OSError, http.client.HTTPException) as exc:
            raise CalendarImportError(f"The calendar could not be fetched ({type(exc).__name__}).") from None
        finally:
            connection.close()
    raise CalendarImportError("The calendar's address redirects too many times.")


# --- Calendars a person imports.


def _replace_blocks(calendar: BusyCalendar, events: list[ImportedEvent]) -> tuple[int, int]:
    """Make ``calendar``'s blocks exactly ``events`` (by external UID); (kept or added, removed)."""
    existing = {block.external_uid: block for block in calendar.blocks.all()}
    wanted = {event.uid: event for event in events}
    stale = [block.pk for uid, block in existing.items() if uid not in wanted]
    BusyBlock.objects.filter(pk__in=stale).delete()
    new, changed = [], []
    for uid, event in wanted.items():
        block = existing.get(uid)
        if block is None:
            new.append(
                BusyBlock(
                    user_id=calendar.user_id,
                    calendar=calendar,
                    external_uid=uid,
                    start_date=event.start_date,
                    end_date=event.end_date,
                    label=event.label,
                )
            )
        elif (block.start_date, block.end_date, block.label) != (event.start_date, event.end_date, event.label):
            block.start_date, block.end_date, block.label = event.start_date, event.end_date, event.label
            changed.append(block)
    BusyBlock.objects.bulk_create(new)
    BusyBlock.objects.bulk_update(changed, ["start_date", "end_date", "label"])
    return len(wanted), len(stale)


def _clean_name(name: str, fallback: str) -> str:
    name = " ".join((name or "").split())[:120]
    return name or fallback


def _check_calendar_count(user: User) -> None:
    if BusyCalendar.objects.filter(user=user).count() >= MAX_CALENDARS:
        raise ValidationError(f"You can import up to {MAX_CALENDARS} calendars: remove one first.")


@transaction.atomic
def busy_calendar_import_file(*, user: User, content: bytes, name: str = "", filename: str = "") -> BusyCalendar:
    """Import an uploaded ``.ics`` once; a bad file raises ``ValidationError`` and saves nothing."""
    user = _lock_user(user)
    _check_calendar_count(user)
    if len(content) > settings.BUSY_CALENDAR_MAX_BYTES:
        raise ValidationError({"file": f"The file is larger than {settings.BUSY_CALENDAR_MAX_BYTES // 1024:,} KB."})
    try:
        events = parse_busy_calendar(content, zone=user.time_zone)
    except CalendarImportError as exc:
        raise ValidationError({"file": str(exc)}) from None
    calendar = BusyCalendar.objects.create(
        user=user, name=_clean_name(name, filename or "Uploaded calendar"), last_synced_at=timezone.now()
    )
    added, _ = _replace_blocks(calendar, events)
    audit_log(actor=user, action="busy_calendar.import", obj=calendar, after={"name": calendar.name, "blocks": added})
    return calendar


def busy_calendar_add_url(*, user: User, url: str, name: str = "") -> BusyCalendar:
    """Subscribe to a calendar address: fetched now (outside any transaction: the network
    may be slow), then saved with its blocks; a bad address saves nothing."""
    try:
        url = normalize_calendar_url(url)
        if len(url) > (BusyCalendar._meta.get_field("url").max_length or 0):
            raise CalendarImportError("That address is too long.")
        content = fetch_calendar(url)
        events = parse_busy_calendar(content, zone=user.time_zone)
    except CalendarImportError as exc:
        raise ValidationError({"url": str(exc)}) from None
    with transaction.atomic():
        user = _lock_user(user)
        _check_calendar_count(user)
        calendar = BusyCalendar.objects.create(
            user=user,
            name=_clean_name(name, urlsplit(url).hostname or "Calendar"),
            url=url,
            last_synced_at=timezone.now(),
        )
        added, _ = _replace_blocks(calendar, events)
        audit_log(
            actor=user, action="busy_calendar.subscribe", obj=calendar, after={"name": calendar.name, "blocks": added}
        )
    return calendar


def busy_calendar_refresh(*, calendar: BusyCalendar, actor: User | None = None) -> BusyCalendar:
    """Fetch a subscribed calendar again and replace its blocks atomically; on failure keep
    the blocks and record ``last_error``. ``actor`` None: the daily task."""
    if actor is not None:
        _check_owner(actor, calendar)
    if not calendar.url:
        raise ValidationError("An uploaded file is imported once: upload it again to update it.")
    try:
        content = fetch_calendar(calendar.url)
        events = parse_busy_calendar(content, zone=calendar.user.time_zone)
    except CalendarImportError as exc:
        BusyCalendar.objects.filter(pk=calendar.pk).update(last_error=str(exc))
        calendar.last_error = str(exc)
        return calendar
    with transaction.atomic():
        _lock_user(calendar.user)
        current = BusyCalendar.objects.filter(pk=calendar.pk).first()  # removed meanwhile?
        if current is None:
            raise BusyCalendar.DoesNotExist
        calendar = current
        kept, removed = _replace_blocks(calendar, events)
        calendar.last_synced_at, calendar.last_error = timezone.now(), ""
        calendar.save(update_fields=["last_synced_at", "last_error"])
        audit_log(actor=actor, action="busy_calendar.refresh", obj=calendar, after={"blocks": kept, "removed": removed})
    return calendar


@transaction.atomic
def busy_calendar_delete(*, calendar: BusyCalendar, actor: User) -> None:
    """Remove an imported calendar and all its blocks."""
    _lock_user(actor)
    calendar = BusyCalendar.objects.get(pk=calendar.pk)
    _check_owner(actor, calendar)
    audit_log(
        actor=actor,
        action="busy_calendar.delete",
        obj=calendar,
        before={"name": calendar.name, "blocks": calendar.blocks.count()},
    )
    calendar.delete()


def busy_calendars_refresh_due(*, now: datetime | None = None) -> int:
    """Periodic (daily): refresh every subscribed calendar not refreshed in the last
    ``REFRESH_EVERY``. A failing one records its error and the others go on."""
    now = now or timezone.now()
    due = BusyCalendar.objects.exclude(url="").filter(user__is_active=True)
    due = due.exclude(last_synced_at__gt=now - REFRESH_EVERY).select_related("user")
    refreshed = 0
    for calendar in list(due):
        try:
            busy_calendar_refresh(calendar=calendar)
        except BusyCalendar.DoesNotExist:
            continue
        refreshed += 1
    return refreshed
