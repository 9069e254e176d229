"""Loading what a URL names, for the user asking: one loader per kind of thing, one rule.

**The rule: 404 when you may not know it exists; 403 when you may know it exists but may
not do this.** Nobody learns from a status code that a program or object exists unless
they could have learnt it from the product anyway.

- A program may be known by its members, whatever their role. An outsider asking for a
  program page (even one that exists) gets 404; a resident asking for its roster gets 403.
- An object may be known by whoever holds its ``visible_with`` permission (a mentorship's
  parties and coordinators hold ``matching.view_mentorship``). Without ``visible_with``,
  knowing it and being allowed are the same thing, so every refusal is a 404.
- A page about no object ("create a request", the list of programs one coordinates) hides
  nothing: a user whose kind may not use it gets 403 (``RulesPermission.permission_required``).

The rules themselves live in ``accounts/rules.py`` and ``matching/rules.py``; this module only
decides which status a refusal gets. Services stay the authority on state ("this request is
no longer pending"); views do not re-check what a service checks.

core sits below accounts, so nothing here imports an app: the Program model is looked up in
the app registry when a loader runs, and callers pass their own querysets for objects.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn, TypeVar

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from rest_framework.request import Request

from core.guards import PermissionHolder

_M = TypeVar("_M", bound=Model)
_View = Callable[..., HttpResponse]


def _refuse(
    user: PermissionHolder, obj: Model, may_know_it_exists: Callable[[PermissionHolder, Any], bool]
) -> NoReturn:
    if may_know_it_exists(user, obj):
        raise PermissionDenied
    raise Http404


def _is_member(user: PermissionHolder, program: Any) -> bool:
    return user.is_authenticated and program.memberships.filter(user=user).exists()


# Returns Any: the Program model lives in accounts, which core may not name.
def program_for(user: PermissionHolder, slug: str, perm: str, *, queryset: QuerySet[Any] | None = None) -> Any:
    """The program of ``slug`` if ``user`` holds ``perm`` on it; 404 for outsiders, 403 for members.

    ``queryset`` narrows or joins the lookup (``select_related("specialty")``); the default is
    every program. The membership query runs only on the way to a refusal.
    """
    if queryset is None:
        queryset = apps.get_model("accounts", "Program").objects.all()
    program = get_object_or_404(queryset, slug=slug)
    if not user.has_perm(perm, program):
        _refuse(user, program, _is_member)
    return program


def object_for(
    user: PermissionHolder, queryset: QuerySet[_M], pk: int | str, perm: str, *, visible_with: str | None = None
) -> _M:
    """The object of ``pk`` in ``queryset`` if ``user`` holds ``perm`` on it.

    A refusal is a 403 if ``user`` holds ``visible_with`` on the object, else a 404.
    """
    obj = get_object_or_404(queryset, pk=pk)
    check_object(user, obj, perm, visible_with=visible_with)
    return obj


def check_object(user: PermissionHolder, obj: Model, perm: str, *, visible_with: str | None = None) -> None:
    """``object_for``'s refusal for an object already loaded, such as the run a proposal
    belongs to (the rules are asked of the run): 403 if ``user`` holds ``visible_with``, else 404."""
    if not user.has_perm(perm, obj):
        _refuse(user, obj, lambda u, o: visible_with is not None and u.has_perm(visible_with, o))


def program_page(perm: str, *, queryset: QuerySet[Any] | None = None) -> Callable[[_View], _View]:
    """A page of one program: signs the user in, loads the URL's ``slug`` with ``program_for``
    and calls the view with ``program`` in its place.

        @program_page("matching.view_program_health")
        def program_health(request, program): ...
    """

    def decorator(view: _View) -> _View:
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, *args: Any, slug: str, **kwargs: Any) -> HttpResponse:
            program = program_for(request.user, slug, perm, queryset=queryset)
            return view(request, *args, program=program, **kwargs)

        return wrapper

    return decorator


class ProgramScopedApi:
    # A comment, not a docstring: drf-spectacular would show a docstring to API clients.
    # A DRF view of one program: ``get_program()`` loads the URL's ``slug`` with ``program_for``
    # and ``program_permission``, once per request.
    #
    # Mix it in before a DRF view class; Django's ``Http404`` and ``PermissionDenied`` become
    # DRF's 404 and 403 in the usual exception handler.

    program_permission: str = ""
    program_queryset: QuerySet[Any] | None = None
    # Supplied by the DRF view this is mixed into.
    request: Request
    kwargs: Any

    def get_program(self) -> Any:
        if not hasattr(self, "_program"):
            self._program = program_for(
                self.request.user, self.kwargs["slug"], self.program_permission, queryset=self.program_queryset
            )
        return self._program


class ObjectScopedApi:
    # A comment, not a docstring: drf-spectacular would show a docstring to API clients.
    # A DRF view of one object: ``get_object()`` loads the URL's ``id`` from
    # ``get_object_queryset()`` with ``object_for``, ``object_permission`` and
    # ``object_visible_with``, once per request.
    #
    # Mix it in before a DRF view class (it replaces ``GenericAPIView.get_object``). Set
    # ``object_queryset``, or override ``get_object_queryset()`` when the queryset depends on
    # the caller.

    object_permission: str = ""
    object_visible_with: str | None = None
    object_queryset: QuerySet[Any] | None = None
    object_url_kwarg: str = "id"
    # Supplied by the DRF view this is mixed into.
    request: Request
    kwargs: Any

    def get_object_queryset(self) -> QuerySet[Any]:
        assert self.object_queryset is not None, f"{type(self).__name__} names no object_queryset"
        return self.object_queryset.all()

    def get_object(self) -> Any:
        if not hasattr(self, "_object"):
            self._object = object_for(
                self.request.user,
                self.get_object_queryset(),
                self.kwargs[self.object_url_kwarg],
                self.object_permission,
                visible_with=self.object_visible_with,
            )
        return self._object
