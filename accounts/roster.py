"""Roster import and export: a coordinator's spreadsheet in, the program's people out.

The flow is read → preview → apply → invite. ``roster_read`` turns an upload (.csv in
UTF-8 or Windows-1252, or an .xlsx workbook's first sheet) into CSV text; ``roster_parse``
turns that into rows, errors a coordinator can act on, notices of how it was read (header
aliases, ignored columns) and what applying it would change. ``roster_import_preview``
keeps the text and the parsed rows in a RosterImport row so the file need not be uploaded
again to confirm. ``roster_import_apply`` re-checks those rows under a lock and writes
everything or nothing, in the request or (over BACKGROUND_ROWS rows) in a task with a
progress bar. Applying e-mails no one: ``roster_invite_all`` is the roster's separate,
explicit invite step, and ``roster_reinvite_waiting`` re-invites those who have not
signed in. docs/roster.md describes the whole for coordinators.

Invariants:
- A row is identified by (canonical e-mail key, role); the same person may be listed once
  as a resident and once as faculty (a near-peer mentor), never twice in the same role.
- Applying the same file twice changes nothing; inviting twice sends nothing twice.
- A person belongs to themselves. The file may create new people, and may edit the
  people this program alone holds who have never signed in (a roster being corrected
  before anyone accepted). Anyone else it names -- a member of another program, someone
  who has signed in, staff -- is never changed: on the invite step their row becomes a
  ProgramInvitation they accept or decline, and the preview shows only what the
  coordinator typed.
- An address that looks like an existing account's (accounts/identity.py) is refused.
- Bounded work: the upload is cut off at ROSTER_MAX_UPLOAD_BYTES while it streams
  (RosterUploadHandler), a workbook's unpacked size is bounded, the text is parsed once at
  upload and stored (RosterImport.parsed), and files over ROSTER_MAX_ROWS rows or
  MAX_COLUMNS columns are refused.
"""

import csv
import datetime
import io
import logging
import re
import zipfile
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EmailValidator
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connection, connections, transaction
from django.db.models import Count, Model, Q, QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from audit.services import audit_log
from core.csv import CsvText, csv_safe
from core.forms import max_length_of
from core.locking import lock_account_creation, locked
from core.outbox import enqueue, enqueue_on_commit

from .identity import canonical_email, email_skeleton
from .invitations import program_invitation_create, users_reinvite
from .models import (
    AcademicRank,
    CareerStage,
    Membership,
    MenteeProfile,
    MentorProfile,
    Program,
    ProgramInvitation,
    RosterImport,
    Specialty,
    User,
)
from .selectors import awaiting_first_sign_in_q, awaits_first_sign_in, roster_status, roster_status_q
from .services import user_invite

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

# --- The file format. docs/roster.md and the import page describe the same columns.

REQUIRED_COLUMNS = ("email", "first_name", "last_name", "role")
OPTIONAL_COLUMNS = ("pgy", "specialty", "academic_rank", "time_zone")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# Written by the export, ignored by the import, so an exported roster can be edited and re-imported.
EXPORT_ONLY_COLUMNS = ("status", "invited_on", "last_seen_on")
EXPORT_COLUMNS = COLUMNS + EXPORT_ONLY_COLUMNS

# Column descriptions shown on the import page; docs/roster.md says the same.
COLUMN_HELP = [
    ("email", "Required", "Their log-in. Each person once per role."),
    ("first_name", "Required", ""),
    ("last_name", "Required", ""),
    (
        "role",
        "Required, unless every row is a resident with a PGY year",
        "resident or faculty. A senior resident who also mentors interns gets two rows, one each. A file of "
        "residents only may leave it out: without it, every row with a PGY year is read as a resident.",
    ),
    (
        "pgy",
        "Residents",
        "PGY-1 … PGY-7 or Fellow (PGY1, pgy-1 and 1 work too). Optional for faculty (near-peer mentors).",
    ),
    ("specialty", "Faculty", "An ACGME specialty, e.g. Internal Medicine. Leave empty for residents."),
    ("academic_rank", "Optional", "Faculty only: Instructor, Assistant Professor, Associate Professor or Professor."),
    ("time_zone", "Optional", "e.g. America/Chicago. Empty means the program's time zone."),
]

# The downloadable template's example rows; importing them unchanged is an error.
TEMPLATE_ROWS = [
    ["jane.resident@example.org", "Jane", "Resident", "resident", "PGY-1", "", "", ""],
    ["sam.senior@example.org", "Sam", "Senior", "resident", "PGY-3", "", "", ""],
    ["sam.senior@example.org", "Sam", "Senior", "faculty", "PGY-3", "Internal Medicine", "", ""],
    [
        "alex.attending@example.org",
        "Alex",
        "Attending",
        "faculty",
        "",
        "Internal Medicine",
        "Assistant Professor",
        "America/Chicago",
    ],
]
TEMPLATE_EMAILS = frozenset(row[0] for row in TEMPLATE_ROWS)

# What programs' exports call the columns. Headers are compared without case, spaces or
# punctuation (``_header_key``), so "E-mail", "Email Address" and "email_address" are one.
# docs/roster.md lists the same table; keep them together.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "email": (
        "E-mail",
        "Email Address",
        "E-mail Address",
        "Primary Email",
        "Work Email",
        "Institutional Email",
        "Hospital Email",
        "Preferred Email",
    ),
    "first_name": ("First Name", "Given Name", "First", "Forename", "Legal First Name"),
    "last_name": ("Last Name", "Surname", "Family Name", "Last", "Legal Last Name"),
    "role": ("Role", "Position", "Position Type", "Person Type", "Personnel Type", "User Type", "Type"),
    "pgy": (
        "PGY",
        "PGY Level",
        "PGY Year",
        "Post Graduate Year",
        "Postgraduate Year",
        "Post-Graduate Year",
        "PG Level",
        "PG Year",
        "Level",
        "Training Level",
        "Training Year",
        "Year of Training",
        "Current PGY",
        "Current Level",
    ),
    "specialty": ("Specialty", "Speciality", "Primary Specialty"),
    "academic_rank": ("Academic Rank", "Rank", "Faculty Rank", "Academic Title"),
    "time_zone": ("Time Zone", "Timezone", "TZ"),
}


def _header_key(name: str) -> str:
    """A header compared without case, spaces, punctuation or a stray byte-order mark."""
    return re.sub(r"[^a-z0-9]", "", (name or "").lower())


_HEADER_COLUMNS: dict[str, str] = {
    _header_key(alias): column for column, aliases in HEADER_ALIASES.items() for alias in (column, *aliases)
} | {_header_key(column): column for column in EXPORT_ONLY_COLUMNS}

# Role values as programs write them; compared like headers.
ROLE_ALIASES: dict[str, tuple[str, ...]] = {
    Membership.Role.RESIDENT: ("resident", "trainee", "intern", "fellow", "house officer", "house staff", "housestaff"),
    Membership.Role.FACULTY: ("faculty", "attending", "attending physician", "teaching faculty", "preceptor"),
}
ROLES: dict[str, str] = {_header_key(alias): role for role, aliases in ROLE_ALIASES.items() for alias in aliases}
# "PGY-1", "PGY 1", "pgy1", "1", "PG1", "R1", "Year 1", "Level 1".
_PGY_RE = re.compile(r"^(?:PGY|PG|R|YEAR|LEVEL)?[\s\-_]*([1-7])$")

NOT_UTF8_MESSAGE = (
    "The file's characters could not be read (it is neither UTF-8 nor Windows-1252), so accented names "
    "would be garbled. In Excel choose File › Save As › CSV UTF-8 (Comma delimited) and upload that file."
)
CP1252_NOTICE = (
    "The file was read as Windows-1252, the encoding of Excel's plain “CSV (Comma delimited)”. "
    "Check that accented names look right below."
)
XLSX_CORRUPT_MESSAGE = (
    "This .xlsx file could not be opened: it may be damaged or not really an Excel workbook. "
    "Open it in Excel and save it again, or save it as CSV UTF-8 (Comma delimited)."
)
XLSX_PROTECTED_MESSAGE = (
    "This workbook is protected with a password, so it cannot be read. In Excel remove the password "
    "(File › Info › Protect Workbook › Encrypt with Password, clear it), save, and upload it again."
)
XLS_MESSAGE = (
    "This is an old-style Excel workbook (.xls). In Excel choose File › Save As › Excel Workbook (.xlsx) "
    "or CSV UTF-8 (Comma delimited), and upload that file."
)
# A workbook is a zip: what it unpacks to is bounded too (a small file can unpack to gigabytes).
XLSX_MAX_UNPACKED_BYTES = 50 * 1024 * 1024

_email_validator = EmailValidator()

# A header wider than this is not a roster; nor is a row wider than the header allows.
# Exports carry many columns the import ignores (phone, start date, IDs), so the bound is loose.
MAX_COLUMNS = 100
# Problems kept for the preview: a file that is wrong on every line needs fixing, not reading.
MAX_ERRORS_KEPT = 200
_NAME_MAX_LENGTH = max_length_of(User, "first_name")


# Files with more rows than this are applied by a task, with a progress bar.
BACKGROUND_ROWS = 500
APPLY_TASK = "accounts.tasks.apply_roster_import"
CONFLICT_MESSAGE = (
    "Someone changed this roster while the file was being imported. Nothing was imported; please try again."
)
# "Re-invite those who have not signed in" skips anyone (re-)invited more recently than this:
# a second click, or one the next morning, sends nobody a second e-mail the same day.
REINVITE_AFTER = datetime.timedelta(days=1)


# --- What parsing returns.


@dataclass(frozen=True)
class RosterError:
    line: int | None  # 1 is the header row; None for the file as a whole
    column: str
    message: str


@dataclass
class RosterRow:
    line: int
    email: str
    first_name: str
    last_name: str
    role: str
    career_stage: CareerStage | None = None
    specialty: Specialty | None = None
    academic_rank: AcademicRank | None = None
    time_zone: str = ""  # as given; empty means "the program's" for new people, "keep" for others
    # Filled in against the database (``_plan``): create | update | unchanged (the program's
    # own people), invite (an existing account asked to join), member | invited | declined
    # (already on the roster, already asked, or declined before: nothing to do).
    action: str = ""
    changes: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return canonical_email(self.email)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass
class RosterPreview:
    program: Program
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[RosterError] = field(default_factory=list)
    # People already in the database, by canonical key (with their profiles).
    users: dict[str, User] = field(default_factory=dict)
    memberships: set[tuple[int, str]] = field(default_factory=set)  # (user id, role) in this program
    owned: set[int] = field(default_factory=set)  # ids of the people this file may edit
    record_count: int = 0  # data rows in the file, good or bad
    errors_dropped: int = 0  # problems beyond MAX_ERRORS_KEPT, counted only
    # What reading the file decided for the coordinator: the encoding, the sheet, the
    # columns read under another name and the columns ignored.
    notices: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)  # header cells the import does not read

    @property
    def is_valid(self) -> bool:
        return not self.errors and bool(self.rows)

    @property
    def create_count(self) -> int:
        return sum(1 for r in self.rows if r.action == "create")

    @property
    def update_count(self) -> int:
        return sum(1 for r in self.rows if r.action == "update")

    @property
    def unchanged_count(self) -> int:
        return sum(1 for r in self.rows if r.action in ("unchanged", "member", "invited", "declined"))

    @property
    def invite_count(self) -> int:
        """Existing accounts that will be asked to join this program."""
        return sum(1 for r in self.rows if r.action == "invite")

    @property
    def apply_label(self) -> str:
        """What the apply button does, from the plan: "Add 148, update 1, ask 2 to join"."""
        parts = []
        if self.create_count:
            parts.append(f"add {self.create_count}")
        if self.update_count:
            parts.append(f"update {self.update_count}")
        if self.invite_count:
            parts.append(f"ask {self.invite_count} to join")
        return ", ".join(parts).capitalize()

    @property
    def people_count(self) -> int:
        return len({r.key for r in self.rows})

    @property
    def added_people_count(self) -> int:
        """People the import adds or updates itself (not those it only asks to join)."""
        return len({r.key for r in self.rows if r.action in ("create", "update", "unchanged")})

    @property
    def invitation_count(self) -> int:
        """New people, and the program's own never-invited people, who get a sign-up invitation."""
        count = 0
        for key in {r.key for r in self.rows}:
            user = self.users.get(key)
            if user is None or (user.pk in self.owned and user.invited_at is None):
                count += 1
        return count

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.errors_dropped

    @property
    def error_lines(self) -> int:
        return len({e.line for e in self.errors})


@dataclass(frozen=True)
class RosterApplyResult:
    roster_import: RosterImport
    to_invite: int = 0  # people the import added (or keeps) who have never been invited
    to_ask: int = 0  # existing accounts the invite step will ask to join
    in_background: bool = False  # queued for a task: the preview page shows its progress


# --- Reading the file.


@dataclass(frozen=True)
class RosterFile:
    text: str  # CSV text: a workbook's first sheet is turned into CSV, so one parser reads both
    notices: tuple[str, ...] = ()


def roster_read(*, filename: str, data: bytes) -> RosterFile:
    """The file as CSV text, or ValidationError with one message a coordinator can act on.

    A .csv file is read as UTF-8 (with or without the byte-order mark Excel's "CSV UTF-8"
    writes), else as Windows-1252 (Excel's plain "CSV"); an .xlsx workbook's first sheet is
    read with openpyxl, dates and numbers as text.
    """
    name = filename.lower()
    if not name.endswith((".csv", ".xlsx")):
        raise ValidationError(
            "Choose a .csv or .xlsx file. In Excel choose File › Save As › Excel Workbook (.xlsx) "
            "or CSV UTF-8 (Comma delimited).",
            code="extension",
        )
    limit = settings.ROSTER_MAX_UPLOAD_BYTES
    if len(data) > limit:
        raise ValidationError(
            f"The file is {filesizeformat(len(data))}; the limit is {filesizeformat(limit)}. Split it into smaller files.",
            code="too_large",
        )
    # By content, not by name: a workbook renamed to .csv is still read as one.
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        # The OLE container: an old .xls, or (saved as .xlsx) a workbook encrypted with a password.
        raise ValidationError(XLSX_PROTECTED_MESSAGE if name.endswith(".xlsx") else XLS_MESSAGE, code="workbook")
    if data.startswith(b"PK\x03\x04") or name.endswith(".xlsx"):
        return _xlsx_read(data)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValidationError(NOT_UTF8_MESSAGE, code="encoding")  # UTF-16, Excel's "Unicode text"
    notices: tuple[str, ...] = ()
    try:
        # utf-8-sig drops the byte-order mark Excel's "CSV UTF-8" writes.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Not UTF-8: Excel's plain "CSV (Comma delimited)" on Windows writes Windows-1252
        # (é, “smart quotes”). Five byte values are unassigned there: then it is neither.
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise ValidationError(NOT_UTF8_MESSAGE, code="encoding") from None
        notices = (CP1252_NOTICE,)
    if "\x00" in text:
        raise ValidationError("This does not look like a text CSV file.", code="binary")
    if not text.strip():
        raise ValidationError("The file is empty.", code="empty")
    return RosterFile(text=text, notices=notices)


def roster_decode(*, filename: str, data: bytes) -> str:
    """The file's text as CSV (see ``roster_read``)."""
    return roster_read(filename=filename, data=data).text


def _xlsx_cell(value: Any) -> str:
    """A cell as the coordinator sees it in Excel: dates as YYYY-MM-DD, 2.0 as 2."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx_read(data: bytes) -> RosterFile:
    """The first sheet of a workbook as CSV text, read in openpyxl's read-only (streaming) mode.

    Bounded like a CSV: at most ROSTER_MAX_ROWS + 1 non-empty rows (the parser then refuses
    the file whole) and MAX_COLUMNS + 1 columns are read, and a workbook that would unpack
    to more than XLSX_MAX_UNPACKED_BYTES is refused before openpyxl opens it.
    """
    import openpyxl  # type: ignore[import-untyped]  # imported here: only workbook uploads pay for it
    from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ValidationError(XLSX_CORRUPT_MESSAGE, code="workbook") from None
    if unpacked > XLSX_MAX_UNPACKED_BYTES:
        raise ValidationError(
            "This workbook is too large once unpacked. Keep only the roster's sheet and columns, "
            "or save it as CSV UTF-8 (Comma delimited).",
            code="too_large",
        )
    max_rows = settings.ROSTER_MAX_ROWS
    writer = CsvText()
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, AttributeError):
        raise ValidationError(XLSX_CORRUPT_MESSAGE, code="workbook") from None
    try:
        if not workbook.worksheets:
            raise ValidationError("The workbook has no sheets.", code="empty")
        sheet = workbook.worksheets[0]
        written = 0
        try:
            for values in sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True):
                # Read-only rows are padded to the sheet's width: trailing empty cells are dropped first.
                width = len(values)
                while width and values[width - 1] in (None, ""):
                    width -= 1
                cells = [_xlsx_cell(v) for v in values[:width]]
                if not any(cells):
                    continue  # empty (often only formatted) rows, anywhere: the CSV parser skips them too
                writer.writerow(cells)
                written += 1
                if written > max_rows + 1:  # the header and one row too many: enough to refuse it
                    break
        except (KeyError, ValueError, TypeError, AttributeError, zipfile.BadZipFile, OSError) as exc:
            logger.info("Unreadable workbook sheet: %s", exc)
            raise ValidationError(XLSX_CORRUPT_MESSAGE, code="workbook") from None
        notices: tuple[str, ...] = ()
        if len(workbook.worksheets) > 1:
            notices = (
                f"Read the first sheet, “{sheet.title}”, of {len(workbook.worksheets)}; the others are ignored.",
            )
    finally:
        workbook.close()
    if not written:
        raise ValidationError("The file is empty.", code="empty")
    return RosterFile(text=writer.getvalue(), notices=notices)


def roster_parse(*, program: Program, data: bytes, filename: str = "roster.csv") -> RosterPreview:
    """Parse and check an uploaded file against ``program``; nothing is written."""
    try:
        read = roster_read(filename=filename, data=data)
    except ValidationError as exc:
        return RosterPreview(program=program, errors=[RosterError(None, "", exc.messages[0])])
    preview = roster_parse_text(program=program, text=read.text)
    preview.notices[:0] = read.notices
    return preview


def _delimiter(text: str) -> str:
    # Excel in many European locales writes semicolons; a "Text (Tab delimited)" file has tabs.
    header = text.split("\n", 1)[0]
    counts = {",": header.count(","), ";": header.count(";"), "\t": header.count("\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def roster_parse_text(*, program: Program, text: str) -> RosterPreview:
    """Parse decoded CSV text: every problem is reported, not just the first (up to
    MAX_ERRORS_KEPT of them; the rest are counted)."""
    preview = _parse_text(program=program, text=text)
    if not preview.errors:
        _plan(preview)
    return preview


def _parse_text(*, program: Program, text: str) -> RosterPreview:
    preview = _parse_uncapped(program=program, text=text)
    if len(preview.errors) > MAX_ERRORS_KEPT:
        preview.errors_dropped = len(preview.errors) - MAX_ERRORS_KEPT
        del preview.errors[MAX_ERRORS_KEPT:]
    return preview


def _parse_uncapped(*, program: Program, text: str) -> RosterPreview:
    preview = RosterPreview(program=program)
    errors = preview.errors
    max_rows = settings.ROSTER_MAX_ROWS
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            errors.append(RosterError(1, "", "The first row must name the columns: " + ", ".join(COLUMNS) + "."))
            return preview
        if len(header) > MAX_COLUMNS:
            errors.append(
                RosterError(
                    1,
                    "",
                    f"The first row has {len(header)} columns; a roster has at most {MAX_COLUMNS}. "
                    "Keep only the columns: " + ", ".join(COLUMNS) + ".",
                )
            )
            return preview
        columns, unnamed, header_ok = _read_header(header, preview)
        records: list[tuple[int, list[str]]] = []
        # Counted as they are read, so a file refused for its header still says how long it is.
        preview.record_count = 0
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, and Excel's trailing ",,,,"
            if len(records) == max_rows:
                # Stop reading: a file this long is refused whole, whatever the rest holds.
                errors.append(
                    RosterError(
                        None,
                        "",
                        f"The file has more than {max_rows:,} people in it; the limit is {max_rows:,} "
                        "rows per file. Split it into smaller files.",
                    )
                )
                return preview
            records.append((reader.line_num, cells[: MAX_COLUMNS + 1]))
            preview.record_count = len(records)
    except csv.Error as exc:
        errors.append(RosterError(reader.line_num or None, "", f"The file could not be read as CSV ({exc})."))
        return preview
    if not header_ok:
        return preview
    if not records:
        errors.append(RosterError(None, "", "The file has a header row but nobody in it."))
        return preview

    parser = _RowParser(columns, errors, unnamed=unnamed)
    seen_roles: dict[tuple[str, str], int] = {}  # (key, role) → line
    seen_people: dict[str, RosterRow] = {}  # key → first row
    seen_skeletons: dict[str, RosterRow] = {}  # skeleton → first row
    for line, cells in records:
        row, row_errors = parser.parse(line, cells)
        if row is not None and not row_errors:
            key = (row.key, row.role)
            first = seen_people.get(row.key)
            look_alike = seen_skeletons.get(email_skeleton(row.email))
            if key in seen_roles:
                message = f"Duplicate: {row.email} is listed as {row.role} on line {seen_roles[key]} already."
                row_errors.append(RosterError(line, "email", message))
            elif look_alike is not None and look_alike.key != row.key:
                message = (
                    f"{row.email} looks like {look_alike.email} on line {look_alike.line}: the two differ only in "
                    "characters that look alike. Type the address with plain letters."
                )
                row_errors.append(RosterError(line, "email", message))
            elif first is not None and (first.first_name, first.last_name) != (row.first_name, row.last_name):
                message = f"Line {first.line} gives {row.email} a different name ({first.full_name})."
                row_errors.append(RosterError(line, "first_name", message))
            elif first is not None and first.time_zone != row.time_zone:
                message = f"Line {first.line} gives {row.email} a different time zone."
                row_errors.append(RosterError(line, "time_zone", message))
            else:
                seen_roles[key] = line
                seen_people.setdefault(row.key, row)
                seen_skeletons.setdefault(email_skeleton(row.email), row)
        errors.extend(row_errors)
        if row is not None and not row_errors:
            preview.rows.append(row)
    if parser.roles_from_pgy:
        read = parser.read_as_residents
        preview.notices.append(
            f"No role column: the {read} row{'s' if read != 1 else ''} with a PGY level "
            f"{'are' if read != 1 else 'is'} read as residents."
        )
    return preview


# --- The parsed file, kept with the import so it is parsed once.


def _parsed_to_json(preview: RosterPreview) -> dict[str, Any]:
    def pk(obj: Model | None) -> Any:
        return obj.pk if obj is not None else None

    return {
        "record_count": preview.record_count,
        "errors": [[e.line, e.column, e.message] for e in preview.errors],
        "errors_dropped": preview.errors_dropped,
        "notices": preview.notices,
        "ignored_columns": preview.ignored_columns,
        "rows": [
            [
                r.line,
                r.email,
                r.first_name,
                r.last_name,
                r.role,
                pk(r.career_stage),
                pk(r.specialty),
                pk(r.academic_rank),
                r.time_zone,
            ]
            for r in preview.rows
        ],
    }


def _parsed_from_json(program: Program, data: dict) -> RosterPreview:
    stages = {s.pk: s for s in CareerStage.objects.all()}
    specialties = {s.pk: s for s in Specialty.objects.filter(parent__isnull=True)}
    ranks = {r.pk: r for r in AcademicRank.objects.all()}
    preview = RosterPreview(
        program=program,
        errors=[RosterError(*e) for e in data["errors"]],
        errors_dropped=data["errors_dropped"],
        record_count=data["record_count"],
        notices=list(data.get("notices", [])),
        ignored_columns=list(data.get("ignored_columns", [])),
    )
    for line, email, first, last, role, stage, specialty, rank, time_zone in data["rows"]:
        preview.rows.append(
            RosterRow(
                line=line,
                email=email,
                first_name=first,
                last_name=last,
                role=role,
                career_stage=stages.get(stage),
                specialty=specialties.get(specialty),
                academic_rank=ranks.get(rank),
                time_zone=time_zone,
            )
        )
    return preview


def roster_import_plan(roster_import: RosterImport) -> RosterPreview:
    """The kept file's rows against the database as it is now: what applying it would do.

    Reads the rows parsed at upload; only an import kept before they were stored is parsed here.
    """
    program = roster_import.program
    if not roster_import.parsed:
        preview = _parse_text(program=program, text=roster_import.content)
        roster_import.parsed = _parsed_to_json(preview)
        RosterImport.objects.filter(pk=roster_import.pk).update(parsed=roster_import.parsed)
    preview = _parsed_from_json(program, roster_import.parsed)
    if not preview.errors:
        _plan(preview)
    return preview


def _read_header(header: list[str], preview: RosterPreview) -> tuple[list[str], list[int], bool]:
    """Each header cell's column (``""`` for one the import ignores), the positions with no
    name at all, and whether the header lets the rows be read.

    Headers are read through HEADER_ALIASES; unknown ones are ignored with a notice naming
    them, so an export's phone or ID columns need not be deleted first."""
    errors = preview.errors
    columns: list[str] = []
    unnamed: list[int] = []
    renamed: list[str] = []
    ignored: list[str] = []
    first_of: dict[str, str] = {}  # column → the header cell that named it first
    ok = True
    for i, cell in enumerate(header):
        label = (cell or "").strip().lstrip("\ufeff")
        column = _HEADER_COLUMNS.get(_header_key(label), "")
        if not label:
            unnamed.append(i)  # Excel's trailing empty columns; a value under one is a row error
        elif not column:
            ignored.append(label)
        elif column in first_of:
            message = (
                f"The column {column} appears twice."
                if _header_key(first_of[column]) == _header_key(label)
                else f"The columns “{first_of[column]}” and “{label}” both mean {column}; keep one of them."
            )
            errors.append(RosterError(1, column, message))
            ok = False
            column = ""
        else:
            first_of[column] = label
            if column not in EXPORT_ONLY_COLUMNS and _header_key(label) != _header_key(column):
                renamed.append(f"“{label}” as {column}")
        columns.append(column if column not in EXPORT_ONLY_COLUMNS else "")
    if not first_of:
        errors.append(
            RosterError(
                1,
                "",
                "The first row must name the columns: " + ", ".join(COLUMNS) + ". Download the template to start from.",
            )
        )
        return columns, unnamed, False
    for name in REQUIRED_COLUMNS:
        # A residents-only export (MedHub, New Innovations) often has no role column: with a PGY
        # column, the rows with a PGY year are read as residents (``_RowParser.parse``).
        if name == "role" and "role" not in first_of and "pgy" in first_of:
            continue
        if name not in first_of:
            aliases = ", ".join(HEADER_ALIASES[name][:3])
            instead = "; a file of residents only may have a PGY column instead" if name == "role" else ""
            errors.append(RosterError(1, name, f"Missing column: {name} (or a column named like {aliases}{instead})."))
            ok = False
    if renamed:
        preview.notices.append("Read " + ", ".join(renamed) + ".")
    preview.ignored_columns = ignored
    if ignored:
        count = len(ignored)
        preview.notices.append(f"Ignored {count} column{'s' if count != 1 else ''}: {', '.join(ignored)}.")
    return columns, unnamed, ok


class _RowParser:
    """Checks rows one at a time against the vocabularies, loaded once per file."""

    def __init__(self, columns: list[str], errors: list[RosterError], *, unnamed: list[int]):
        self.columns = columns
        self.index = {name: i for i, name in enumerate(columns) if name}
        self.unnamed = unnamed
        self.file_errors = errors
        self.missing_reported: set[str] = set()
        # No role column but a PGY one (``_read_header``): a row with a PGY level is a resident.
        self.roles_from_pgy = "role" not in self.index and "pgy" in self.index
        self.read_as_residents = 0
        self.stages = {s.code.upper(): s for s in CareerStage.objects.all()}
        self.specialties: dict[str, Specialty] = {}
        for s in Specialty.objects.filter(parent__isnull=True):
            self.specialties[s.name.lower()] = s
            self.specialties[s.slug.lower()] = s
        self.ranks: dict[str, AcademicRank] = {}
        for r in AcademicRank.objects.all():
            self.ranks[r.name.lower()] = r
            self.ranks[r.slug.lower()] = r
        self.time_zones = zoneinfo.available_timezones()

    def stage(self, value: str) -> CareerStage | None:
        value = value.upper()
        if value in self.stages:  # PGY-1 … PGY-7, FELLOW, and MS4 or JUNIOR-FACULTY from an export
            return self.stages[value]
        if value == "FELLOWSHIP":
            return self.stages.get("FELLOW")
        if value == "INTERN":
            return self.stages.get("PGY-1")
        match = _PGY_RE.match(value)
        return self.stages.get(f"PGY-{match.group(1)}") if match else None

    def missing_column(self, name: str, reason: str) -> None:
        # Reported once, on the header, rather than on every row.
        if name not in self.missing_reported:
            self.missing_reported.add(name)
            self.file_errors.append(RosterError(1, name, f"Missing column: {name} ({reason})."))

    def parse(self, line: int, cells: list[str]) -> tuple[RosterRow | None, list[RosterError]]:
        errors: list[RosterError] = []

        def err(column: str, message: str) -> None:
            errors.append(RosterError(line, column, message))

        def cell(name: str) -> str:
            i = self.index.get(name)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        if len(cells) > len(self.columns) and any(c.strip() for c in cells[len(self.columns) :]):
            err("", f"This row has {len(cells)} cells but the header names {len(self.columns)} columns.")
        if any(i < len(cells) and cells[i].strip() for i in self.unnamed):
            err("", "This row has a value under a column with no name in the header row.")

        email = cell("email").lower()
        if not email:
            err("email", "The e-mail address is missing.")
        else:
            try:
                _email_validator(email)
            except ValidationError:
                err("email", f"“{email}” is not a valid e-mail address.")
            else:
                if email in TEMPLATE_EMAILS:
                    err("email", "This is an example row from the template; delete it.")
                elif len(canonical_email(email)) > max_length_of(User, "email_key"):
                    err("email", "This e-mail address is too long.")

        first_name, last_name = cell("first_name"), cell("last_name")
        for column, value in (("first_name", first_name), ("last_name", last_name)):
            label = column.replace("_", " ")
            if not value:
                err(column, f"The {label} is missing.")
            elif len(value) > _NAME_MAX_LENGTH:
                err(column, f"The {label} is longer than {_NAME_MAX_LENGTH} characters.")

        role = ROLES.get(_header_key(cell("role")))
        if self.roles_from_pgy:
            if cell("pgy"):
                role = Membership.Role.RESIDENT
                self.read_as_residents += 1
            else:
                err(
                    "role",
                    "No PGY level, and the file has no role column: give this row a PGY level if they are a "
                    "resident, or add a role column (resident or faculty).",
                )
        elif role is None:
            err(
                "role",
                f"Role must be resident or faculty, not “{cell('role')}”." if cell("role") else "The role is missing.",
            )

        career_stage = None
        if raw := cell("pgy"):
            career_stage = self.stage(raw)
            if career_stage is None:
                err("pgy", f"Unknown PGY value “{raw}”. Use PGY-1 … PGY-7 or Fellow.")
        elif role == Membership.Role.RESIDENT and _header_key(cell("role")) == "fellow":
            career_stage = self.stages.get("FELLOW")  # the role says it: "Fellow" with no PGY
        elif role == Membership.Role.RESIDENT:
            if "pgy" in self.index:
                err("pgy", "Residents need a PGY year (PGY-1 … PGY-7 or Fellow).")
            else:
                self.missing_column("pgy", "residents need a PGY year")

        specialty = None
        if raw := cell("specialty"):
            specialty = self.specialties.get(raw.lower())
            if specialty is None:
                err("specialty", f"Unknown specialty “{raw}”. Use an ACGME specialty name, e.g. Internal Medicine.")
            elif role == Membership.Role.RESIDENT:
                specialty = None  # a resident's specialty is their program's
        elif role == Membership.Role.FACULTY:
            if "specialty" in self.index:
                err("specialty", "Faculty need a specialty, e.g. Internal Medicine.")
            else:
                self.missing_column("specialty", "faculty need a specialty")

        academic_rank = None
        if raw := cell("academic_rank"):
            if role == Membership.Role.RESIDENT:
                err("academic_rank", "Academic rank is for faculty; leave it empty for residents.")
            else:
                academic_rank = self.ranks.get(raw.lower())
                if academic_rank is None:
                    err(
                        "academic_rank",
                        f"Unknown academic rank “{raw}”. Use Instructor, Assistant Professor, "
                        "Associate Professor or Professor.",
                    )

        time_zone = cell("time_zone")
        if time_zone and time_zone not in self.time_zones:
            err("time_zone", f"Unknown time zone “{time_zone}”. Use a name such as America/New_York.")

        if role is None:
            return None, errors
        row = RosterRow(
            line=line,
            email=email,
            first_name=first_name,
            last_name=last_name,
            role=role,
            career_stage=career_stage,
            specialty=specialty,
            academic_rank=academic_rank,
            time_zone=time_zone,
        )
        return row, errors


def _chunks(items: Iterable[_T], size: int = 500) -> Iterator[list[_T]]:
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _plan(preview: RosterPreview) -> None:
    """Compare each row with the database: what applying it would do, and what changes.

    Reads only what the coordinator may act on: an existing person's current data is
    looked at (and shown as changes) only for people this program alone holds and who
    have never signed in (``preview.owned``).
    """
    program = preview.program
    keys = {row.key for row in preview.rows}
    for chunk in _chunks(keys):
        for found in User.objects.filter(email_key__in=chunk).select_related(
            "mentee_profile__career_stage",
            "mentor_profile__specialty",
            "mentor_profile__academic_rank",
            "mentor_profile__career_stage",
        ):
            preview.users[found.email_key] = found
    elsewhere: set[int] = set()
    invited: set[tuple[int, str]] = set()
    declined: set[tuple[int, str]] = set()
    user_ids = [u.pk for u in preview.users.values()]
    for ids in _chunks(user_ids):
        for user_id, program_id, role in Membership.objects.filter(user_id__in=ids).values_list(
            "user_id", "program_id", "role"
        ):
            if program_id == program.pk:
                preview.memberships.add((user_id, role))
            else:
                elsewhere.add(user_id)
        for user_id, role, status in ProgramInvitation.objects.filter(
            program=program,
            user_id__in=ids,
            status__in=[ProgramInvitation.Status.PENDING, ProgramInvitation.Status.DECLINED],
        ).values_list("user_id", "role", "status"):
            (invited if status == ProgramInvitation.Status.PENDING else declined).add((user_id, role))
    members = {user_id for user_id, _ in preview.memberships}
    preview.owned = {
        u.pk
        for u in preview.users.values()
        # Staff accounts are never edited by a file, whether or not they have signed in.
        if u.pk in members and u.pk not in elsewhere and awaits_first_sign_in(u) and not (u.is_staff or u.is_superuser)
    }
    _refuse_look_alikes(preview)

    for row in preview.rows:
        user = preview.users.get(row.key)
        if user is None:
            row.action = "create"
        elif user.pk in preview.owned:
            row.changes = _changes(row, user)
            if (user.pk, row.role) not in preview.memberships:
                row.action = "create"
            else:
                row.action = "update" if row.changes else "unchanged"
        elif (user.pk, row.role) in preview.memberships:
            row.action = "member"
        elif (user.pk, row.role) in invited:
            row.action = "invited"
        elif (user.pk, row.role) in declined:
            row.action = "declined"  # a "no" is not asked again by every re-import
        else:
            row.action = "invite"


def _refuse_look_alikes(preview: RosterPreview) -> None:
    """A new address whose confusable skeleton is an existing account's is an error on its row."""
    new_rows = [row for row in preview.rows if row.key not in preview.users]
    skeletons = {email_skeleton(row.email): row for row in new_rows}
    taken: set[str] = set()
    for chunk in _chunks(skeletons):
        taken.update(User.objects.filter(email_skeleton__in=chunk).values_list("email_skeleton", flat=True))
    for skeleton in sorted(taken, key=lambda s: skeletons[s].line):
        row = skeletons[skeleton]
        preview.errors.append(
            RosterError(
                row.line,
                "email",
                f"{row.email} looks like the address of an existing account: the two differ only in characters that "
                "look alike (such as ı and i, or а and a). Type the address with plain letters.",
            )
        )
    if taken:
        bad = {skeletons[s].key for s in taken}
        preview.rows = [row for row in preview.rows if row.key not in bad]


def _person_updates(row: RosterRow, user: User) -> dict[str, str]:
    """Name and time zone changes; only for people who have not taken their account yet."""
    if not awaits_first_sign_in(user):
        return {}
    updates = {}
    if user.first_name != row.first_name:
        updates["first_name"] = row.first_name
    if user.last_name != row.last_name:
        updates["last_name"] = row.last_name
    if row.time_zone and user.time_zone != row.time_zone:
        updates["time_zone"] = row.time_zone
    return updates


def _profile_wanted(row: RosterRow) -> dict[str, Any]:
    """The profile fields a row sets. Empty optional cells leave a field as it is."""
    if row.role == Membership.Role.RESIDENT:
        return {"career_stage": row.career_stage}
    wanted: dict[str, Any] = {"specialty": row.specialty}
    if row.academic_rank is not None:
        wanted["academic_rank"] = row.academic_rank
    if row.career_stage is not None:
        wanted["career_stage"] = row.career_stage
    return wanted


def _profile_updates(row: RosterRow, user: User) -> tuple[MenteeProfile | MentorProfile | None, dict[str, Any]]:
    """An existing user's profile for the row's role (None if they have none) and what the row changes."""
    name = "mentee_profile" if row.role == Membership.Role.RESIDENT else "mentor_profile"
    profile = getattr(user, name, None)  # select_related by _plan: no query
    wanted = _profile_wanted(row)
    if profile is None:
        return None, wanted
    return profile, {k: v for k, v in wanted.items() if getattr(profile, f"{k}_id") != v.pk}


def _changes(row: RosterRow, user: User) -> list[str]:
    labels = {"first_name": "first name", "last_name": "last name", "time_zone": "time zone"}
    changes = [f"{labels[k]} → {v}" for k, v in _person_updates(row, user).items()]
    profile, updates = _profile_updates(row, user)
    if profile is None:
        changes.append("new mentee profile" if row.role == Membership.Role.RESIDENT else "new mentor profile")
    else:
        labels = {"career_stage": "PGY", "specialty": "specialty", "academic_rank": "academic rank"}
        changes += [f"{labels[k]}: {getattr(profile, k) or '—'} → {v}" for k, v in updates.items()]
    return changes


# --- State changes.


def roster_import_preview(*, program: Program, uploaded_by: User, filename: str, data: bytes) -> RosterImport:
    """Keep an uploaded file for preview and confirmation.

    Raises ValidationError, storing nothing, when the file cannot be read at all
    (size, type, encoding, empty). Files with bad rows are kept: the preview lists them.
    """
    read = roster_read(filename=filename, data=data)
    preview = _parse_text(program=program, text=read.text)
    preview.notices[:0] = read.notices
    parsed = _parsed_to_json(preview)
    if not preview.errors:
        _plan(preview)
    return RosterImport.objects.create(
        program=program,
        uploaded_by=uploaded_by,
        filename=filename[-255:],
        content=read.text,
        parsed=parsed,
        row_count=preview.record_count,
        created_count=preview.create_count,
        updated_count=preview.update_count,
        unchanged_count=preview.unchanged_count,
        invited_count=preview.invite_count,
    )


def roster_import_apply(*, roster_import: RosterImport, actor: User, expected: str | None = None) -> RosterApplyResult:
    """Apply a previewed file: all of it or none of it, once. Nobody is e-mailed: inviting
    the people it adds is the roster's next, separate step (``roster_invite_all``).

    A file of more than BACKGROUND_ROWS rows is applied by a task (``roster_import_run``):
    this marks it applying and enqueues the task once it commits; the preview page then
    shows its progress. Raises ValidationError when the file has errors, was applied
    already, or is being applied (a double-submitted confirm form), and PermissionDenied
    when ``actor`` does not coordinate the program.

    ``expected`` is the plan the coordinator confirmed (``RosterPreview.apply_label``, the
    button's words). When given, the file is applied only if the plan is still that: had
    someone changed the roster since the preview, "Add 430" would otherwise do something
    else than it said (ValidationError, code "changed"; the page shows the new plan).
    """
    if not actor.has_perm("accounts.manage_roster", roster_import.program):
        raise PermissionDenied
    rows = len((roster_import.parsed or {}).get("rows", [])) or roster_import.row_count
    if rows > BACKGROUND_ROWS:
        # Checked before queueing, without the locks the task takes: a plan that changes in
        # the seconds before the task starts is applied as the task finds it.
        if expected is not None and roster_import.status in (RosterImport.Status.PREVIEWED, RosterImport.Status.FAILED):
            _check_expected(roster_import_plan(roster_import), expected)
        return _start_in_background(roster_import=roster_import, actor=actor)
    try:
        return _apply(roster_import=roster_import, actor=actor, expected=expected)
    except IntegrityError:
        # Someone imported the same people at the same moment; nothing was written.
        logger.warning("Roster import %s collided with a concurrent change", roster_import.pk, exc_info=True)
        raise ValidationError(CONFLICT_MESSAGE, code="conflict") from None


def _check_expected(preview: RosterPreview, expected: str) -> None:
    if not preview.errors and preview.apply_label != expected:
        raise ValidationError(
            "The roster changed since this preview, so the counts below are new. Check them, then confirm again.",
            code="changed",
        )


def _check_applicable(roster_import: RosterImport) -> None:
    if roster_import.status == RosterImport.Status.APPLIED:
        raise ValidationError("This file has already been imported.", code="applied")
    if roster_import.status == RosterImport.Status.APPLYING:
        raise ValidationError("This file is being imported already; its progress is shown here.", code="applying")
    parsed = roster_import.parsed or {}
    if parsed.get("errors"):
        count = len(parsed["errors"]) + parsed.get("errors_dropped", 0)
        raise ValidationError(
            f"The file has {count} problem(s); nothing was imported. Fix them and upload it again.", code="invalid"
        )


@transaction.atomic
def _start_in_background(*, roster_import: RosterImport, actor: User) -> RosterApplyResult:
    # Locked and checked: of two clicks on Apply, the second finds it applying and enqueues nothing.
    roster_import = locked(RosterImport.objects.select_related("program")).get(pk=roster_import.pk)
    _check_applicable(roster_import)
    roster_import.status = RosterImport.Status.APPLYING
    roster_import.progress = 0
    roster_import.error = ""
    roster_import.applied_at = timezone.now()  # while applying: when it started (the sweeper reads it)
    roster_import.save(update_fields=["status", "progress", "error", "applied_at"])
    # The row is the outbox: if the broker is down now, ``roster_imports_sweep`` enqueues it again.
    enqueue_on_commit(APPLY_TASK, roster_import.pk, actor.pk)
    logger.info("Roster import %s queued by user %s", roster_import.pk, actor.pk)
    return RosterApplyResult(roster_import=roster_import, in_background=True)


def roster_import_run(roster_import_id: int, actor_id: int) -> str:
    """The task's work: apply an import marked applying, and mark it applied or failed.

    Idempotent: a re-delivered task finds it applied (or failed) and does nothing; two
    deliveries at once are serialised by the account-creation lock, and the second's final
    conditional UPDATE finds the import applied and rolls its own work back."""
    roster_import = RosterImport.objects.select_related("program").filter(pk=roster_import_id).first()
    if roster_import is None or roster_import.status != RosterImport.Status.APPLYING:
        return "not_applying"
    actor = User.objects.filter(pk=actor_id, is_active=True).first()
    if actor is None or not actor.has_perm("accounts.manage_roster", roster_import.program):
        _fail(
            roster_import_id,
            "The person who started this import no longer coordinates the program; nothing was imported.",
        )
        return "failed"
    _record_progress(roster_import_id, 5)
    try:
        _apply(
            roster_import=roster_import, actor=actor, progress=lambda value: _record_progress(roster_import_id, value)
        )
    except ValidationError as exc:
        if exc.code == "applied":
            return "not_applying"
        _fail(roster_import_id, " ".join(exc.messages))
        return "failed"
    except IntegrityError:
        logger.warning("Roster import %s collided with a concurrent change", roster_import_id, exc_info=True)
        _fail(roster_import_id, CONFLICT_MESSAGE)
        return "failed"
    except Exception as exc:
        logger.exception("Roster import %s failed", roster_import_id)
        _fail(
            roster_import_id,
            f"The import stopped with an unexpected error ({type(exc).__name__}); nothing was imported. "
            "Try again; if it fails again, tell your MentorMatch administrator.",
        )
        return "failed"
    return "applied"


def _record_progress(roster_import_id: int, progress: int) -> None:
    """One short UPDATE the progress bar can read while the import's own transaction is open.

    On PostgreSQL it is committed on a connection of its own (the import's transaction does
    not touch its RosterImport row until its last statement, so this never waits on it; a
    lock timeout bounds it anyway). SQLite has one writer at a time: there the bar moves
    only outside the transaction. Best effort: a failure is logged, never raised."""
    try:
        if connection.vendor != "postgresql":
            if not connection.in_atomic_block:
                RosterImport.objects.filter(pk=roster_import_id, status=RosterImport.Status.APPLYING).update(
                    progress=progress
                )
            return
        side = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with side.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")
                table = side.ops.quote_name(RosterImport._meta.db_table)
                cursor.execute(
                    f"UPDATE {table} SET progress = %s WHERE id = %s AND status = %s",  # noqa: S608 (names are ours)
                    [progress, roster_import_id, RosterImport.Status.APPLYING],
                )
        finally:
            side.close()
    except DatabaseError:
        logger.warning("Roster import %s: could not record progress %s", roster_import_id, progress, exc_info=True)


def _fail(roster_import_id: int, error: str) -> None:
    """Mark an applying import failed with ``error``; nothing of it was written (one transaction)."""
    RosterImport.objects.filter(pk=roster_import_id, status=RosterImport.Status.APPLYING).update(
        status=RosterImport.Status.FAILED, error=error, progress=0, applied_at=None
    )
    logger.info("Roster import %s failed: %s", roster_import_id, error)


# An applying import whose task has not finished by then was lost (the broker was down at
# commit, or the worker died: the import's transaction rolled back) and is enqueued again;
# after SWEEP_GIVE_UP it is failed, so the coordinator can apply it again.
SWEEP_RETRY_AFTER = datetime.timedelta(minutes=10)
SWEEP_GIVE_UP = datetime.timedelta(hours=1)


def roster_imports_sweep(*, now: datetime.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    stuck = RosterImport.objects.filter(status=RosterImport.Status.APPLYING, applied_at__lte=now - SWEEP_RETRY_AFTER)
    given_up = 0
    for pk in stuck.filter(applied_at__lte=now - SWEEP_GIVE_UP).values_list("pk", flat=True):
        _fail(pk, "The import did not finish; nothing was imported. Apply it again.")
        given_up += 1
    requeued = 0
    for pk, actor_id in stuck.filter(applied_at__gt=now - SWEEP_GIVE_UP).values_list("pk", "uploaded_by_id"):
        # Who clicked Apply is not kept; the uploader stands in (the task checks they still coordinate).
        requeued += enqueue(APPLY_TASK, pk, actor_id)
    return {"requeued": requeued, "failed": given_up}


@transaction.atomic
def _apply(
    *,
    roster_import: RosterImport,
    actor: User,
    progress: Callable[[int], None] | None = None,
    expected: str | None = None,
) -> RosterApplyResult:
    in_background = progress is not None
    if in_background:
        # Not locked until the end (``_record_progress`` writes the row from another connection
        # meanwhile); two deliveries are serialised by lock_account_creation below.
        roster_import = RosterImport.objects.select_related("program").get(pk=roster_import.pk)
        if roster_import.status != RosterImport.Status.APPLYING:
            raise ValidationError("This file has already been imported.", code="applied")
    else:
        roster_import = locked(RosterImport.objects.select_related("program")).get(pk=roster_import.pk)
        _check_applicable(roster_import)
    report = progress or (lambda value: None)
    program = roster_import.program
    lock_account_creation()
    preview = roster_import_plan(roster_import)  # against the database as it is now, under the locks
    if preview.errors:
        raise ValidationError(
            f"The file has {preview.error_count} problem(s); nothing was imported. Fix them and upload it again.",
            code="invalid",
        )
    if expected is not None:
        _check_expected(preview, expected)
    report(30)

    # People: one row per person. Parsing guarantees both rows of a person agree.
    people: dict[str, RosterRow] = {}
    for row in preview.rows:
        people.setdefault(row.key, row)
    users = dict(preview.users)
    new_users = [
        User(
            email=row.email,
            **User.identity_fields(row.email),
            first_name=row.first_name,
            last_name=row.last_name,
            time_zone=row.time_zone or program.time_zone,
            password=make_password(None),  # unusable until they accept the invitation
        )
        for key, row in people.items()
        if key not in users
    ]
    User.objects.bulk_create(new_users, batch_size=500)
    if any(u.pk is None for u in new_users):  # databases that don't return ids from bulk inserts
        for chunk in _chunks([u.email_key for u in new_users]):
            users.update({u.email_key: u for u in User.objects.filter(email_key__in=chunk)})
    else:
        users.update({u.email_key: u for u in new_users})
    owned = preview.owned | {u.pk for u in new_users}

    changed_users = []
    for key, row in people.items():
        if key in preview.users and users[key].pk in owned:
            updates = _person_updates(row, users[key])
            if updates:
                for name, value in updates.items():
                    setattr(users[key], name, value)
                changed_users.append(users[key])
    User.objects.bulk_update(changed_users, ["first_name", "last_name", "time_zone"], batch_size=500)
    report(50)

    Membership.objects.bulk_create(
        [
            Membership(user=users[row.key], program=program, role=row.role)
            for row in preview.rows
            if row.action == "create"
        ],
        batch_size=500,
    )
    report(65)
    _apply_profiles([row for row in preview.rows if users[row.key].pk in owned], preview, users)
    report(85)

    # Existing accounts are asked to join on the invite step, not now: the file keeps their rows.
    to_ask = preview.invite_count
    to_invite = sum(
        1
        for key in people
        if users[key].pk in owned and awaits_first_sign_in(users[key]) and users[key].invited_at is None
    )
    parsed = dict(roster_import.parsed)
    parsed["ask_to_join"] = "pending" if to_ask else "none"
    fields: dict[str, Any] = {
        "status": RosterImport.Status.APPLIED,
        "applied_at": timezone.now(),
        "row_count": len(preview.rows),
        "created_count": preview.create_count,
        "updated_count": preview.update_count,
        "unchanged_count": preview.unchanged_count,
        "invited_count": to_ask,
        "progress": 100,
        "error": "",
        "parsed": parsed,
    }
    expected = RosterImport.Status.APPLYING if in_background else roster_import.status
    # Conditional: a second delivery of the task that got here finds it applied and rolls back.
    if not RosterImport.objects.filter(pk=roster_import.pk, status=expected).update(**fields):
        raise ValidationError("This file has already been imported.", code="applied")
    for field_name, field_value in fields.items():
        setattr(roster_import, field_name, field_value)
    # Counts only: the people themselves are on the roster, and in the file kept with the import.
    audit_log(
        actor=actor,
        action="roster.import",
        obj=roster_import,
        program=program,
        after={
            "file": roster_import.filename,
            "rows": roster_import.row_count,
            "people": len(people),
            "created": roster_import.created_count,
            "updated": roster_import.updated_count,
            "unchanged": roster_import.unchanged_count,
            "to_invite": to_invite,
            "to_ask_to_join": to_ask,
        },
    )
    logger.info(
        "Roster import %s into %s by user %s: %s created, %s updated, %s unchanged; %s to invite, %s to ask",
        roster_import.pk,
        program.slug,
        actor.pk,
        roster_import.created_count,
        roster_import.updated_count,
        roster_import.unchanged_count,
        to_invite,
        to_ask,
    )
    return RosterApplyResult(roster_import=roster_import, to_invite=to_invite, to_ask=to_ask)


def _apply_profiles(rows: list[RosterRow], preview: RosterPreview, users: dict[str, User]) -> None:
    """Create or update the profiles of ``rows``: new people and the program's own (see ``_plan``)."""
    now = timezone.now()
    creates: dict[type[MenteeProfile | MentorProfile], list[Any]] = {MenteeProfile: [], MentorProfile: []}
    # profile → names of changed fields
    updates: dict[type[MenteeProfile | MentorProfile], dict[Any, set[str]]] = {MenteeProfile: {}, MentorProfile: {}}
    for row in rows:
        model = MenteeProfile if row.role == Membership.Role.RESIDENT else MentorProfile
        if row.key in preview.users:
            profile, changed = _profile_updates(row, users[row.key])
        else:
            profile, changed = None, _profile_wanted(row)  # a new person has no profile yet
        if profile is None:
            creates[model].append(model(user=users[row.key], **changed))
        elif changed:
            for name, value in changed.items():
                setattr(profile, name, value)
            profile.updated_at = now  # bulk_update skips auto_now
            updates[model].setdefault(profile, set()).update(changed)
    for model in (MenteeProfile, MentorProfile):
        model.objects.bulk_create(creates[model], batch_size=500)
        if updates[model]:
            fields = sorted(set().union(*updates[model].values()) | {"updated_at"})
            model.objects.bulk_update(list(updates[model]), fields, batch_size=500)


@transaction.atomic
def roster_member_reinvite(*, membership: Membership, actor: User) -> bool:
    """Send a roster member a fresh invitation link. False (nothing sent) if they have taken their
    account: set a password or signed in (by SSO too)."""
    if not actor.has_perm("accounts.manage_roster", membership.program):
        raise PermissionDenied
    invited = awaits_first_sign_in(membership.user) and user_invite(user=membership.user, invited_by=actor)
    if invited:
        audit_log(
            actor=actor,
            action="roster.invite",
            obj=membership,
            program=membership.program,
            after={"user": membership.user_id},
        )
    return invited


# --- Inviting: a separate, explicit step after an import (which e-mails nobody).


def _roster_users(program: Program) -> QuerySet[User]:
    """The program's residents and faculty as users, each once (a subquery, not a join, so
    the rows can be locked: PostgreSQL refuses FOR UPDATE with DISTINCT)."""
    members = Membership.objects.filter(program=program).exclude(role=Membership.Role.COORDINATOR)
    return User.objects.filter(pk__in=members.values("user_id"), is_active=True)


def _never_invited_q() -> Q:
    return roster_status_q("not_invited")


def _reinvitable_q(now: datetime.datetime) -> Q:
    return awaiting_first_sign_in_q() & Q(invited_at__lte=now - REINVITE_AFTER)


@dataclass(frozen=True)
class RosterInvitations:
    """What the roster's invite step would do now."""

    never_invited: int  # members never sent an invitation
    to_ask: int  # existing accounts imported files name, not yet asked to join
    reinvitable: int  # invited more than REINVITE_AFTER ago, never signed in
    invited_recently: int  # invited within REINVITE_AFTER, not signed in yet: not re-invited now

    @property
    def to_invite(self) -> int:
        return self.never_invited + self.to_ask


def roster_invitations(program: Program, *, now: datetime.datetime | None = None) -> RosterInvitations:
    """Counts for the roster's invite buttons: one query, and one more (plus a plan of
    their rows) only when an applied file names existing accounts not yet asked."""
    now = now or timezone.now()
    counts = _roster_users(program).aggregate(
        never=Count("pk", filter=_never_invited_q()),
        again=Count("pk", filter=_reinvitable_q(now)),
        recent=Count("pk", filter=awaiting_first_sign_in_q() & Q(invited_at__gt=now - REINVITE_AFTER)),
    )
    asks, _ = _pending_asks(program)
    return RosterInvitations(
        never_invited=counts["never"], to_ask=len(asks), reinvitable=counts["again"], invited_recently=counts["recent"]
    )


def _pending_asks(program: Program) -> tuple[list[tuple[RosterRow, User]], list[RosterImport]]:
    """Rows of applied files naming existing accounts that are still to be asked to join,
    and those files. A later file's row for the same person and role wins."""
    imports = RosterImport.objects.filter(
        program=program, status=RosterImport.Status.APPLIED, parsed__ask_to_join="pending"
    ).order_by("applied_at", "pk")
    found = list(imports)
    if not found:
        return [], []
    merged: dict[tuple[str, str], list[Any]] = {}
    for roster_import in found:
        for row in roster_import.parsed.get("rows", []):
            merged[(canonical_email(row[1]), row[4])] = row
    preview = _parsed_from_json(
        program, {"errors": [], "errors_dropped": 0, "record_count": len(merged), "rows": list(merged.values())}
    )
    _plan(preview)
    return [(row, preview.users[row.key]) for row in preview.rows if row.action == "invite"], found


@dataclass(frozen=True)
class RosterInviteResult:
    invited: int  # sign-up invitations e-mailed
    asked: int  # existing accounts asked to join


@transaction.atomic
def roster_invite_all(*, program: Program, actor: User) -> RosterInviteResult:
    """Invite everyone on the roster who has never been invited, and ask the existing
    accounts imported files named to join. Idempotent: a second click (or two at once: the
    users' rows are locked, and the second finds them invited) sends nothing more."""
    if not actor.has_perm("accounts.manage_roster", program):
        raise PermissionDenied
    users = list(locked(_roster_users(program).filter(_never_invited_q()).order_by("pk")))
    # The bulk path (one UPDATE, one e-mail task per batch): two hundred at once answer in a second.
    invited = len(users_reinvite(user_ids=[u.pk for u in users], invited_by=actor, not_since=timezone.now()))
    # Not locked (RosterImport is never held with User, core/locking.py): two clicks at once
    # may both find an ask pending, and the pending invitation's unique constraint keeps one.
    asks, imports = _pending_asks(program)
    asked = 0
    for row, user in asks:
        invitation = program_invitation_create(
            program=program,
            user=user,
            role=row.role,
            invited_by=actor,
            email=row.email,
            first_name=row.first_name,
            last_name=row.last_name,
            career_stage=row.career_stage,
            specialty=row.specialty,
            academic_rank=row.academic_rank,
        )
        asked += invitation is not None
    for roster_import in imports:
        roster_import.parsed = {**roster_import.parsed, "ask_to_join": "sent"}
        roster_import.save(update_fields=["parsed"])
    if invited or asked:
        audit_log(
            actor=actor,
            action="roster.invite_all",
            obj=program,
            program=program,
            after={"invited": invited, "asked_to_join": asked},
        )
    logger.info("Roster of %s: user %s invited %s, asked %s to join", program.slug, actor.pk, invited, asked)
    return RosterInviteResult(invited=invited, asked=asked)


@transaction.atomic
def roster_reinvite_waiting(*, program: Program, actor: User, now: datetime.datetime | None = None) -> int:
    """Send a fresh link to everyone invited more than REINVITE_AFTER ago who has still not
    signed in; those invited more recently are skipped, so repeating it sends nothing more."""
    if not actor.has_perm("accounts.manage_roster", program):
        raise PermissionDenied
    now = now or timezone.now()
    users = list(locked(_roster_users(program).filter(_reinvitable_q(now)).order_by("pk")))
    sent = len(users_reinvite(user_ids=[u.pk for u in users], invited_by=actor, not_since=now - REINVITE_AFTER))
    if sent:
        audit_log(actor=actor, action="roster.reinvite_all", obj=program, program=program, after={"invited": sent})
    logger.info("Roster of %s: user %s re-invited %s", program.slug, actor.pk, sent)
    return sent


# --- Export.


def invitation_status(user: User) -> str:
    """``selectors.roster_status`` in the export's words ("not invited")."""
    return roster_status(user).replace("_", " ")


def roster_export_rows(memberships: Iterable[Membership]) -> Iterator[list[object]]:
    """The export's header and rows, escaped for spreadsheets, dates in ISO 8601."""
    yield list(EXPORT_COLUMNS)
    for m in memberships:
        user = m.user
        if m.role == Membership.Role.RESIDENT:
            profile = getattr(user, "mentee_profile", None)
            stage, specialty, rank = (profile.career_stage if profile else None), None, None
        else:
            profile = getattr(user, "mentor_profile", None)
            stage = profile.career_stage if profile else None
            specialty = profile.specialty if profile else None
            rank = profile.academic_rank if profile else None
        yield [
            csv_safe(v)
            for v in (
                user.email,
                user.first_name,
                user.last_name,
                m.role,
                stage.code if stage else "",
                specialty.name if specialty else "",
                rank.name if rank else "",
                user.time_zone,
                invitation_status(user),
                timezone.localdate(user.invited_at).isoformat() if user.invited_at else "",
                timezone.localdate(user.last_seen).isoformat() if user.last_seen else "",
            )
        ]


def roster_template_rows() -> Iterator[list[str]]:
    yield list(COLUMNS)
    yield from TEMPLATE_ROWS
