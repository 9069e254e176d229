"""Coordinator pages for cohort match runs: list, start, watch, review, publish, export.

Every change goes through ``matching.match_runs.services``; who may do what is asked of
``matching.rules`` (``matching.manage_match_runs``). A program or run the user does not
coordinate is a 404, for everyone (residents and faculty included), so it stays unseen.
While the run is queued or running, htmx polls its progress region (a plain
``<meta http-equiv="refresh">`` does it without JavaScript).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Program, User
from core.access import object_for, program_page
from core.csv import csv_response
from core.forms import add_service_errors

from ..forms.match_runs import OverrideForm
from ..match_runs.selectors import match_run_compare, proposals_for
from ..match_runs.services import (
    CANCELLABLE,
    match_run_accept_pending,
    match_run_cancel,
    match_run_publish,
    match_run_second_round,
    proposal_decide,
    proposal_override,
)
from ..models import MatchProposal, MatchRun

Decision = MatchProposal.Decision
Status = MatchRun.Status


# --- Loading.


_PROGRAMS = Program.objects.select_related("specialty")


_RUNS = MatchRun.objects.select_related("program", "created_by", "published_by", "parent")


def _run_for(request, pk) -> MatchRun:
    return object_for(request.user, _RUNS, pk, "matching.manage_match_runs")


def _proposal(run, proposal_pk) -> MatchProposal:
    return get_object_or_404(run.proposals, pk=proposal_pk)


def _finished_runs(program):
    return program.match_runs.filter(status=Status.SUCCEEDED).order_by("-created_at", "-id")


# --- List.


@program_page("matching.manage_match_runs", queryset=_PROGRAMS)
def match_run_list(request, program):
    runs = program.match_runs.select_related("created_by").order_by("-created_at", "-id")
    return render(request, "matching/match_runs/list.html", {"program": program, "runs": runs})


# --- Detail, review.


def _top_reasons(proposal, n=3):
    components = (proposal.explanation or {}).get("components") or []
    ranked = sorted(components, key=lambda c: -(c.get("points") or 0))
    return [c for c in ranked if c.get("reason")][:n]


def _render_detail(request, run, *, bound_override=None, status=200):
    """The run's page. ``bound_override`` = (proposal pk, bound OverrideForm) re-shows a refused override."""
    context = {
        "run": run,
        "program": run.program,
        "refresh": run.status in (Status.QUEUED, Status.RUNNING),
        "can_cancel": run.status in CANCELLABLE,
    }
    if run.status == Status.SUCCEEDED:
        proposals = list(proposals_for(run))
        cohort_mentors = list(run.mentors.order_by("last_name", "first_name", "pk"))
        mentor_choices = [(m.pk, m.full_name) for m in cohort_mentors]
        for p in proposals:
            p.top_reasons = _top_reasons(p)
            if bound_override and bound_override[0] == p.pk:
                p.override_form = bound_override[1]
            else:
                p.override_form = OverrideForm(prefix=f"o{p.pk}", auto_id=f"o{p.pk}-%s", mentor_choices=mentor_choices)
        names = {m.pk: m.full_name for m in cohort_mentors}
        load = [
            {"name": names.get(int(pk), f"Mentor #{pk}"), **values}
            for pk, values in (run.stats.get("mentor_load") or {}).items()
        ]
        load.sort(key=lambda row: row["name"])
        decided = [p for p in proposals if p.decision in (Decision.ACCEPTED, Decision.OVERRIDDEN)]
        context.update(
            proposals=proposals,
            mentor_load=load,
            pending_matched=sum(1 for p in proposals if p.mentor_id and p.decision == Decision.PENDING),
            decided_count=len(decided),
            unmatched_after=len(proposals) - len(decided),
            next_rounds=list(run.next_rounds.order_by("-created_at")),
            can_review=run.can_review(),
            comparable=list(_finished_runs(run.program).exclude(pk=run.pk)),
        )
    return render(request, "matching/match_runs/detail.html", context, status=status)


@login_required
def match_run_detail(request, pk):
    run = _run_for(request, pk)
    with timezone.override(request.user.zone):
        return _render_detail(request, run)


@login_required
def match_run_progress(request, pk):
    """The progress region alone, polled by htmx. Once the run stops running, ask htmx to
    reload the whole page, which then shows the proposals or the failure."""
    run = _run_for(request, pk)
    if run.status not in (Status.QUEUED, Status.RUNNING):
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    with timezone.override(request.user.zone):
        return render(request, "matching/match_runs/_progress.html", {"run": run})


def _service_error(request, exc):
    messages.error(request, " ".join(exc.messages))


@require_POST
@login_required
def proposal_accept_view(request, pk, proposal_pk):
    run = _run_for(request, pk)
    proposal = _proposal(run, proposal_pk)
    try:
        proposal_decide(proposal=proposal, actor=request.user, decision=Decision.ACCEPTED)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        _service_error(request, exc)
    else:
        messages.success(request, f"Accepted: {proposal.mentee.full_name} with {proposal.mentor.full_name}.")
    return redirect("matching:match-run-detail", pk=run.pk)


@require_POST
@login_required
def proposal_override_view(request, pk, proposal_pk):
    run = _run_for(request, pk)
    proposal = _proposal(run, proposal_pk)
    mentor_choices = [(m.pk, m.full_name) for m in run.mentors.order_by("last_name", "first_name", "pk")]
    form = OverrideForm(
        request.POST, prefix=f"o{proposal.pk}", auto_id=f"o{proposal.pk}-%s", mentor_choices=mentor_choices
    )
    if form.is_valid():
        mentor = User.objects.get(pk=form.cleaned_data["mentor"])
        try:
            proposal_override(proposal=proposal, actor=request.user, mentor=mentor, note=form.cleaned_data["note"])
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{proposal.mentee.full_name} will be paired with {mentor.full_name}.")
            return redirect("matching:match-run-detail", pk=run.pk)
    with timezone.override(request.user.zone):
        return _render_detail(request, run, bound_override=(proposal.pk, form), status=400)


@require_POST
@login_required
def match_run_accept_all(request, pk):
    run = _run_for(request, pk)
    try:
        done, not_done = match_run_accept_pending(run=run, actor=request.user)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        _service_error(request, exc)
        return redirect("matching:match-run-detail", pk=run.pk)
    accepted = len(done)
    refused = [f"{proposal.mentee.full_name}: {why}" for proposal, why in not_done]
    if accepted:
        messages.success(request, f"Accepted {accepted} proposal{'s' if accepted != 1 else ''}.")
    for text in refused:
        messages.error(request, text)
    if not accepted and not refused:
        messages.info(request, "No proposal was waiting for a decision.")
    return redirect("matching:match-run-detail", pk=run.pk)


@require_POST
@login_required
def match_run_publish_view(request, pk):
    run = _run_for(request, pk)
    try:
        started = match_run_publish(run=run, actor=request.user)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        _service_error(request, exc)
    else:
        n = len(started)
        messages.success(
            request, f"Published: {n} mentorship{'s' if n != 1 else ''} started. Everyone paired has been notified."
        )
    return redirect("matching:match-run-detail", pk=run.pk)


@require_POST
@login_required
def match_run_second_round_view(request, pk):
    run = _run_for(request, pk)
    try:
        child = match_run_second_round(run=run, actor=request.user)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        _service_error(request, exc)
        return redirect("matching:match-run-detail", pk=run.pk)
    messages.success(request, "The second round has started for the residents still without a mentor.")
    return redirect("matching:match-run-detail", pk=child.pk)


@require_POST
@login_required
def match_run_cancel_view(request, pk):
    run = _run_for(request, pk)
    try:
        match_run_cancel(run=run, actor=request.user, reason=request.POST.get("reason", "")[:500])
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        _service_error(request, exc)
    else:
        messages.success(request, "The match was cancelled. Nothing was proposed or published.")
    return redirect("matching:match-run-detail", pk=run.pk)


@login_required
def match_run_compare_view(request, pk):
    """``?with=<other run>``: this run and another of the program, side by side."""
    run = _run_for(request, pk)
    other_pk = request.GET.get("with", "")
    if not (other_pk.isascii() and other_pk.isdigit() and len(other_pk) < 19):  # "²" is a digit to isdigit()
        messages.error(request, "Choose a run to compare with.")
        return redirect("matching:match-run-detail", pk=run.pk)
    other = _run_for(request, int(other_pk))
    try:
        comparison = match_run_compare(a=run, b=other, actor=request.user)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        _service_error(request, exc)
        return redirect("matching:match-run-detail", pk=run.pk)
    return render(
        request,
        "matching/match_runs/compare.html",
        {"program": run.program, "c": comparison, "run": run, "other": other},
    )


# --- Export.

EXPORT_COLUMNS = [
    "mentee",
    "mentee_email",
    "proposed_mentor",
    "score",
    "rank_obtained",
    "mentor_rank",
    "decision",
    "final_mentor",
    "decision_note",
    "why_not",
]


@login_required
def match_run_export(request, pk):
    run = _run_for(request, pk)
    return csv_response(f"match-run-{run.pk}-proposals.csv", _export_rows(run))


def _export_rows(run):
    yield EXPORT_COLUMNS
    for p in proposals_for(run):
        final = p.override_mentor if p.decision == Decision.OVERRIDDEN else p.mentor
        yield [
            p.mentee.full_name,
            p.mentee.email,
            p.mentor.full_name if p.mentor else "",
            "" if p.score is None else f"{p.score:.1f}",
            p.rank_obtained,
            p.mentor_rank,
            p.get_decision_display(),
            final.full_name if final and p.decision != Decision.REJECTED else "",
            p.decision_note,
            p.why_not,
        ]


urlpatterns = [
    path("programs/<slug:slug>/match-runs/", match_run_list, name="match-runs"),
    path("match-runs/<int:pk>/", match_run_detail, name="match-run-detail"),
    path("match-runs/<int:pk>/progress/", match_run_progress, name="match-run-progress"),
    path("match-runs/<int:pk>/proposals/<int:proposal_pk>/accept/", proposal_accept_view, name="match-run-accept"),
    path(
        "match-runs/<int:pk>/proposals/<int:proposal_pk>/override/", proposal_override_view, name="match-run-override"
    ),
    path("match-runs/<int:pk>/accept-all/", match_run_accept_all, name="match-run-accept-all"),
    path("match-runs/<int:pk>/publish/", match_run_publish_view, name="match-run-publish"),
    path("match-runs/<int:pk>/second-round/", match_run_second_round_view, name="match-run-second-round"),
    path("match-runs/<int:pk>/cancel/", match_run_cancel_view, name="match-run-cancel"),
    path("match-runs/<int:pk>/compare/", match_run_compare_view, name="match-run-compare"),
    path("match-runs/<int:pk>/proposals.csv", match_run_export, name="match-run-export"),
]
