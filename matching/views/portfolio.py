"""The signed-in mentor's mentoring portfolio: a printable page (print or save as PDF from the
browser; ``@media print`` in app.css lays it out) and a CSV of the same rows, for a period
chosen with ``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (default: the last 12 months).

Only ever the signed-in user's own record: there is no way to ask for someone else's.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.csv import csv_response

from ..forms.portfolio import PeriodForm
from ..portfolio import (
    current_academic_year,
    last_academic_year,
    last_twelve_months,
    mentor_portfolio,
    portfolio_export_rows,
)


def period_from(query, today):
    """(form, start, end): the period asked for, or the default where a date is missing or wrong."""
    default_start, default_end = last_twelve_months(today)
    # Shown filled in with the default period, so the fields say which period the page shows.
    form = PeriodForm(query or None, initial={"date_from": default_start, "date_to": default_end})
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    start, end = data.get("date_from") or default_start, data.get("date_to") or default_end
    if end < start:
        start, end = default_start, default_end
    return form, start, end


def _today(user):
    return timezone.localdate(timezone=user.zone)


@login_required
@require_GET
def portfolio_page(request):
    user = request.user
    today = _today(user)
    form, start, end = period_from(request.GET, today)
    context = {"form": form, "start": start, "end": end, "has_mentor_profile": hasattr(user, "mentor_profile")}
    if context["has_mentor_profile"]:
        context["portfolio"] = mentor_portfolio(user, start=start, end=end)
        context["periods"] = [
            ("Last 12 months", *last_twelve_months(today)),
            ("This academic year so far", *current_academic_year(today)),
            ("Last academic year", *last_academic_year(today)),
        ]
        context["export_query"] = f"from={start.isoformat()}&to={end.isoformat()}"
    return render(request, "matching/portfolio/page.html", context)


@login_required
@require_GET
def portfolio_export(request):
    user = request.user
    if not hasattr(user, "mentor_profile"):
        raise Http404
    _, start, end = period_from(request.GET, _today(user))
    portfolio = mentor_portfolio(user, start=start, end=end)
    filename = f"mentoring-portfolio-{start.isoformat()}-to-{end.isoformat()}.csv"
    return csv_response(filename, portfolio_export_rows(portfolio))


urlpatterns = [
    path("portfolio/", portfolio_page, name="portfolio"),
    path("portfolio/portfolio.csv", portfolio_export, name="portfolio-export"),
]
