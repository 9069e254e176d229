"""The audit trail's filters."""

from django import forms

from audit.actions import ACTION_GROUPS, SYSTEM, SYSTEM_NAME
from core.forms import DateRangeForm
from core.search import SearchField


class AuditFilterForm(DateRangeForm):
    """The filters, posted and then kept in the session (core/search.py): ``q``, ``group``,
    ``actor``, ``from``, ``to``."""

    q = SearchField(widget=forms.TextInput(attrs={"type": "search", "placeholder": "Action, reason or person"}))
    group = forms.ChoiceField(
        label="Kind of action",
        required=False,
        choices=[("", "All actions"), *((key, label) for key, (label, _) in ACTION_GROUPS.items())],
    )
    actor = forms.ChoiceField(label="Who", required=False)
    field_order = ["q", "group", "actor", "date_from", "date_to"]

    def __init__(self, *args, actors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].choices = [
            ("", "Anyone"),
            (SYSTEM, SYSTEM_NAME),
            *((str(u.pk), u.full_name) for u in actors),
        ]
