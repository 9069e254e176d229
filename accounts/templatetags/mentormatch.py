from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_url(context, page_number):
    """The current URL's query string with ``page`` replaced, keeping repeated filters."""
    query = context["request"].GET.copy()
    query["page"] = page_number
    return "?" + query.urlencode()
