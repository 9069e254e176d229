def lockout_username(request, credentials):
    """The e-mail django-axes counts failures against, case-folded so that
    ``Alice@`` and ``alice@`` share one counter."""
    username = (credentials or {}).get("username")
    if username is None and request is not None:
        username = request.POST.get("username")
    return (username or "").strip().lower() or None


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
