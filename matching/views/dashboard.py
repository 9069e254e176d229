"""The dashboard, everyone's home page: a section for each role a person holds."""

from django.contrib.auth.decorators import login_required
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Count, Q
from django.shortcuts import render
from django.urls import path
from django.views.generic import RedirectView

from accounts.models import Membership, MentorProfile, Program
from accounts.selectors import pending_invitations_for, profile_completeness, programs_coordinated_by

from ..selectors import dashboard as matching
from ..selectors.messages import threads_for, unread_message_count


@login_required
def dashboard(request):
    """One page per person: a section for each role they hold."""
    user = request.user
    mentee = getattr(user, "mentee_profile", None)
    mentor = getattr(user, "mentor_profile", None)
    context = {
        "mentee": mentee,
        "mentor": mentor,
        "mentee_completeness": profile_completeness(mentee) if mentee else None,
        "mentor_completeness": profile_completeness(mentor) if mentor else None,
        "can_have_mentee_profile": user.has_perm("accounts.have_mentee_profile"),
        "can_have_mentor_profile": user.has_perm("accounts.have_mentor_profile"),
        "coordinated_programs": _coordinated(user),
        "ranking_windows": list(matching.open_ranking_windows_for(user)),
        "program_invitations": list(pending_invitations_for(user)[:10]),
    }
    if context["can_have_mentee_profile"] or context["can_have_mentor_profile"]:
        context.update(_mentorship_sections(user, mentee=mentee, mentor=mentor))
        requests = [*context.get("pending_requests", []), *context.get("requests_waiting", [])]
        context.update(
            _waiting_for_you(
                user,
                requests=requests,
                ranking_windows=context["ranking_windows"],
                mentorships=[*context.get("my_mentorships", []), *context.get("my_mentees", [])],
                goals=context.get("open_goals", []),
            )
        )
    if mentee is not None and not context.get("my_mentorships"):
        # Shown only to a resident without a mentor: counting every mentor for anyone else was wasted.
        context["accepting_mentor_count"] = (
            MentorProfile.objects.filter(accepting_mentees=True, capacity__gt=0, user__is_active=True)
            .exclude(user=user)
            .count()
        )
    return render(request, "matching/dashboard/page.html", context)


def _mentorship_sections(user, *, mentee, mentor):
    """Resident: my mentors, pending requests, open goals. Mentor: requests waiting for me,
    my mentees, free spots. Both: next meetings. One bounded query per list."""
    rows = matching.DASHBOARD_ROWS
    sections = {"next_meetings": list(matching.upcoming_meetings_for(user)[:rows])}
    if mentee is not None:
        sections.update(
            my_mentorships=list(matching.active_mentorships_as_mentee(user)),
            pending_requests=list(matching.pending_requests_sent(user)),
            open_goals=list(matching.open_action_items_for(user)[: rows * 2]),
        )
    if mentor is not None:
        mentees = list(matching.active_mentorships_as_mentor(user))
        sections.update(
            my_mentees=mentees,
            requests_waiting=list(matching.pending_requests_received(user)[: rows * 2]),
            free_spots=max(mentor.capacity - len(mentees), 0),
        )
    return sections


def _waiting_for_you(user, *, requests, ranking_windows, mentorships, goals):
    """What needs the person, first on the page: split by hat for someone who is both a
    mentee and a mentor (a near-peer), and unread messages across their threads."""
    tasks = matching.tasks_for(
        user, requests=requests, ranking_windows=ranking_windows, mentorships=mentorships, goals=goals
    )
    unread = unread_message_count(user)
    return {
        # Unread messages are listed above the tasks: the rest is "nothing else".
        "nothing_more": "Nothing else needs you" if unread else "Nothing needs you",
        "mentee_tasks": [t for t in tasks if t.hat == matching.MENTEE_HAT],
        "mentor_tasks": [t for t in tasks if t.hat == matching.MENTOR_HAT],
        "unread_messages": unread,
        "unread_threads": [t for t in threads_for(user) if t["unread"]][: matching.DASHBOARD_ROWS] if unread else [],
    }


def _coordinated(user):
    """The programs ``user`` coordinates, each with its head counts and ``actions``: what needs
    the coordinator, with a count and a link (``selectors.dashboard.coordinator_actions``).
    Nothing is read for someone who coordinates none."""
    programs = list(_program_summaries(user))
    if programs:
        actions = matching.coordinator_actions(programs, viewer=user)
        for program in programs:
            program.actions = actions[program.pk]
    return programs


def _program_summaries(user):
    """Head counts for each program the user coordinates, in one query.

    Invited people who have not set a password yet still have an unusable one."""
    resident, faculty = Membership.Role.RESIDENT, Membership.Role.FACULTY
    # A fresh queryset: counting through the coordinator filter's own join would
    # count only the coordinator's membership.
    return (
        Program.objects.filter(pk__in=programs_coordinated_by(user).values("pk"))
        .select_related("specialty")
        .annotate(
            resident_count=Count("memberships", filter=Q(memberships__role=resident), distinct=True),
            faculty_count=Count("memberships", filter=Q(memberships__role=faculty), distinct=True),
            awaiting_count=Count(
                "memberships__user",
                filter=Q(
                    memberships__role__in=[resident, faculty],
                    memberships__user__password__startswith=UNUSABLE_PASSWORD_PREFIX,
                ),
                distinct=True,
            ),
        )
    )


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="matching:dashboard", permanent=False)),
    path("dashboard/", dashboard, name="dashboard"),
]
