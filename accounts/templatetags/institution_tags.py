"""``{% institutions_administered_by user as institutions %}``: the institutions whose programs
``user`` may create and edit (accounts/institutions.py), for the Programs page's link."""

from django import template

from ..institutions import institutions_administered_by

register = template.Library()


@register.simple_tag
def institutions_administered(user):
    return list(institutions_administered_by(user).order_by("name"))
