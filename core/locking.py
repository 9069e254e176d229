"""Row locks, taken in one global order, and the one switch race tests' control cases flip.

Every service that changes contested state locks its rows here (``locked``) rather than
calling ``select_for_update`` itself, so the order below is the only one in the code. Two
transactions that each hold one lock and wait for the other's deadlock; transactions that
take their locks in one order cannot. So a transaction that locks more than one of these
takes them from the top down, and rows of one model by key ascending (a match run's
publish locks its mentors' profiles by user id). Re-locking a row it already holds is free.

``LOCK_ORDER`` (model labels, and ``ACCOUNT_CREATION`` for the advisory lock):

0. ``accounts.Institution``: an institution above its programs. Its administrators'
   services (``accounts.institutions``: creating and editing a program, naming or removing a
   coordinator or an administrator) lock it first, so they run one at a time per
   institution: a double submit finds the first one's program or role, and the "keeps at
   least one" rules count people nobody else is changing. Then ``ACCOUNT_CREATION`` when
   they invite someone new, then the people (``accounts.User``, by key). The roles
   themselves (``accounts.InstitutionRole``, coordinators' ``Membership`` rows) are not
   locked: the institution's lock stands for them.
1. ``matching.MatchRun``: a run's rankings, decisions, publish, second round, cancel.
2. ``matching.Mentorship``: the existing pairing an action is about (ending, reassigning,
   the plan, meetings, nudges).
3. Its parts: ``matching.Agreement``, ``matching.ActionItem``, ``matching.Introduction``,
   ``matching.Meeting``.
4. ``accounts.User``: a resident's own row (their requests queue there: the pending cap)
   and a person's account fields.
5. ``accounts.MentorProfile`` (capacity and "accepting", which every new mentorship and
   request of that mentor checks) and ``accounts.MenteeProfile``.
6. ``matching.MentorshipRequest``.

Apart from these, and never held with them: ``accounts.ProgramInvitation`` (with its
program row), and ``accounts.RosterImport`` then ``ACCOUNT_CREATION`` (new accounts).

Modelled on pretix's ``base/services/locking.py``. This module is generic: it names
models by label and imports none, so ``accounts`` and ``matching`` both use it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.db import connection
from django.db.models import Manager, Model, QuerySet

ACCOUNT_CREATION = "account creation"

LOCK_ORDER: tuple[str, ...] = (
    "accounts.Institution",
    "matching.MatchRun",
    "matching.Mentorship",
    "matching.Agreement",
    "matching.ActionItem",
    "matching.Introduction",
    "matching.Meeting",
    "accounts.User",
    "accounts.MentorProfile",
    "accounts.MenteeProfile",
    "matching.MentorshipRequest",
    # Not held with the ones above.
    "accounts.ProgramInvitation",
    "accounts.RosterImport",
    ACCOUNT_CREATION,
)

# An arbitrary constant: the PostgreSQL advisory lock that new accounts are created under.
_ACCOUNT_CREATION_KEY = 0x6D6D_0001

# What the switch has turned off. A plain module global, not a context variable: the race
# tests run their calls in threads, which must all see the switch.
_disabled: frozenset[str] = frozenset()

_M = TypeVar("_M", bound=Model)


def _label(what: "type[Model] | str") -> str:
    label = what if isinstance(what, str) else what._meta.label
    if label not in LOCK_ORDER:
        raise ValueError(f"{label} has no place in core.locking.LOCK_ORDER: give it one before locking it.")
    return label


@contextmanager
def disabled(*what: "type[Model] | str") -> Iterator[None]:
    """For race tests' control cases only: inside the block, the locks of the given models
    (or ``ACCOUNT_CREATION``; every lock when none are given) are not taken, and nothing else
    changes. The rows are still read, so the control shows the race the lock prevents."""
    global _disabled
    before = _disabled
    _disabled = before | {_label(w) for w in what} if what else frozenset(LOCK_ORDER)
    try:
        yield
    finally:
        _disabled = before


def is_enabled(what: "type[Model] | str") -> bool:
    return _label(what) not in _disabled


def locked(
    queryset: QuerySet[_M] | Manager[_M],
    *,
    of: tuple[str, ...] = ("self",),
    skip_locked: bool = False,
    no_key: bool = False,
) -> QuerySet[_M]:
    """``queryset`` with its rows locked (``SELECT … FOR UPDATE``) once evaluated, until the
    transaction ends. ``of=("self",)`` locks the model's own rows only, not the rows
    ``select_related`` joins in (PostgreSQL would lock those too, and queue unrelated work
    on them). ``skip_locked``: leave out rows another transaction holds, for tidying up what
    that transaction is already acting on (it never waits, so it cannot deadlock). ``no_key``
    (``FOR NO KEY UPDATE``): a lock that still queues the other lockers of the row but not
    the inserts that merely point at it (a foreign key's check takes ``KEY SHARE``): for
    a row held while lower locks are waited for, such as a person's row that other people's
    audit entries and notifications name. Its model must have a place in ``LOCK_ORDER``."""
    if isinstance(queryset, Manager):
        queryset = queryset.all()
    if not is_enabled(queryset.model):
        return queryset
    return queryset.select_for_update(of=of, skip_locked=skip_locked, no_key=no_key)


def lock_account_creation() -> None:
    """Serialise creating accounts until this transaction ends, so two imports (or an import
    and the admin) cannot each add one of a look-alike pair after both checked the other was
    absent. The unique key already stops exact duplicates; this stops look-alikes. SQLite
    serialises writers anyway."""
    if connection.vendor == "postgresql" and is_enabled(ACCOUNT_CREATION):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ACCOUNT_CREATION_KEY])
