"""The ranking page of a match run's window: a cohort member numbers the people on the
other side (residents rank the run's mentors; mentors rank its residents), 1 = first
choice, blank = no preference, and may tick "never". A plain HTML form that works
without JavaScript; static/js/rankings.js only adds drag and "Move up/down" ordering,
which writes the same numbers into the same inputs.

The ranking is confidential to its author; saving goes through ``ranking_submit``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path

from ..match_runs.ranking import ranking_submit
from ..match_runs.selectors import rankings_for
from ..models import MatchRun
from ..rules import is_in_run_cohort


def _people_to_rank(run, user):
    as_mentee = run.mentees.filter(pk=user.pk).exists()
    others = (run.mentors if as_mentee else run.mentees).order_by("last_name", "first_name", "pk")
    return as_mentee, list(others)


def _read_form(post, people):
    """(ordered_ids, never_ids, rows, errors) from the posted numbers and checkboxes."""
    n = len(people)
    rows, errors, ranked, never = [], [], [], []
    for person in people:
        raw = (post.get(f"rank_{person.pk}") or "").strip()
        is_never = post.get(f"never_{person.pk}") == "on"
        row = {"person": person, "value": raw, "never": is_never, "error": ""}
        if raw:
            try:
                place = int(raw)
            except ValueError:
                place = None
            if place is None or not 1 <= place <= n:
                row["error"] = f"Enter a number from 1 to {n}, or leave it blank."
            elif is_never:
                row["error"] = "Either give a number or tick “never”, not both."
            else:
                ranked.append((place, person.pk))
        if is_never and not raw:
            never.append(person.pk)
        rows.append(row)
    places = [place for place, _ in ranked]
    duplicates = sorted({p for p in places if places.count(p) > 1})
    for row in rows:
        if row["value"] and not row["error"] and row["value"].isdigit() and int(row["value"]) in duplicates:
            row["error"] = f"Number {int(row['value'])} is used more than once."
    errors = [row["error"] for row in rows if row["error"]]
    return [pk for _, pk in sorted(ranked)], never, rows, errors


@login_required
def match_run_rank(request, pk):
    run = get_object_or_404(MatchRun.objects.select_related("program"), pk=pk)
    if not is_in_run_cohort.test(request.user, run):
        raise Http404
    if not request.user.has_perm("matching.rank_in_run", run):
        raise PermissionDenied("The ranking window for this match is closed.")
    as_mentee, people = _people_to_rank(run, request.user)

    status = 200
    if request.method == "POST":
        ordered, never, rows, errors = _read_form(request.POST, people)
        if not errors:
            try:
                ranking_submit(run=run, actor=request.user, ordered_ids=ordered, never_ids=never)
            except ValidationError as exc:
                errors = exc.messages
            else:
                messages.success(request, "Your ranking is saved. You can change it until the deadline.")
                return redirect("matching:match-run-rank", pk=run.pk)
        status = 400
    else:
        saved = {r.target_id: r for r in rankings_for(run, request.user)}
        rows = [
            {
                "person": person,
                "value": str(saved[person.pk].position) if person.pk in saved and not saved[person.pk].never else "",
                "never": person.pk in saved and saved[person.pk].never,
                "error": "",
            }
            for person in people
        ]
        errors = []

    return render(
        request,
        "matching/rankings/rank.html",
        {"run": run, "rows": rows, "errors": errors, "as_mentee": as_mentee, "count": len(people)},
        status=status,
    )


urlpatterns = [
    path("match-runs/<int:pk>/rank/", match_run_rank, name="match-run-rank"),
]
