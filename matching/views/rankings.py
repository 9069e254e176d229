"""The ranking window's pages.

- The ranking page: a cohort member numbers the people on the other side (residents rank
  the run's mentors; mentors rank its residents), 1 = first choice, blank = no preference,
  may tick "never", and submits the list ("Submit my list", then "Update my list" until the
  deadline). Each row says what to rank by (``match_runs.ranking_rows``). A plain HTML form
  that works without JavaScript; static/js/rankings.js adds drag, move buttons and an
  explicit "Sort by my numbers", which write the same numbers into the same inputs, and a
  finder for long lists (name search, PGY year, "only those I numbered") that hides rows,
  never their numbers. The ranked rows come first, in the order of their numbers, then
  everyone else in fit order.
  Once the window has closed the page says so and shows the person their own submitted
  list, read-only (200); a list sent then is refused (410), and so is the page of a match
  called off or discarded.
- The coordinator's window page: the counts and the actions first (a reminder for those not
  reminded in the last day, close now, extend), then who has submitted and who has not, each
  list showing its first names and the rest behind "Show all". "Close now" asks first: its
  POST without ``confirm=yes`` answers a confirmation page and changes nothing.
  Coordinators of the run's program only; 404 for anyone else.

The ranking is confidential to its author (``ranking_notices.PRIVACY_TEXT``); every change goes
through the services of ``match_runs.ranking``.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from core.access import object_for
from core.bounds import SCHEDULED
from core.forms import add_service_errors
from core.zones import ZonedDateTimeField, zone_name

from ..match_runs.ranking import (
    ranking_submit,
    ranking_window_close,
    ranking_window_extend,
    ranking_window_remind_waiting,
    ranking_window_status,
    reminder_plan,
    submission_of,
)
from ..match_runs.ranking_notices import PRIVACY_TEXT
from ..match_runs.ranking_rows import rank_rows, stages_of
from ..match_runs.selectors import rankings_for
from ..models import MatchProposal, MatchRun
from ..rules import is_in_run_cohort

# --- The ranking page.


def _read_form(post, people):
    """(ordered_ids, never_ids, values, errors) from the posted numbers and checkboxes;
    ``values`` = {person id: {"value", "never", "error"}} to show the form again."""
    n = len(people)
    values, ranked, never = {}, [], []
    for person in people:
        raw = (post.get(f"rank_{person.pk}") or "").strip()
        is_never = post.get(f"never_{person.pk}") == "on"
        entry = {"value": raw, "never": is_never, "error": ""}
        if raw:
            try:
                place = int(raw)
            except ValueError:
                place = None
            if place is None or not 1 <= place <= n:
                entry["error"] = f"Enter a number from 1 to {n}, or leave it blank."
            elif is_never:
                entry["error"] = "Either give a number or tick “never”, not both."
            else:
                ranked.append((place, person.pk))
        if is_never and not raw:
            never.append(person.pk)
        values[person.pk] = entry
    places = [place for place, _ in ranked]
    duplicates = {p for p in places if places.count(p) > 1}
    # A number given twice is said once, in the summary ("Number 2 is given to A and B");
    # each row it is given to gets a short marker beside its input.
    shared: dict[int, list] = {}
    for person in people:
        entry = values[person.pk]
        if entry["value"] and not entry["error"] and entry["value"].isdigit() and int(entry["value"]) in duplicates:
            shared.setdefault(int(entry["value"]), []).append(person)
    for persons in shared.values():
        for person in persons:
            values[person.pk]["error"] = "Used twice"
    errors = [
        (person, values[person.pk]["error"])
        for person in people
        if values[person.pk]["error"] and values[person.pk]["error"] != "Used twice"
    ] + [
        (persons[0], f"Number {number} is given to {_names(persons)}: give each person a different number.")
        for number, persons in sorted(shared.items())
    ]
    return [pk for _, pk in sorted(ranked)], never, values, errors


def _names(people) -> str:
    names = [p.full_name for p in people]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _in_saved_order(rows, saved):
    """The rows as the page shows them, with or without JavaScript: the ranked ones in the
    order of their saved numbers, then everyone else (no preference and "never" alike) in
    fit order, where they stood. static/js/rankings.js draws the same order."""
    ranked = sorted(
        (row for row in rows if row.person.pk in saved and not saved[row.person.pk].never),
        key=lambda row: saved[row.person.pk].position,
    )
    return ranked, [row for row in rows if row not in ranked]


def _closed(request, run, *, status=410):
    """The page a ranker gets once the window has closed (or the run was called off). A
    closed window shows the ranker their own submitted list, read-only (200); a change
    sent to it is refused (410), as is any visit to a match called off or discarded."""
    context = {"run": run, "privacy_text": PRIVACY_TEXT}
    if run.ranking_deadline is not None and run.archived_at is None and run.status != MatchRun.Status.CANCELLED:
        mine = list(rankings_for(run, request.user))
        context.update(
            read_only=True,
            as_mentee=run.mentees.filter(pk=request.user.pk).exists(),
            submission=submission_of(run, request.user),
            ranked=[r for r in mine if not r.never],
            never=[r for r in mine if r.never],
        )
        if run.published_at is not None:
            context.update(_published_outcome(run, request.user, as_mentee=context["as_mentee"]))
        if request.method == "GET":
            status = 200
    return render(request, "matching/rankings/closed.html", context, status=status)


def _published_outcome(run, user, *, as_mentee):
    """What a published run gave ``user``: as a mentee, ``my_proposal`` (their proposal, with
    ``matched`` and the engine's ``reason`` spoken to them) or None if the run did not include
    them; as a mentor, ``my_new_mentees``, the residents it paired with them."""
    confirmed = (MatchProposal.Decision.ACCEPTED, MatchProposal.Decision.OVERRIDDEN)
    if as_mentee:
        proposal = run.proposals.filter(mentee=user).select_related("mentor", "override_mentor").first()
        if proposal is not None:
            proposal.matched = proposal.decision in confirmed and proposal.final_mentor_id is not None
            proposal.reason = proposal.why_not_for_mentee if proposal.mentor_id is None else ""
        return {"my_proposal": proposal}
    mine = run.proposals.filter(
        Q(decision=MatchProposal.Decision.ACCEPTED, mentor=user)
        | Q(decision=MatchProposal.Decision.OVERRIDDEN, override_mentor=user)
    ).select_related("mentee")
    return {"my_new_mentees": [p.mentee for p in mine]}


@login_required
def match_run_rank(request, pk):
    run = get_object_or_404(MatchRun.objects.select_related("program"), pk=pk)
    if not is_in_run_cohort.test(request.user, run):
        raise Http404
    if not request.user.has_perm("matching.rank_in_run", run) or run.archived_at is not None:
        return _closed(request, run)
    as_mentee = run.mentees.filter(pk=request.user.pk).exists()
    rows = rank_rows(run, request.user, as_mentee=as_mentee)
    fit_place = {row.person.pk: i for i, row in enumerate(rows)}
    people = [row.person for row in rows]
    saved = {r.target_id: r for r in rankings_for(run, request.user)}
    submission = submission_of(run, request.user)

    status, errors = 200, []
    if request.method == "POST":
        ordered, never, values, errors = _read_form(request.POST, people)
        if not errors:
            try:
                ranking_submit(run=run, actor=request.user, ordered_ids=ordered, never_ids=never)
            except ValidationError as exc:
                errors = [(None, message) for message in exc.messages]
            else:
                what = f"({len(ordered)} ranked, {len(never)} marked never)"
                messages.success(
                    request,
                    f"Your updated list is saved {what}; it replaces the one you submitted before. "
                    "We sent you a receipt. You can change it until the deadline."
                    if submission is not None
                    else f"Your list is submitted {what}. We sent you a receipt. You can change it until the deadline.",
                )
                return redirect("matching:match-run-rank", pk=run.pk)
        status = 400
    else:
        values = {
            person.pk: {
                "value": str(saved[person.pk].position) if person.pk in saved and not saved[person.pk].never else "",
                "never": person.pk in saved and saved[person.pk].never,
                "error": "",
            }
            for person in people
        }

    ranked_rows, other_rows = _in_saved_order(rows, saved)
    return render(
        request,
        "matching/rankings/rank.html",
        {
            "run": run,
            "ranked_rows": [(row, values[row.person.pk], fit_place[row.person.pk]) for row in ranked_rows],
            "other_rows": [(row, values[row.person.pk], fit_place[row.person.pk]) for row in other_rows],
            "errors": errors,
            "as_mentee": as_mentee,
            "count": len(rows),
            "stages": stages_of(rows),
            "submission": submission,
            "privacy_text": PRIVACY_TEXT,
        },
        status=status,
    )


# --- The coordinator's window page.


_RUNS = MatchRun.objects.select_related("program")


class ExtendForm(forms.Form):
    ranking_deadline = forms.DateTimeField(label="New deadline")  # replaced per viewer in __init__

    def __init__(self, *args, zone, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ranking_deadline"] = ZonedDateTimeField(
            zone=zone,
            label="New deadline",
            widget=forms.DateTimeInput(
                attrs={"type": "datetime-local", **SCHEDULED.html_times(zone)}, format="%Y-%m-%dT%H:%M"
            ),
            input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
            help_text=f"In your time zone ({zone_name(zone)}). Everyone in the cohort is told the new date.",
            error_messages={"required": "Enter the new deadline.", "invalid": "Enter a date and time."},
        )


# Each name list on the window page shows this many names, then "Show all" for the rest:
# with two hundred people waiting, "Submitted" must not come after two hundred names.
NAMES_SHOWN = 20


def _window_context(run):
    window = ranking_window_status(run)
    is_open = run.ranking_window_open() and run.archived_at is None
    return {
        "run": run,
        "program": run.program,
        "window": window,
        "open": is_open,
        "plan": reminder_plan(run, window) if is_open else None,
        "names_shown": NAMES_SHOWN,
        "first_names": f":{NAMES_SHOWN}",
        "other_names": f"{NAMES_SHOWN}:",
        "privacy_text": PRIVACY_TEXT,
    }


def _window_page(request, run, *, extend_form=None, status=200):
    context = _window_context(run)
    context["extend_form"] = extend_form or ExtendForm(zone=request.user.time_zone)
    return render(request, "matching/rankings/window.html", context, status=status)


def _close_confirm_page(request, run):
    """The second step of "Close now": what closing does, with the counts, and the button
    that does it. The first POST (without ``confirm``) lands here and changes nothing."""
    return render(request, "matching/rankings/close_confirm.html", _window_context(run))


@login_required
def ranking_window(request, pk):
    run = object_for(request.user, _RUNS, pk, "matching.manage_match_runs")
    if run.ranking_deadline is None:
        raise Http404
    return _window_page(request, run)


@login_required
@require_http_methods(["GET", "POST"])
def ranking_window_action(request, pk, action):
    """POST: remind, extend, close (close asks first). GET (a reload, a bookmark, the back button
    after the confirmation): "close" shows its confirmation again, the others the window page."""
    run = object_for(request.user, _RUNS, pk, "matching.manage_match_runs")
    if run.ranking_deadline is None:
        raise Http404
    if request.method != "POST":
        if action == "close":
            if run.ranking_window_open() and run.archived_at is None:
                return _close_confirm_page(request, run)
            messages.info(request, "The ranking window is already closed.")
        return redirect("matching:ranking-window", pk=run.pk)
    if action == "extend":
        form = ExtendForm(request.POST, zone=request.user.time_zone)
        if form.is_valid():
            try:
                ranking_window_extend(run=run, actor=request.user, deadline=form.cleaned_data["ranking_deadline"])
            except ValidationError as exc:
                if not hasattr(exc, "error_dict"):  # the window itself has closed: the page says so
                    messages.error(request, " ".join(exc.messages))
                    return redirect("matching:ranking-window", pk=run.pk)
                add_service_errors(form, exc)
            else:
                messages.success(request, "The deadline is extended; everyone in the cohort is told the new date.")
                return redirect("matching:ranking-window", pk=run.pk)
        return _window_page(request, run, extend_form=form, status=400)
    try:
        if action == "remind":
            outcome = ranking_window_remind_waiting(run=run, actor=request.user)
            n, skipped = outcome.reminded, outcome.skipped
            if n:
                messages.success(
                    request,
                    f"Reminded {n} {'person' if n == 1 else 'people'} who had not submitted."
                    + (f" Skipped {skipped} already reminded in the last 24 hours." if skipped else ""),
                )
            else:
                messages.info(
                    request,
                    "Nothing was sent: "
                    + (
                        "the 1 person who had not submitted was"
                        if skipped == 1
                        else f"all {skipped} people who had not submitted were"
                    )
                    + " reminded in the last 24 hours.",
                )
        elif action == "close":
            if request.POST.get("confirm") != "yes":
                if not (run.ranking_window_open() and run.archived_at is None):
                    return redirect("matching:ranking-window", pk=run.pk)
                return _close_confirm_page(request, run)
            try:
                ranking_window_close(run=run, actor=request.user)
            except ValidationError:
                run.refresh_from_db(fields=["ranking_deadline", "archived_at"])
                if run.ranking_window_open() or run.archived_at is not None:
                    raise
                # A second click on "Yes, close now" (or another coordinator's close) got there
                # first: the window is closed and the match started, which is what was asked.
                messages.info(request, "The ranking window was already closed; the match has started.")
                return redirect(run.get_absolute_url())
            messages.success(request, "The ranking window is closed and the match has started.")
            return redirect(run.get_absolute_url())
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("matching:ranking-window", pk=run.pk)


urlpatterns = [
    path("match-runs/<int:pk>/rank/", match_run_rank, name="match-run-rank"),
    path("match-runs/<int:pk>/window/", ranking_window, name="ranking-window"),
    path(
        "match-runs/<int:pk>/window/remind/", ranking_window_action, {"action": "remind"}, name="ranking-window-remind"
    ),
    path("match-runs/<int:pk>/window/close/", ranking_window_action, {"action": "close"}, name="ranking-window-close"),
    path(
        "match-runs/<int:pk>/window/extend/", ranking_window_action, {"action": "extend"}, name="ranking-window-extend"
    ),
]
