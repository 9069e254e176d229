"""``IdsFirstPaginator``: the same pages as Django's Paginator, in as many queries, with the
heavy rows read for the page only and a filter's conditions not repeated in the page's query."""

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from core.paging import IdsFirstPaginator
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    for k in range(7):
        UserFactory(first_name=f"P{k}", last_name="Zed" if k % 2 else "Abe", email=f"p{k}@x.example")
    return User.objects.filter(email__endswith="@x.example").order_by("last_name", "-first_name")


@pytest.mark.parametrize("number", [1, 2, 3])
def test_same_pages_as_paginator(people, number):
    plain = Paginator(people, 3).page(number)
    with CaptureQueriesContext(connection) as ids_first:
        page = IdsFirstPaginator(people, 3).page(number)
        rows = list(page.object_list)
    assert rows == list(plain.object_list)
    assert (page.paginator.count, page.paginator.num_pages, page.has_next()) == (7, 3, number < 3)
    assert len(ids_first) == 2  # the count, then the page's rows with their ids as a subquery


def test_rows_come_from_the_unfiltered_list_and_the_filter_is_not_repeated(people):
    unfiltered = User.objects.filter(email__endswith="@x.example").order_by("last_name", "-first_name")
    filtered = unfiltered.filter(first_name__icontains="p1")
    with CaptureQueriesContext(connection) as queries:
        rows = list(IdsFirstPaginator(filtered, 3, rows=unfiltered).page(1).object_list)
    with CaptureQueriesContext(connection) as repeated:
        same = list(IdsFirstPaginator(filtered, 3).page(1).object_list)
    assert [u.first_name for u in rows] == [u.first_name for u in same] == ["P1"]
    # The search term is in the page's query once (its subquery), not twice as without ``rows``.
    assert queries[-1]["sql"].upper().count("P1%") == 1
    assert repeated[-1]["sql"].upper().count("P1%") == 2
