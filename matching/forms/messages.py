"""Writing and correcting a message in the pair's thread."""

from django import forms

from core.forms import max_length_of
from core.idempotency import OnceFormMixin

from ..models import Message

BODY_MAX = max_length_of(Message, "body")


class MessageForm(OnceFormMixin, forms.Form):
    """A new message; ``once`` makes a double tap send it once."""

    body = forms.CharField(
        label="Your message",
        max_length=BODY_MAX,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Plain text; links become clickable.",
    )


class MessageEditForm(forms.Form):
    body = forms.CharField(
        label="Your message",
        max_length=BODY_MAX,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
