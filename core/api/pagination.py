"""Every list of the API is paged the same way: ``{"count", "next", "previous", "results"}``,
``?page=`` (1, 2, …; past the last page: 404) and ``?page_size=`` (1 to ``max_page_size``).

A ``page_size`` above the bound is read as the bound: a client asking for "everything" gets a
full page and a ``next`` link, never a single answer that grows with the database (the schema
says so in words, with no ``maximum`` a client would enforce). One that is not a positive whole
number is a 400 naming ``page_size``, as the schema's ``minimum: 1`` promises.
"""

from typing import Any

from rest_framework import pagination, serializers

MAX_PAGE_SIZE = 100


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Any) -> int | None:
        value = request.query_params.get(self.page_size_query_param)
        if not value:  # absent, or empty as a form sends it
            return self.page_size
        if not (value.isascii() and value.isdigit() and int(value) >= 1):
            raise serializers.ValidationError({self.page_size_query_param: ["Give a whole number from 1."]})
        return min(int(value), self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, default=self.page_size)
                parameter["description"] = (
                    f"Results per page, {self.page_size} by default; more than {self.max_page_size} is read as "
                    f"{self.max_page_size}."
                )
        return parameters
