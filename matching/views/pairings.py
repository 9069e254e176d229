"""A program's pairings, for its coordinators: the list with its filters, the residents still
without a mentor of a kind, the CSV export of exactly what the list selects, and the forms
to pair a resident, end a pairing or reassign a resident.

The list, its export and /api/v1/programs/<slug>/pairings/ narrow the same querysets with
the same FilterSets (``matching.services.pairings``). Every change goes through that module's
services; a program the user does not coordinate is a 404, for everyone.

The action forms post to their own routes with the list's query string in their URL, so a
refusal re-renders the list as it was (input kept, error beside the field) and a success
redirects back to it. Assigning and reassigning have a page each instead of a form in every
row: their mentor dropdown lists every mentor with a free spot (hundreds in a large program),
and 25 copies of it made most of the list's rendering time and weight. Those pages keep the
list's query string too, and come back to the list as it was.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from core.access import program_page
from core.bounds import localize
from core.csv import csv_response
from core.forms import add_service_errors
from core.paging import IdsFirstPaginator

from ..conflicts import CONFLICT, EVALUATOR, blocked_pairs
from ..forms.pairings import AssignForm, EndForm, ReassignForm, ShowForm
from ..models import Kind, Mentorship
from ..selectors import pairings as pairing_selectors
from ..services import pairings as services

PAGE_SIZE = 25


_ROW = "row"  # a placeholder row id: the prefixes are "end-<pk>", never "end-row"


def _form_ids(action, pk) -> dict:
    """Each row's forms get their own field names and ids."""
    return {"prefix": f"{action}-{pk}", "auto_id": "%s"}  # ids are the prefixed names: assign-7-mentor


def _mentor_options(mentors, *, exclude=()) -> list[tuple[int, str]]:
    return [
        (p.user_id, f"{p.user.full_name} ({p.open_spots} of {p.capacity} spot{'s' if p.capacity != 1 else ''} open)")
        for p in mentors
        if p.user_id not in exclude
    ]


def _current_mentors(resident_ids) -> dict[int, set[int]]:
    """Each resident's active mentors (of any kind): they are not offered again, as a pair
    has one active mentorship at most. One query for the whole page."""
    mentors = {pk: set() for pk in resident_ids}
    active = Mentorship.objects.filter(mentee_id__in=resident_ids, status=Mentorship.Status.ACTIVE)
    for mentee_id, mentor_id in active.values_list("mentee_id", "mentor_id"):
        mentors[mentee_id].add(mentor_id)
    return mentors


def _with_submitted(options, program, data, prefix) -> list[tuple[int, str]]:
    """The offered mentors, plus the one submitted if they are no longer offered (their last
    spot went meanwhile): the service then says why, beside the field, with the choice kept."""
    try:
        pk = int(data.get(f"{prefix}-mentor", ""))
    except ValueError:
        return options
    if pk in {value for value, _ in options}:
        return options
    person = pairing_selectors.mentor_choices(program).filter(pk=pk).first()
    return options + [(person.pk, person.full_name)] if person else options


# --- Loading.


@dataclass
class Listing:
    """What a query string selects: pairings, or (``unpaired`` = a kind) residents without one."""

    show: ShowForm
    pairing_filter: services.PairingFilter
    unpaired: str
    rows: QuerySet
    pairings: QuerySet  # every pairing of the program, unfiltered (built once: its subqueries cost)

    @property
    def unpaired_label(self) -> str:
        return dict(Kind.choices).get(self.unpaired, "").lower()


def _listing(query, program) -> Listing:
    """The page and its CSV call this alike, so the export is exactly what the list selects.
    Invalid filters are ignored (the form shows why), not fatal."""
    show = ShowForm(query)
    unpaired = show.cleaned_data["unpaired"] if show.is_valid() else ""
    pairings = pairing_selectors.pairings_of(program)
    pairing_filter = services.PairingFilter(query, queryset=pairings, program=program)
    if unpaired:
        residents = services.UnpairedFilter(
            {"kind": unpaired, "pgy": query.get("pgy", "")}, queryset=pairing_selectors.residents_of(program)
        )
        pairing_filter.is_valid()  # the form shows the PGY year's error, if any
        rows = residents.qs
    else:
        rows = pairing_filter.qs
    return Listing(show=show, pairing_filter=pairing_filter, unpaired=unpaired, rows=rows, pairings=pairings)


def _query_without(query, *names) -> str:
    query = query.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _list_url(program, query: QueryDict) -> str:
    """Back to the list as it was: our own path, the list's query string re-encoded."""
    query = query.urlencode()
    return reverse("matching:pairings", args=[program.slug]) + (f"?{query}" if query else "")


# --- The list.


def _render(request, program, *, bound=None, status=200):
    """The list for ``request.GET``. ``bound`` = ("end", pk, form) re-shows a refused end form in
    its row; if that row is no longer listed, its errors are shown as a message instead."""
    listing = _listing(request.GET, program)
    # Sorted and paged as ids (the sort needs only the resident's name), then the page's rows
    # loaded with their joins and per-row subqueries: sorting a large program's full rows (both
    # people's user rows, the meetings and conflict flags of each) was most of the list's query.
    unfiltered = pairing_selectors.residents_of(program) if listing.unpaired else listing.pairings
    page = IdsFirstPaginator(listing.rows, PAGE_SIZE, rows=unfiltered).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    # Only ending is a form in the row (one short field). Assigning and reassigning have a page
    # each: their mentor dropdown lists every mentor with a free spot, and a copy per row was
    # most of a large program's rendering time and weight.
    # The reason field's markup is rendered once, for a placeholder row, and given each row's
    # ids: rendering the field's templates 25 times was two fifths of a large program's list.
    blank_end = None
    for m in rows if not listing.unpaired else ():
        if m.is_active:
            m.end_form = bound[2] if bound and bound[:2] == ("end", m.pk) else EndForm(**_form_ids("end", m.pk))
            if m.end_form.is_bound:
                m.end_field = m.end_form["reason"].as_field_group()
            else:
                blank_end = blank_end or str(EndForm(**_form_ids("end", _ROW))["reason"].as_field_group())
                m.end_field = mark_safe(blank_end.replace(f"end-{_ROW}-", f"end-{m.pk}-"))  # noqa: S308
    if bound and not any(getattr(m, "end_form", None) is bound[2] for m in rows):
        # The row is no longer listed (the pairing ended meanwhile): say why as a message.
        for errors in bound[2].errors.values():
            messages.error(request, " ".join(errors))

    # "Breaks a conflict (n)": over the whole program, whatever else the list is filtered by.
    breaking = 0
    if not listing.unpaired:
        breaking = listing.pairings.filter(breaks_conflict=True).count()
        listing.pairing_filter.form.fields["conflict"].widget.choices = [
            ("", "Any"),
            ("true", f"Breaks a conflict ({breaking})"),
        ]
    # A mentor named by a link (``?mentor=<id>``, from program health): shown as a choice to remove.
    form = listing.pairing_filter.form
    chosen_mentor = form.cleaned_data.get("mentor") if not listing.unpaired and form.is_valid() else None
    filter_query = _query_without(request.GET, "page")
    filtered = bool(set(request.GET) - {"page", "status"}) or request.GET.get("status", "active") != "active"
    return render(
        request,
        "matching/pairings/list.html",
        {
            "program": program,
            "listing": listing,
            "form": listing.pairing_filter.form,
            "show_form": listing.show,
            "page_obj": page,
            "rows": rows,
            "list_url": reverse("matching:pairings", args=[program.slug]),
            "list_query": request.GET.urlencode(),
            "export_query": filter_query,
            "filtered": filtered,
            "chosen_mentor": chosen_mentor,
            "without_mentor_query": _query_without(request.GET, "mentor", "page"),
            "breaking": breaking,
            "only_breaking": bool(listing.pairing_filter.form.is_valid())
            and bool(listing.pairing_filter.form.cleaned_data.get("conflict")),
            "empty": _empty_state(program, listing, filtered) if not rows else None,
        },
        status=status,
    )


def _empty_state(program, listing, filtered) -> dict:
    list_url = reverse("matching:pairings", args=[program.slug])
    if listing.unpaired:
        pgy = listing.pairing_filter.form.cleaned_data.get("pgy") if listing.pairing_filter.form.is_valid() else None
        who = f"{pgy.code} resident" if pgy else "resident"
        return {
            "title": f"Every {who} has a {listing.unpaired_label} mentor",
            "text": "Nobody is waiting for one.",
            "action_url": list_url,
            "action_label": "Show the pairings",
        }
    if not Mentorship.objects.filter(program=program).exists():
        return {
            "title": "No pairings yet",
            "text": "Pairings appear here when residents' requests are accepted, a match run is published, "
            "or you assign mentors yourself.",
            "action_url": f"{list_url}?unpaired={Kind.CAREER}",
            "action_label": "Residents without a career mentor",
        }
    form = listing.pairing_filter.form
    only_stale = (
        form.is_valid()
        and form.cleaned_data.get("stale")
        and not any(form.cleaned_data.get(name) for name in ("kind", "mentor", "pgy", "source", "conflict"))
    )
    if form.is_valid() and form.cleaned_data.get("conflict"):
        return {
            "title": "No active pairing breaks a conflict of interest",
            "text": "No pairing that matches these filters is forbidden by a conflict of interest recorded since "
            "it started.",
            "action_url": list_url,
            "action_label": "Show the active pairings",
        }
    if only_stale:
        return {
            "title": "No pairing has gone 60 days without meeting",
            "text": "Every active pairing has met, or booked a meeting, in the last 60 days.",
            "action_url": list_url,
            "action_label": "Show the active pairings",
        }
    if filtered:
        return {
            "title": "No pairings match these filters",
            "text": "Try fewer filters.",
            "action_url": list_url,
            "action_label": "Show the active pairings",
        }
    return {
        "title": "No active pairings",
        "text": "Every pairing of this program has ended.",
        "action_url": f"{list_url}?status={services.ALL_STATUSES}",
        "action_label": "Show all pairings",
    }


@program_page("matching.manage_pairings")
def pairing_list(request, program):
    return _render(request, program)


# --- Changes.


def _refused(request, program, action, pk, form):
    return _render(request, program, bound=(action, pk, form), status=400)


def _done(form, call) -> bool:
    """Call the service; True if it went through. Its refusal goes onto ``form`` (beside the
    field it names), and a program the user may not change is a 404, as everywhere here."""
    try:
        call()
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        add_service_errors(form, exc)
        return False
    return True


@dataclass
class Options:
    """The mentors a form offers, and those left out because of a conflict of interest, each
    with why (the service would refuse them): (name, why)."""

    offered: list[tuple[int, str]]
    left_out: list[tuple[str, str]]


LEFT_OUT_WHY = {EVALUATOR: "evaluates this resident's program", CONFLICT: "do not pair"}


def _options_for(program, mentee_id) -> Options:
    """Mentors with a free spot, less the resident, whoever already mentors them (a pair has
    one active mentorship at most; for a reassign, that includes the current mentor), and
    those a conflict of interest keeps from them: evaluators of their program without an
    exception, and do-not-pair entries. Five queries."""
    taken = _current_mentors([mentee_id])[mentee_id]
    mentors = [p for p in pairing_selectors.mentors_with_open_spots(program) if p.user_id not in {mentee_id, *taken}]
    blocked = blocked_pairs([mentee_id], [p.user_id for p in mentors])
    return Options(
        offered=_mentor_options([p for p in mentors if (mentee_id, p.user_id) not in blocked]),
        left_out=[
            (p.user.full_name, LEFT_OUT_WHY[blocked[mentee_id, p.user_id]])
            for p in mentors
            if (mentee_id, p.user_id) in blocked
        ],
    )


@require_http_methods(["GET", "POST"])
@program_page("matching.manage_pairings")
def pairing_assign(request, program, mentee_pk):
    """One resident's assign form, on its own page, reached from the list of residents without
    a mentor of a kind (its URL carries that list's query string, whose kind is the initial
    one). A success returns to that list; a refusal stays here, error beside the field."""
    mentee = get_object_or_404(pairing_selectors.residents_of(program), pk=mentee_pk)
    ids = _form_ids("assign", mentee.pk)
    found = _options_for(program, mentee.pk)
    options = found.offered
    status = 200
    if request.method == "POST":
        options = _with_submitted(options, program, request.POST, ids["prefix"])
        form = AssignForm(request.POST, mentor_options=options, **ids)
        if form.is_valid():
            data = form.cleaned_data
            mentor = User.objects.get(pk=data["mentor"])
            if _done(
                form,
                lambda: services.pairing_create(
                    program=program,
                    actor=request.user,
                    mentee=mentee,
                    mentor=mentor,
                    kind=data["kind"],
                    reason=data["reason"],
                ),
            ):
                messages.success(
                    request,
                    f"{mentee.full_name}'s {Kind(data['kind']).label.lower()} mentor is now {mentor.full_name}. "
                    "Both have been told; your reason is in the audit trail.",
                )
                return redirect(_list_url(program, request.GET))
        status = 400
    else:
        kind = request.GET.get("unpaired", "")
        form = AssignForm(initial={"kind": kind if kind in Kind.values else Kind.CAREER}, mentor_options=options, **ids)
    return render(
        request,
        "matching/pairings/assign.html",
        {
            "program": program,
            "mentee": mentee,
            "form": form,
            "has_options": bool(options),
            "left_out": found.left_out,
            "back_url": _list_url(program, request.GET),
        },
        status=status,
    )


def _pairing(program, pk) -> Mentorship:
    return get_object_or_404(
        Mentorship.objects.select_related("mentee__mentee_profile__career_stage", "mentor"), pk=pk, program=program
    )


@require_POST
@program_page("matching.manage_pairings")
def pairing_end(request, program, pk):
    mentorship = _pairing(program, pk)
    form = EndForm(request.POST, **_form_ids("end", mentorship.pk))
    if form.is_valid():
        if _done(
            form,
            lambda: services.pairing_end(mentorship=mentorship, actor=request.user, reason=form.cleaned_data["reason"]),
        ):
            messages.success(
                request,
                f"The {mentorship.get_kind_display().lower()} mentorship of {mentorship.mentee.full_name} with "
                f"{mentorship.mentor.full_name} has ended. Both have been told that you ended it; "
                "your reason is in the audit trail only.",
            )
            return redirect(_list_url(program, request.GET))
    return _refused(request, program, "end", mentorship.pk, form)


@require_http_methods(["GET", "POST"])
@program_page("matching.manage_pairings")
def pairing_reassign(request, program, pk):
    """One pairing's reassign form, on its own page. Its URL carries the list's query string,
    so "back" and a success return to the list as the coordinator left it; a refusal stays
    here, with the error beside the field and the input kept."""
    mentorship = _pairing(program, pk)
    ids = _form_ids("reassign", mentorship.pk)
    found = (
        _options_for(program, mentorship.mentee_id)
        if mentorship.is_active or request.method == "POST"
        else Options(offered=[], left_out=[])
    )
    options = found.offered
    status = 200
    if request.method == "POST":
        options = _with_submitted(options, program, request.POST, ids["prefix"])
        form = ReassignForm(request.POST, mentor_options=options, **ids)
        if form.is_valid():
            new_mentor = User.objects.get(pk=form.cleaned_data["mentor"])
            if _done(
                form,
                lambda: services.pairing_reassign(
                    mentorship=mentorship, actor=request.user, new_mentor=new_mentor, reason=form.cleaned_data["reason"]
                ),
            ):
                messages.success(
                    request,
                    f"{mentorship.mentee.full_name}'s {mentorship.get_kind_display().lower()} mentor is now "
                    f"{new_mentor.full_name} instead of {mentorship.mentor.full_name}. All three have been told; "
                    "your reason is in the audit trail only.",
                )
                return redirect(_list_url(program, request.GET))
        status = 400
    else:
        form = ReassignForm(mentor_options=options, **ids)
    return render(
        request,
        "matching/pairings/reassign.html",
        {
            "program": program,
            "mentorship": mentorship,
            "form": form,
            "has_options": bool(options),
            "left_out": found.left_out,
            "back_url": _list_url(program, request.GET),
        },
        status=status,
    )


# --- Export.

PAIRING_COLUMNS = [
    "resident",
    "resident_email",
    "pgy",
    "mentor",
    "mentor_email",
    "kind",
    "source",
    "status",
    "started",
    "last_meeting",
    "next_meeting",
    "ended",
    "no_meeting_in_60_days",
    "breaks_a_conflict",
]
UNPAIRED_COLUMNS = ["resident", "resident_email", "pgy", "without_mentor_of_kind"]


def _pgy(user) -> str:
    profile = getattr(user, "mentee_profile", None)
    return profile.career_stage.code if profile and profile.career_stage else ""


def _breaks(m) -> str:
    if m.breaks_do_not_pair:
        return "do not pair"
    return "evaluator role" if m.breaks_evaluator_role else ""


def _export_rows(listing, zone):
    """Header and rows (csv_response escapes them), dates in ISO 8601 (in the
    coordinator's time zone, as the page shows them)."""

    def day(moment):
        return localize(moment, zone).date().isoformat() if moment else ""

    if listing.unpaired:
        yield UNPAIRED_COLUMNS
        for user in listing.rows.iterator(chunk_size=500):
            yield [user.full_name, user.email, _pgy(user), listing.unpaired]
        return
    yield PAIRING_COLUMNS
    for m in listing.rows.iterator(chunk_size=500):
        yield [
            m.mentee.full_name,
            m.mentee.email,
            _pgy(m.mentee),
            m.mentor.full_name,
            m.mentor.email,
            m.kind,
            m.source,
            m.status,
            day(m.started_at),
            day(m.last_meeting_at),
            day(m.next_meeting_at),
            day(m.ended_at),
            "yes" if m.is_stale else "",
            _breaks(m),
        ]


@program_page("matching.manage_pairings")
def pairings_export(request, program):
    """Exactly the rows the list selects with the same query, on every page."""
    listing = _listing(request.GET, program)
    what = f"no-{listing.unpaired}-mentor" if listing.unpaired else "pairings"
    filename = f"{program.slug}-{what}-{timezone.localdate().isoformat()}.csv"
    return csv_response(filename, _export_rows(listing, request.user.zone))


urlpatterns = [
    path("programs/<slug:slug>/pairings/", pairing_list, name="pairings"),
    path("programs/<slug:slug>/pairings.csv", pairings_export, name="pairings-export"),
    path("programs/<slug:slug>/pairings/assign/<int:mentee_pk>/", pairing_assign, name="pairing-assign"),
    path("programs/<slug:slug>/pairings/<int:pk>/end/", pairing_end, name="pairing-end"),
    path("programs/<slug:slug>/pairings/<int:pk>/reassign/", pairing_reassign, name="pairing-reassign"),
]
