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
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Program
from core.access import object_for, program_page
from core.csv import csv_response
from core.forms import add_service_errors, form_status
from core.search import from_last_visit

from .. import engine
from ..conflicts import blocked_pairs
from ..forms.match_review import OverrideForm, ReviewFilterForm
from ..forms.match_runs import WEIGHT_LABELS
from ..match_runs.execution import mentee_scores
from ..match_runs.freshness import run_changes
from ..match_runs.selectors import (
    LOW_SCORE,
    PAGE_SIZE,
    TIE_BREAK,
    decision_label,
    displaced_by,
    fit_score,
    holding_spot,
    match_run_compare,
    matched_counts,
    override_fit,
    proposals_for,
    rankings_used,
    review_proposals,
    review_summary,
    row_fit,
    row_score,
    row_score_sql,
    score_text,
    show_choices,
    standard_weights,
)
from ..match_runs.services import (
    CANCELLABLE,
    MAKE_ROOM_DISPLACE,
    MAKE_ROOM_RAISE,
    match_run_accept_pending,
    match_run_archive,
    match_run_cancel,
    match_run_publish,
    match_run_rerun,
    match_run_second_round,
    proposal_decide,
    proposal_override,
    second_round_refusal,
)
from ..models import MatchProposal, MatchRun
from .pairings import LEFT_OUT_WHY

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


FULLY_CHECKED = 3


@program_page("matching.manage_match_runs", queryset=_PROGRAMS)
def match_run_list(request, program):
    """The program's runs, newest first; discarded ones only with ``?archived=1``. Runs waiting
    for review say whether they are out of date (a few queries each: there are few such runs)."""
    all_runs = program.match_runs.select_related("created_by").order_by("-created_at", "-id")
    show_archived = request.GET.get("archived") == "1"
    runs = list(all_runs if show_archived else all_runs.filter(archived_at__isnull=True))
    # The newest runs waiting for review get the full check (about ten queries each, so at most
    # FULLY_CHECKED of them); older ones are out of date if a run was published after they finished.
    last_publish = max((r.published_at for r in runs if r.published_at), default=None)
    reviewable = [r for r in runs if r.can_review()]
    for i, run in enumerate(reviewable):
        if run.inputs and i < FULLY_CHECKED:
            run.out_of_date = bool(run_changes(run))
        else:  # also the whole check of a run that recorded no inputs, read here without a query
            run.out_of_date = bool(last_publish and last_publish > (run.finished_at or run.created_at))
    counts = matched_counts(runs)
    for run in runs:
        run.counts = counts.get(run.pk)
    archived = (
        sum(1 for r in runs if r.is_archived) if show_archived else all_runs.filter(archived_at__isnull=False).count()
    )
    return render(
        request,
        "matching/match_runs/list.html",
        {"program": program, "runs": runs, "archived_count": archived, "show_archived": show_archived},
    )


# --- Detail, review.


def _top_reasons(explanation, n=3):
    components = (explanation or {}).get("components") or []
    ranked = sorted(components, key=lambda c: -(c.get("points") or 0))
    return [c for c in ranked if c.get("reason")][:n]


def _for_rows(proposals, standard: bool) -> None:
    """What a proposal's row shows beside its fields: the pair's strongest reasons, its fit as
    the resident and the mentor see it elsewhere, and its score with the run's weights; for an
    override, of the pair the override makes (``override_fit``), with the proposed pair's fit."""
    # Whose override took a displaced resident's spot: one query, only when the page shows one.
    displacing = {p.pk: displaced_by(p) for p in proposals if displaced_by(p) is not None}
    took_spot = (
        {
            pk: f"{first} {last}".strip()
            for pk, first, last in MatchProposal.objects.filter(pk__in=set(displacing.values())).values_list(
                "pk", "mentee__first_name", "mentee__last_name"
            )
        }
        if displacing
        else {}
    )
    for p in proposals:
        p.override = override_fit(p)
        p.top_reasons = _top_reasons(p.override or p.explanation)
        p.fit = row_fit(p, standard=standard)
        p.row_score = row_score(p)
        p.proposed_fit = fit_score(p, standard=standard) if p.override else None
        p.displaced = p.pk in displacing
        p.displaced_for = took_spot.get(displacing.get(p.pk))


def _mark_accept_refused(proposals, summary) -> None:
    """``accept_refused``: a displaced row whose proposed mentor has no spot left in this match, so
    accepting it is refused (``services._check_spot``); its row offers Override instead. Once a spot
    frees (the override that took it is changed), it offers Accept again."""
    loads = {row.mentor_id: row for row in summary.mentor_load}
    for p in proposals:
        load = loads.get(p.mentor_id)
        p.accept_refused = bool(p.displaced and load is not None and load.holding >= load.spots)


def _weights_of(run) -> dict[str, float]:
    return engine.Weights.from_mapping(run.weights or {}).normalised()


def _scoring(run) -> dict:
    """How the review speaks of scores: the fit everyone sees (the standard weights), and, for a
    run that weighed the components its own way, that run's weights, as percentages."""
    standard = standard_weights(run)
    weights = _weights_of(run)
    return {
        "standard_weights": standard,
        "run_weights": [] if standard else [(WEIGHT_LABELS.get(k, k), round(100 * v)) for k, v in weights.items()],
    }


# The review's filters in the URL. The search (a name or an e-mail) is kept in the session
# instead, as every coordinator list keeps it (core/search.py): never in a URL, a log or a link.
REVIEW_KEYS = ("show", "mentor", "sort", "page")


def _search_key(run) -> str:
    return f"filters:match-review:{run.pk}"


def _review_query(data) -> str:
    """The review list's filters from ``data`` (a QueryDict), as a query string to come back to."""
    kept = QueryDict(mutable=True)
    for key in REVIEW_KEYS:
        value = (data.get(key) or "")[:100]
        if value:
            kept[key] = value
    return kept.urlencode()


def _back_to_review(run, data, proposal=None) -> HttpResponseRedirect:
    """The same page of the same filtered list, scrolled to the row just decided."""
    query = _review_query(QueryDict(data.get("back", "")))
    url = reverse("matching:match-run-detail", args=[run.pk]) + (f"?{query}" if query else "")
    return redirect(url + (f"#proposal-{proposal.pk}" if proposal else ""))


def _mentor_choices(summary, proposal, blocked=(), scores=None, *, standard=True):
    """The cohort's mentors, less those ``blocked`` keeps from the resident and the one already
    proposed (no override: accepting the proposal is the way): first those with a spot left in
    this match for ``proposal``'s resident ("2 spots left"), then the full ones, whom
    choosing asks how to make room (``_override_form``); within each, the best fit with the
    resident first (``scores``: {mentor id: score with the run's weights}, ``execution.mentee_scores``),
    each shown as the review shows a pair's (``standard``: the run's weights are the standard ones,
    so its score is the fit people see). The resident's own spot counts as free."""
    scores = scores or {}
    free, full = [], []
    for row in summary.mentor_load:
        # The proposed mentor is no override (the service refuses: accept the proposal instead).
        if row.mentor_id in blocked or row.mentor_id == proposal.mentor_id:
            continue
        taken = row.holding - (1 if proposal.final_mentor_id == row.mentor_id else 0)
        left = row.spots - taken
        score = scores.get(row.mentor_id)
        if score is None:
            fit = "no fit: no active profile"
        else:
            fit = f"fit {score_text(score)}/100" if standard else f"{score_text(score)} with this match's weights"
        if left > 0:
            room = f"{left} spot{'s' if left != 1 else ''} left"
        else:  # a mentor who gave no spot to this match is not "full": say which
            room = "full" if row.spots > 0 else "no spots in this match"
        # Best fit first; a mentor without a score last; then as the load table lists them (by name).
        choice = ((score is None, -(score or 0)), (row.mentor_id, f"{row.name} — {fit} ({room})"))
        (free if left > 0 else full).append(choice)
    groups = []
    if free:
        groups.append(("With a spot left in this match", [c for _, c in sorted(free, key=lambda x: x[0])]))
    if full:
        groups.append(("Full: choosing one asks how to make room", [c for _, c in sorted(full, key=lambda x: x[0])]))
    return groups


def _render_detail(request, run, *, status=200):
    context = {
        "run": run,
        "program": run.program,
        "refresh": run.status in (Status.QUEUED, Status.RUNNING),
        "can_cancel": run.status in CANCELLABLE,
        "can_archive": run.can_archive() and not run.is_archived,
        "reruns": list(run.reruns.order_by("-pk")),
        # No query for a run that had no window and reused no lists.
        "rankings": rankings_used(run),
    }
    if run.status == Status.SUCCEEDED:
        summary = review_summary(run)
        data = request.GET.copy()
        data["q"] = kept_search = request.session.get(_search_key(run), "")
        filters = ReviewFilterForm(data, mentor_choices=[(row.mentor_id, row.name) for row in summary.mentor_load])
        filters.fields["show"].choices = show_choices(published=run.is_published)
        if run.is_published:
            filters.fields["sort"].choices = [
                (k, "Not decided first" if k == "decision" else v) for k, v in filters.fields["sort"].choices
            ]
        values = filters.values()
        page = Paginator(review_proposals(run, **values), PAGE_SIZE).get_page(request.GET.get("page"))
        scoring = _scoring(run)
        _for_rows(page.object_list, scoring["standard_weights"])
        _mark_accept_refused(page.object_list, summary)
        changes = run_changes(run) if run.can_review() else []
        query = _review_query(request.GET)
        page_query = _review_query(QueryDict(query, mutable=True) if query else QueryDict())
        without_page = QueryDict(page_query, mutable=True)
        without_page.pop("page", None)
        context.update(
            summary=summary,
            changes=changes,
            page=page,
            proposals=page.object_list,
            filters=filters,
            filtering=any(values[k] not in (None, "", "all", "decision") for k in values),
            # Said above the list (the roster says the same): the search was set on an earlier visit.
            filters_from_last_visit=from_last_visit(request, kept_search),
            back=query,
            page_base=without_page.urlencode(),
            low_score=LOW_SCORE,
            tie_break=TIE_BREAK,
            next_rounds=list(run.next_rounds.order_by("-created_at")),
            second_round_refusal=second_round_refusal(run) if run.is_published and summary.left_without else "",
            can_review=run.can_review() and not changes,
            comparable=_comparable(run),
            **scoring,
        )
    return render(request, "matching/match_runs/detail.html", context, status=status)


def _comparable(run) -> list[MatchRun]:
    """The runs the review offers to compare with, each with ``compare_label``: what the engine
    proposed, and for a published run what was published too (the runs list counts the latter)."""
    # Counted in the same query (``matched_counts`` counts a published run's pairs the same way).
    paired = Q(proposals__decision__in=[Decision.ACCEPTED, Decision.OVERRIDDEN])
    runs = list(
        _finished_runs(run.program)
        .exclude(pk=run.pk)
        .filter(archived_at__isnull=True)
        .annotate(paired=Count("proposals", filter=paired))
    )
    for other in runs:
        label = f"{(other.stats or {}).get('matched', 0)} proposed"
        if other.is_published:
            label += f", {other.paired} published"
        other.compare_label = label
    return runs


@login_required
def match_run_detail(request, pk):
    run = _run_for(request, pk)
    if request.method == "POST":
        # The filter form: the search goes to the session, the rest to the URL (303, see REVIEW_KEYS).
        search = "" if "clear" in request.POST else (request.POST.get("q") or "").strip()[:100]
        if search:
            request.session[_search_key(run)] = search
        else:
            request.session.pop(_search_key(run), None)
        query = "" if "clear" in request.POST else _review_query(request.POST)
        url = reverse("matching:match-run-detail", args=[run.pk]) + (f"?{query}" if query else "")
        return HttpResponseRedirect(url, status=303)
    with timezone.override(request.user.zone):
        return _render_detail(request, run)


@login_required
def match_run_progress(request, pk):
    """The progress region alone, polled by htmx. Once the run stops running, ask htmx to
    reload the whole page, which then shows the proposals or the failure."""
    run = _run_for(request, pk)
    # Also once the ranking window a page showed open has closed: its summary of the window is stale.
    window_closed = request.GET.get("window") == "open" and not run.ranking_window_open()
    if run.status not in (Status.QUEUED, Status.RUNNING) or window_closed:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    with timezone.override(request.user.zone):
        return render(request, "matching/match_runs/_progress.html", {"run": run})


def _service_error(request, exc):
    messages.error(request, " ".join(exc.messages))


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _row_response(request, run, proposal_pk, *, message="", error="", retarget=False, displaced_pk=None):
    """htmx: the decided row again, and the summary and load table swapped out of band.
    ``retarget``: the request came from the override form inside the row, so the row replaces the row.
    ``displaced_pk``: the override displaced that proposal, whose row is swapped out of band too."""
    run.refresh_from_db(fields=["extra_spots"])  # an override may have given a mentor a spot
    pks = [proposal_pk] + ([displaced_pk] if displaced_pk is not None else [])
    rows = {p.pk: p for p in proposals_for(run).filter(pk__in=pks)}
    proposal = rows[proposal_pk]
    displaced = rows.get(displaced_pk) if displaced_pk is not None else None
    scoring = _scoring(run)
    _for_rows(list(rows.values()), scoring["standard_weights"])
    summary = review_summary(run)
    _mark_accept_refused(list(rows.values()), summary)
    response = render(
        request,
        "matching/match_runs/_row_swap.html",
        {
            "run": run,
            "program": run.program,
            "p": proposal,
            "displaced": displaced,
            "summary": summary,
            "can_review": True,
            "back": _review_query(QueryDict(request.POST.get("back", ""))),
            "row_message": message,
            "row_error": error,
            "low_score": LOW_SCORE,
            **scoring,
        },
    )
    if retarget:
        response["HX-Retarget"] = f"#proposal-{proposal.pk}"
        response["HX-Reswap"] = "outerHTML"
    return response


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
        if _is_htmx(request):
            return _row_response(request, run, proposal.pk, error=" ".join(exc.messages))
        _service_error(request, exc)
    else:
        text = (
            f"Override undone: {proposal.mentee.full_name} is paired with {proposal.mentor.full_name}, as proposed."
            if proposal.decision == Decision.OVERRIDDEN
            else f"Accepted: {proposal.mentee.full_name} with {proposal.mentor.full_name}."
        )
        if _is_htmx(request):
            return _row_response(request, run, proposal.pk, message=text)
        messages.success(request, text)
    return _back_to_review(run, request.POST, proposal)


def _chosen_mentor(value: str) -> int | None:
    """A mentor id as the override form sends it, or None for anything else."""
    return int(value) if value.isascii() and value.isdigit() and len(value) < 12 else None


def _override_form(run, proposal, data=None, *, mentor_id=None):
    """The override form for ``proposal``; once the chosen mentor is full, with the ways to make room.
    Mentors a conflict of interest keeps from the resident are left out, and named with why, by the
    same rule as the assign form (``matching.conflicts.blocked_pairs``); the service refuses them too.
    Choosing a mentor asks (htmx, ``?room=1``) for those ways at once; without JavaScript, Save does."""
    summary = review_summary(run)
    blocked = {
        mentor_id: why
        for (_, mentor_id), why in blocked_pairs(
            [proposal.mentee_id], [row.mentor_id for row in summary.mentor_load]
        ).items()
    }
    room = []
    loads = {row.mentor_id: row for row in summary.mentor_load}
    row = loads.get(mentor_id) if mentor_id else None
    others = row.holding - (1 if proposal.final_mentor_id == row.mentor_id else 0) if row is not None else 0
    if row is not None and others >= row.spots:
        # Said plainly: the extra spot takes the mentor past the capacity they set on their profile.
        after = row.active + others + 1
        room.append(
            (
                MAKE_ROOM_RAISE,
                f"Giving {row.name} one more spot in this match ({row.spots + 1} in all): {after} mentees once "
                f"published, past the {row.capacity} on their profile",
            )
        )
        holders = (
            proposals_for(run)
            .filter(holding_spot(row.mentor_id))
            .exclude(pk=proposal.pk)
            .alias(row_score=row_score_sql())
            .order_by(F("row_score").asc(nulls_first=True), "mentee__last_name")
        )
        standard = standard_weights(run)
        for other in holders:
            # The pair holding the spot: an override onto this mentor by the pair it made.
            fit, other_score = row_fit(other, standard=standard), row_score(other)
            if fit is not None:
                score = f", fit {score_text(fit)}/100"
            else:
                score = "" if other_score is None else f", score {score_text(other_score, 1)} with this match's weights"
            room.append(
                (
                    f"{MAKE_ROOM_DISPLACE}{other.pk}",
                    f"Displacing {other.mentee.full_name} ({other.get_decision_display().lower()}{score}): "
                    "left without a mentor from this match",
                )
            )
    form = OverrideForm(
        data,
        prefix=f"o{proposal.pk}",
        auto_id=f"o{proposal.pk}-%s",
        mentor_choices=_mentor_choices(
            summary,
            proposal,
            blocked,
            mentee_scores(
                run, proposal.mentee, [r.mentor_id for r in summary.mentor_load if r.mentor_id not in blocked]
            ),
            standard=standard_weights(run),
        ),
        room_choices=room,
    )
    form.left_out = [
        (row.name, LEFT_OUT_WHY[blocked[row.mentor_id]]) for row in summary.mentor_load if row.mentor_id in blocked
    ]
    # Required is said once, as on every form: the textarea's ``required`` attribute and the
    # label's asterisk (templates/includes/field.html marks a required field's label); not in words too.
    form.fields["note"].label = "Why"
    url = reverse("matching:match-run-override", args=[run.pk, proposal.pk])
    form.fields["mentor"].widget.attrs.update(
        {
            # The select sends only its own value; a later choice replaces a request still under way.
            "hx-get": f"{url}?room=1",
            "hx-trigger": "change",
            "hx-target": f"#o{proposal.pk}-room",
            "hx-swap": "innerHTML",
            "hx-sync": "this:replace",
            "aria-controls": f"o{proposal.pk}-room",
        }
    )
    # Said to a screen reader once a mentor is chosen (the make-room choices appear further down).
    if room:
        form.room_status = f"{row.name} has no spot left in this match: choose below how to make room."
    elif row is not None and row.mentor_id not in blocked:
        form.room_status = f"{row.name} has a spot left in this match."
    else:
        form.room_status = ""
    return form


@login_required
def proposal_override_view(request, pk, proposal_pk):
    """GET: the override form (a fragment for htmx, else its own page). POST: override; a mentor
    with no spot left brings the form back with the choice to give a spot or displace someone."""
    run = _run_for(request, pk)
    proposal = get_object_or_404(proposals_for(run), pk=proposal_pk)
    proposal.fit = fit_score(proposal, standard=standard_weights(run))
    back = _review_query(
        QueryDict(request.POST.get("back", "") if request.method == "POST" else request.GET.get("back", ""))
    )
    if request.method == "POST":
        mentor_id = _chosen_mentor(request.POST.get(f"o{proposal.pk}-mentor", ""))
        form = _override_form(run, proposal, request.POST, mentor_id=mentor_id)
        if form.is_valid():
            mentor = get_object_or_404(run.mentors.all(), pk=form.cleaned_data["mentor"])
            try:
                proposal_override(
                    proposal=proposal,
                    actor=request.user,
                    mentor=mentor,
                    note=form.cleaned_data["note"],
                    make_room=form.cleaned_data.get("make_room") or "",
                )
            except PermissionDenied:
                raise Http404 from None
            except ValidationError as exc:
                if (
                    any(e.code == "no_spot" for e in exc.error_dict.get("make_room", []))
                    if hasattr(exc, "error_dict")
                    else False
                ):
                    form = _override_form(run, proposal, request.POST, mentor_id=mentor.pk)
                    form.is_valid()
                add_service_errors(form, exc)
            else:
                text = f"{proposal.mentee.full_name} will be paired with {mentor.full_name}."
                if _is_htmx(request):
                    # A displaced resident's row changes too ("displace:<id>", one of the form's choices).
                    make_room = form.cleaned_data.get("make_room") or ""
                    displaced = (
                        int(make_room.removeprefix(MAKE_ROOM_DISPLACE))
                        if make_room.startswith(MAKE_ROOM_DISPLACE)
                        else None
                    )
                    return _row_response(request, run, proposal.pk, message=text, retarget=True, displaced_pk=displaced)
                messages.success(request, text)
                return _back_to_review(run, request.POST, proposal)
        # htmx swaps a 400 in place too (the htmx-config meta of templates/base.html).
        status = form_status(form)
    else:
        mentor_id = _chosen_mentor(request.GET.get(f"o{proposal.pk}-mentor", ""))
        form = _override_form(run, proposal, mentor_id=mentor_id)
        if mentor_id is not None:
            form.initial["mentor"] = mentor_id
        status = 200
    # ``in_row``: the form opened in its row (htmx), whose slot its answer goes to; on its own page it posts plainly.
    context = {
        "run": run,
        "program": run.program,
        "p": proposal,
        "form": form,
        "back": back,
        "in_row": _is_htmx(request),
    }
    if not run.can_review():
        raise Http404
    if request.GET.get("room") == "1" and _is_htmx(request):
        # A mentor was just chosen: the ways to make room if they are full (none otherwise).
        return render(request, "matching/match_runs/_make_room_swap.html", context)
    template = "_override_form.html" if _is_htmx(request) else "override.html"
    with timezone.override(request.user.zone):
        return render(request, f"matching/match_runs/{template}", context, status=status)


_REFUSED = object()


def _attempt(request, act):
    """One service call for a page: its result, or ``_REFUSED`` once its refusal is shown as a
    message. A PermissionDenied is a 404: a run the user may not manage stays unseen."""
    try:
        return act()
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        _service_error(request, exc)
        return _REFUSED


def _to_run(run):
    return redirect("matching:match-run-detail", pk=run.pk)


def _confirm_page(request, run, **context):
    """The second step of an action one click should not take (see confirm.html): a POST
    without ``confirm=yes`` answers this page and changes nothing."""
    return render(request, "matching/match_runs/confirm.html", {"run": run, "program": run.program, **context})


def _confirmed(request) -> bool:
    return request.POST.get("confirm") == "yes"


@require_http_methods(["GET", "POST"])
@login_required
def match_run_accept_all(request, pk):
    """GET (a reload, a bookmark, the back button) and a POST without ``confirm=yes`` ask first."""
    run = _run_for(request, pk)
    if request.method != "POST" or not _confirmed(request):
        pending = review_summary(run).pending if run.can_review() else 0
        if not pending or run_changes(run):
            # Nothing to accept (or no longer acceptable): the page says why.
            return _back_to_review(run, request.POST)
        back = _review_query(QueryDict((request.POST if request.method == "POST" else request.GET).get("back", "")))
        cancel = reverse("matching:match-run-detail", args=[run.pk]) + (f"?{back}" if back else "")
        word = "proposal" if pending == 1 else "proposals"
        return _confirm_page(
            request,
            run,
            heading=f"Accept all {pending} remaining {word}?",
            crumb="Accept all remaining",
            points=[
                f"Every proposed pair still waiting for a decision ({pending}) is accepted as proposed, "
                "including those you have not looked at.",
                "Residents with no mentor proposed stay without one; rejected and overridden pairs are unchanged.",
                "Nothing is published and nobody is told yet: each pairing can still be rejected or "
                "overridden before you publish.",
            ],
            action=reverse("matching:match-run-accept-all", args=[run.pk]),
            hidden=[("back", back)] if back else [],
            yes_label=f"Yes, accept {pending} {word}",
            no_label="No, go back to the review",
            cancel_url=cancel,
        )
    result = _attempt(request, lambda: match_run_accept_pending(run=run, actor=request.user))
    if result is _REFUSED:
        return _to_run(run)
    done, not_done = result
    accepted = len(done)
    refused = [f"{proposal.mentee.full_name}: {why}" for proposal, why in not_done]
    if accepted:
        messages.success(request, f"Accepted {accepted} proposal{'s' if accepted != 1 else ''}.")
    for text in refused:
        messages.error(request, text)
    if not accepted and not refused:
        messages.info(request, "No proposal was waiting for a decision.")
    return _back_to_review(run, request.POST)


# How a coordinator publishes a run with proposals still waiting for a decision (``waiting``):
# accept them first, or leave them out (their residents get no mentor from this match).
ACCEPT_WAITING, LEAVE_WAITING = "accept", "leave"


def _plural(n: int, word: str, words: str = "") -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"


# The class of both ways to publish with proposals waiting, here and in _actions.html: equal weight.
PUBLISH_CHOICE_CLASS = "button-secondary"


def _publish_confirm(request, run, summary):
    """The second step of publishing, without JavaScript or from a reload: what it starts, whom
    it tells, and, when proposals are still waiting, what becomes of them, with the two ways on.
    Every count comes from ``summary.publish_outcomes``, as in the review's publish panel."""
    pending = summary.pending
    outcomes = summary.publish_outcomes

    def does(way) -> str:
        told = (
            f"tells the {_plural(way.left_without, 'resident')} left without a mentor from this match that they "
            "have none"
            if way.left_without
            else "nobody is left without a mentor"
        )
        return f"starts {_plural(way.publishes, 'mentorship')} and tells both people of each pair; {told}."

    points = []
    choices = []
    if pending:
        points.append(
            f"{_plural(pending, 'proposal is', 'proposals are')} still waiting for a decision. Each way below "
            "says whom it pairs and whom it tells they have no mentor."
        )
        # Neither way is the safe default, so neither is highlighted (see _actions.html): the same class.
        for way in outcomes:
            if way.waiting == LEAVE_WAITING:
                label = f"Publish only the {way.publishes} decided"
                points.append(f"Publish only the decided: {does(way)}")
            else:
                label = f"Accept the {pending} waiting and publish {way.publishes}"
                points.append(f"Accept the waiting and publish: {does(way)}")
            choices.append(("waiting", way.waiting, label, PUBLISH_CHOICE_CLASS))
    elif outcomes:
        points.append(f"Publishing {does(outcomes[0])}")
    points.append("It cannot be undone: a pairing that should not stand is then ended on the Pairings page.")
    total = outcomes[0].publishes if outcomes else 0
    return _confirm_page(
        request,
        run,
        heading=f"Publish match #{run.pk}?" if not pending else f"Publish with {_plural(pending, 'proposal')} waiting?",
        crumb="Publish",
        points=points,
        action=reverse("matching:match-run-publish", args=[run.pk]),
        choices=choices,
        yes_label="" if choices else f"Yes, publish {_plural(total, 'pairing')}",
        no_label="No, go back to the review",
        cancel_url=run.get_absolute_url(),
    )


@require_http_methods(["GET", "POST"])
@login_required
def match_run_publish_view(request, pk):
    """POST ``waiting`` (``ACCEPT_WAITING`` or ``LEAVE_WAITING``) publishes; without it, while
    proposals wait for a decision beside decided ones, and on GET, the confirmation page asks. A
    run with none waiting is published by the review's own confirmation (the disclosure)."""
    run = _run_for(request, pk)
    waiting = request.POST.get("waiting", "") if request.method == "POST" else ""
    summary = review_summary(run) if run.can_review() else None
    asks = summary is not None and summary.will_pair and summary.pending
    if request.method != "POST" or (asks and waiting not in (ACCEPT_WAITING, LEAVE_WAITING)):
        if run.is_published:
            messages.info(request, "This match has already been published.")
        if summary is None or not summary.will_pair or run_changes(run):
            return _to_run(run)  # nothing to publish, or no longer publishable: the page says why
        return _publish_confirm(request, run, summary)
    started = _attempt(
        request, lambda: match_run_publish(run=run, actor=request.user, accept_waiting=waiting == ACCEPT_WAITING)
    )
    if started is not _REFUSED:
        n = len(started)
        after = review_summary(run)
        left = after.left_without
        messages.success(
            request,
            f"Published: {n} mentorship{'s' if n != 1 else ''} started. Everyone paired has been notified."
            + (
                f" {left} resident{'s' if left != 1 else ''} of this match {'is' if left == 1 else 'are'} left "
                f"without a mentor and {'was' if left == 1 else 'were'} told so"
                + (
                    f", including {after.pending} whose proposal{' was' if after.pending == 1 else 's were'} "
                    "not decided before publishing."
                    if after.pending
                    else "."
                )
                if left
                else ""
            ),
        )
    return _to_run(run)


@require_POST
@login_required
def match_run_rerun_view(request, pk):
    run = _run_for(request, pk)
    new = _attempt(request, lambda: match_run_rerun(run=run, actor=request.user))
    if new is _REFUSED:
        return _to_run(run)
    used = rankings_used(new)
    lists = f" and {used.whose} collected for match #{used.collected_for}" if used.reused else ""
    messages.success(
        request,
        f"Match #{run.pk} was discarded; match #{new.pk} runs again with the same settings{lists}. {used.dropped}".strip(),
    )
    return _to_run(new)


@require_http_methods(["GET", "POST"])
@login_required
def match_run_archive_view(request, pk):
    """GET and a POST without ``confirm=yes``: the confirmation page."""
    run = _run_for(request, pk)
    reason = request.POST.get("reason", "")[:500]
    from_list = (request.POST if request.method == "POST" else request.GET).get("from") == "list"
    if request.method != "POST" or not _confirmed(request):
        if not run.can_archive() or run.is_archived:
            return _to_run(run)
        return _confirm_page(
            request,
            run,
            heading=f"Discard match #{run.pk}?",
            crumb="Discard",
            points=[
                "Its proposals can no longer be accepted, overridden or published, and nobody is told anything.",
                "It is kept read-only with its audit trail, under “Show archived” on the match runs list.",
                "This cannot be undone: to match these residents, start a new match run.",
            ],
            action=reverse("matching:match-run-archive", args=[run.pk]),
            hidden=[("from", "list")] if from_list else [],
            ask_reason=True,
            reason=reason,
            yes_label="Yes, discard this match",
            yes_class="button-danger",
            no_label="No, keep it",
            cancel_url=reverse("matching:match-runs", args=[run.program.slug]) if from_list else run.get_absolute_url(),
        )
    if _attempt(request, lambda: match_run_archive(run=run, actor=request.user, reason=reason)) is _REFUSED:
        return _to_run(run)
    messages.success(request, f"Match #{run.pk} was discarded. It stays in the audit trail and under “Show archived”.")
    if from_list:
        return redirect("matching:match-runs", slug=run.program.slug)
    return _to_run(run)


@require_http_methods(["GET", "POST"])
@login_required
def match_run_second_round_view(request, pk):
    """GET and a POST without ``confirm=yes``: the confirmation page (a second round starts at once,
    with this match's settings: the coordinator should know before, and know the other way)."""
    run = _run_for(request, pk)
    if request.method != "POST" or not _confirmed(request):
        if not run.is_published or second_round_refusal(run):
            return _to_run(run)
        return _confirm_page(
            request,
            run,
            heading=f"A second round after match #{run.pk}?",
            crumb="Second round",
            points=[
                f"A new match over the residents of match #{run.pk} still without a "
                f"{run.get_kind_display().lower()} mentor, and the mentors who still have an open spot.",
                "It uses this match's mode and weights, and starts at once: no ranking window. To choose other "
                "settings or ask people to rank, start a new match run from the match runs list instead.",
                "You review and publish it as any match: nobody is told anything before you publish.",
            ],
            action=reverse("matching:match-run-second-round", args=[run.pk]),
            yes_label="Start the second round",
            no_label="Not now",
            cancel_url=run.get_absolute_url(),
        )
    child = _attempt(request, lambda: match_run_second_round(run=run, actor=request.user))
    if child is _REFUSED:
        return _to_run(run)
    messages.success(request, "The second round has started for the residents still without a mentor.")
    return _to_run(child)


@require_POST
@login_required
def match_run_cancel_view(request, pk):
    run = _run_for(request, pk)
    reason = request.POST.get("reason", "")[:500]
    if _attempt(request, lambda: match_run_cancel(run=run, actor=request.user, reason=reason)) is not _REFUSED:
        messages.success(request, "The match was cancelled. Nothing was proposed or published.")
    return _to_run(run)


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
        {
            "program": run.program,
            "c": comparison,
            "run": run,
            "other": other,
            "tie_break": TIE_BREAK,
            "same_weights": _weights_of(run) == _weights_of(other),
            # Said above the figures: a published run's pairs hold spots a later run could not use.
            "published_runs": [(r, x) for r, x in ((run, comparison.a), (other, comparison.b)) if r.is_published],
        },
    )


# --- Export. The columns are documented in README.md ("Match run export").

EXPORT_COLUMNS = [
    "mentee",
    "mentee_email",
    "proposed_mentor",
    "score",
    "fit",
    "rank_obtained",
    "mentor_rank",
    "decision",
    "mentor_on_publish",
    "override_fit",
    "decision_note",
    "why_not",
]


@login_required
def match_run_export(request, pk):
    run = _run_for(request, pk)
    return csv_response(f"match-run-{run.pk}-proposals.csv", _export_rows(run))


def _export_rows(run):
    yield EXPORT_COLUMNS
    standard = standard_weights(run)
    published = run.is_published
    for p in proposals_for(run):
        # Who publishing pairs the resident with: nobody unless the decision is made (as the page counts).
        final = p.final_mentor if p.decision in (Decision.ACCEPTED, Decision.OVERRIDDEN) else None
        # The fit the resident and the mentor see (the review's "Fit 81/100"); empty where it is
        # unknown: a run with its own weights computed before runs recorded it.
        fit = fit_score(p, standard=standard)
        # An override's pair, scored as the run scored its own: "fit" above stays the proposed pair's.
        override = override_fit(p)
        chosen_fit = row_fit(p, standard=standard) if override else None
        yield [
            p.mentee.full_name,
            p.mentee.email,
            p.mentor.full_name if p.mentor else "",
            score_text(p.score, 1),
            score_text(fit, 1),
            p.rank_obtained if p.ranked else "",
            p.mentor_rank,
            decision_label(p, published=published),
            final.full_name if final else "",
            score_text(chosen_fit, 1),
            p.decision_note,
            # Why the match left them without a mentor: nothing to explain once the coordinator gave them one.
            p.why_not if final is None else "",
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
    path("match-runs/<int:pk>/rerun/", match_run_rerun_view, name="match-run-rerun"),
    path("match-runs/<int:pk>/archive/", match_run_archive_view, name="match-run-archive"),
]
