"""Query-string booleans and searches, read one way by every list, page and API alike.

``?accepting=true``, ``?stale=1``: ``true``/``false`` (as the API documents them), ``1``/``0`` (as
links and checkboxes write them), ``True``/``False``; empty or absent is "not given" (so is
``unknown``, what the pages' selects wrote for "any" until they wrote nothing: old links). Anything
else is an error naming the parameter: a field error beside the filter on a page, a 400 on the
API. Django's ``NullBooleanSelect`` and django-filter's ``BooleanWidget`` read anything unknown
as "not given", so ``?accepting=banana`` listed everyone as if no filter had been asked for.
"""

from typing import Any, TypeVar

from django import forms
from django.db.models import Model, QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.drainage import set_override

from .search import SEARCH_HELP, SEARCH_MAX_LENGTH, SearchField, search_terms, word_matches
from .widgets import PlainSelect

TRUE, FALSE = ("true", "True", "1"), ("false", "False", "0")


class StrictNullBooleanField(forms.NullBooleanField):
    """True, False or None (empty); any other value is refused, not read as None."""

    default_error_messages = {"invalid": "Give true or false."}

    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]  # (NullBooleanField: None too)
        if value in (None, "", "unknown") or isinstance(value, bool):
            return value if isinstance(value, bool) else None
        if value in TRUE:
            return True
        if value in FALSE:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")

    def validate(self, value: Any) -> None:
        if value is None and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class BooleanSelect(PlainSelect):
    """A page's ``<select>`` for a query-string boolean. It hands the submitted text to the field
    as it came (``NullBooleanSelect`` turns what it does not know into "not given"), and shows
    ``1``/``True`` as the "true" option. ``labels``: the options' labels, "not given" first; leave
    out the last to offer only "any" and "true" (a filter that only narrows)."""

    def __init__(self, attrs: dict[str, Any] | None = None, *, labels: tuple[str, ...] = ("Any", "Yes", "No")) -> None:
        super().__init__(attrs, choices=list(zip(("", "true", "false"), labels, strict=False)))

    def format_value(self, value: Any) -> list[str]:  # type: ignore[override]  # (a Select: a list, as Django)
        if value is True or value in TRUE:
            return ["true"]
        if value is False or value in FALSE:
            return ["false"]
        return [str(value)] if value not in (None, "") else [""]


class StrictBooleanFilter(filters.BooleanFilter):
    """A query-string boolean that refuses what is not one. On the API the raw text reaches the
    field (no widget reads it first); a page passes ``widget=BooleanSelect(labels=…)``."""

    field_class = StrictNullBooleanField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


# --- Search: ``q``, bounded as every search box is.

_M = TypeVar("_M", bound=Model)


class SearchFilter(filters.CharFilter):
    """A ``q`` parameter, bounded as every search box is (``core.search.SearchField``):
    too long or too many words is a form error on a page and a 400 naming ``q`` in the API."""

    field_class = SearchField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The schema shows the bound; an override replaces the description, so it carries it.
        set_override(
            self,
            "field",
            {
                "type": "string",
                "maxLength": SEARCH_MAX_LENGTH,
                "description": " ".join(filter(None, [self.extra.get("help_text"), SEARCH_HELP])),
            },
        )


def each_word_matches(queryset: QuerySet[_M], value: str, fields: list[str]) -> QuerySet[_M]:
    """Every word of ``value`` must occur (ignoring case and accents) in at least one of
    ``fields``: one condition per word, over columns of rows joined one-to-one, so no row is
    repeated."""
    for word in search_terms(value):
        queryset = queryset.filter(word_matches(word, fields))
    return queryset
