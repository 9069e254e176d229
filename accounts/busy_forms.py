"""The forms of the busy-blocks page (accounts/busy.py does the work): one block typed in,
an ``.ics`` file uploaded, a calendar address subscribed to."""

from django import forms

from core.bounds import PLANNED_DAY

from .models import BusyBlock


class BusyBlockForm(forms.Form):
    label = forms.CharField(
        label="What",
        max_length=BusyBlock._meta.get_field("label").max_length,
        help_text="e.g. Night float, ICU month, Vacation",
    )
    start_date = forms.DateField(label="First day", widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(label="Last day", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, zone: str, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("start_date", "end_date"):
            self.fields[name].widget.attrs.update(PLANNED_DAY.html_days(zone))

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The last day cannot be before the first.")
        return data


class BusyCalendarUploadForm(forms.Form):
    file = forms.FileField(
        label="Calendar file (.ics)",
        help_text="Export your schedule from Amion, QGenda, Outlook or Google as iCalendar.",
        widget=forms.ClearableFileInput(attrs={"accept": ".ics,text/calendar"}),
    )
    name = forms.CharField(label="Name it (optional)", max_length=120, required=False)

    def __init__(self, *args, cut_off: bool = False, limit: int, **kwargs):
        # Its own ids: the page also holds the address form, which has a "name" too.
        kwargs.setdefault("auto_id", "id_upload_%s")
        super().__init__(*args, **kwargs)
        self.cut_off = cut_off
        self.limit = limit

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.limit:
            raise forms.ValidationError(f"The file is larger than {self.limit // 1024:,} KB.")
        return upload

    def clean(self):
        if self.cut_off:
            raise forms.ValidationError(f"The file is larger than {self.limit // 1024:,} KB.")
        return super().clean()


class BusyCalendarUrlForm(forms.Form):
    # A CharField: webcal:// is not a URL Django's URLField accepts; accounts/busy.py checks it.
    url = forms.CharField(
        label="Calendar address",
        max_length=1000,
        help_text="The iCalendar feed address (https:// or webcal://) from your scheduling system. Refreshed daily.",
        widget=forms.TextInput(attrs={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"}),
    )
    name = forms.CharField(label="Name it (optional)", max_length=120, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_url_%s")
        super().__init__(*args, **kwargs)
