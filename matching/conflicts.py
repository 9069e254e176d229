"""Conflicts of interest: the one place that says which pairs must not become mentorships.

Two sources, both recorded by coordinators (``matching.services.conflicts``):

- a do-not-pair entry (``ConflictOfInterest``) keeps one mentee and one mentor apart;
- an evaluator role (``EvaluatorRole``: program director, associate PD, CCC member) keeps the
  evaluator away from every resident of that program, unless a coordinator granted a
  ``PairingException`` for the pair.

The match engine (``match_cohort``), recommendations and the directory, requests and every
mentorship start (``mentorship_create``) ask here.
"""

from collections.abc import Iterable

from django.db.models import QuerySet

from accounts.models import Membership

from .models import ConflictOfInterest, EvaluatorRole, PairingException

CONFLICT = "conflict"
EVALUATOR = "evaluator"


def blocked_pairs(
    mentee_ids: Iterable[int] | QuerySet, mentor_ids: Iterable[int] | QuerySet | None
) -> dict[tuple[int, int], str]:
    """{(mentee id, mentor id): CONFLICT or EVALUATOR} among the given people. Four queries,
    whatever their number. ``mentor_ids=None``: against every mentor (one resident and a whole
    directory: ``IN`` lists of thousands of ids cost more than the few rows they narrow). Either
    may be a queryset of ids (``run.mentees.values("pk")``): a subquery instead of an ``IN`` list,
    for a cohort of thousands (Django prepares every id of a list, each time)."""
    if not isinstance(mentee_ids, QuerySet):
        mentee_ids = set(mentee_ids)
        if not mentee_ids:
            return {}
    if mentor_ids is not None and not isinstance(mentor_ids, QuerySet):
        mentor_ids = set(mentor_ids)
        if not mentor_ids:
            return {}

    def of_mentors(field):
        return {} if mentor_ids is None else {f"{field}__in": mentor_ids}

    blocked: dict[tuple[int, int], str] = {}
    roles = set(EvaluatorRole.objects.filter(**of_mentors("user_id")).values_list("user_id", "program_id"))
    if roles:
        residents: dict[int, set[int]] = {}
        for user_id, program_id in Membership.objects.filter(
            role=Membership.Role.RESIDENT, user_id__in=mentee_ids, program_id__in={p for _, p in roles}
        ).values_list("user_id", "program_id"):
            residents.setdefault(program_id, set()).add(user_id)
        allowed = set(
            PairingException.objects.filter(mentee_id__in=mentee_ids, **of_mentors("mentor_id")).values_list(
                "mentee_id", "mentor_id"
            )
        )
        for mentor_id, program_id in roles:
            for mentee_id in residents.get(program_id, ()):
                if mentee_id != mentor_id and (mentee_id, mentor_id) not in allowed:
                    blocked[mentee_id, mentor_id] = EVALUATOR
    for pair in ConflictOfInterest.objects.filter(mentee_id__in=mentee_ids, **of_mentors("mentor_id")).values_list(
        "mentee_id", "mentor_id"
    ):
        blocked[pair] = CONFLICT  # a do-not-pair entry stands even where an exception was granted
    return blocked


def pairing_block(mentee, mentor) -> str | None:
    """CONFLICT, EVALUATOR or None for one pair."""
    return blocked_pairs([mentee.pk], [mentor.pk]).get((mentee.pk, mentor.pk))


def block_message(block: str, mentee, mentor) -> str:
    """What the two people are told when they try to pair (a request, an acceptance): that the
    pairing is not available, never that a do-not-pair entry exists, nor its reason (the
    conflicts page promises as much). An evaluator role is a public fact of the program."""
    if block == EVALUATOR:
        return (
            f"{mentor.full_name} evaluates residents of {mentee.first_name or 'this resident'}'s program, so they "
            "cannot be paired unless a coordinator allows it."
        )
    return f"{mentee.full_name} and {mentor.full_name} cannot be paired: this pairing is not available."


def block_message_for_coordinators(block: str, mentee, mentor) -> str:
    """The same refusal for a program's coordinators, who recorded the block: which one, and
    where to change it. The reason itself is on the conflicts page."""
    if block == EVALUATOR:
        return (
            f"{mentor.full_name} evaluates residents of {mentee.full_name}'s program: allow this pair under "
            "Conflicts of interest › Exceptions first, or choose another mentor."
        )
    return (
        f"{mentee.full_name} and {mentor.full_name} are kept apart under Conflicts of interest › Do not pair: "
        "choose another mentor."
    )


def exclusion_sets(mentee_ids, mentor_ids) -> dict[str, set]:
    """``{"conflicts": …, "evaluators": …}`` as the engine's ``Exclusions`` takes them."""
    blocked = blocked_pairs(mentee_ids, mentor_ids)
    return {
        "conflicts": {pair for pair, why in blocked.items() if why == CONFLICT},
        "evaluators": {pair for pair, why in blocked.items() if why == EVALUATOR},
    }
