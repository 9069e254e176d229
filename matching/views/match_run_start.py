"""Before and at the start of a cohort match run.

The readiness page shows, for a run of one kind, who would be in the cohort and what would
make the match worse for them, each group with a one-click reminder
(``matching.match_runs.readiness``). The start form lets the coordinator choose the kind, the
cohort (residents and mentors), the algorithm, the weights, and optionally a ranking window;
the change goes through ``matching.match_runs.services.match_run_create``."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Program
from core.access import program_page
from core.forms import add_service_errors

from ..forms.match_runs import MatchRunForm
from ..match_runs.readiness import (
    GROUPS,
    KEPT_APART,
    MENTORS_FULL,
    REMINDABLE,
    Readiness,
    mentored_note,
    program_readiness,
    readiness_remind,
)
from ..match_runs.selectors import capacity_shortfall, ranking_sources, rankings_used, runs_awaiting_review
from ..match_runs.services import match_run_create
from ..models import Kind, Mentorship

PRESET_PGY1_UNPAIRED = "pgy1-unpaired"

_PROGRAMS = Program.objects.select_related("specialty")


def _kind_of(request) -> str:
    kind = request.POST.get("kind") or request.GET.get("kind")
    return kind if kind in Kind.values else Kind.CAREER


def _mentors_by_kind(mentee_ids) -> dict[int, dict[str, str]]:
    """{resident id: {kind: mentor's name}} for their active mentorships (one query)."""
    mentors: dict[int, dict[str, str]] = {}
    for m in Mentorship.objects.filter(status=Mentorship.Status.ACTIVE, mentee_id__in=list(mentee_ids)).select_related(
        "mentor"
    ):
        mentors.setdefault(m.mentee_id, {})[m.kind] = m.mentor.full_name
    return mentors


def _choosable(readiness: Readiness):
    """The start form's lists: active residents with a mentee profile (a resident with a mentor
    of the run's kind stays choosable, marked, and is left out by the run), and mentors who
    accept mentees and have an open spot."""
    mentees = [u for u in readiness.residents if u.is_active and getattr(u, "mentee_profile", None) is not None]
    return mentees, readiness.cohort_mentors


def _pgy1_unpaired(mentees, mentors_by_kind, kind) -> list[int]:
    return [
        u.pk
        for u in mentees
        if kind not in mentors_by_kind.get(u.pk, {})
        and u.mentee_profile.career_stage
        and u.mentee_profile.career_stage.code == "PGY-1"
    ]


def _chosen(form, name) -> set[int]:
    """The ids ticked in ``form``'s field ``name`` (as sent, before validation)."""
    return {int(v) for v in (form[name].value() or []) if str(v).isascii() and str(v).isdigit() and len(str(v)) < 12}


# How many names a warning lists before "and n more" (static/js/cohort.js says the same).
NAMED = 5


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:NAMED])
    return shown + (f" and {len(names) - NAMED} more" if len(names) > NAMED else "")


def _start_notices(form, mentees, mentors, mentors_by_kind, awaiting, kind) -> dict:
    """What the start form warns of, never blocking (static/js/cohort.js keeps them up to date
    as boxes are ticked): the chosen residents the run leaves out and why (a mentor of the
    kind already: ``match_cohort.left_out_reasons``), more residents than open spots, and, for
    each other run of the program waiting for review, the chosen residents it already holds
    (runs of another kind are listed for the script, hidden: a resident has one mentor of
    each kind)."""
    chosen = _chosen(form, "mentee_ids")
    chosen_mentors = _chosen(form, "mentor_ids")
    to_match = [u for u in mentees if u.pk in chosen and kind not in mentors_by_kind.get(u.pk, {})]
    kind_label = Kind(kind).label.lower()
    left_out = [
        {"name": u.full_name, "note": mentored_note(kind_label, mentors_by_kind[u.pk][kind])}
        for u in mentees
        if u.pk in chosen and kind in mentors_by_kind.get(u.pk, {})
    ]
    spots = sum(p.open_spots for p in mentors if p.user_id in chosen_mentors)
    runs: dict[int, dict] = {}
    for user in mentees:
        for run in awaiting.get(user.pk, []):
            entry = runs.setdefault(run.pk, {"run": run, "current": run.kind == kind, "names": []})
            if user.pk in chosen:
                entry["names"].append(user.full_name)
    other_runs = [{**entry, "named": _names(entry["names"])} for _, entry in sorted(runs.items())]
    return {
        "left_out": left_out,
        "left_out_sentence": _left_out_sentence(left_out),
        "shortfall": capacity_shortfall(len(to_match), spots),
        "other_runs": other_runs,
        "in_other_runs": [entry for entry in other_runs if entry["current"] and entry["names"]],
    }


def _cohort_count(rows) -> dict[str, int]:
    """The resident list's count, "0 of 153 chosen · 2 left out": read against the residents the
    run can match (the readiness panel's number), not every row; a resident with a mentor of the
    kind is left out whether chosen or not (static/js/cohort.js counts the same live)."""
    left_out = sum(1 for row in rows if row["has_mentor_of_kind"])
    return {
        "choosable_count": len(rows) - left_out,
        "chosen_count": sum(1 for row in rows if row["checked"] and not row["has_mentor_of_kind"]),
        "left_out_count": left_out,
    }


def _left_out_sentence(left_out) -> str:
    if not left_out:
        return ""
    named = "; ".join(f"{entry['name']} ({entry['note']})" for entry in left_out[:NAMED])
    more = f" and {len(left_out) - NAMED} more" if len(left_out) > NAMED else ""
    return f"Left out of this match, not asked to rank and not matched: {named}{more}."


def _resident_rows(form, mentees, mentors_by_kind, kind, awaiting):
    chosen = {str(v) for v in (form["mentee_ids"].value() or [])}
    rows = []
    for i, user in enumerate(mentees):
        stage = user.mentee_profile.career_stage
        mentored = mentors_by_kind.get(user.pk, {})
        rows.append(
            {
                "id": f"id_mentee_ids_{i}",
                "user": user,
                "pgy": stage.code if stage else "",
                "checked": str(user.pk) in chosen,
                "mentored": [
                    {
                        "kind": k,
                        "kind_label": Kind(k).label.lower(),
                        "mentor": name,
                        "note": mentored_note(Kind(k).label.lower(), name),
                        "current": k == kind,
                    }
                    for k, name in sorted(mentored.items())
                ],
                "mentored_kinds": " ".join(sorted(mentored)),
                "has_mentor_of_kind": kind in mentored,
                "other_runs": [{"run": run, "current": run.kind == kind} for run in awaiting.get(user.pk, [])],
                "other_run_ids": " ".join(str(run.pk) for run in awaiting.get(user.pk, [])),
            }
        )
    return rows


@program_page("matching.manage_match_runs", queryset=_PROGRAMS)
def match_run_readiness(request, program):
    kind = _kind_of(request)
    readiness = program_readiness(program, kind)
    return render(
        request,
        "matching/match_runs/readiness.html",
        {
            "program": program,
            "kind": kind,
            "kind_label": Kind(kind).label.lower(),
            "kinds": Kind.choices,
            "readiness": readiness,
            "remindable": REMINDABLE,
        },
    )


@require_POST
@program_page("matching.manage_match_runs", queryset=_PROGRAMS)
def match_run_readiness_remind(request, program):
    kind = _kind_of(request)
    group = request.POST.get("group", "")
    back = f"{reverse('matching:match-run-readiness', args=[program.slug])}?kind={kind}"
    if group not in GROUPS:
        messages.error(request, "Choose a group to remind.")
        return redirect(back)
    try:
        result = readiness_remind(program=program, actor=request.user, group=group, kind=kind)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    parts = []
    if result.notified:
        parts.append(f"Reminded {result.notified} {'person' if result.notified == 1 else 'people'}")
    if result.invited:
        parts.append(f"re-sent {result.invited} invitation{'s' if result.invited != 1 else ''}")
    if result.already_today:
        parts.append(f"{result.already_today} {'was' if result.already_today == 1 else 'were'} already reminded today")
    text = "; ".join(parts) if parts else "Nobody to remind in this group"
    messages.success(request, text[0].upper() + text[1:] + ".")
    # Back to the top, where the message is: each group's section is short (long lists fold).
    return redirect(back)


@program_page("matching.manage_match_runs", queryset=_PROGRAMS)
def match_run_create_view(request, program):
    kind = _kind_of(request)
    readiness = program_readiness(program, kind)
    mentees, mentors = _choosable(readiness)
    mentors_by_kind = _mentors_by_kind(u.pk for u in mentees)
    awaiting = runs_awaiting_review(program, [u.pk for u in mentees])
    preset = request.GET.get("preset")
    initial = {"kind": kind, "mentor_ids": [p.user_id for p in mentors]}
    if preset == PRESET_PGY1_UNPAIRED:
        initial["mentee_ids"] = _pgy1_unpaired(mentees, mentors_by_kind, kind)
    # Offered only when someone who submitted them can be matched from the lists below.
    sources = ranking_sources(program, mentee_ids=[u.pk for u in mentees], mentor_ids=[p.user_id for p in mentors])
    # The latest lists collected for this kind are chosen to start with when the residents who
    # submitted them and can still be matched are at least half of those this match can take (a match
    # over the same people with other settings should not silently drop their lists); with fewer, a
    # new ranking window is the better start, and the lists stay offered. Lists only mentors can still
    # use are offered, not chosen.
    eligible = sum(1 for u in mentees if kind not in mentors_by_kind.get(u.pk, {}))
    initial["rankings_from"] = next(
        (
            source.run.pk
            for source in sources
            if source.run.kind == kind
            and source.matchable_residents
            and 2 * len(source.matchable_residents) >= eligible
        ),
        "",
    )
    with timezone.override(request.user.zone):
        form = MatchRunForm(
            request.POST or None, initial=initial, mentees=mentees, mentors=mentors, ranking_sources=sources
        )
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
                    rankings_from=next((s.run for s in sources if s.run.pk == data.get("rankings_from")), None),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                notices = _start_notices(form, mentees, mentors, mentors_by_kind, awaiting, data["kind"])
                if notices["left_out"]:
                    messages.info(request, notices["left_out_sentence"])
                if notices["shortfall"]:
                    messages.warning(request, str(notices["shortfall"]))
                if notices["in_other_runs"]:
                    messages.warning(request, _other_runs_sentence(notices["in_other_runs"]))
                if run.ranking_deadline:
                    messages.success(
                        request, "The match is set up; residents and mentors can rank each other until the deadline."
                    )
                elif run.rankings_from_id:
                    used = rankings_used(run)
                    messages.success(
                        request,
                        f"The match has started with {used.whose} collected for match #{run.rankings_from_id}. "
                        f"{used.dropped}".strip(),
                    )
                else:
                    messages.success(request, "The match has started.")
                return redirect("matching:match-run-detail", pk=run.pk)
        form_kind = form["kind"].value() if form["kind"].value() in Kind.values else kind
        resident_rows = _resident_rows(form, mentees, mentors_by_kind, form_kind, awaiting)
        return render(
            request,
            "matching/match_runs/form.html",
            {
                "program": program,
                "form": form,
                "preset": preset,
                "kind": form_kind,
                "kind_label": Kind(form_kind).label.lower(),
                "readiness": readiness,
                "resident_rows": resident_rows,
                **_cohort_count(resident_rows),
                "notices": _start_notices(form, mentees, mentors, mentors_by_kind, awaiting, form_kind),
                "pgys": _stages(mentees),
                "preset_url": f"?preset={PRESET_PGY1_UNPAIRED}&kind={kind}",
                "readiness_url": f"{reverse('matching:match-run-readiness', args=[program.slug])}?kind={kind}",
                "unavailable": _unavailable_mentors(readiness),
            },
            status=400 if form.errors else 200,
        )


def _unavailable_mentors(readiness: Readiness) -> dict[str, int]:
    """Mentors of the program the form does not offer, and why (the readiness page names them)."""
    full, kept_apart = readiness.groups[MENTORS_FULL].count, readiness.groups[KEPT_APART].count
    return {"full": full, "kept_apart": kept_apart, "count": full + kept_apart}


def _other_runs_sentence(in_other_runs) -> str:
    runs = "; ".join(f"#{entry['run'].pk}: {entry['named']}" for entry in in_other_runs)
    return (
        f"Already in {'another match' if len(in_other_runs) == 1 else 'other matches'} waiting for review "
        f"({runs}). Publishing either match makes the other out of date: discard the one you will not use."
    )


def _stages(mentees) -> list[str]:
    """The PGY codes among ``mentees``, in the vocabulary's order (PGY-1 before PGY-10)."""
    stages = {u.mentee_profile.career_stage for u in mentees if u.mentee_profile.career_stage}
    return [s.code for s in sorted(stages, key=lambda s: (s.order, s.name))]


urlpatterns = [
    path("programs/<slug:slug>/match-runs/new/", match_run_create_view, name="match-run-create"),
    path("programs/<slug:slug>/match-runs/readiness/", match_run_readiness, name="match-run-readiness"),
    path(
        "programs/<slug:slug>/match-runs/readiness/remind/",
        match_run_readiness_remind,
        name="match-run-readiness-remind",
    ),
]
