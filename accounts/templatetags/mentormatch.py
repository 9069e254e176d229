from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_url(context, page_number):
    """The current URL's query string with ``page`` replaced, keeping repeated filters."""
    query = context["request"].GET.copy()
    query["page"] = page_number
    return "?" + query.urlencode()


@register.filter
def can_remove(authenticator):
    """Would allauth let its owner remove this authenticator? (Not a required person's last
    second factor: accounts/auth/adapters.py.) Pages offer only what will be allowed.
    Takes an Authenticator or allauth's wrapper of one (the overview page has wrappers)."""
    return get_mfa_adapter().can_delete_authenticator(getattr(authenticator, "instance", authenticator))
