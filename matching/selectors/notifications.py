"""The bell: a person's own notifications, and how they want to hear of them."""

from django.db.models import QuerySet

from accounts.models import User

from ..models import Notification, NotificationPreference

Delivery = Notification.Delivery


def notifications_for(user: User) -> QuerySet[Notification]:
    """``user``'s own notifications, newest first."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def unread_count(user: User) -> int:
    # One COUNT on the (user, read_at) index.
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def delivery_of(user: User) -> str:
    """How ``user`` wants to hear of notifications; right away unless they chose the digest."""
    delivery = NotificationPreference.objects.filter(user=user).values_list("delivery", flat=True).first()
    return delivery or Delivery.IMMEDIATE
