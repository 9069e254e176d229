"""A program's conflicts of interest, for its coordinators: evaluator roles, do-not-pair
entries and the exceptions that let an evaluator mentor one resident. Every change goes
through ``matching.services.conflicts`` and lands in the audit trail with its reason."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from accounts.models import Membership, User
from core.access import program_page
from core.forms import add_service_errors

from ..forms.conflicts import EvaluatorRoleForm, PairForm
from ..models import ConflictOfInterest, EvaluatorRole, PairingException
from ..selectors.conflicts import people_for_conflicts
from ..services import conflicts as services
from ..services.conflicts import REASON_MAX_LENGTH


def _forms(program, data=None, which=None):
    residents, mentors = people_for_conflicts(program)
    faculty_ids = set(
        Membership.objects.filter(program=program, role=Membership.Role.FACULTY).values_list("user_id", flat=True)
    )
    evaluator_ids = set(EvaluatorRole.objects.filter(program=program).values_list("user_id", flat=True))
    faculty = [u for u in mentors if u.pk in faculty_ids]
    evaluators = [u for u in mentors if u.pk in evaluator_ids]
    return {
        "role_form": EvaluatorRoleForm(data if which == "role" else None, faculty=faculty, prefix="role"),
        "conflict_form": PairForm(
            data if which == "conflict" else None, residents=residents, mentors=mentors, prefix="coi"
        ),
        "exception_form": PairForm(
            data if which == "exception" else None, residents=residents, mentors=evaluators, prefix="exc"
        ),
    }


def _render(request, program, forms_, status=200):
    context = {
        "program": program,
        "roles": EvaluatorRole.objects.filter(program=program)
        .select_related("user")
        .order_by("user__last_name", "role"),
        "conflicts": ConflictOfInterest.objects.filter(program=program).select_related(
            "mentee", "mentor", "created_by"
        ),
        "exceptions": PairingException.objects.filter(program=program).select_related("mentee", "mentor", "created_by"),
        **forms_,
    }
    return render(request, "matching/conflicts/page.html", context, status=status)


def _warn_active(request, active):
    for m in active:
        messages.warning(
            request,
            f"{m.mentee.full_name} and {m.mentor.full_name} still have an active mentorship: end it or reassign the "
            "resident if they should no longer work together (Pairings, filtered by “Breaks a conflict”). They "
            "are told only that you ended it, never your reason.",
        )


FORM_OF = {"role": "role_form", "conflict": "conflict_form", "exception": "exception_form"}


@program_page("matching.manage_conflicts")
def conflicts_page(request, program):
    return _render(request, program, _forms(program))


@require_POST
@program_page("matching.manage_conflicts")
def conflicts_add(request, program, which):
    if which not in FORM_OF:
        raise Http404
    forms_ = _forms(program, request.POST, which)
    form = forms_[FORM_OF[which]]
    if form.is_valid():
        data = form.cleaned_data
        try:
            if which == "role":
                user = User.objects.get(pk=data["user"])
                entry, active = services.evaluator_role_add(
                    program=program, actor=request.user, user=user, role=data["role"]
                )
                messages.success(request, f"{user.full_name} is recorded as {entry.get_role_display().lower()}.")
            else:
                mentee, mentor = User.objects.get(pk=data["mentee"]), User.objects.get(pk=data["mentor"])
                if which == "conflict":
                    _, active = services.conflict_add(
                        program=program, actor=request.user, mentee=mentee, mentor=mentor, reason=data["reason"]
                    )
                    messages.success(request, f"{mentee.full_name} and {mentor.full_name} will not be paired.")
                else:
                    services.exception_grant(
                        program=program, actor=request.user, mentee=mentee, mentor=mentor, reason=data["reason"]
                    )
                    active = []
                    messages.success(request, f"{mentor.full_name} may mentor {mentee.full_name}.")
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            _warn_active(request, active)
            return redirect("matching:conflicts", slug=program.slug)
    return _render(request, program, forms_, status=400)


@require_POST
@program_page("matching.manage_conflicts")
def conflicts_remove(request, program, which, pk):
    model = {"role": EvaluatorRole, "conflict": ConflictOfInterest, "exception": PairingException}.get(which)
    if model is None:
        raise Http404
    entry = get_object_or_404(model, pk=pk, program=program)
    reason = request.POST.get("reason", "")[:REASON_MAX_LENGTH]
    try:
        if which == "role":
            services.evaluator_role_remove(entry=entry, actor=request.user, reason=reason)
        elif which == "conflict":
            services.conflict_remove(entry=entry, actor=request.user, reason=reason)
        else:
            _warn_active(request, services.exception_revoke(entry=entry, actor=request.user, reason=reason))
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Removed. The audit trail keeps the entry and your reason.")
    return redirect("matching:conflicts", slug=program.slug)


urlpatterns = [
    path("programs/<slug:slug>/conflicts/", conflicts_page, name="conflicts"),
    path("programs/<slug:slug>/conflicts/<str:which>/add/", conflicts_add, name="conflicts-add"),
    path("programs/<slug:slug>/conflicts/<str:which>/<int:pk>/remove/", conflicts_remove, name="conflicts-remove"),
]
