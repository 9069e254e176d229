"""Pages for notifications: the list behind the bell, and how to be e-mailed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from core.forms import form_status

from .. import notifications as notification_services
from ..forms.notifications import NotificationPreferenceForm
from ..selectors import notifications as notification_selectors

PAGE_SIZE = 20


@login_required
def notification_list(request):
    page = Paginator(notification_selectors.notifications_for(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "matching/notifications/list.html", {"page_obj": page, "notifications": page.object_list})


@login_required
@require_POST
def notification_read(request, pk):
    """Mark it read and go where it points (back to the list if nowhere)."""
    # Only one's own: anyone else's is a 404, not a 403.
    notification = get_object_or_404(notification_selectors.notifications_for(request.user), pk=pk)
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


@login_required
def notification_preferences(request):
    form = NotificationPreferenceForm(
        request.POST or None, initial={"delivery": notification_selectors.delivery_of(request.user)}
    )
    if request.method == "POST" and form.is_valid():
        notification_services.notification_preference_set(user=request.user, delivery=form.cleaned_data["delivery"])
        messages.success(request, "Your e-mail preference is saved.")
        return redirect("matching:notification-preferences")
    return render(request, "matching/notifications/preferences.html", {"form": form}, status=form_status(form))


@csrf_exempt  # the signed link is the credential: a mail client's one-click POST carries no CSRF token
@require_http_methods(["GET", "POST"])
def notifications_unsubscribe(request, token):
    """The link in every notification e-mail and digest (``List-Unsubscribe``, RFC 8058): a
    GET asks (a link scanner's visit must unsubscribe nobody), a POST, from the page's button
    or the mail client's one-click, stops the e-mails. No sign-in; the same page for everyone
    whatever the token, once it is checked, so it tells nobody whose link it is."""
    user = notification_services.unsubscribing_user(token)
    if user is None:
        raise Http404("This unsubscribe link is not valid: use the one in your latest e-mail.")
    done = False
    if request.method == "POST":
        notification_services.notifications_unsubscribe(user=user)
        done = True
    return render(
        request,
        "matching/notifications/unsubscribe.html",
        {"done": done or notification_selectors.delivery_of(user) == "none", "signed_in": request.user == user},
    )


urlpatterns = [
    path("notifications/", notification_list, name="notifications"),
    path("notifications/read-all/", notifications_read_all, name="notifications-read-all"),
    path("notifications/preferences/", notification_preferences, name="notification-preferences"),
    path("notifications/<int:pk>/read/", notification_read, name="notification-read"),
    path("notifications/unsubscribe/<str:token>/", notifications_unsubscribe, name="notifications-unsubscribe"),
]
