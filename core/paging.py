"""Paging a long, sorted list of heavy rows: sort and slice the ids, load only the page's rows.

A list whose rows carry joins and per-row subqueries (annotations) makes the database build every
row before it sorts them, to show 25: a program's 1,250 pairings with both people's user rows and
their meetings, or 5,000 mentor profiles. ``IdsFirstPaginator`` counts and slices the list as ids
(the sort reads only what it orders by) and loads the page's full rows with those ids as a
subquery: the same number of queries as Django's Paginator, the heavy work done for one page only.
"""

from functools import partial
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination


class IdsFirstPaginator(Paginator):
    """A Paginator for a queryset: ``count`` and the page's slice are read as primary keys; the
    page's ``object_list`` is ``rows`` (the list before its filters: the same annotations, joins
    and prefetches; by default ``object_list`` itself) narrowed to that slice, in the list's
    order, in one query. Passing the unfiltered ``rows`` keeps a search's conditions in the
    query once (in the subquery), not twice."""

    def __init__(self, object_list: QuerySet, *args: Any, rows: QuerySet | None = None, **kwargs: Any) -> None:
        self.rows = (rows if rows is not None else object_list).order_by(*object_list.query.order_by)
        super().__init__(object_list.values_list("pk", flat=True), *args, **kwargs)

    def _get_page(self, object_list: Any, number: int, paginator: Paginator) -> Page:
        # ``object_list`` is the ids' slice, still a lazy queryset: it becomes the subquery.
        return Page(self.rows.filter(pk__in=object_list), number, paginator)


class IdsFirstPagination(PageNumberPagination):
    """The API's page-number pagination over ``IdsFirstPaginator``, the page's rows read from the
    view's ``get_queryset()`` (before the filter backends: the subquery carries the filters)."""

    def paginate_queryset(self, queryset: QuerySet, request: Any, view: Any = None) -> list | None:
        rows = view.get_queryset() if view is not None else None
        self.django_paginator_class = partial(IdsFirstPaginator, rows=rows)  # type: ignore[assignment]
        return super().paginate_queryset(queryset, request, view)
