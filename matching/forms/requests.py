"""Asking a mentor, and answering a request."""

from django import forms

from core.forms import max_length_of
from core.idempotency import OnceFormMixin

from ..models import Kind, MentorshipRequest


class RequestForm(OnceFormMixin, forms.Form):
    """``programs``: where the request may belong (``request_programs``); asked only when there
    are several, with no program chosen in advance. ``once`` makes a double tap send one request."""

    def __init__(self, *args, programs=None, **kwargs):
        super().__init__(*args, **kwargs)
        if programs is not None and len(programs) > 1:
            self.fields["program"] = forms.ModelChoiceField(
                label="For which program",
                queryset=programs,
                empty_label="Choose a program",
                help_text="You are both in more than one program. The request, the mentorship and its check-ins "
                "belong to the one you choose, and its coordinators see them.",
            )
            self.order_fields(["program"])

    kind = forms.ChoiceField(
        label="Kind of mentorship",
        choices=Kind.choices,
        help_text="You can have one mentor of each kind at a time.",
    )
    message = forms.CharField(
        label="Your message",
        max_length=max_length_of(MentorshipRequest, "message"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Who you are, what you hope for, and how often you'd like to meet.",
    )


class ResponseForm(forms.Form):
    """The mentor's note, sent with whichever button is pressed: Accept or Decline."""

    note = forms.CharField(
        label="Note to the resident (optional)",
        required=False,
        max_length=max_length_of(MentorshipRequest, "response_note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Sent with your answer. If you decline, a kind word helps, e.g. a colleague who may be a better fit.",
    )


# The old one-question flow's forms: its page routes still take a POST (a page left open
# before the conversation came) and post it into the thread.
class QuestionForm(forms.Form):
    question = forms.CharField(
        label="Your question",
        max_length=max_length_of(MentorshipRequest, "question"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="You can ask one question before you answer.",
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label="Your answer",
        max_length=max_length_of(MentorshipRequest, "answer"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
