"""The account's sign-in and security pages that are ours (allauth's are the second factor
and the session list): API tokens, and signing out everywhere."""

from datetime import timedelta

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.timesince import timeuntil
from django.views.decorators.http import require_POST

from core.forms import add_service_errors, form_status

from .. import selectors, services
from ..forms import ApiTokenForm
from ..models import ApiToken


@login_required
def api_tokens(request):
    """The user's live tokens, and a form for a new one.

    A new token's secret is in the response to the POST that made it, and nowhere else: not
    in the session, not in a URL, not in the database (which keeps its hash). Reloading or
    going back cannot show it again, and no cache may keep the page (``no-store``)."""
    created = secret = None
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if form.is_valid() and not _first_submission(request, form.cleaned_data["once"]):
            messages.info(
                request,
                "That token was already created, and its secret shown once. If you didn't copy it, "
                "revoke it below and create another.",
            )
            return redirect("accounts:api-tokens")
        if form.is_valid():
            try:
                created, secret = services.api_token_issue(user=request.user, name=form.cleaned_data["name"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                form = ApiTokenForm()
    else:
        form = ApiTokenForm()
    context = {
        "tokens": selectors.api_tokens_of(request.user),
        "form": form,
        "created": created,
        "secret": secret,
        "lifetime": _token_lifetime(),
    }
    response = render(request, "account/api_tokens.html", context, status=form_status(form))
    patch_cache_control(response, no_store=True, private=True)
    return response


def _first_submission(request, once: str) -> bool:
    """Whether this form (its one-time value) is being submitted for the first time. ``cache.add``
    is atomic, so of two taps at once only one gets True. A form without the value (an old
    page, a script) is always new, and so is one the cache cannot answer for (Redis down:
    core/cache.py fails soft), where a second token is the lesser harm than none."""
    if not once:
        return True
    key = f"mentormatch:api-token-form:{request.user.pk}:{once}"
    return cache.add(key, True, timeout=24 * 3600) or cache.get(key) is None


def _token_lifetime() -> str:
    """API_TOKEN_TTL in words: "30 days", or "2 hours" for a short one."""
    days, rest = divmod(settings.API_TOKEN_TTL, 24 * 3600)
    if days and not rest:
        return f"{days} day{pluralize(days)}"
    now = timezone.now()
    return timeuntil(now + timedelta(seconds=settings.API_TOKEN_TTL), now)


@login_required
@require_POST
def api_token_revoke(request, pk):
    """Revoke one of the user's tokens. Another user's token is 404; one of theirs that is
    already gone (a second click, another tab) is not an error: the page says so."""
    token = ApiToken.objects.filter(pk=pk).first()
    if token is not None and token.user_id != request.user.pk:
        raise Http404
    if token is not None and services.api_token_revoke(user=request.user, token=token):
        messages.success(request, f"The token “{token.name or 'Unnamed'}” ({token.prefix}…) is revoked.")
    else:
        messages.info(request, "That token was already revoked.")
    return redirect("accounts:api-tokens")


@login_required
@require_POST
def api_tokens_revoke_all(request):
    revoked = services.api_token_revoke(user=request.user)
    if revoked:
        messages.success(request, f"{revoked} API token{'s are' if revoked != 1 else ' is'} revoked.")
    else:
        messages.info(request, "You had no API tokens to revoke.")
    return redirect("accounts:api-tokens")


@login_required
@require_POST
def sign_out_everywhere(request):
    """Every session of the user ends, this one included, and every API token is revoked."""
    services.sign_out_everywhere(user=request.user)
    # The service deleted this session's row; logging out empties the request's copy too,
    # which the response would otherwise save again (SessionActivityMiddleware marks it to save).
    get_adapter(request).logout(request)
    messages.success(
        request, "You are signed out everywhere: on every device and browser, and every API token is revoked."
    )
    return redirect(settings.LOGIN_URL)
