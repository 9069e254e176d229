"""The bridge from DRF to accounts/rules.py: a view names the rule, the rule decides.

No view decides who may do what by itself; it names permissions that
``rules.add_perm`` defined, and pages ask the very same ones.
"""

from collections.abc import Mapping
from typing import Any

from rest_framework import permissions
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.views import APIView


def _rule_for(spec: str | Mapping[str, str] | None, method: str | None) -> str | None:
    if spec is None or isinstance(spec, str):
        return spec
    return spec.get(method) if method is not None else None


class RulesPermission(permissions.IsAuthenticated):
    """Ask the rules a view names.

    ``permission_required``: a permission asked once per request, without an object
    ("accounts.coordinate"). ``object_permission_required``: a permission asked of
    every object the view loads; one name, or a mapping from HTTP method to name.
    ``hide_forbidden_objects``: answer 404 rather than 403 when the object rule says
    no, so an object the caller may not see cannot be told from one that does not exist.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not super().has_permission(request, view):
            return False
        perm = _rule_for(getattr(view, "permission_required", None), request.method)
        return perm is None or request.user.has_perm(perm)

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        perm = _rule_for(getattr(view, "object_permission_required", None), request.method)
        if perm is None or request.user.has_perm(perm, obj):
            return True
        if getattr(view, "hide_forbidden_objects", False):
            raise NotFound
        return False
