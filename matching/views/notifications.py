"""Pages for notifications: the list behind the bell, and how to be e-mailed."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .. import notifications as notification_services
from ..models import Notification

PAGE_SIZE = 20


def _get_notification_for_user(user, pk) -> Notification:
    """One of ``user``'s own notifications; anyone else's is a 404, not a 403."""
    try:
        return notification_services.notifications_for(user).get(pk=pk)
    except Notification.DoesNotExist:
        raise Http404 from None


@login_required
def notification_list(request):
    page = Paginator(notification_services.notifications_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "matching/notifications/list.html", {"page_obj": page, "notifications": page.object_list})


@login_required
@require_POST
def notification_read(request, pk):
    """Mark it read and go where it points (back to the list if nowhere)."""
    notification = _get_notification_for_user(request.user, pk)
    notification_services.notification_mark_read(notification=notification)
    # Notification URLs are paths the app wrote; refuse anything that would leave the site.
    if notification.url and url_has_allowed_host_and_scheme(
        notification.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(notification.url)
    return redirect("matching:notifications")


@login_required
@require_POST
def notifications_read_all(request):
    marked = notification_services.notifications_mark_all_read(user=request.user)
    if marked:
        messages.success(request, f"Marked {marked} notification{'s' if marked != 1 else ''} as read.")
    return redirect("matching:notifications")


class NotificationPreferenceForm(forms.Form):
    delivery = forms.ChoiceField(
        label="E-mail me",
        choices=[
            (Notification.Delivery.IMMEDIATE, "Right away: one e-mail for each notification"),
            (Notification.Delivery.DIGEST, "Once a day: one digest of the last day's notifications, each morning"),
        ],
        widget=forms.RadioSelect,
        help_text="Notifications always appear here in MentorMatch as well.",
    )


@login_required
def notification_preferences(request):
    form = NotificationPreferenceForm(
        request.POST or None, initial={"delivery": notification_services.delivery_of(request.user)}
    )
    if request.method == "POST" and form.is_valid():
        notification_services.notification_preference_set(user=request.user, delivery=form.cleaned_data["delivery"])
        messages.success(request, "Your e-mail preference is saved.")
        return redirect("matching:notification-preferences")
    return render(request, "matching/notifications/preferences.html", {"form": form})


urlpatterns = [
    path("notifications/", notification_list, name="notifications"),
    path("notifications/read-all/", notifications_read_all, name="notifications-read-all"),
    path("notifications/preferences/", notification_preferences, name="notification-preferences"),
    path("notifications/<int:pk>/read/", notification_read, name="notification-read"),
]
