"""``{% requester_fit req user as fit %}``: the requester's fit and time in common, for the
mentor reading a request (``templates/matching/requests/_fit.html``)."""

from django import template

from .. import recommendations

register = template.Library()


@register.simple_tag
def requester_fit(mentorship_request, viewer):
    return recommendations.requester_fit(mentorship_request, viewer)
