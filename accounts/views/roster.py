"""Coordinator pages: their programs, each program's roster, CSV import and export."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from core.access import program_page
from core.csv import csv_response
from core.forms import form_status
from core.search import filters_form, filters_key, filters_redirect, from_last_visit, kept_filters, list_url

from .. import roster as roster_services
from ..forms import RosterFilterForm, RosterUploadForm
from ..invitations import program_invitation_withdraw
from ..leaving import LEAVE_REASONS, MAX_LEAVING
from ..leaving import roster_members_leave as leave_program
from ..models import Program, ProgramInvitation, RosterImport
from ..roster import COLUMN_HELP
from ..selectors import pending_invitations_of, programs_managed_by, roster_of, roster_search
from ..uploads import limit_uploads

ROSTER_PAGE_SIZE = 25
# Unanswered invitations to join listed above the roster; a long tail waits in the audit trail.
INVITATIONS_SHOWN = 50
# The preview lists every problem, and the rows a page at a time: a 430-row file must not make
# a 60,000 px page on a phone. Confirming applies the whole kept file, not the page shown.
PREVIEW_PAGE_SIZE = 50
# Rows that change someone come first (updates and asks touch people already here), then new
# people, then the rows with nothing to do; file order within each.
_PREVIEW_ORDER = {"update": 0, "invite": 1, "create": 2}


@login_required
def program_list(request):
    if not request.user.has_perm("accounts.coordinate"):
        raise PermissionDenied
    # By name, as the dashboard lists the programs someone coordinates.
    programs = programs_managed_by(request.user).order_by("name", "pk")
    return render(request, "accounts/program_list.html", {"programs": programs})


_PROGRAMS = Program.objects.select_related("specialty", "institution")


def _roster_filters_key(program) -> str:
    return filters_key(page="roster", program=program)


def _filtered_roster(request, program):
    """The kept filters and the roster they select. Filters come from the session (see
    core/search.py); a kept filter that is no longer valid is ignored, not fatal."""
    filters = kept_filters(request, key=_roster_filters_key(program), form_class=RosterFilterForm)
    return filters, roster_search(program, **filters)


@program_page("accounts.manage_roster", queryset=_PROGRAMS)
@require_http_methods(["GET", "POST"])
def roster(request, program):
    # The invite step's buttons and "people leaving" post here (``action``); the filters form
    # posts without one.
    if request.method == "POST" and request.POST.get("action") == "leave":
        return _roster_leave(request, program)
    if request.method == "POST" and request.POST.get("action") in INVITE_ACTIONS:
        return _roster_invite(request, program, request.POST["action"])
    key = _roster_filters_key(program)
    form = filters_form(request, key=key, form_class=RosterFilterForm)
    if response := filters_redirect(request, key=key, form=form, url=list_url("accounts:roster", program)):
        return response
    # On an invalid POST the form shows its errors and the list stays as the kept filters had it.
    filters, members = _filtered_roster(request, program)
    page = Paginator(members, ROSTER_PAGE_SIZE).get_page(request.GET.get("page"))
    # Only an empty page needs to know whether the roster itself is empty.
    roster_is_empty = not page.object_list and not roster_of(program).exists()
    # Existing accounts asked to join: shown as the coordinator typed them, nothing more.
    invitations = list(pending_invitations_of(program)[: INVITATIONS_SHOWN + 1])
    return render(
        request,
        "accounts/roster/list.html",
        {
            "program": program,
            "form": form,
            "filtered": bool(filters),
            # Filters kept in the session outlive the visit that set them: a coordinator coming
            # back is told the list is filtered, not left to think people are missing.
            "filters_from_last_visit": from_last_visit(request, filters),
            "page_obj": page,
            "members": page.object_list,
            "roster_is_empty": roster_is_empty,
            "invitations": invitations[:INVITATIONS_SHOWN],
            "invitations_more": len(invitations) > INVITATIONS_SHOWN,
            "to_invite": roster_services.roster_invitations(program),
            "leave_reasons": LEAVE_REASONS,
            "max_leaving": MAX_LEAVING,
            "reinvite_after_hours": int(roster_services.REINVITE_AFTER.total_seconds() // 3600),
        },
    )


INVITE_ACTIONS = ("invite", "reinvite")


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _roster_leave(request, program):
    """Everyone the kept filters select leaves the program (a class graduating). The list is
    the server's, never ids from the form; ``expected`` (the count the page showed) guards
    against a list that changed in between."""
    filters, members = _filtered_roster(request, program)
    ids = list(members.values_list("pk", flat=True)[: MAX_LEAVING + 1])
    try:
        expected = int(request.POST.get("expected", ""))
    except ValueError:
        expected = -1
    if not filters:
        messages.error(request, "Filter the roster to the people who are leaving first (for example PGY-3 residents).")
    elif request.POST.get("confirm") != "yes":
        messages.error(request, "Tick the box to confirm that these people are leaving.")
    elif expected != len(ids):
        messages.error(request, "The list changed since the page was shown. Check it again, then confirm.")
    else:
        try:
            result = leave_program(
                program=program, memberships=ids, actor=request.user, reason=request.POST.get("reason", "")
            )
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            verb = "graduated and left" if request.POST["reason"] == "graduated" else "left"
            gone = (
                f" {_plural(result.deactivated, 'person who belongs', 'people who belong')} to no other program can "
                "no longer sign in."
                if result.deactivated
                else ""
            )
            messages.success(
                request,
                f"{_plural(result.people, 'person', 'people')} {verb} {program.name}; their open requests and "
                f"mentorships in it have ended.{gone}",
            )
    return _back_to_roster(request, program)


def _roster_invite(request, program, action):
    """The roster's invite step: invite everyone never invited (and ask existing accounts to
    join), or re-invite those who have not signed in. Both are idempotent, so a double
    click or a reload sends nothing twice."""
    if action == "invite":
        result = roster_services.roster_invite_all(program=program, actor=request.user)
        if result.invited or result.asked:
            parts = []
            if result.invited:
                parts.append(f"Invitations are on their way to {_plural(result.invited, 'person', 'people')}")
            if result.asked:
                parts.append(f"{_plural(result.asked, 'existing account was', 'existing accounts were')} asked to join")
            messages.success(request, "; ".join(parts) + ".")
        else:
            messages.info(request, "Everyone on the roster has been invited already.")
    else:
        sent = roster_services.roster_reinvite_waiting(program=program, actor=request.user)
        if sent:
            messages.success(request, f"A new invitation is on its way to {_plural(sent, 'person', 'people')}.")
        else:
            messages.info(request, "No one is waiting for a new invitation: those invited today are not sent another.")
    return _back_to_roster(request, program)


@program_page("accounts.manage_roster", queryset=_PROGRAMS)
def roster_export(request, program):
    """Exactly the people the roster page shows with the same filters, on every page."""
    _, members = _filtered_roster(request, program)
    filename = f"{program.slug}-roster-{timezone.localdate().isoformat()}.csv"
    return csv_response(filename, roster_services.roster_export_rows(members.iterator(chunk_size=500)))


@program_page("accounts.manage_roster", queryset=_PROGRAMS)
def roster_template(request, program):
    return csv_response("roster-template.csv", roster_services.roster_template_rows())


# csrf_exempt, then csrf_protect inside: the size limit must be in place before the CSRF
# check reads the body (Django's pattern for per-view upload handlers).
@csrf_exempt
@program_page("accounts.manage_roster", queryset=_PROGRAMS)
@require_http_methods(["GET", "POST"])
def roster_import_upload(request, program):
    limiter = limit_uploads(request, settings.ROSTER_MAX_UPLOAD_BYTES)
    return _roster_import_upload(request, program, limiter)


@csrf_protect
def _roster_import_upload(request, program, limiter):
    # Bound on every POST: a cut-off upload leaves both dicts empty, and still needs its error.
    posted = request.method == "POST"
    form = RosterUploadForm(
        request.POST if posted else None, request.FILES if posted else None, cut_off=limiter.refused
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            roster_import = roster_services.roster_import_preview(
                program=program, uploaded_by=request.user, filename=upload.name, data=upload.read()
            )
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            return redirect("accounts:roster-import-preview", slug=program.slug, pk=roster_import.pk)
    return render(
        request,
        "accounts/roster/import.html",
        {"program": program, "form": form, "columns": COLUMN_HELP},
        status=form_status(form),
    )


@program_page("accounts.manage_roster", queryset=_PROGRAMS)
@require_http_methods(["GET", "POST"])
def roster_import_preview(request, program, pk):
    roster_import = get_object_or_404(RosterImport.objects.select_related("uploaded_by"), pk=pk, program=program)
    Status = RosterImport.Status
    if request.method == "POST":
        return _roster_import_apply(request, program, roster_import)
    if request.headers.get("HX-Request") and request.GET.get("part") == "progress":
        # The progress bar's poll. Once the import stops applying, htmx reloads the whole page.
        if roster_import.status != Status.APPLYING:
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return render(request, "accounts/roster/_progress.html", {"program": program, "roster_import": roster_import})

    context = {"program": program, "roster_import": roster_import, "columns": COLUMN_HELP}
    if roster_import.status in (Status.PREVIEWED, Status.FAILED):
        # Parsed at upload and kept; only checked against the database here.
        preview = roster_services.roster_import_plan(roster_import)
        rows = sorted(preview.rows, key=lambda row: (_PREVIEW_ORDER.get(row.action, 3), row.line))
        page = Paginator(rows, PREVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
        context.update(
            preview=preview,
            page_obj=page,
            rows=page.object_list,
            in_background=len(preview.rows) > roster_services.BACKGROUND_ROWS,
        )
    elif roster_import.status == Status.APPLIED:
        context["notices"] = (roster_import.parsed or {}).get("notices", [])
    return render(request, "accounts/roster/preview.html", context)


def _roster_import_apply(request, program, roster_import):
    try:
        # The plan the button named; a form without it (an old page) is applied as it stands.
        result = roster_services.roster_import_apply(
            roster_import=roster_import, actor=request.user, expected=request.POST.get("expected")
        )
    except ValidationError as exc:
        if exc.code == "applying":
            messages.info(request, exc.messages[0])
        else:
            messages.error(request, exc.messages[0])
        return redirect("accounts:roster-import-preview", slug=program.slug, pk=roster_import.pk)
    if result.in_background:
        return redirect("accounts:roster-import-preview", slug=program.slug, pk=roster_import.pk)
    applied = result.roster_import
    invite = (
        f" No one has been e-mailed: invite {_plural(result.to_invite + result.to_ask, 'person', 'people')} "
        "from the roster when you are ready."
        if result.to_invite or result.to_ask
        else ""
    )
    messages.success(
        request,
        f"Imported {_plural(applied.row_count, 'row', 'rows')} from {applied.filename}: "
        f"{applied.created_count} added, {applied.updated_count} updated, {applied.unchanged_count} unchanged.{invite}",
    )
    return redirect("accounts:roster", slug=program.slug)


@program_page("accounts.manage_roster", queryset=_PROGRAMS)
@require_POST
def roster_reinvite(request, program, membership_pk):
    membership = get_object_or_404(roster_of(program), pk=membership_pk)
    if roster_services.roster_member_reinvite(membership=membership, actor=request.user):
        messages.success(request, f"Invitation sent to {membership.user.email}.")
    else:
        messages.info(
            request,
            f"{membership.user.full_name or membership.user.email} has already taken their account (signed in, or set a password).",
        )
    return _back_to_roster(request, program)


@program_page("accounts.manage_roster", queryset=_PROGRAMS)
@require_POST
def roster_invitation_withdraw(request, program, pk):
    invitation = get_object_or_404(ProgramInvitation, pk=pk, program=program)
    try:
        program_invitation_withdraw(invitation=invitation, actor=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, f"The invitation to {invitation.email} is withdrawn.")
    return _back_to_roster(request, program)


def _back_to_roster(request, program):
    """To the roster page the form was on (``next``), or the roster's first page."""
    next_url = request.POST.get("next", "")
    roster_url = reverse("accounts:roster", kwargs={"slug": program.slug})
    if not (next_url.startswith(roster_url) and url_has_allowed_host_and_scheme(next_url, allowed_hosts=None)):
        next_url = roster_url
    return redirect(next_url)
