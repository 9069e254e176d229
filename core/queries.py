"""Queries every page runs, built by the ORM once per process.

Every signed-in page asks two questions of the database before its own work: the unread counts
for the bell and the role flags for the menu. Each is one small indexed query (0.03 ms to run on
SQLite) whose building — the ORM turning a queryset with subqueries into SQL — costs about
0.8 ms, a third of an empty page (docs/performance.md, "The signed-in floor").

``PerUser(build)`` keeps the ORM as the one definition: ``build(user_id)`` returns the queryset,
and it is compiled once per database vendor with a placeholder id that no user has; each call then
runs that SQL with the user's id in the placeholder's places. The rows come back as the database
gives them (no field converters): use it for queries of counts, ids and strings.
"""

from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import QuerySet

# No user has it: ids are positive. Every parameter equal to it is the user's id.
PLACEHOLDER_ID = -1_000_000_007


class PerUser:
    def __init__(self, build: Callable[[int], QuerySet[Any]]):
        self._build = build
        self._compiled: dict[str, tuple[str, tuple[Any, ...]]] = {}

    def sql(self, using: str = "default") -> tuple[str, tuple[Any, ...]]:
        """The query's SQL and parameters, the placeholder id among them, for ``using``'s vendor."""
        vendor = connections[using].vendor
        if vendor not in self._compiled:
            query = self._build(PLACEHOLDER_ID).query
            sql, params = query.get_compiler(using=using).as_sql()
            if PLACEHOLDER_ID not in params:
                raise ValueError("the query does not depend on the user's id")
            self._compiled[vendor] = (sql, tuple(params))
        return self._compiled[vendor]

    def rows(self, user_id: int, using: str = "default") -> list[tuple[Any, ...]]:
        sql, params = self.sql(using)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, [user_id if p == PLACEHOLDER_ID else p for p in params])
            return cursor.fetchall()
