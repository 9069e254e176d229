"""Filters shared by pages and the API: the directory page and /api/v1/mentors/
narrow the same selector with the same FilterSet."""

import functools

from django.db.models import Q
from django_filters import rest_framework as filters

from core.filters import BooleanSelect, SearchFilter, StrictBooleanFilter, each_word_matches
from core.widgets import PlainChecklistSelectMultiple, PlainSelect, grouped_choices

from .models import Goal, Language, MeetingFormat, MentorProfile, Specialty


class MentorDirectoryFilter(filters.FilterSet):
    # The page's form is written by Python widgets (``PlainSelect``, ``PlainChecklistSelectMultiple``),
    # the markup Django's widget templates write, at a fraction of the cost per option.
    specialty = filters.ModelChoiceFilter(
        field_name="specialty",
        to_field_name="slug",
        queryset=Specialty.objects.filter(parent__isnull=True),
        empty_label="Any specialty",
        widget=PlainSelect,
        help_text="Specialty slug, e.g. internal-medicine.",
    )
    subspecialty = filters.ModelChoiceFilter(
        field_name="subspecialty",
        to_field_name="slug",
        queryset=Specialty.objects.filter(parent__isnull=False).order_by("parent__name", "name"),
        empty_label="Any subspecialty",
        widget=PlainSelect,
        help_text="Subspecialty slug, e.g. internal-medicine-cardiovascular-disease.",
    )
    # Repeating the parameter narrows: the mentor must have every goal asked for.
    expertise = filters.ModelMultipleChoiceFilter(
        # Conjoined filters look the value up by field_name: compare slugs to slugs.
        field_name="expertise__slug",
        to_field_name="slug",
        queryset=Goal.objects.all(),
        conjoined=True,
        label="Helps with",
        widget=PlainChecklistSelectMultiple,
        help_text="Goal slug the mentor can help with, e.g. career-planning. Repeat to require several.",
    )
    language = filters.ModelChoiceFilter(
        field_name="languages",
        to_field_name="code",
        queryset=Language.objects.all(),
        label="Language",
        empty_label="Any language",
        widget=PlainSelect,
        help_text="ISO 639 language code, e.g. es.",
    )
    meeting_format = filters.ModelChoiceFilter(
        field_name="meeting_formats",
        to_field_name="slug",
        queryset=MeetingFormat.objects.all(),
        label="Meets by",
        empty_label="Any format",
        widget=PlainSelect,
        help_text="Meeting format slug: in-person, video or phone.",
    )
    # true/false in the query string (as the API takes them), with labels for people; anything
    # else is an error beside the filter, not "everyone" (core/filters.py).
    accepting = StrictBooleanFilter(
        field_name="accepting_mentees",
        label="Accepting mentees",
        help_text="Only mentors (not) accepting mentees.",
        widget=BooleanSelect(labels=("Everyone", "Accepting now", "Not accepting")),
    )
    open_spot = StrictBooleanFilter(
        method="with_open_spot",
        label="Open spots",
        widget=BooleanSelect(labels=("Any", "Has an open spot", "Full or not accepting")),
        help_text="true: accepting mentees and with at least one spot free.",
    )
    q = SearchFilter(method="search", label="Search", help_text="Words to find in the mentor's name or bio.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # On the page: subspecialties grouped by specialty, narrowed to the chosen one
        # (static/js/checklist.js). A callable, so only a rendered page queries for them (not
        # the API); validation still goes by the queryset.
        subspecialty = self.form.fields["subspecialty"]
        subspecialty.widget.attrs["data-narrow-by"] = "id_specialty"
        subspecialty.widget.choices = functools.cache(
            lambda: [("", "Any subspecialty")]
            + grouped_choices(
                subspecialty.queryset.select_related("parent"),
                group=lambda s: s.parent.name,
                label=lambda s: s.name,
                value=lambda s: s.slug,
            )
        )

    class Meta:
        model = MentorProfile
        fields = ["specialty", "subspecialty", "expertise", "language", "meeting_format", "accepting", "open_spot", "q"]

    def with_open_spot(self, queryset, name, value):
        # ``open_spots`` is annotated by matching.selectors.directory.mentor_directory().
        if value is None:
            return queryset
        has_spot = Q(accepting_mentees=True, open_spots__gt=0)
        return queryset.filter(has_spot) if value else queryset.exclude(has_spot)

    def search(self, queryset, name, value):
        return each_word_matches(queryset, value, ["user__first_name", "user__last_name", "bio"])
