"""Starting a cohort match run: the coordinator chooses the kind, the cohort (residents and
mentors), the algorithm, the weights, and optionally a ranking window. The change goes
through ``matching.match_runs.services.match_run_create``."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from accounts.models import Membership, Program, User
from core.access import program_page
from core.forms import add_service_errors

from ..forms.match_runs import MatchRunForm
from ..match_runs.services import match_run_create
from ..models import Kind, Mentorship
from ..selectors.directory import mentor_directory

PRESET_PGY1_UNPAIRED = "pgy1-unpaired"

_PROGRAMS = Program.objects.select_related("specialty")


def _cohort_choices(program):
    mentees = list(
        User.objects.filter(
            memberships__program=program,
            memberships__role=Membership.Role.RESIDENT,
            mentee_profile__isnull=False,
            is_active=True,
        )
        .select_related("mentee_profile__career_stage")
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )
    mentors = list(
        mentor_directory()
        .filter(user__memberships__program=program, accepting_mentees=True, open_spots__gt=0)
        .prefetch_related(None)
        .distinct()
    )
    return mentees, mentors


def _pgy1_unpaired(mentees, kind) -> list[int]:
    paired = set(
        Mentorship.objects.filter(
            status=Mentorship.Status.ACTIVE, kind=kind, mentee_id__in=[u.pk for u in mentees]
        ).values_list("mentee_id", flat=True)
    )
    return [
        u.pk
        for u in mentees
        if u.pk not in paired and u.mentee_profile.career_stage and u.mentee_profile.career_stage.code == "PGY-1"
    ]


@program_page("matching.manage_match_runs", queryset=_PROGRAMS)
def match_run_create_view(request, program):
    mentees, mentors = _cohort_choices(program)
    kind = request.GET.get("kind") if request.GET.get("kind") in Kind.values else Kind.CAREER
    preset = request.GET.get("preset")
    initial = {"kind": kind, "mentor_ids": [p.user_id for p in mentors]}
    if preset == PRESET_PGY1_UNPAIRED:
        initial["mentee_ids"] = _pgy1_unpaired(mentees, kind)
    with timezone.override(request.user.zone):
        form = MatchRunForm(request.POST or None, initial=initial, mentees=mentees, mentors=mentors)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                run = match_run_create(
                    program=program,
                    actor=request.user,
                    kind=data["kind"],
                    algorithm=data["algorithm"],
                    mentee_ids=data["mentee_ids"],
                    mentor_ids=data["mentor_ids"],
                    weights=form.weights(),
                    ranking_deadline=data["ranking_deadline"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if run.ranking_deadline:
                    messages.success(
                        request, "The match is set up; residents and mentors can rank each other until the deadline."
                    )
                else:
                    messages.success(request, "The match has started.")
                return redirect("matching:match-run-detail", pk=run.pk)
        return render(
            request,
            "matching/match_runs/form.html",
            {
                "program": program,
                "form": form,
                "preset": preset,
                "kind": kind,
                "preset_url": f"?preset={PRESET_PGY1_UNPAIRED}&kind={kind}",
                "time_zone": request.user.zone,
            },
            status=400 if form.errors else 200,
        )


urlpatterns = [
    path("programs/<slug:slug>/match-runs/new/", match_run_create_view, name="match-run-create"),
]
