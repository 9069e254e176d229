"""Form plumbing every app's pages use: the renderer, field lengths from the model, how a
service's refusal lands on a form, a refused form's status (400), and date ranges."""

from collections.abc import Mapping
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Field, Model
from django.forms.renderers import TemplatesSetting
from django.http import HttpResponse


class FormRenderer(TemplatesSetting):
    """Every form field renders through templates/includes/field.html."""

    field_template_name = "includes/field.html"


def max_length_of(model: type[Model], field_name: str) -> int:
    """The column's limit, for a form or serializer field that is not built from the model:
    page, API and database then refuse the same text, and a too-long one is a field error,
    never PostgreSQL's "value too long" (SQLite would keep it whole)."""
    field = model._meta.get_field(field_name)
    if not isinstance(field, Field) or field.max_length is None:
        raise TypeError(f"{model.__name__}.{field_name} has no max_length")
    return field.max_length


def add_service_errors(form: forms.BaseForm, exc: ValidationError, *, aliases: Mapping[str, str] | None = None) -> None:
    """Put a service's ValidationError on ``form``: messages keyed by a field go beside
    that field (``aliases`` maps a service's field name to the form's), the rest on top."""
    aliases = aliases or {}
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            field = aliases.get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def form_status(*shown: forms.BaseForm | forms.BaseFormSet | None) -> int:
    """The status of a page shown again after its POST: 400 when a form (or formset) on it was
    submitted and refused, its errors beside the fields and everything typed kept; else 200
    (a GET, a confirmation step, a form replaced by a blank one once saved). The one rule for
    every page form; GET filter forms keep answering 200."""
    return 400 if any(form is not None and form.is_bound and not form.is_valid() for form in shown) else 200


class FormStatusMixin:
    """``form_status`` for a class-based form view (Django's ``FormView`` and its kin), whose
    refused form would otherwise answer 200."""

    def form_invalid(self, form: forms.BaseForm) -> HttpResponse:
        response: HttpResponse = super().form_invalid(form)  # type: ignore[misc]
        response.status_code = form_status(form)
        return response


# Days a period may start or end on: a day's bounds (and the day after "to") must stay within
# what datetime can hold, so year 1 and 31 December 9999 are refused rather than overflowing.
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(9999, 12, 30)


class DateRangeForm(forms.Form):
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD``, both days included, either optional, each between
    ``EARLIEST_DAY`` and ``LATEST_DAY``; an end before the start is an error on ``to``.
    Subclass it to add other filters."""

    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    # "from" is a Python keyword, so the fields have longer names than their parameters.
    PARAMETERS = {"date_from": "from", "date_to": "to"}

    def add_prefix(self, field_name: str) -> str:
        return self.PARAMETERS.get(field_name, field_name)

    def _day(self, name: str) -> date | None:
        day = self.cleaned_data.get(name)
        if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
            raise forms.ValidationError(f"Choose a day between {EARLIEST_DAY:%Y} and {LATEST_DAY:%Y}.")
        return day

    def clean_date_from(self) -> date | None:
        return self._day("date_from")

    def clean_date_to(self) -> date | None:
        return self._day("date_to")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data
