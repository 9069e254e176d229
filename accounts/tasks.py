import logging

from celery import shared_task
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from core.email import send_templated_email
from core.outbox import EMAIL_RETRIES, EMAIL_SEND_ERRORS, email_retry, enqueue

from .busy import busy_calendars_refresh_due
from .models import ProgramInvitation, User
from .roster import roster_import_run, roster_imports_sweep
from .services import (
    invitation_claim,
    invitation_mark_sent,
    invitation_release,
    invitation_url,
    invitations_claim_many,
    invitations_mark_sent_many,
    invitations_release_many,
    invitations_send_unsent,
)

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=EMAIL_RETRIES)
def send_invitation(self, user_id: int, invited_by_id: int | None = None) -> bool:
    user = _with_programs(User.objects.filter(pk=user_id, is_active=True)).first()
    # Someone who already set a password needs no invitation (e.g. a re-delivered task).
    if user is None or user.has_usable_password():
        return False
    # Once: a re-delivered task or the sweeper's copy finds it claimed.
    claim = invitation_claim(user_id=user_id)
    if claim is None:
        return False
    try:
        invited_by = User.objects.filter(pk=invited_by_id).first() if invited_by_id else None
        _email_invitation(user, invited_by)
    except Exception as exc:
        # Not sent, so not marked sent: retried here, then left to the sweeper.
        invitation_release(claim=claim)
        if not isinstance(exc, EMAIL_SEND_ERRORS):
            raise
        error = type(exc).__name__
    else:
        invitation_mark_sent(claim=claim)
        return True
    email_retry(self, error=error, what=f"invitation {user_id}")


def _with_programs(users: QuerySet[User]) -> QuerySet[User]:
    """With what an invitation names: the programs they belong to, and those asking them to
    join (an ask sends the sign-up invitation again to someone who has not signed in yet:
    the program asking must be in it). Two queries whatever the number of users."""
    asks = ProgramInvitation.objects.filter(status=ProgramInvitation.Status.PENDING).select_related("program")
    return users.prefetch_related(
        "memberships__program", Prefetch("program_invitations", queryset=asks, to_attr="pending_asks")
    )


def _email_invitation(user: User, invited_by: User | None) -> None:
    """``user`` comes from ``_with_programs``."""
    member_of = {m.program.name for m in user.memberships.all()}
    asking = sorted({ask.program.name for ask in user.pending_asks} - member_of)
    send_templated_email(
        template="accounts/email/invitation",
        to=[user.email],
        context={
            "user": user,
            "invited_by": invited_by,
            "url": invitation_url(user),
            "programs": sorted(member_of.union(asking)),
            "asking": asking,
        },
    )


@shared_task
def send_invitations(user_ids: list[int], invited_by_id: int | None = None) -> int:
    """A batch from ``accounts.invitations.users_reinvite``: leased in one UPDATE, sent, and
    marked sent in one UPDATE, so two writes for the batch rather than two per person (in the
    demo, tasks run inside the coordinator's request). One whose send fails is given back and
    handed to ``send_invitation``, with its own retries. Safe to run twice: a second run finds
    nothing unsent to claim."""
    claimed_at = timezone.now()
    claimed = invitations_claim_many(user_ids=list(user_ids), now=claimed_at)
    invited_by = User.objects.filter(pk=invited_by_id).first() if invited_by_id else None
    sent, failed = [], []
    for user in _with_programs(User.objects.filter(pk__in=claimed)).order_by("pk"):
        try:
            _email_invitation(user, invited_by)
        except Exception as exc:
            # The class name only: SMTP errors quote the recipients, and no log line may carry an address.
            logger.warning("Invitation %s not sent in its batch (%s): retried on its own", user.pk, type(exc).__name__)
            failed.append(user.pk)
        else:
            sent.append(user.pk)
    invitations_mark_sent_many(user_ids=sent, claimed_at=claimed_at)
    invitations_release_many(user_ids=failed, claimed_at=claimed_at)
    for user_id in failed:
        enqueue(send_invitation, user_id, invited_by_id)
    return len(sent)


@shared_task
def send_unsent_invitations() -> int:
    return invitations_send_unsent()


@shared_task
def refresh_busy_calendars() -> int:
    """Daily: fetch each subscribed busy calendar again (accounts/busy.py)."""
    return busy_calendars_refresh_due()


@shared_task
def apply_roster_import(roster_import_id: int, actor_id: int) -> str:
    """A large roster file, applied in the background (accounts/roster.py: ``roster_import_run``).
    Re-delivery is harmless: an import no longer applying is left alone."""
    return roster_import_run(roster_import_id, actor_id)


@shared_task
def sweep_roster_imports() -> dict:
    """Re-enqueues applying imports whose task was lost; fails those that never finished."""
    return roster_imports_sweep()
