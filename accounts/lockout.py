from .identity import canonical_email


def lockout_username(request, credentials):
    """The e-mail django-axes counts failures against: its canonical key, so that
    ``Lisa.Sims@``, ``lisa.ſims@`` and ``ＬＩＳＡ.sims@`` share the account's one counter
    (accounts/identity.py). A look-alike such as ``lısa.sims@`` has a counter of its own,
    but it names no account, so no password works with it."""
    # The address arrives under the sign-in form's field (``login``, also what axes files the
    # backend's ``username`` under), ``username`` (the API's authenticate call) or ``email``
    # (what allauth authenticates with).
    username = next((credentials[k] for k in ("login", "username", "email") if (credentials or {}).get(k)), None)
    if username is None and request is not None:
        username = request.POST.get("login") or request.POST.get("username")
    return canonical_email(username or "") or None


def lockout_response(request, credentials, *args, **kwargs):
    """What a locked-out log-in gets: JSON for API clients, the friendly page for people."""
    from django.http import JsonResponse
    from django.shortcuts import render

    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "Too many failed log-ins for this account. Try again in 15 minutes or reset your password."},
            status=429,
        )
    return render(request, "registration/locked_out.html", status=429)
