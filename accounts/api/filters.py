"""Query-string filters for the API's lists. Filters narrow a queryset a selector
already scoped to the caller; they never widen it."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters import rest_framework as filters
from rest_framework import serializers

from core.filters import StrictBooleanFilter
from core.search import SEARCH_HELP, SEARCH_MAX_LENGTH, SearchField

from ..filters import MentorDirectoryFilter  # noqa: F401  (shared with the directory page)
from ..models import Membership, Specialty
from ..selectors import ROSTER_STATUSES


class SearchQueryField(serializers.CharField):
    """A query serializer's ``q``: cleaned by the pages' ``SearchField``, so the API refuses
    exactly what a search box does, with its message, as a 400 under the field's name."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("default", "")
        kwargs["help_text"] = " ".join(filter(None, [kwargs.get("help_text"), SEARCH_HELP]))
        super().__init__(max_length=SEARCH_MAX_LENGTH, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return SearchField().clean(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


# The roster page offers the same choices.
PGY_CHOICES = [(f"PGY-{n}", f"PGY-{n}") for n in range(1, 8)] + [("FELLOW", "Fellow")]


class RosterQuery(serializers.Serializer):
    """The roster's query string: the roster page's filters, checked rather than ignored.

    ``selectors.roster_search`` applies them, so page, export and API list the same people.
    """

    role = serializers.ChoiceField(
        choices=[(Membership.Role.RESIDENT, "Resident"), (Membership.Role.FACULTY, "Faculty")], required=False
    )
    pgy = serializers.ChoiceField(
        choices=PGY_CHOICES,
        required=False,
        help_text="Career stage code: a resident's PGY year, or a near-peer mentor's stage.",
    )
    status = serializers.ChoiceField(
        choices=list(ROSTER_STATUSES.items()),
        required=False,
        help_text="active: has set a password; invited: link sent, no password yet; not_invited.",
    )
    q = SearchQueryField(help_text="Words to find in the name or e-mail.")


class SpecialtyFilter(filters.FilterSet):
    parent = filters.ModelChoiceFilter(
        to_field_name="slug",
        queryset=Specialty.objects.filter(parent__isnull=True),
        help_text="Subspecialties of this specialty (slug).",
    )
    top_level = StrictBooleanFilter(
        field_name="parent",
        lookup_expr="isnull",
        help_text="true: specialties only; false: subspecialties only.",
    )

    class Meta:
        model = Specialty
        fields = ["parent", "top_level"]
