from celery import shared_task

from .emails import send_templated_email
from .models import User
from .services import invitation_claim, invitation_url, invitations_send_unsent


@shared_task
def send_invitation(user_id: int, invited_by_id: int | None = None) -> bool:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    # Someone who already set a password needs no invitation (e.g. a re-delivered task).
    if user is None or user.has_usable_password():
        return False
    # At most once: a re-delivered task or the sweeper's copy finds it claimed.
    if not invitation_claim(user_id=user_id):
        return False
    invited_by = User.objects.filter(pk=invited_by_id).first() if invited_by_id else None
    programs = sorted({m.program.name for m in user.memberships.select_related("program")})
    send_templated_email(
        template="accounts/email/invitation",
        to=[user.email],
        context={"user": user, "invited_by": invited_by, "url": invitation_url(user), "programs": programs},
    )
    return True


@shared_task
def send_unsent_invitations() -> int:
    return invitations_send_unsent()
