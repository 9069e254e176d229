"""How a person is e-mailed their notifications."""

from django import forms

from ..models import Notification


class NotificationPreferenceForm(forms.Form):
    delivery = forms.ChoiceField(
        label="E-mail me",
        choices=[
            (Notification.Delivery.IMMEDIATE, "Right away: one e-mail for each notification"),
            (Notification.Delivery.DIGEST, "Once a day: one digest of the last day's notifications, each morning"),
            (Notification.Delivery.NONE, "Never: only here in MentorMatch"),
        ],
        widget=forms.RadioSelect,
        help_text=(
            "Notifications always appear here in MentorMatch as well. Meeting invitations are e-mailed "
            "whatever you choose: they keep your calendar right."
        ),
    )
