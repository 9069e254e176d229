from celery import shared_task
from django.utils import timezone

from accounts.emails import send_templated_email

from .models import Notification


@shared_task
def send_notification_email(notification_id: int) -> bool:
    """E-mail one notification, at most once: the row is claimed with a conditional
    UPDATE before sending, so a second delivery of this task finds nothing to do."""
    claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(emailed_at=timezone.now())
    if not claimed:
        return False
    notification = Notification.objects.select_related("user", "meeting").get(pk=notification_id)
    attachments = []
    if notification.meeting is not None:
        from .ics import meeting_ics

        attachments.append(("invite.ics", meeting_ics(notification.meeting), "text/calendar"))
    send_templated_email(
        template="matching/email/notification",
        to=[notification.user.email],
        context={"notification": notification, "user": notification.user},
        attachments=attachments,
    )
    return True
