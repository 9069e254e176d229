"""State changes for people and programs. Nothing else writes these rows."""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib import import_module
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from core.forms import max_length_of
from core.locking import locked
from core.outbox import enqueue_on_commit, task_named

from .models import ApiToken, MenteeProfile, MentorProfile, User

# Enqueued by name: services never import the tasks that call them.
SEND_INVITATION = "accounts.tasks.send_invitation"

_Profile = TypeVar("_Profile", MenteeProfile, MentorProfile)


def invitation_url(user: User) -> str:
    """A link to set a first password. It is a password-reset token, so it stops
    working once a password is set, and after PASSWORD_RESET_TIMEOUT."""
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SITE_URL + reverse("accounts:invitation", kwargs={"uidb64": uidb64, "token": token})


def user_invite(*, user: User, invited_by: User | None = None) -> bool:
    """Send ``user`` an invitation, once their row is committed.

    Returns False (and sends nothing) for someone who already set a password:
    they sign in or reset their password instead.
    """
    if user.has_usable_password():
        return False
    user.invited_at = timezone.now()
    user.save(update_fields=["invited_at"])

    # invited_at newer than invitation_sent_at marks it unsent: if the broker is down
    # at commit, ``invitations_send_unsent`` enqueues it again.
    enqueue_on_commit(SEND_INVITATION, user.pk, invited_by.pk if invited_by else None)
    return True


# The sweeper leaves the on-commit task this long before it enqueues an invitation again.
INVITATION_SWEEP_GRACE = timedelta(minutes=10)
# Older unsent invitations are left alone: the coordinator has resent them or moved on.
INVITATION_SWEEP_WINDOW = timedelta(days=7)


# A sender's hold on an invitation while it sends: longer than a task may run (config/celery.py),
# so only a sender that died loses it, and the sweeper sends the invitation again.
INVITATION_LEASE = timedelta(minutes=10)


def _unsent() -> Q:
    return Q(invitation_sent_at__isnull=True) | Q(invitation_sent_at__lt=F("invited_at"))


def _not_held(now: datetime) -> Q:
    return Q(invitation_claimed_at__isnull=True) | Q(invitation_claimed_at__lte=now - INVITATION_LEASE)


def invitations_unsent(*, now: datetime | None = None) -> QuerySet[User]:
    """Invitations recorded (``invited_at``), not sent and not being sent (no live lease),
    to people who have still not set a password."""
    now = now or timezone.now()
    return User.objects.filter(
        is_active=True, invited_at__isnull=False, password__startswith=UNUSABLE_PASSWORD_PREFIX
    ).filter(_unsent(), _not_held(now))


@dataclass(frozen=True)
class InvitationClaim:
    user_id: int
    at: datetime


def invitation_claim(*, user_id: int, now: datetime | None = None) -> InvitationClaim | None:
    """Lease ``user_id``'s unsent invitation before sending it (a conditional UPDATE of
    ``invitation_claimed_at``), so a re-delivered task or the sweeper never sends it while
    another sender holds it; None if there is nothing to claim. It is marked sent only once
    the send succeeded (``invitation_mark_sent``); a failed send gives the lease back
    (``invitation_release``), and a sender that died loses it after ``INVITATION_LEASE``.
    A user never invited through ``user_invite`` (invited_at empty) is sent to once."""
    now = now or timezone.now()
    if User.objects.filter(_unsent(), _not_held(now), pk=user_id).update(invitation_claimed_at=now):
        return InvitationClaim(user_id=user_id, at=now)
    return None


def invitation_mark_sent(*, claim: InvitationClaim) -> None:
    User.objects.filter(pk=claim.user_id, invitation_claimed_at=claim.at).update(
        invitation_sent_at=timezone.now(), invitation_claimed_at=None
    )


def invitation_release(*, claim: InvitationClaim) -> None:
    """The send failed: the invitation is free again (the task retries, the sweeper sees it),
    unless a newer claim has replaced this one."""
    User.objects.filter(pk=claim.user_id, invitation_claimed_at=claim.at).update(invitation_claimed_at=None)


def invitations_claim_many(*, user_ids: list[int], now: datetime) -> list[int]:
    """``invitation_claim`` for a batch in one UPDATE (``accounts.tasks.send_invitations``):
    the ids leased at ``now``, among those still unsent, not held, active and without a
    password. Each is then marked sent or given back with ``now`` as its claim."""
    User.objects.filter(
        _unsent(), _not_held(now), pk__in=user_ids, is_active=True, password__startswith=UNUSABLE_PASSWORD_PREFIX
    ).update(invitation_claimed_at=now)
    return list(User.objects.filter(pk__in=user_ids, invitation_claimed_at=now).values_list("pk", flat=True))


def invitations_mark_sent_many(*, user_ids: list[int], claimed_at: datetime) -> None:
    User.objects.filter(pk__in=user_ids, invitation_claimed_at=claimed_at).update(
        invitation_sent_at=timezone.now(), invitation_claimed_at=None
    )


def invitations_release_many(*, user_ids: list[int], claimed_at: datetime) -> None:
    User.objects.filter(pk__in=user_ids, invitation_claimed_at=claimed_at).update(invitation_claimed_at=None)


def invitations_send_unsent(*, now: datetime | None = None) -> int:
    """Periodic sweeper: enqueue again the invitations still unsent ``INVITATION_SWEEP_GRACE``
    after they were made (the broker was down at commit). The task's claim makes a
    second enqueue harmless."""
    now = now or timezone.now()
    recent = invitations_unsent(now=now).filter(
        invited_at__gt=now - INVITATION_SWEEP_WINDOW, invited_at__lte=now - INVITATION_SWEEP_GRACE
    )
    ids = list(recent.values_list("pk", flat=True))
    for pk in ids:
        task_named(SEND_INVITATION).delay(pk)
    return len(ids)


# Profile fields that hold many values; the rest are plain attributes.
_M2M_FIELDS = {
    "MenteeProfile": {"goals", "interests", "subspecialty_interests", "languages", "meeting_formats"},
    "MentorProfile": {"expertise", "interests", "languages", "meeting_formats"},
}


def profile_apply(profile: _Profile, fields: dict[str, Any]) -> _Profile:
    """Set ``fields`` on ``profile`` (locked by ``profile_locked``), validate and save it.

    The building block of the profile updates: a mentee's here, a mentor's in
    ``matching.services.profiles``, which also resolves the requests a mentor stops taking.
    """
    m2m = {name: fields.pop(name) for name in list(fields) if name in _M2M_FIELDS[type(profile).__name__]}
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.full_clean(exclude=["user"])
    profile.save()
    for name, values in m2m.items():
        getattr(profile, name).set(values)
    return profile


def profile_locked(model: type[_Profile], user: User) -> _Profile:
    """``user``'s profile row, created if missing, locked for this transaction.

    get_or_create survives two first saves racing (the loser reads the winner's row);
    the lock then serialises the updates. A failed validation rolls the creation back.
    """
    profile, _ = model.objects.get_or_create(user=user)
    return locked(model.objects).get(pk=profile.pk)


@transaction.atomic
def mentee_profile_update(*, user: User, **fields: Any) -> MenteeProfile:
    """Create or update ``user``'s mentee profile. Raises ValidationError on bad data."""
    return profile_apply(profile_locked(MenteeProfile, user), fields)


ACCOUNT_FIELDS = {"first_name", "last_name", "time_zone"}

# What a new time zone does to the weekly availability (windows are wall-clock times of the
# person's own zone): keep the local times (9 am stays 9 am, now in the new zone), or keep
# the moments (the same hours of the week, read on the new zone's clock).
KEEP_LOCAL_TIMES = "local_times"
KEEP_MOMENTS = "moments"


@transaction.atomic
def user_update(*, user: User, keep_availability: str = KEEP_LOCAL_TIMES, **fields: Any) -> User:
    """Change a person's own account fields (name, time zone); nothing else. A new time zone
    with ``keep_availability=KEEP_MOMENTS`` moves the weekly windows onto the new zone's clock."""
    unknown = set(fields) - ACCOUNT_FIELDS
    if unknown:
        raise ValueError(f"user_update cannot change {sorted(unknown)}")
    if keep_availability not in (KEEP_LOCAL_TIMES, KEEP_MOMENTS):
        raise ValueError(f"keep_availability must be {KEEP_LOCAL_TIMES!r} or {KEEP_MOMENTS!r}")
    account = locked(User.objects).get(pk=user.pk)
    old_zone = account.time_zone
    for name, value in fields.items():
        setattr(account, name, value)
    account.full_clean(exclude=[f.name for f in User._meta.fields if f.name not in fields])
    # Only the fields given, so a concurrent write to another column (last_seen) survives.
    account.save(update_fields=list(fields))
    if keep_availability == KEEP_MOMENTS and account.time_zone != old_zone:
        _availability_move_zone(user=account, old_zone=old_zone, new_zone=account.time_zone)
    for name, value in fields.items():
        setattr(user, name, value)
    return account


def _availability_move_zone(*, user: User, old_zone: str, new_zone: str, today: date | None = None) -> None:
    """Rewrite ``user``'s weekly windows so each covers the same moments on ``new_zone``'s
    clock, taken on the window's next date (the offsets in force then). A window that now
    runs past midnight is split in two (the first part ends at 23:59)."""
    from .models import AvailabilityWindow

    old_tz, new_tz = ZoneInfo(old_zone), ZoneInfo(new_zone)
    today = today or timezone.localdate(timezone=old_tz)
    moved: list[tuple[int, time, time]] = []
    for window in AvailabilityWindow.objects.filter(user=user):
        day = today + timedelta(days=(window.weekday - today.weekday()) % 7)
        start = datetime.combine(day, window.start, tzinfo=old_tz).astimezone(new_tz)
        end = datetime.combine(day, window.end, tzinfo=old_tz).astimezone(new_tz)
        if start.date() == end.date() or end.time() == time(0):
            moved.append((start.weekday(), start.time(), end.time() if end.time() != time(0) else time(23, 59)))
        else:
            moved.append((start.weekday(), start.time(), time(23, 59)))
            moved.append((end.weekday(), time(0), end.time()))
    availability_replace(user=user, windows=[w for w in moved if w[2] > w[1]])


@transaction.atomic
def availability_replace(*, user: User, windows: list[tuple[int, time, time]]) -> list[list[Any]]:
    """Replace ``user``'s weekly windows. Overlapping windows on a day are merged."""
    from .models import AvailabilityWindow

    merged: list[list] = []
    for weekday, start, end in sorted(windows):
        if end <= start:
            raise ValidationError("Each window must end after it starts.")
        if merged and merged[-1][0] == weekday and start <= merged[-1][2]:
            merged[-1][2] = max(merged[-1][2], end)
        else:
            merged.append([weekday, start, end])
    AvailabilityWindow.objects.filter(user=user).delete()
    AvailabilityWindow.objects.bulk_create(
        AvailabilityWindow(user=user, weekday=w, start=s, end=e) for w, s, e in merged
    )
    return merged


@transaction.atomic
def api_token_issue(*, user: User, name: str = "", now: datetime | None = None) -> tuple[ApiToken, str]:
    """A new API token for ``user``, valid for API_TOKEN_TTL seconds: the row and its secret.

    ``name`` says what the token is for ("CI export script"); it may be empty, and a name
    longer than the column is refused rather than cut. The secret exists only in the return
    value (the row keeps its hash), so it is shown once and cannot be shown again; each
    sign-in gets a token of its own. The user's expired tokens are cleared here, so the
    table stays as small as the live ones.
    """
    name = name.strip()
    limit = max_length_of(ApiToken, "name")
    if len(name) > limit:
        raise ValidationError({"name": f"Keep the name to {limit} characters or fewer (it has {len(name)})."})
    now = now or timezone.now()
    ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_hash=ApiToken.hash_secret(secret),
        prefix=secret[: ApiToken.PREFIX_LENGTH],
        password_fingerprint=ApiToken.password_fingerprint_of(user),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.API_TOKEN_TTL),
    )
    return token, secret


def api_token_revoke(*, user: User, token: ApiToken | None = None) -> int:
    """Revoke ``token`` (signing out of the API, or its Revoke button), or with no token every
    token of ``user``: signing out of the site signs out everywhere. (A new password ends them
    in ``User.save``.) Only ``user``'s own tokens are touched, and revoking one already gone
    is harmless. Returns how many were revoked: 0 when there was nothing left to revoke."""
    tokens = ApiToken.objects.filter(user=user)
    if token is not None:
        tokens = tokens.filter(pk=token.pk)
    revoked, _ = tokens.delete()
    return revoked


def second_factor_verify(*, user: User, code: str) -> bool:
    """Spend a code of ``user``'s second factor, as allauth's own sign-in step does: a current
    authenticator-app code (one already used in its time step is refused, so a code seen over
    a shoulder cannot be replayed) or an unused recovery code, which is then used up. A
    security key cannot be checked from a typed code, so it is not tried here.

    Returns whether the code was good; the authenticator that took it records the use, for
    the account page's "last used"."""
    code = code.strip()
    if not code:
        return False
    candidates = Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES]
    )
    # The app first: trying it spends nothing, while a recovery code, once matched, is gone.
    for authenticator in sorted(candidates, key=lambda a: a.type != Authenticator.Type.TOTP):
        if authenticator.wrap().validate_code(code):
            authenticator.record_usage()
            return True
    return False


@dataclass(frozen=True)
class SignedOut:
    sessions: int
    tokens: int


@transaction.atomic
def sign_out_everywhere(*, user: User, keep_session_key: str | None = None) -> SignedOut:
    """End every session of ``user`` (but ``keep_session_key``'s, if given) and revoke every
    API token: for a lost phone or a shared computer left signed in.

    The sessions are allauth's list (``UserSession``, written at each sign-in through allauth)
    and, with the database session engines, every other unexpired session signed in as the
    user: an admin sign-in, an invitation link, a session older than the list. Those are found
    by decoding each unexpired session, a pass over the session table that is fine at this
    site's size. (With a cache-only or cookie session engine they cannot be listed: only
    allauth's list is ended.) The caller ends the request's own session with ``logout`` when
    it is not kept, so the response does not save it again."""
    tokens = api_token_revoke(user=user)
    ended = set()
    for user_session in UserSession.objects.filter(user=user).exclude(session_key=keep_session_key or ""):
        user_session.end()
        ended.add(user_session.session_key)
    if settings.SESSION_ENGINE in _DATABASE_SESSION_ENGINES:
        store = import_module(settings.SESSION_ENGINE).SessionStore
        unexpired = Session.objects.filter(expire_date__gt=timezone.now()).exclude(session_key__in=ended)
        for session in unexpired.only("session_key", "session_data").iterator():
            if session.session_key == keep_session_key:
                continue
            if str(session.get_decoded().get(SESSION_KEY)) == str(user.pk):
                store().delete(session.session_key)
                ended.add(session.session_key)
    return SignedOut(sessions=len(ended), tokens=tokens)


_DATABASE_SESSION_ENGINES = ("django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db")
