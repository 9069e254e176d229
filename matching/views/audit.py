"""A program's audit trail, for its coordinators: newest first, searchable, filtered by kind
of action, by who and by date (days in the viewer's time zone), and exported as CSV with
exactly the same filters. Entries are read only here: nothing on this page changes one.

A program the user does not coordinate is a 404, for everyone.
"""

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from audit.actions import ACTION_GROUPS, SYSTEM_NAME, action_group, action_label
from audit.models import AuditEntry
from core.access import program_page
from core.csv import csv_response
from core.search import filters_form, filters_key, filters_redirect, kept_filters, list_url

from ..audit_trail import (
    Change,
    ObjectRef,
    audit_actors,
    audit_export_rows,
    audit_search,
    describe_changes,
    describe_objects,
    person_names,
)
from ..forms.audit import AuditFilterForm

PAGE_SIZE = 50


def _filters_key(program) -> str:
    return filters_key(page="audit", program=program)


def _filtered(request, program, actors):
    """The kept filters and the entries they select; a kept filter that is no longer valid
    (someone who has since left the list of actors) is ignored, not fatal."""
    data = kept_filters(request, key=_filters_key(program), form_class=AuditFilterForm, actors=actors)
    entries = audit_search(
        program,
        q=data.get("q", ""),
        group=data.get("group", ""),
        actor=data.get("actor", ""),
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        time_zone=request.user.time_zone,
    )
    return bool(data), entries


@dataclass(frozen=True)
class Row:
    entry: AuditEntry
    label: str
    group: str
    on: ObjectRef
    changes: list[Change]


@program_page("matching.view_audit")
@require_http_methods(["GET", "POST"])
def audit_trail(request, program):
    key = _filters_key(program)
    actors = audit_actors(program)
    form = filters_form(request, key=key, form_class=AuditFilterForm, actors=actors)
    if response := filters_redirect(request, key=key, form=form, url=list_url("matching:audit", program)):
        return response
    # On an invalid POST the form shows its errors and the trail stays as the kept filters had it.
    filtered, entries = _filtered(request, program, actors)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    refs = describe_objects(shown, program=program)
    names = person_names(shown)
    zone = request.user.zone
    groups = {key: label for key, (label, _) in ACTION_GROUPS.items()}
    rows = [
        Row(
            e,
            action_label(e.action),
            groups.get(action_group(e.action), ""),
            refs[e.pk],
            describe_changes(e, names=names, tz=zone),
        )
        for e in shown
    ]
    return render(
        request,
        "matching/audit/trail.html",
        {
            "program": program,
            "form": form,
            "filtered": filtered,
            "page_obj": page,
            "rows": rows,
            "system_name": SYSTEM_NAME,
        },
    )


@program_page("matching.view_audit")
@require_GET
def audit_export(request, program):
    """Exactly the entries the page shows with the same filters, on every page: UTF-8 with a
    byte-order mark (Excel needs it), times in UTC (ISO 8601), cells escaped for spreadsheets."""
    _, entries = _filtered(request, program, audit_actors(program))
    filename = f"{program.slug}-audit-{timezone.localdate().isoformat()}.csv"
    return csv_response(filename, audit_export_rows(entries, program=program), stream=True)


urlpatterns = [
    path("programs/<slug:slug>/audit/", audit_trail, name="audit"),
    path("programs/<slug:slug>/audit/export.csv", audit_export, name="audit-export"),
]
