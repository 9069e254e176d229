"""The permission guard every service starts with.

Services are the authority on who may change what: each checks the actor's permission
(``django-rules``, see each app's ``rules.py``) before it touches a row, whoever called it
(a page, the API, a task). Pages and the API decide separately whether to answer 404 for
objects the person may not know exist (``core.access``); here a refusal is always
``PermissionDenied``.
"""

from typing import Protocol

from django.core.exceptions import PermissionDenied
from django.db.models import Model


class PermissionHolder(Protocol):
    """A signed-in user or an anonymous one: what access checks need of either, without core
    naming the user model, which lives in accounts."""

    @property
    def is_authenticated(self) -> bool: ...

    def has_perm(self, perm: str, obj: Model | None = ...) -> bool: ...


def require_perm(actor: PermissionHolder, perm: str, obj: Model | None = None) -> None:
    """Raise PermissionDenied unless ``actor`` has ``perm`` (on ``obj``, when given)."""
    if not actor.has_perm(perm, obj):
        raise PermissionDenied
