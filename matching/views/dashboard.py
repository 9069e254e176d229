"""The dashboard, everyone's home page: a section for each role a person holds."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render
from django.urls import path, reverse
from django.views.generic import RedirectView

from accounts.institutions import institutions_administered_by
from accounts.models import Program
from accounts.selectors import (
    pending_invitations_for,
    profile_completeness,
    programs_coordinated_by,
    with_roster_counts,
)

from ..capacity import Load
from ..models import MatchProposal
from ..selectors import dashboard as matching
from ..selectors.directory import mentor_directory
from ..selectors.messages import threads_for, unread_message_count
from ..services.messages import thread_url


@login_required
def dashboard(request):
    """One page per person: a section for each role they hold."""
    user = request.user
    mentee = getattr(user, "mentee_profile", None)
    mentor = getattr(user, "mentor_profile", None)
    # A superuser holds every permission: offer them the site's administration, not a mentee
    # or mentor profile of their own (one they already have is still shown).
    site_admin = user.is_superuser
    context = {
        "mentee": mentee,
        "mentor": mentor,
        "mentee_completeness": profile_completeness(mentee) if mentee else None,
        "mentor_completeness": profile_completeness(mentor) if mentor else None,
        "can_have_mentee_profile": user.has_perm("accounts.have_mentee_profile") and not (site_admin and not mentee),
        "can_have_mentor_profile": user.has_perm("accounts.have_mentor_profile") and not (site_admin and not mentor),
        "site_admin": site_admin,
        "site_institutions": _institutions(user) if site_admin else [],
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
                not_matched=context.get("not_matched", []),
                free_spots=context.get("free_spots"),
            )
        )
    if mentee is not None and (not context.get("my_mentorships") or context.get("not_matched")):
        # Shown only to a resident without a mentor (or left unmatched by a match): counting
        # every mentor for anyone else was wasted.
        context["accepting_mentor_count"] = mentors_with_a_free_spot(exclude=user)
    return render(request, "matching/dashboard/page.html", context)


def mentors_with_a_free_spot(*, exclude=None) -> int:
    """How many mentors a resident could request now: accepting mentees, with an active account,
    and with a spot their active mentorships leave free (the directory's ``open_spots``)."""
    mentors = mentor_directory().filter(accepting_mentees=True, open_spots__gt=0)
    if exclude is not None:
        mentors = mentors.exclude(user=exclude)
    return mentors.count()


def _not_matched(user, *, mentorships):
    """The published match runs that left ``user`` without a mentor, one per program and kind (the
    latest published), while they still have no active mentorship of that kind: each a proposal
    with its run and program, and the engine's reason spoken to the resident (``reason``: empty
    when the engine proposed a mentor the coordinator did not confirm)."""
    kinds_with_a_mentor = {m.kind for m in mentorships}
    proposals = (
        MatchProposal.objects.filter(mentee=user, run__published_at__isnull=False, run__archived_at__isnull=True)
        .select_related("run__program")
        .order_by("-run__published_at", "-run_id")[: matching.DASHBOARD_ROWS]
    )
    latest: dict = {}
    for proposal in proposals:
        latest.setdefault((proposal.run.program_id, proposal.run.kind), proposal)
    confirmed = (MatchProposal.Decision.ACCEPTED, MatchProposal.Decision.OVERRIDDEN)
    left_out = []
    for proposal in latest.values():
        if proposal.decision in confirmed or proposal.run.kind in kinds_with_a_mentor:
            continue
        proposal.reason = proposal.why_not_for_mentee if proposal.mentor_id is None else ""
        left_out.append(proposal)
    return left_out


def _institutions(user):
    """The institutions a site administrator may manage from the dashboard, with their program counts."""
    return list(institutions_administered_by(user).annotate(program_count=Count("programs")).order_by("name", "pk"))


def _mentorship_sections(user, *, mentee, mentor):
    """Resident: my mentors, pending requests, open goals. Mentor: requests waiting for me,
    my mentees, free spots. Both: next meetings. One bounded query per list."""
    rows = matching.DASHBOARD_ROWS
    sections = {"next_meetings": list(matching.upcoming_meetings_for(user)[:rows])}
    if mentee is not None:
        # Active and past in one query: a mentorship that just ended gets its own card.
        mine = list(matching.mentorships_as_mentee(user)[: rows * 2])
        my_mentorships = [m for m in mine if m.is_active]
        past = [m for m in mine if not m.is_active]
        sections.update(
            my_mentorships=my_mentorships,
            recently_ended=matching.recently_ended(past),
            # "You don't have a career mentor now" once one has ended; "yet" before any.
            last_mentor_kind=past[0].get_kind_display().lower() if past else "",
            pending_requests=list(matching.pending_requests_sent(user)),
            open_goals=list(matching.open_action_items_for(user)[: rows * 2]),
            not_matched=_not_matched(user, mentorships=my_mentorships),
        )
    if mentor is not None:
        mentees = list(matching.active_mentorships_as_mentor(user))
        sections.update(
            my_mentees=mentees,
            requests_waiting=list(matching.pending_requests_received(user)[: rows * 2]),
            free_spots=max(mentor.capacity - len(mentees), 0),
            mentor_load=Load(taken=len(mentees), capacity=mentor.capacity, accepting=mentor.accepting_mentees),
        )
    return sections


def _waiting_for_you(user, *, requests, ranking_windows, mentorships, goals, not_matched=(), free_spots=None):
    """What needs the person, first on the page: split by hat for someone who is both a
    mentee and a mentor (a near-peer), and unread messages across their threads. A published
    match that left them without a mentor comes first: finding one is now up to them too."""
    directory = reverse("matching:mentor-directory")
    tasks = [
        matching.Task(
            matching.MENTEE_HAT,
            "not_matched",
            f"Find a {p.run.get_kind_display().lower()} mentor: the {p.run.program.name} match did not pair you",
            directory,
            # No "why" for a proposal the coordinator did not confirm: it is not told (see _not_matched).
            "why, and what you can do, below" if p.reason else "what you can do, below",
        )
        for p in not_matched
    ]
    tasks += matching.tasks_for(
        user,
        requests=requests,
        ranking_windows=ranking_windows,
        mentorships=mentorships,
        goals=goals,
        free_spots=free_spots,
    )
    unread = unread_message_count(user)
    unread_threads = [t for t in threads_for(user) if t["unread"]][: matching.DASHBOARD_ROWS] if unread else []
    for item in unread_threads:
        # Straight to the conversation (as the inbox links), not to the mentorship's page.
        item["url"] = thread_url(item["thread"]) + "#latest"
    return {
        # Unread messages are listed above the tasks: the rest is "nothing else".
        "nothing_more": "Nothing else needs you" if unread else "Nothing needs you",
        "mentee_tasks": [t for t in tasks if t.hat == matching.MENTEE_HAT],
        "mentor_tasks": [t for t in tasks if t.hat == matching.MENTOR_HAT],
        "unread_messages": unread,
        "unread_threads": unread_threads,
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
    """Head counts for each program the user coordinates, in one query: the same counts as the
    institution's page (``accounts.selectors.with_roster_counts``)."""
    # A fresh queryset: counting through the coordinator filter's own join would
    # count only the coordinator's membership.
    # By name, as the Programs page lists them (Meta.ordering is not applied to a GROUP BY query).
    programs = Program.objects.filter(pk__in=programs_coordinated_by(user).values("pk"))
    return with_roster_counts(programs).select_related("specialty").order_by("name", "pk")


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="matching:dashboard", permanent=False)),
    path("dashboard/", dashboard, name="dashboard"),
]
