"""CSV exports a spreadsheet opens as data, never as formulas (OWASP "CSV injection").

Every export goes through ``csv_response``. A text cell that a spreadsheet could read
as a formula gets a leading ``'``: one that starts with ``= + - @``, TAB or CR, and,
because "Text to Columns" or an import that splits on ``;`` turns the rest of a cell
into a cell of its own, one where a separator (``, ; | TAB`` or a line break) comes
before ``= + - @``: ``Tom;=HYPERLINK(…)`` becomes ``Tom;'=HYPERLINK(…)``. Every text
cell is quoted; numbers (int, float, Decimal) stay numbers. Escaping twice changes
nothing, so rows escaped by their producer may pass through again.
"""

import csv
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.http import HttpResponse, StreamingHttpResponse

# Excel reads UTF-8 only when the file starts with a byte-order mark.
BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Whitespace may sit between the separator and the formula: import wizards trim it.
_FORMULA_AFTER_SEPARATOR = re.compile(r"([,;|\t\r\n][ \t\r\n]*)(?=[=+\-@])")


def csv_safe(value: object) -> int | float | Decimal | str:
    """``value`` as a cell: numbers as they are, anything else as text with formulas defused."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    text = _FORMULA_AFTER_SEPARATOR.sub(r"\1'", text)
    return "'" + text if text.lstrip(" ").startswith(FORMULA_STARTS) else text


class _Echo:
    """A file-like object whose write returns the line, for streaming the writer's output."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """``rows`` (the header first) as escaped, quoted CSV lines, the byte-order mark first."""
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_NONNUMERIC)
    yield BOM
    for row in rows:
        yield writer.writerow([csv_safe(value) for value in row])


def csv_response(
    filename: str, rows: Iterable[Iterable[object]], *, stream: bool = False
) -> HttpResponse | StreamingHttpResponse:
    """A UTF-8 CSV download of ``rows`` (the header first). ``stream`` for exports that
    can be long (the audit trail): rows are then read while the response is sent."""
    lines = csv_lines(rows)
    response: HttpResponse | StreamingHttpResponse
    if stream:
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse("".join(lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class CsvText:
    """Rows written as plain CSV text, unescaped, for storage rather than download: a
    spreadsheet's sheet kept as the text the roster parser reads (accounts/roster.py).
    Nothing written here is offered to a spreadsheet; downloads use ``csv_response``."""

    def __init__(self) -> None:
        self._out: list[str] = []
        self._writer = csv.writer(_Echo(), lineterminator="\n")

    def writerow(self, cells: Iterable[object]) -> None:
        self._out.append(self._writer.writerow(list(cells)))

    def getvalue(self) -> str:
        return "".join(self._out)
