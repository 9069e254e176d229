"""Every list of the API is paged the same way: ``{"count", "next", "previous", "results"}``,
``?page=`` (1, 2, …; past the last page: 404) and ``?page_size=`` (1 to ``max_page_size``).

A ``page_size`` above the bound is read as the bound, and one that is not a positive whole
number as the list's default: a client asking for "everything" gets a full page and a ``next``
link, never a single answer that grows with the database.
"""

from typing import Any

from rest_framework import pagination

MAX_PAGE_SIZE = 100


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size, default=self.page_size)
                parameter["description"] = f"Results per page: 1 to {self.max_page_size}, {self.page_size} by default."
        return parameters
