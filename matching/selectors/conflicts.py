"""Whom a program's conflict-of-interest entries may name."""

from typing import Any

from django.db.models import QuerySet

from accounts.models import Membership, Program, User

from ..models import EvaluatorRole


def people_to_choose(program: Program) -> dict[str, QuerySet[User]]:
    """Whom an entry of ``program`` may name, as querysets: ``residents`` (a conflict's or an
    exception's resident), ``mentors`` (a conflict's mentor: the program's people with a mentor
    profile), ``faculty`` (an evaluator) and ``evaluators`` (an exception's mentor). The page
    offers these people and the API looks ids up among them, so an id from another program is
    "not a valid choice" and no answer says whose it is."""

    def members(**roles: Any) -> QuerySet[Membership, Any]:
        return Membership.objects.filter(program=program, **roles).values("user_id")

    return {
        "residents": User.objects.filter(pk__in=members(role=Membership.Role.RESIDENT)),
        "mentors": User.objects.filter(pk__in=members(), mentor_profile__isnull=False),
        "faculty": User.objects.filter(pk__in=members(role=Membership.Role.FACULTY)),
        "evaluators": User.objects.filter(pk__in=EvaluatorRole.objects.filter(program=program).values("user_id")),
    }


def people_for_conflicts(program: Program) -> tuple[list[User], list[User]]:
    """The program's residents, and the mentors a coordinator may keep apart from them."""
    people = people_to_choose(program)
    by_name = ("last_name", "first_name", "pk")
    return list(people["residents"].order_by(*by_name)), list(people["mentors"].order_by(*by_name))
