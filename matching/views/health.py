"""The program health dashboard: is mentoring working here, and who needs help?

For the program's coordinators only (``matching.view_program_health``); anyone else gets
a 404, so other programs stay unseen. Every figure comes from ``matching.health`` (the
API shows the same ones). The page is complete without JavaScript: each chart has a
table with the same numbers beside it, and ``js/health.js`` draws the charts from the
data this view embeds with ``json_script``.
"""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.template.defaultfilters import pluralize
from django.urls import path, reverse

from accounts.models import Program
from core.access import program_page

from .. import health
from ..forms.health import HealthFilterForm
from ..models import Kind

COMMENTS_PAGE_SIZE = 10


def filters_from(data, program, choices) -> tuple[HealthFilterForm, dict]:
    """The valid filters in ``data``; an invalid one is ignored (the default applies), not fatal."""
    form = HealthFilterForm(data, choices=choices, tz=health.program_zone(program))
    form.is_valid()
    return form, {"academic_year": form.cleaned_data.get("academic_year"), "pgy": form.cleaned_data.get("pgy") or ""}


_PROGRAMS = Program.objects.select_related("specialty")


def _charts(h: health.ProgramHealth) -> dict:
    """What ``js/health.js`` draws: the numbers of the tables beside each chart."""
    rows = h.coverage.rows
    charts = {
        "coverage": {
            "labels": [r.label for r in rows],
            "series": [
                {"label": "No mentor at all", "data": [r.without_mentor_count for r in rows]},
                {"label": "No career mentor", "data": [r.gap("career").count for r in rows]},
            ],
        },
        "load": {
            "labels": [b.label for b in h.load.bands],
            "series": [{"label": "Mentors", "data": [b.count for b in h.load.bands]}],
        },
        "funnel": {
            "labels": [s.label for s in h.funnel.steps],
            "series": [{"label": "Requests", "data": [s.count for s in h.funnel.steps]}],
            "horizontal": True,
        },
        "cadence": {
            "labels": [m.label for m in h.cadence.by_month],
            "series": [{"label": "Meetings held", "data": [m.count for m in h.cadence.by_month]}],
        },
    }
    if h.satisfaction.distribution is not None:
        charts["ratings"] = {
            "labels": [f"{n} of 5" for n in range(1, 6)],
            "series": [{"label": "Check-ins", "data": h.satisfaction.distribution}],
        }
    return charts


def _spots_gap(h: health.ProgramHealth) -> dict | None:
    """More residents to match than open spots, as readiness leads with it (``h.spots_gap``): the
    readiness page, where full mentors can be asked for a spot, and this page's mentor list."""
    gap = h.spots_gap
    if not gap:
        return None
    r, s, u = gap.residents, gap.spots, gap.unmatched
    kind = Kind(health.GAP_KIND)
    text = f"{r} resident{pluralize(r)} could be matched to a {kind.label.lower()} mentor, but "
    text += (
        f"mentors have only {s} open spot{pluralize(s)}: {u} would be left unmatched"
        if s
        else "no mentor has an open spot"
    )
    if h.period.pgy:
        text += " (all PGY years)"
    return {
        "text": text,
        "url": reverse("matching:match-run-readiness", args=[h.program.slug]) + f"?kind={kind.value}",
        "more": [{"label": "See each mentor's spots", "url": "#load-mentors"}],
    }


def _attention(h: health.ProgramHealth) -> list[dict]:
    """ "Who needs help", in words: each item names a count, a link to the people (the pairings
    list with its filters once that page exists, ``query``; else this page's ``anchor``), or
    a ``url`` with ``more`` links beside it. Readiness's warning first, as it leads with it."""
    gap = _spots_gap(h)
    items = [gap] if gap else []

    def add(count, one, many, anchor, query=""):
        if count:
            text = (one if count == 1 else many).format(n=count, days=health.STALE_AFTER_DAYS)
            items.append({"text": text, "anchor": anchor, "query": query})

    add(
        h.coverage.total.without_mentor_count,
        "{n} resident has no mentor at all",
        "{n} residents have no mentor at all",
        "gap-none",
    )
    for row in h.coverage.rows:
        gap = row.gap("career")
        if row.stage:
            add(
                gap.count,
                f"{{n}} {row.label} has no career mentor",
                f"{{n}} {row.label}s have no career mentor",
                "gap-career",
                f"unpaired=career&pgy={row.stage}",
            )
        else:
            add(
                gap.count,
                "{n} resident without a PGY year has no career mentor",
                "{n} residents without a PGY year have no career mentor",
                "gap-career",
            )
    add(
        h.stale.count,
        "{n} pairing has had no meeting in {days} days",
        "{n} pairings have had no meeting in {days} days",
        "stale",
        "stale=true",
    )
    add(
        h.rematch.waiting,
        "{n} resident asked for a new mentor and is still waiting",
        "{n} residents asked for a new mentor and are still waiting",
        "rematch",
    )
    add(
        h.load.over_capacity,
        "{n} mentor has more mentees than their capacity",
        "{n} mentors have more mentees than their capacity",
        "load",
    )
    return items


@program_page("matching.view_program_health", queryset=_PROGRAMS)
def program_health_page(request, program):
    choices = health.filter_choices(program)
    form, filters = filters_from(request.GET, program, choices)
    h = health.program_health(program, choices=choices, **filters)
    comments = Paginator(health.checkin_comments(program, h.period), COMMENTS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "matching/health/page.html",
        {
            "program": program,
            "form": form,
            "h": h,
            "page_obj": comments,
            "comments": comments.object_list,
            "charts": _charts(h),
            "attention": _attention(h),
            "stale_after_days": health.STALE_AFTER_DAYS,
            "threshold": health.ANONYMITY_THRESHOLD,
        },
    )


urlpatterns = [
    path("programs/<slug:slug>/health/", program_health_page, name="program-health"),
]
