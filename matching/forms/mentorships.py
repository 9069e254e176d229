"""The forms of a mentorship's shared page: agreement, action plan, resources, introductions,
check-ins, ending and thanks. Several share the page, so each has its own id prefix (labels
must point at their own field).

Create forms carry a one-time value (``OnceFormMixin``: a double tap creates one thing);
forms that change a shared text carry the version they were rendered from (``VersionField``:
a stale save is a conflict, never an overwrite)."""

from django import forms

from accounts.models import User
from core.bounds import PLANNED_DAY
from core.concurrency import VersionField
from core.forms import max_length_of
from core.idempotency import OnceFormMixin

from ..models import ActionItem, Agreement, CheckIn, Introduction, Kind, Mentorship, Resource
from ..selectors import mentorships as mentorship_selectors


class _PageForm(forms.Form):
    id_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


class AgreementForm(forms.ModelForm):
    version = VersionField()

    class Meta:
        model = Agreement
        fields = ["cadence", "preferred_channel", "expectations", "first_goals"]
        labels = {
            "cadence": "How often you meet",
            "preferred_channel": "Preferred channel between meetings",
            "expectations": "What you expect of each other",
            "first_goals": "First goals",
        }
        help_texts = {
            "expectations": "e.g. who proposes meetings, how quickly you reply, what stays between you.",
            "first_goals": "A few lines; turn them into dated goals in the action plan on the mentorship page.",
        }
        widgets = {"expectations": forms.Textarea(attrs={"rows": 4}), "first_goals": forms.Textarea(attrs={"rows": 4})}


class _GoalForm(_PageForm):
    title = forms.CharField(label="Goal", max_length=max_length_of(ActionItem, "title"))
    due_date = forms.DateField(label="Due date", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    owner = forms.ChoiceField(label="Owner")

    def __init__(self, *args, mentorship, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.mentorship = mentorship
        self.zone = viewer.time_zone
        self.fields["due_date"].widget.attrs.update(PLANNED_DAY.html_days(self.zone))
        self.fields["owner"].choices = [
            (mentorship.mentee_id, f"{mentorship.mentee.full_name} (mentee)"),
            (mentorship.mentor_id, f"{mentorship.mentor.full_name} (mentor)"),
        ]

    def clean_due_date(self):
        day = self.cleaned_data["due_date"]
        # An edited goal keeps a due date set long ago: only a new one must be near.
        if day != self.initial.get("due_date"):
            PLANNED_DAY.check_day(day, zone=self.zone)
        return day

    def clean_owner(self):
        owner_id = int(self.cleaned_data["owner"])
        return self.mentorship.mentee if owner_id == self.mentorship.mentee_id else self.mentorship.mentor


class ActionItemForm(OnceFormMixin, _GoalForm):
    id_prefix = "goal"


class ActionItemEditForm(_GoalForm):
    id_prefix = "goal-edit"

    version = VersionField()


class DeleteForm(forms.Form):
    """Removing a goal or a resource: against the version seen, like an edit."""

    version = VersionField()


class _ResourceForm(_PageForm):
    id_prefix = "resource"

    title = forms.CharField(max_length=max_length_of(Resource, "title"))
    url = forms.URLField(label="Link", max_length=max_length_of(Resource, "url"), assume_scheme="https")
    note = forms.CharField(
        required=False,
        max_length=max_length_of(Resource, "note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why it's worth their time.",
    )


class ResourceForm(OnceFormMixin, _ResourceForm):
    pass


class ResourceEditForm(_ResourceForm):
    id_prefix = "resource-edit"

    version = VersionField()


class IntroductionForm(OnceFormMixin, _PageForm):
    id_prefix = "intro"

    colleague = forms.ModelChoiceField(
        label="Colleague",
        queryset=User.objects.none(),
        help_text="Mentors in the directory.",
    )
    kind = forms.ChoiceField(label="As a mentor for", choices=Kind.choices, initial=Kind.RESEARCH)
    note = forms.CharField(
        max_length=max_length_of(Introduction, "note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why these two should meet; the colleague sees it.",
    )

    def __init__(self, *args, mentorship, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["colleague"].queryset = mentorship_selectors.colleagues_to_introduce(mentorship)
        self.fields["colleague"].label_from_instance = lambda u: (
            f"{u.full_name} — {u.mentor_profile.specialty}" if u.mentor_profile.specialty_id else u.full_name
        )


RATING_CHOICES = [
    (1, "1 — Not well"),
    (2, "2 — Could be better"),
    (3, "3 — OK"),
    (4, "4 — Well"),
    (5, "5 — Very well"),
]


class CheckInForm(OnceFormMixin, _PageForm):
    id_prefix = "checkin"

    rating = forms.TypedChoiceField(
        label="How is this mentorship going?",
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label="Comment (optional)",
        required=False,
        max_length=max_length_of(CheckIn, "comment"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class EndForm(forms.Form):
    OUTCOMES = [
        ("completed", "Completed — we reached what we set out to do (early counts too)"),
        ("ended", "Ended — it isn't working out, or circumstances changed"),
    ]
    outcome = forms.ChoiceField(label="Outcome", choices=OUTCOMES, widget=forms.RadioSelect, initial="completed")
    reason = forms.CharField(
        label="Reason",
        max_length=max_length_of(Mentorship, "end_reason"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="A sentence or two. The other person and your program's coordinators see it.",
    )
    rematch = forms.BooleanField(
        label="I'd like my coordinator to find me another mentor",
        required=False,
        help_text="No fault implied: only your coordinators see this.",
    )


class ThanksForm(_PageForm):
    id_prefix = "thanks"

    note = forms.CharField(
        label="Thank-you note",
        max_length=max_length_of(Mentorship, "thank_you_note"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Your mentor keeps it, for instance for a teaching portfolio.",
    )


class IntroductionResponseForm(forms.Form):
    response = forms.ChoiceField(choices=[("meeting", "Meeting"), ("mentorship", "Mentorship"), ("decline", "Decline")])
    note = forms.CharField(required=False, max_length=max_length_of(Introduction, "response_note"))
