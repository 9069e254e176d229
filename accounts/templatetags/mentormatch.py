from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def page_url(context, page_number):
    """The current URL's query string with ``page`` replaced, keeping repeated filters."""
    query = context["request"].GET.copy()
    query["page"] = page_number
    return "?" + query.urlencode()


@register.filter
def email_breaks(address) -> SafeString:
    """An address that may wrap in a narrow column after its "@" and before each dot
    ("leilani.ahmed@<wbr>demo<wbr>.mentormatch<wbr>.org"), rather than mid-word."""
    text = escape(address or "")
    return mark_safe(text.replace("@", "@<wbr>").replace(".", "<wbr>."))  # noqa: S308 (escaped above)


@register.filter
def can_remove(authenticator):
    """Would allauth let its owner remove this authenticator? (Not a required person's last
    second factor: accounts/auth/adapters.py.) Pages offer only what will be allowed.
    Takes an Authenticator or allauth's wrapper of one (the overview page has wrappers)."""
    return get_mfa_adapter().can_delete_authenticator(getattr(authenticator, "instance", authenticator))


# (pattern in the User-Agent string, what to call it), first match wins: Edge and Opera
# say "Chrome" too, and every Chromium says "Safari", so the specific come first.
_BROWSERS = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
_SYSTEMS = [
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
]


@register.filter
def device(user_agent):
    """ "Chrome on Windows" from a browser's User-Agent string, for the sessions list; the
    string itself when it names no browser we know (a script, curl)."""
    text = user_agent or ""
    browser = next((name for mark, name in _BROWSERS if mark in text), None)
    system = next((name for mark, name in _SYSTEMS if mark in text), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or text[:60] or "Unknown browser"
