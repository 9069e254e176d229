"""Filters of coordinator lists kept in the session, never in the URL.

A search box on a roster or an audit trail is where people type e-mails and names. In a
query string they would reach access logs, browser history and every link the page builds
(pagination, export), so a filter form POSTs here instead: valid filters are kept in the
session under a key per page and program, and the browser is sent (303) to the plain list
URL. A GET shows the list with the kept filters, and its links carry only ``?page=N``.
"""

import unicodedata
from functools import cache
from typing import Any, Protocol
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Func, Model, Q, TextField, Value
from django.db.models.lookups import Contains
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

CLEAR = "clear"

# --- Free text: one bound for every search box and ``q`` parameter (pages and API).

# Each word of a search is one condition (a case-insensitive match over a few columns), and
# every word must match: a search is a few words a person types. Without a bound, 950 words
# were 950 conditions per row and held a worker for seconds (issue 11).
SEARCH_MAX_LENGTH = 100
SEARCH_MAX_TERMS = 6
SEARCH_HELP = f"At most {SEARCH_MAX_TERMS} words and {SEARCH_MAX_LENGTH} characters; every word must match."


def search_terms(value: str) -> list[str]:
    """The words of a search, each once (a repeated word narrows nothing), in the order typed,
    at most ``SEARCH_MAX_TERMS``: ``SearchField`` refuses more; the cut only keeps a caller
    that skipped it from building a long query."""
    terms: dict[str, str] = {}
    for word in (value or "").split():
        terms.setdefault(word.casefold(), word)
    return list(terms.values())[:SEARCH_MAX_TERMS]


# --- Accents: "Nguyen" finds "Nguyễn" and "Nguyễn" finds "Nguyen".
#
# Without a migration there is no PostgreSQL ``unaccent`` extension and no folded column, so
# the folding happens in the query: every accented Latin letter is translated to its base
# letter, then lowered. One table serves PostgreSQL (TRANSLATE, a built-in), SQLite (the
# same table in a function registered on the connection) and Python (the typed words).


@cache
def _fold_table() -> tuple[str, str]:
    """(accented letters, their base letters, lower case): every letter of Latin-1, Latin
    Extended-A/B and Latin Extended Additional (Vietnamese) that decomposes to one ASCII
    letter and marks, and a few that don't decompose (đ, ø, ł, ı)."""
    source, target = [], []
    for code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        char = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        if len(base) == 1 and base.isascii() and base.isalpha() and base != char:
            source.append(char)
            target.append(base.lower())
    for char, base in {"đ": "d", "Đ": "d", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "ı": "i"}.items():
        source.append(char)
        target.append(base)
    return "".join(source), "".join(target)


@cache
def _fold_map() -> dict[int, int]:
    source, target = _fold_table()
    return str.maketrans(source, target)


def fold(text: str) -> str:
    """``text`` without accents, in lower case, as ``Folded`` folds a column."""
    return (text or "").translate(_fold_map()).lower()


SQLITE_FOLD = "mentormatch_fold"


class Folded(Func):
    """A text column without accents, in lower case (compare it with ``fold(word)``)."""

    function = "TRANSLATE"
    template = "LOWER(%(function)s(%(expressions)s))"
    output_field = TextField()

    def __init__(self, expression: Any) -> None:
        source, target = _fold_table()
        super().__init__(expression, Value(source), Value(target))

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, Any]:
        # SQLite has no TRANSLATE: the same fold, in Python, registered on this connection.
        connection.ensure_connection()
        connection.connection.create_function(SQLITE_FOLD, 1, _sqlite_fold, deterministic=True)
        sql, params = compiler.compile(self.source_expressions[0])
        return f"{SQLITE_FOLD}({sql})", params


def _sqlite_fold(value: str | None) -> str | None:
    return None if value is None else fold(value)


def word_matches(word: str, fields: list[str]) -> Q:
    """``word`` occurs in at least one of ``fields``, ignoring case and accents."""
    folded = fold(word)
    condition = Q()
    for field in fields:
        condition |= Q(Contains(Folded(field), folded))
    return condition


def _within_term_limit(value: str) -> None:
    words = {word.casefold() for word in value.split()}
    if len(words) > SEARCH_MAX_TERMS:
        raise ValidationError(f"Search for at most {SEARCH_MAX_TERMS} words (this has {len(words)}).", code="max_terms")


class SearchField(forms.CharField):
    """The search box of every list, on pages and (through ``accounts.filters.SearchFilter``
    and ``accounts.api.filters.SearchQueryField``) in the API: optional, at most
    ``SEARCH_MAX_LENGTH`` characters and ``SEARCH_MAX_TERMS`` different words."""

    default_validators = [_within_term_limit]

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "Search")
        kwargs.setdefault("required", False)
        super().__init__(max_length=SEARCH_MAX_LENGTH, **kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        # No maxlength in the page: a browser would cut a long search silently, mid-word;
        # the server's error says what is too long instead.
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs


def filters_key(*, page: str, program: Model) -> str:
    return f"filters:{page}:{program.pk}"


def filters_form(
    request: HttpRequest, *, key: str, form_class: type[forms.BaseForm], **form_kwargs: Any
) -> forms.BaseForm:
    """The filter form for this request: on a POST, bound to what was submitted; on a GET,
    to the filters kept in the session (unbound when there are none)."""
    data = request.POST if request.method == "POST" else request.session.get(key)
    return form_class(data or None, **form_kwargs)


def filters_redirect(request: HttpRequest, *, key: str, form: forms.BaseForm, url: str) -> HttpResponseRedirect | None:
    """What a filter request leads to, or None when the page should render.

    A POST with ``clear`` drops the kept filters; a valid POST keeps them; both redirect to
    the plain list URL. An invalid POST keeps nothing and renders, so the form shows its
    errors. A GET whose query has more than a page number is redirected to the same page
    without it, so an old link with a search in it is not echoed into this page's links."""
    if request.method == "POST":
        if CLEAR in request.POST:
            request.session.pop(key, None)
            return HttpResponseRedirect(url, status=303)
        if not form.is_valid():
            return None
        # The submitted strings, not cleaned values: they re-bind the form on the next GET
        # (so a choice that has since gone away is reported, not silently applied) and are
        # JSON-serialisable as the session needs.
        kept = {name: form.data.get(name, "") for name in (form[f].html_name for f in form.fields)}
        request.session[key] = {name: value for name, value in kept.items() if value}
        return HttpResponseRedirect(url, status=303)
    if set(request.GET) - {"page"}:
        page = request.GET.get("page")
        return HttpResponseRedirect(f"{url}?page={page}" if page and page.isdigit() else url, status=303)
    return None


def filters_of(form: forms.BaseForm) -> dict:
    """The valid, non-empty cleaned filters of a (possibly unbound or partly invalid) form."""
    if not form.is_bound:
        return {}
    form.is_valid()
    return {name: value for name, value in getattr(form, "cleaned_data", {}).items() if value}


def from_last_visit(request: HttpRequest, kept: Any) -> bool:
    """Whether the list shows filters kept from an earlier visit: some are kept, and the browser
    was not on this same page just before (its own links, the filter form's 303). The site's
    same-origin referrer policy sends the path on every click within the site; a bookmark, a
    typed address or another page's link is a new visit, told so by
    ``includes/kept_filters_note.html`` (a coordinator should not think rows are missing)."""
    if not kept:
        return False
    referer = request.headers.get("referer", "")
    came_from_here = (
        url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}, require_https=request.is_secure())
        and urlsplit(referer).path == request.path
    )
    return not came_from_here


def kept_filters(request: HttpRequest, *, key: str, form_class: type[forms.BaseForm], **form_kwargs: Any) -> dict:
    """The valid cleaned filters kept in the session, whatever the request's method: what
    the list and its export show."""
    return filters_of(form_class(request.session.get(key) or None, **form_kwargs))


class _HasSlug(Protocol):
    # core cannot import accounts' Program; anything with a slug (a Program) will do.
    @property
    def slug(self) -> str: ...


def list_url(name: str, program: _HasSlug) -> str:
    return reverse(name, kwargs={"slug": program.slug})
