"""Permission rules for mentorships: the one place pages and the API ask.

Objects that carry a mentorship (meetings, action items, resources, check-ins,
introductions) are checked through it with ``mentorship_of``.

A rule that decides who may see one object is also written, beside it, as the filter that
lists them (``VISIBILITY``): the selectors list with that filter, and
``tests/matching/test_rules.py`` holds the two forms equal for every role.
"""

from collections.abc import Callable
from typing import Any

import rules
from django.db.models import Model, Q
from django.utils import timezone

from accounts.models import Membership, Program
from accounts.rules import coordinates_program, is_resident

from .models import MatchRun, Meeting, Mentorship, MentorshipRequest


def mentorship_of(obj):
    """The mentorship an object belongs to (or the object itself)."""
    return getattr(obj, "mentorship", None) if not hasattr(obj, "mentee_id") else obj


@rules.predicate
def is_mentee_in(user, obj):
    m = mentorship_of(obj)
    return m is not None and user.is_authenticated and m.mentee_id == user.pk


@rules.predicate
def is_mentor_in(user, obj):
    m = mentorship_of(obj)
    return m is not None and user.is_authenticated and m.mentor_id == user.pk


@rules.predicate
def coordinates_its_program(user, obj):
    """The user coordinates ``obj``'s program, or ``obj`` itself when it is a program (a
    program's page that lists its match runs asks the same rule as one run)."""
    program_id = obj.pk if isinstance(obj, Program) else getattr(obj, "program_id", None)
    if program_id is None:
        m = mentorship_of(obj)
        program_id = getattr(m, "program_id", None)
    return (
        program_id is not None
        and user.is_authenticated
        and Membership.objects.filter(user=user, program_id=program_id, role=Membership.Role.COORDINATOR).exists()
    )


@rules.predicate
def is_listed_mentor(user, other):
    return other is not None and hasattr(other, "mentor_profile") and other.pk != user.pk


@rules.predicate
def is_introduced_colleague(user, introduction):
    return introduction is not None and user.is_authenticated and introduction.colleague_id == user.pk


is_party = is_mentee_in | is_mentor_in


def thread_of(message: Any) -> Any:
    """The request or mentorship whose thread holds ``message``."""
    return message.mentorship if message.mentorship_id else message.request


@rules.predicate
def is_message_party(user, message):
    """One of the two people of the thread ``message`` is in (never a coordinator)."""
    thread = thread_of(message) if message is not None else None
    return thread is not None and user.is_authenticated and user.pk in (thread.mentee_id, thread.mentor_id)


@rules.predicate
def is_message_author(user, message):
    return message is not None and user.is_authenticated and message.author_id == user.pk


@rules.predicate
def added_or_owns_goal(user, item):
    return item is not None and user.pk in (item.created_by_id, item.owner_id)


@rules.predicate
def shared_the_resource(user, resource):
    return resource is not None and resource.shared_by_id == user.pk


def _party_or_coordinator(user: Any, mentorship: str = "") -> Q:
    """``is_party | coordinates_its_program`` as a filter; ``mentorship`` is the path from the
    rows filtered to the mentorship (or request) whose parties and program decide."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    coordinated = Membership.objects.filter(user=user, role=Membership.Role.COORDINATOR).values("program_id")
    return (
        Q(**{f"{mentorship}mentee": user})
        | Q(**{f"{mentorship}mentor": user})
        | Q(**{f"{mentorship}program_id__in": coordinated})
    )


def visible_requests(user: Any) -> Q:
    """The requests ``matching.view_request`` lets ``user`` see."""
    return _party_or_coordinator(user)


def visible_mentorships(user: Any) -> Q:
    """The mentorships ``matching.view_mentorship`` lets ``user`` see."""
    return _party_or_coordinator(user)


def visible_meetings(user: Any) -> Q:
    """The meetings ``matching.view_mentorship`` lets ``user`` see (asked of the meeting, it
    decides by the meeting's mentorship)."""
    return _party_or_coordinator(user, "mentorship__")


# Requests: the mentee and mentor are the request's parties (the same field names).
rules.add_perm("matching.request_mentor", is_resident & is_listed_mentor)
rules.add_perm("matching.view_request", is_party | coordinates_its_program)
rules.add_perm("matching.respond_to_request", is_mentor_in)  # accept, decline, ask a question
rules.add_perm("matching.withdraw_request", is_mentee_in)  # withdraw, answer the question

# Mentorships and what hangs off them.
rules.add_perm("matching.view_mentorship", is_party | coordinates_its_program)
rules.add_perm("matching.work_in_mentorship", is_party)  # meetings, agreement, action plan, end
rules.add_perm("matching.share_resource", is_mentor_in)
# Goals are the pair's shared plan: either edits them (versioned); a goal is removed by whoever
# added it or owns it, so nobody deletes the other's own goal from under them.
rules.add_perm("matching.delete_action_item", is_party & added_or_owns_goal)
# A shared link is its sharer's: they correct it or take it back.
rules.add_perm("matching.change_resource", is_party & shared_the_resource)
rules.add_perm("matching.introduce", is_mentor_in)
rules.add_perm("matching.respond_to_introduction", is_introduced_colleague)
rules.add_perm("matching.leave_thank_you", is_mentee_in)
rules.add_perm("matching.check_in", is_party)
# The pair's messages (``obj`` is the request or mentorship): the two people only, never a
# coordinator or an admin through the app. Only the author edits or deletes a message.
rules.add_perm("matching.message_thread", is_party)  # read and post
rules.add_perm("matching.read_message", is_message_party)
rules.add_perm("matching.change_message", is_message_author & is_message_party)
# Check-in answers are confidential to the program's coordinators, never the other party.
rules.add_perm("matching.view_checkins", coordinates_its_program)

# Each object-seeing rule as the filter that lists what it grants: perm → {model: filter}.
VISIBILITY: dict[str, dict[type[Model], Callable[[Any], Q]]] = {
    "matching.view_request": {MentorshipRequest: visible_requests},
    "matching.view_mentorship": {Mentorship: visible_mentorships, Meeting: visible_meetings},
}


# Cohort match runs. Rankings are confidential to their author: nobody is granted another's.
@rules.predicate
def is_in_run_cohort(user, run):
    return (
        run is not None
        and user.is_authenticated
        and (run.mentees.filter(pk=user.pk).exists() or run.mentors.filter(pk=user.pk).exists())
    )


@rules.predicate
def ranking_window_open(user, run):
    return run is not None and run.ranking_window_open()


rules.add_perm("matching.manage_match_runs", coordinates_its_program)  # create, review, override, publish
rules.add_perm("matching.rank_in_run", ranking_window_open & is_in_run_cohort)


@rules.predicate
def ranks_with(user, other):
    """``user`` and ``other`` are on opposite sides of a run whose ranking window is open: a
    ranker may open the page of anyone they are asked to rank (mentors rank residents too,
    whose pages are otherwise not theirs to see). It ends with the window."""
    if other is None or not user.is_authenticated or user.pk == other.pk:
        return False
    windows = MatchRun.objects.filter(status=MatchRun.Status.QUEUED, ranking_deadline__gt=timezone.now())
    return (
        windows.filter(mentors=user).filter(mentees=other).exists()
        or windows.filter(mentees=user).filter(mentors=other).exists()
    )


rules.add_perm("matching.view_person_to_rank", ranks_with)

# Conflicts of interest: evaluator roles, do-not-pair entries, exceptions (``obj`` is the program).
rules.add_perm("matching.manage_conflicts", coordinates_program)

# Program health: the figures, the check-in averages and their comments (``obj`` is the program).
rules.add_perm("matching.view_program_health", coordinates_program)

# Pairings: list and export them, pair a resident directly, end, reassign (``obj`` is the program).
rules.add_perm("matching.manage_pairings", coordinates_program)

# The audit trail (``obj`` is the program) and nudging a pair to meet (``obj`` is the mentorship).
rules.add_perm("matching.view_audit", coordinates_program)
rules.add_perm("matching.nudge_pairing", coordinates_its_program)
