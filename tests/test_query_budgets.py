"""A query budget for every list page and list API operation.

Each budget is measured twice: on the security tests' world plus one "grown" row of
everything (goals, interests, slots, notes, proposals, …), then again after four more.
The count must not move: a list whose query count grows with its rows has an N+1.

A list route with no budget here fails ``test_every_list_route_has_a_budget``, so a new
list page or list endpoint arrives with its budget.
"""

from dataclasses import dataclass
from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import (
    AcademicRank,
    AvailabilityWindow,
    BusyBlock,
    BusyCalendar,
    CareerStage,
    Goal,
    InstitutionRole,
    Interest,
    Language,
    MeetingFormat,
    Membership,
    Program,
    ProgramInvitation,
    Specialty,
)
from accounts.services import api_token_issue
from audit.models import AuditEntry
from matching.models import (
    ActionItem,
    Agreement,
    CheckIn,
    ConflictOfInterest,
    EvaluatorRole,
    Introduction,
    MatchProposal,
    MatchRun,
    Meeting,
    MeetingSlot,
    Mentorship,
    MentorshipRequest,
    Message,
    Notification,
    PairingException,
    RankingSubmission,
    Resource,
)
from matching.selectors import mentorships as mentorship_selectors
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory
from tests.security.conftest import build_world
from tests.security.routes import api_operations, page_route_names

pytestmark = pytest.mark.django_db

GROWN = "Growing"  # in every grown row's visible text, so a test can see the list did grow


# --- Pages that are not lists, each with why.

NOT_LIST_PAGES = {
    "path:": "redirects to the dashboard",
    "accounts:password_change": "a form",
    "accounts:password_change_done": "a confirmation",
    "matching:notifications-unsubscribe": "one button, for the person the link names",
    # Sign-in and security (allauth's pages): one person's own few authenticators and sessions.
    "accounts:mfa-required": "two links",
    "account_reauthenticate": "a form",
    "mfa_index": "one person's second factors: an app, keys, recovery codes",
    "mfa_reauthenticate": "a form",
    "mfa_activate_totp": "a form",
    "mfa_deactivate_totp": "a form",
    "mfa_view_recovery_codes": "one person's codes",
    "mfa_generate_recovery_codes": "a form",
    "mfa_download_recovery_codes": "a text download",
    "mfa_list_webauthn": "one person's security keys, a handful",
    "mfa_add_webauthn": "a form",
    "mfa_reauthenticate_webauthn": "a form",
    "mfa_remove_webauthn": "a form",
    "mfa_edit_webauthn": "a form",
    "usersessions_list": "one person's live sessions (allauth drops them as they end)",
    "accounts:profile": "one person's own profile",
    "accounts:account-edit": "a form",
    "accounts:mentee-profile-edit": "a form",
    "matching:mentor-profile-edit": "a form",
    "accounts:availability-edit": "a form of one person's windows",
    "accounts:busy-block-edit": "a form of one block",
    "accounts:busy-block-delete": "a POST action",
    "accounts:busy-calendar-upload": "a POST action",
    "accounts:busy-calendar-subscribe": "a POST action",
    "accounts:busy-calendar-refresh": "a POST action",
    "accounts:busy-calendar-delete": "a POST action",
    "matching:calendar-feed": "an .ics of one person's meetings, by secret token; its constant query count "
    "is asserted in tests/matching/test_ics_feed.py",
    "matching:calendar-feed-enable": "a POST action",
    "matching:calendar-feed-regenerate": "a POST action",
    "matching:calendar-feed-disable": "a POST action",
    "matching:person": "one person",
    "accounts:roster-export": "a CSV download, not a page",
    "accounts:roster-template": "a static CSV template",
    "accounts:roster-import": "an upload form",
    "accounts:roster-import-preview": "one uploaded file's preview",
    "accounts:roster-reinvite": "a POST action",
    "accounts:roster-invitation-withdraw": "a POST action",
    "accounts:invitation-accept": "a POST action",
    "accounts:api-token-revoke": "a POST action",
    "accounts:api-tokens-revoke-all": "a POST action",
    "accounts:invitation-decline": "a POST action",
    "matching:request-create": "a form",
    "matching:request-accept": "a POST action",
    "matching:request-decline": "a POST action",
    "matching:request-question": "a POST action",
    "matching:request-answer": "a POST action",
    "matching:request-withdraw": "a POST action",
    "matching:request-messages": "a POST action (on an invalid message, the request's page again)",
    "matching:message-edit": "a form of one message",
    "matching:message-delete": "a POST action",
    "matching:mentorship-agreement": "a form",
    "matching:mentorship-end": "a form",
    "matching:mentorship-thanks": "a form",
    "matching:action-item-create": "a POST action",
    "matching:action-item-update": "a POST action",
    "matching:action-item-edit": "a form of one goal",
    "matching:action-item-delete": "a POST action",
    "matching:resource-edit": "a form of one resource",
    "matching:resource-delete": "a POST action",
    "matching:resource-create": "a POST action",
    "matching:introduction-create": "a form",
    "matching:checkin-create": "a form",
    "matching:introduction-respond": "a POST action",
    "matching:meeting-propose": "a form",
    "matching:meeting-detail": "one meeting",
    "matching:meeting-confirm": "a POST action",
    "matching:meeting-reschedule": "a form",
    "matching:meeting-cancel": "a POST action",
    "matching:meeting-held": "a POST action",
    "matching:meeting-notes": "a POST action",
    "matching:meeting-details": "a POST action (the form is on the meeting's page)",
    "matching:meeting-ics": "one calendar file",
    "matching:notifications-read-all": "a POST action",
    "matching:notification-preferences": "a form",
    "matching:notification-read": "a POST action",
    "matching:match-run-create": "a form",
    "matching:match-run-readiness-remind": "a POST action",
    # Institution administrators only (nobody in this world): their constant query counts, at one
    # and at five programs, are tested in tests/accounts/views/test_institutions.py.
    "accounts:institution": "an institution administrator's page (counted in test_institutions.py)",
    "accounts:institution-program-new": "a form",
    "accounts:program-edit": "a form",
    "accounts:program-coordinators": "a program's few coordinators and a form",
    "accounts:program-coordinator-remove": "a POST action",
    "matching:match-run-progress": "one run's progress fragment",
    "matching:match-run-accept": "a POST action",
    "matching:match-run-override": "a POST action",
    "matching:match-run-accept-all": "a POST action",
    "matching:match-run-publish": "a POST action",
    "matching:match-run-second-round": "a POST action",
    "matching:match-run-cancel": "a POST action",
    "matching:match-run-rerun": "a POST action",
    "matching:match-run-archive": "a POST action",
    "matching:ranking-window-remind": "a POST action",
    "matching:ranking-window-extend": "a POST action",
    "matching:ranking-window-close": "a POST action",
    "matching:match-run-export": "a CSV download, not a page",
    "matching:conflicts-add": "a POST action",
    "matching:conflicts-remove": "a POST action",
    "matching:pairings-export": "a CSV download, not a page",
    "matching:pairing-assign": "one resident's assign form",
    "matching:pairing-end": "a form",
    "matching:pairing-reassign": "one pairing's reassign form",
    "matching:audit-export": "a CSV download, not a page",
    "matching:pairing-nudge": "a POST action",
    "matching:portfolio-export": "a CSV download, not a page",
}


def is_list_operation(op):
    """drf-spectacular names a GET that returns many ``…_list``."""
    return op["operationId"].endswith("_list")


# --- Growing the world.


def grow(w, start, count):
    """Add ``count`` rows of everything each persona's lists show, with every relation a
    list could load row by row (goals, interests, languages, slots, notes, proposals, …)."""
    R, F, C = Membership.Role.RESIDENT, Membership.Role.FACULTY, Membership.Role.COORDINATOR
    now = timezone.now()
    u, o = w.users, w.objs
    im, alice, carol, dave, cora = o["im"], u["resident"], u["attending"], u["other_attending"], u["coordinator"]
    m, run = o["mentorship"], o["run"]
    for i in range(start, start + count):
        goal = Goal.objects.create(name=f"{GROWN} goal {i}", slug=f"growing-goal-{i}")
        interest = Interest.objects.create(name=f"{GROWN} interest {i}", slug=f"growing-interest-{i}")
        language = Language.objects.create(name=f"{GROWN} language {i}", slug=f"growing-language-{i}", code=f"g{i}")
        meeting_format = MeetingFormat.objects.create(name=f"{GROWN} format {i}", slug=f"growing-format-{i}")
        CareerStage.objects.create(name=f"{GROWN} stage {i}", slug=f"growing-stage-{i}", code=f"GS-{i}")
        rank = AcademicRank.objects.create(name=f"{GROWN} rank {i}", slug=f"growing-rank-{i}")
        sub = Specialty.objects.create(name=f"{GROWN} subspecialty {i}", slug=f"growing-sub-{i}", parent=im.specialty)

        mentee = UserFactory(first_name=GROWN, last_name=f"Mentee{i}", email=f"grow-mentee-{i}@hospital.example")
        MembershipFactory(user=mentee, program=im, role=R)
        mp = MenteeProfileFactory(user=mentee)
        mp.goals.add(goal, *Goal.objects.exclude(pk=goal.pk)[:1])
        mp.interests.add(interest)
        mp.languages.add(language)
        mp.meeting_formats.add(meeting_format)
        mp.subspecialty_interests.add(sub)

        mentor = UserFactory(first_name=GROWN, last_name=f"Mentor{i}", email=f"grow-mentor-{i}@hospital.example")
        MembershipFactory(user=mentor, program=im, role=F)
        fp = MentorProfileFactory(user=mentor, academic_rank=rank, subspecialty=sub, capacity=3)
        fp.expertise.add(goal, *Goal.objects.exclude(pk=goal.pk)[:1])
        fp.interests.add(interest)
        fp.languages.add(language)
        fp.meeting_formats.add(meeting_format)
        for user in (mentee, mentor):
            AvailabilityWindow.objects.create(user=user, weekday=i % 5, start=time(8), end=time(10))
            BusyBlock.objects.create(
                user=user,
                start_date=now.date() + timedelta(days=30),
                end_date=now.date() + timedelta(days=40),
                label=f"{GROWN} nights",
            )

        # Carol mentors the new resident (active); Alice's earlier mentorship with the new
        # attending is completed (she may hold only one active per kind).
        for mentorship in (
            Mentorship.objects.create(mentee=mentee, mentor=carol, program=im),
            Mentorship.objects.create(
                mentee=alice,
                mentor=mentor,
                program=im,
                status=Mentorship.Status.COMPLETED,
                ended_at=now,
                thank_you_note=f"{GROWN} thanks {i}",
            ),
            m,
        ):
            if mentorship is not m:
                Agreement.objects.create(mentorship=mentorship)
            meeting = Meeting.objects.create(
                mentorship=mentorship,
                proposed_by=mentorship.mentee,
                location=f"{GROWN} room {i}",
                status=Meeting.Status.CONFIRMED,
                start=now + timedelta(days=2, hours=i),
                notes=f"{GROWN} notes {i}",
            )
            MeetingSlot.objects.create(meeting=meeting, start=now + timedelta(days=2, hours=i))
            MeetingSlot.objects.create(meeting=meeting, start=now + timedelta(days=3, hours=i))
            ActionItem.objects.create(
                mentorship=mentorship,
                title=f"{GROWN} item {i}",
                owner=mentorship.mentee,
                created_by=mentorship.mentor,
                due_date=now.date() + timedelta(days=10),
            )
            Resource.objects.create(
                mentorship=mentorship,
                shared_by=mentorship.mentor,
                title=f"{GROWN} resource {i}",
                url=f"https://example.org/grow/{i}",
            )
            CheckIn.objects.create(
                mentorship=mentorship, author=mentorship.mentee, rating=3, comment=f"{GROWN} comment {i}"
            )
            # Both sides write, so the reader has messages of their own and unread ones to mark.
            for author in (mentorship.mentee, mentorship.mentor):
                Message.objects.create(mentorship=mentorship, author=author, body=f"{GROWN} message {i}")
            if mentorship.mentee != alice:
                # Carol introduces each of her mentees to Dave.
                Introduction.objects.create(mentorship=mentorship, colleague=dave, note=f"{GROWN} introduction {i}")

        for sender, receiver in ((mentee, carol), (mentee, dave), (alice, mentor)):
            asked = MentorshipRequest.objects.create(
                mentee=sender,
                mentor=receiver,
                program=im,
                message=f"{GROWN} request {i}",
                expires_at=now + timedelta(days=14),
            )
            # Each request a thread of its own (a new conversation in both inboxes).
            Message.objects.create(request=asked, author=sender, body=f"{GROWN} question {i}")
        # Bob and Dave talk on Bob's pending request: its page's thread grows.
        for author in (o["request"].mentee, o["request"].mentor):
            Message.objects.create(request=o["request"], author=author, body=f"{GROWN} request message {i}")
        for user in (alice, carol, cora):
            Notification.objects.create(
                user=user, event="request.created", title=f"{GROWN} notification {i}", dedup_key=f"grow-{user.pk}-{i}"
            )
        AuditEntry.objects.create(
            actor=cora,
            program=im,
            action="mentorship.created",
            object_type="mentorship",
            object_id=str(i),
            reason=f"{GROWN} audit {i}",
        )
        ConflictOfInterest.objects.create(
            program=im, mentee=mentee, mentor=mentor, reason=f"{GROWN} conflict {i}", created_by=cora
        )
        # A program director (not a mentor: evaluators are kept away from the program's residents).
        director = UserFactory(first_name=GROWN, last_name=f"Director{i}", email=f"grow-pd-{i}@hospital.example")
        MembershipFactory(user=director, program=im, role=F)
        EvaluatorRole.objects.create(
            program=im, user=director, role=EvaluatorRole.Role.PROGRAM_DIRECTOR, created_by=cora
        )
        PairingException.objects.create(
            program=im, mentee=mentee, mentor=dave, reason=f"{GROWN} exception {i}", created_by=cora
        )
        # An unpaired resident, for the unpaired list.
        loner = UserFactory(first_name=GROWN, last_name=f"Loner{i}", email=f"grow-loner-{i}@hospital.example")
        MembershipFactory(user=loner, program=im, role=R)
        MenteeProfileFactory(user=loner).goals.add(goal)

        run.mentees.add(mentee)
        run.mentors.add(mentor)
        MatchProposal.objects.create(run=run, mentee=mentee, mentor=mentor, score=60.0 + i, rank_obtained=1)
        run_b = o["run_b"]
        run_b.mentees.add(mentee)
        run_b.mentors.add(mentor)
        MatchProposal.objects.create(run=run_b, mentee=mentee, mentor=carol, score=50.0 + i, rank_obtained=2)
        other_run = MatchRun.objects.create(
            program=im, created_by=cora, status=MatchRun.Status.SUCCEEDED, progress=100, finished_at=now
        )
        other_run.mentees.add(mentee)
        other_run.mentors.add(mentor)
        # The run waiting for rankings: one more on each side, the resident's list submitted.
        ranking_run = o["ranking_run"]
        ranking_run.mentees.add(mentee)
        ranking_run.mentors.add(mentor)
        RankingSubmission.objects.create(run=ranking_run, author=mentee, ranked=0)

        program = Program.objects.create(
            name=f"{GROWN} program {i}", slug=f"growing-{i}", institution=im.institution, specialty=im.specialty
        )
        MembershipFactory(user=cora, program=program, role=C)
        # A fellow coordinator of im (the coordinators' list grows).
        fellow = UserFactory(first_name=GROWN, last_name=f"Coordinator{i}", email=f"grow-coord-{i}@hospital.example")
        MembershipFactory(user=fellow, program=im, role=C)
        # Alice is asked to join that program; Cora asks the new resident to mentor in im too.
        ProgramInvitation.objects.create(
            program=program,
            user=alice,
            role=R,
            invited_by=cora,
            email=alice.email,
            first_name="A",
            last_name="A",
        )
        api_token_issue(user=alice, name=f"{GROWN} token {i}")
        # Alice's busy blocks, typed and imported (each calendar with a block of its own).
        BusyBlock.objects.create(
            user=alice, start_date=now.date(), end_date=now.date() + timedelta(days=2), label=f"{GROWN} block {i}"
        )
        calendar = BusyCalendar.objects.create(user=alice, name=f"{GROWN} calendar {i}")
        BusyBlock.objects.create(
            user=alice, calendar=calendar, external_uid=f"g{i}", start_date=now.date(), end_date=now.date(), label="ICU"
        )
        ProgramInvitation.objects.create(
            program=im,
            user=mentee,
            role=F,
            invited_by=cora,
            email=mentee.email,
            first_name=GROWN,
            last_name=f"Asked{i}",
        )


# --- The budgets.


# Every request pays these, before and after the view's own queries.
# The session comes from the cache (cached_db) and is saved once per few minutes of activity
# (accounts.middleware.SessionActivityMiddleware), not on every request: only the user is read.
REQUEST = ("user",)

# The page chrome (templates/base.html), the same for everyone: the program switcher's roles,
# the institutions administered and which profiles the person has (the menu's "be a mentor"/"my
# mentee profile" links) in one query, and the bell (both built once per process: core.queries).
NAV = ("nav: roles, institutions and profiles", "nav: unread notifications and messages")
NAV_COORDINATOR = NAV_ATTENDING = NAV_RESIDENT = NAV

# Viewing one program as its coordinator.
COORDINATOR_OF = ("program by slug", "permission: coordinator membership")

# The mentor cards of the directory and of recommendations: one page of mentors, their
# vocabularies prefetched, and what the viewer's score against each needs.
MENTOR_CARDS = (
    "mentors (with active-mentee count, specialty, subspecialty, rank, stage)",
    "prefetch: expertise",
    "prefetch: interests",
    "prefetch: languages",
    "prefetch: meeting formats",
    "prefetch: availability",
    "viewer: resident memberships",
    "viewer: subspecialty interests",
    "viewer: goals",
    "viewer: interests",
    "viewer: career stage",
    "viewer: languages",
    "viewer: meeting formats",
    "viewer: availability",
    "the mentors' evaluator roles",
    "viewer's resident memberships in the mentors' programs",
    "pairing exceptions between viewer and these mentors",
    "conflicts of interest between viewer and these mentors",
)


# Scoring the viewer against every mentor (the directory, recommendations): plain rows, then
# the vocabularies' through tables and the mentors' windows as id tuples.
SCORING_MENTORS = (
    "mentors as plain rows (with active-mentee count, names, stage order)",
    "scoring: expertise ids",
    "scoring: interest ids",
    "scoring: language ids",
    "scoring: meeting format ids",
    "scoring: availability",
)


# The directory's mentors, prepared once and kept across requests (matching.directory_mentors):
# a request reads only their stamp; the first request after a change prepares them again
# (SCORING_MENTORS), which is why these budgets are measured once more after the world grows.
KEPT_MENTORS = ("the directory's prepared mentors: their stamp (one row of aggregates)",)


@dataclass(frozen=True)
class Budget:
    persona: str
    queries: tuple  # every query the view makes, in order, one string each
    url_kwargs: tuple = ()  # "kwarg=world object" or "slug"
    marker: str = GROWN  # text each shown row carries, to see that the page did grow
    query: str = ""  # e.g. "with=run_b": the query string, naming world objects by key
    kept_across_requests: bool = False  # what growing changes is prepared again on the next request

    @property
    def total(self):
        return len(REQUEST) + len(self.queries)


PAGE_BUDGETS = {
    "matching:dashboard": Budget(
        "attending",
        (
            "mentee profile (none)",
            "mentor profile",
            # The profile checklist: one query, an EXISTS per list and one for availability (the
            # specialty is read by its id, not loaded).
            "has expertise, interests, languages, meeting formats, availability",
            "is a resident",
            "permissions: user's",
            "permissions: groups'",  # ModelBackend, once per request
            "is faculty",
            "match runs open for ranking (with has-ranked)",
            "invitations to join a program (with program, inviter)",
            "upcoming meetings (with people)",
            "active mentees (with profile and stage)",
            "open requests (with people and program)",
            # Waiting for you: what the lists above do not already hold.
            "meetings the other person proposed (with people)",
            "mentorships due a check-in (with people)",
            "unread messages (count)",
            # Some are unread (the grown world's are), so the threads they are in:
            "unread messages (their threads' ids)",
            "latest messages (with threads and people)",
            *NAV,
            "coordinated programs with counts (none)",
        ),
    ),
    # Scoring reads every mentor as a plain row and the vocabularies as id pairs (no model
    # instances); only the cards shown (the page's and the recommended) are then loaded and
    # prefetched: one query more than loading every mentor as a card, a second less at 5,000.
    "matching:mentor-directory": Budget(
        "resident",
        (
            "mentee profile (with career stage)",
            *KEPT_MENTORS,
            "viewer: resident memberships",
            "viewer: the five sets and availability (one UNION ALL)",
            *MENTOR_CARDS[14:],
            "current mentors (not recommended again)",
            MENTOR_CARDS[0],
            "the cards' goal and language names (one UNION ALL)",
            "the viewer's mentors and pending requests (card labels)",
            *NAV_RESIDENT,
            # The filter form's five vocabularies come from the cache (accounts/filters.py).
        ),
        kept_across_requests=True,
    ),
    "accounts:invitations": Budget(
        "resident",
        (
            "invitations to join (with program, inviter)",
            *NAV_RESIDENT,
        ),
    ),
    "accounts:api-tokens": Budget(
        "resident",
        (
            "live tokens",
            *NAV_RESIDENT,
        ),
    ),
    "accounts:programs": Budget(
        "coordinator",
        (
            "permission: coordinator anywhere",
            *NAV_COORDINATOR,
            "coordinated programs (with specialty)",
            "institutions administered (for the 'Your institution' link)",
        ),
    ),
    "accounts:roster": Budget(
        "coordinator",
        (
            *COORDINATOR_OF,
            "count",
            "page of members (with profiles, stage, specialty, rank)",
            "invitations to join, waiting (as typed)",
            "invite step: never invited / to re-invite / invited today (one aggregate)",
            "applied files naming existing accounts still to ask",
            *NAV_COORDINATOR,
        ),
        ("slug",),
    ),
    "matching:requests": Budget(
        "attending",
        (
            "memberships (which sides to show)",
            "mentee profile (none)",
            "counts per status tab",
            "count",
            # Not shared with the view's own membership query: the nav asks again.
            *NAV,
            "page of requests (with people and program)",
        ),
    ),
    "matching:mentorships": Budget(
        "attending",
        (
            "mentorships (with people, program, agreement)",
            *NAV_ATTENDING,
        ),
    ),
    "matching:mentorship-detail": Budget(
        "resident",
        (
            "mentorship (with people, program, ended-by, agreement)",
            "permission: coordinator of its program",
            "mentee profile",
            "mentor profile",
            "mentee: resident memberships",
            "mentee: subspecialty interests",
            "mentee: goals",
            "mentee: interests",
            "mentee: career stage",
            "mentee: languages",
            "mentee: meeting formats",
            "mentee: availability",
            "mentor: active mentee count",
            "mentor: expertise",
            "mentor: interests",
            "mentor: languages",
            "mentor: meeting formats",
            "mentor: availability",
            "viewer's latest check-in",
            *NAV_RESIDENT,
            "meetings (with people)",
            "prefetch: meeting slots",
            "action plan (with owner and creator)",
            "resources (with sharer)",
            "introductions (with colleague)",
        ),
        ("pk=mentorship",),
    ),
    # The pair's conversations: a thread shows its latest 50 messages, the inbox each
    # thread's latest. Opening a thread marks the other person's messages read, so the
    # bell (asked after) already counts them read.
    "matching:messages": Budget(
        "resident",
        (
            "unread messages (their threads' ids)",
            "latest messages (with threads and people)",
            *NAV_RESIDENT,
        ),
    ),
    "matching:mentorship-messages": Budget(
        "resident",
        (
            "mentorship (with people, program, agreement, ended-by)",
            "the thread's messages (with authors)",
            "mark the other person's messages read (UPDATE)",
            "the mentorship's requests (notification keys)",
            "mark the notifications about them read (UPDATE, one per key)",
            *NAV_RESIDENT,
        ),
        ("pk=mentorship",),
    ),
    # A request's page is one request, but it carries the pair's thread.
    "matching:request-detail": Budget(
        "other_resident",
        (
            "request (with people, program)",
            "prefetch: mentee's goals",
            "the pair's mentorship made another way (none)",
            "the thread's messages (with authors)",
            "mark the other person's messages read (UPDATE)",
            "mark the notifications about them read (UPDATE)",
            *NAV_RESIDENT,
        ),
        ("pk=request",),
    ),
    "matching:introductions": Budget(
        "other_attending",
        (
            "introductions received (with mentorship, people, program)",
            *NAV_ATTENDING,
        ),
    ),
    "accounts:busy-blocks": Budget(
        "resident",
        (
            *NAV,
            "typed blocks",
            "imported calendars",
            "their blocks",
        ),
    ),
    "matching:notifications": Budget(
        "resident",
        (
            "count",
            *NAV,
            "page of notifications",
        ),
    ),
    "matching:match-runs": Budget(
        "coordinator",
        (
            *COORDINATOR_OF,
            *NAV_COORDINATOR,
            "runs (with creator)",
            "matched and unmatched of the finished runs (one query: match_runs.selectors.matched_counts)",
            "archived runs (count)",
        ),
        ("slug",),
        marker='href="/match-runs/',
    ),
    # The coordinator's view of a ranking window: who has submitted, never what.
    "matching:ranking-window": Budget(
        "coordinator",
        (
            "run (with program)",
            "permission: coordinator membership",
            "submissions",
            "the run's residents",
            "the run's mentors",
            *NAV_COORDINATOR,
        ),
        ("pk=ranking_run",),
    ),
    # One person's ranking form: every mentor of the run with what to rank them by (fit, shared time).
    "matching:match-run-rank": Budget(
        "resident",
        (
            "run (with program)",
            "permission: in the run's cohort (page)",
            "permission: in the run's cohort (rank_in_run)",
            "which side: a resident of the run?",
            "the run's mentors",
            "the viewer's mentee profile (with stage)",
            "prefetch: subspecialty interests",
            "prefetch: goals",
            "prefetch: interests",
            "prefetch: languages",
            "prefetch: meeting formats",
            "the viewer's weekly availability",
            "mentors' profiles (with specialty, rank, active count)",
            "prefetch: expertise",
            "prefetch: interests",
            "prefetch: languages",
            "prefetch: meeting formats",
            "the mentors' weekly availability",
            "the viewer's saved ranking",
            "the viewer's submission",
            *NAV_RESIDENT,
        ),
        ("pk=ranking_run",),
    ),
    "matching:match-run-readiness": Budget(
        "coordinator",
        (
            *COORDINATOR_OF,
            *NAV_COORDINATOR,
            "residents (with profile, PGY, has-goals, has-interests)",
            "their active mentors of the kind",
            "left out: active mentee profiles",
            "mentors (with spots, has-availability)",
        ),
        ("slug",),
    ),
    "matching:match-run-detail": Budget(
        "coordinator",
        (
            "run (with program, creator, parent, publisher)",
            "permission: coordinator membership",
            "re-runs of this run",
            # One summary (match_runs.selectors.review_summary) for the page, the API and the CSV.
            "summary: the proposals' people and decisions",
            "summary: who ranked",
            "summary: the run's mentors with their capacity",
            "summary: their active mentorships (count per mentor)",
            "proposals: count (pagination)",
            "one page of proposals (with mentee, mentor, override mentor, decided-by)",
            # A run computed before runs recorded their inputs: out of date once a later run published.
            "out of date: a run of the program published since",
            "next rounds",
            "other succeeded runs (compare choices)",
            *NAV_COORDINATOR,
        ),
        ("pk=run",),
    ),
    "matching:match-run-compare": Budget(
        "coordinator",
        (
            "run (with program, creator, parent, publisher)",
            "permission: coordinator membership",
            "the other run",
            "permission: coordinator membership",
            # match_run_compare re-checks both runs' permission itself (it serves the API too).
            "service permission: this run",
            "service permission: the other run",
            "proposals of this run (with people)",
            "proposals of the other run (with people)",
            *NAV_COORDINATOR,
        ),
        ("pk=run",),
        query="with=run_b",
    ),
    "matching:conflicts": Budget(
        "coordinator",
        (
            *COORDINATOR_OF,
            "residents (form choices)",
            "mentors (form choices)",
            "faculty memberships (evaluator choices)",
            "evaluator roles (to flag the choices)",
            *NAV_COORDINATOR,
            "evaluator roles (with user)",
            "conflicts (with people and creator)",
            "pairing exceptions (with people and creator)",
        ),
        ("slug",),
    ),
    "matching:program-health": Budget(
        "coordinator",
        (
            *COORDINATOR_OF,
            "program dates (first mentorship, first request)",
            "residents' career stages (PGY filter)",
            "pairings (with last meeting, people)",
            "unpaired residents per kind",
            "mentor load",
            "request counts",
            "requests in the period (response times)",
            "meetings in the period",
            "mentorships active in the period",
            "ended pairings and their successors",
            "check-ins by PGY",
            "check-in totals",
            *NAV_COORDINATOR,
            "page of check-in comments (with people)",
        ),
        ("slug",),
    ),
    "matching:pairings": Budget(
        "coordinator",
        (
            *COORDINATOR_OF,
            "count",
            "page of pairings (with last/next meeting, people, stage)",
            "pairings breaking a conflict of interest (count)",
            # No mentor choices: a row links to its reassign page rather than carrying the form, and
            # the filters find a mentor by a search rather than a dropdown of everyone who mentored.
            *NAV_COORDINATOR,
            "career stages (PGY filter)",
        ),
        ("slug",),
    ),
    "matching:audit": Budget(
        "coordinator",
        (
            *COORDINATOR_OF,
            "actors (filter choices)",
            "count",
            "page of entries (with actor)",
            "the mentorships the page's entries name",
            *NAV_COORDINATOR,
        ),
        ("slug",),
    ),
    "matching:portfolio": Budget(
        "attending",
        (
            "mentor profile",
            "mentor profile (with specialty, rank, stage)",
            "mentorships in the year (with mentee, stage, program)",
            "meetings in the year",
            "goals completed in the year",
            "mentorships ended in the year (thank-you notes)",
            *NAV_ATTENDING,
        ),
    ),
}

PAGED = ("count", "page")
PROGRAM_API = (*COORDINATOR_OF, *PAGED)
MENTORSHIP = "mentorship (with people, program, agreement, viewer's latest check-in)"

API_BUDGETS = {
    "/api/v1/academic-ranks/": Budget("resident", PAGED),
    "/api/v1/auth/tokens/": Budget("resident", PAGED),
    "/api/v1/career-stages/": Budget("resident", PAGED),
    "/api/v1/goals/": Budget("resident", PAGED),
    "/api/v1/interests/": Budget("resident", PAGED),
    "/api/v1/languages/": Budget("resident", PAGED),
    "/api/v1/meeting-formats/": Budget("resident", PAGED),
    "/api/v1/specialties/": Budget("resident", ("count", "page (with parent)")),
    "/api/v1/introductions/": Budget("other_attending", ("count", "page (with mentorship, people, program)")),
    "/api/v1/match-runs/{id}/proposals/": Budget(
        "coordinator",
        (
            "run (with program)",
            "prefetch: run's mentees",
            "prefetch: run's mentors",
            "permission: coordinator membership",
            "count",
            "page (with mentee, mentor, override mentor, decided-by)",
        ),
        ("id=run",),
    ),
    "/api/v1/me/recommendations/": Budget(
        "resident",
        (
            "permission: is a resident",
            "mentee profile",
            *KEPT_MENTORS,
            *MENTOR_CARDS[6:],
            "current mentors (not recommended again)",
            "the recommended mentors' open spots and names, read fresh",
        ),
        kept_across_requests=True,
    ),
    "/api/v1/me/program-invitations/": Budget("resident", ("count", "page (with program, inviter)")),
    "/api/v1/mentors/": Budget("resident", ("count", *MENTOR_CARDS[:6])),
    "/api/v1/mentorships/": Budget("attending", ("count", "page (with people, program, agreement, latest check-in)")),
    "/api/v1/mentorships/{id}/action-items/": Budget(
        "resident",
        (
            MENTORSHIP,
            "count",
            "page (with owner and creator)",
        ),
        ("id=mentorship",),
    ),
    "/api/v1/mentorships/{id}/meetings/": Budget(
        "resident",
        (
            "mentorship (with people, program)",
            "count",
            "page (with people)",
            "prefetch: slots",
        ),
        ("id=mentorship",),
    ),
    "/api/v1/mentorships/{id}/messages/": Budget(
        "resident",
        (
            "mentorship (with people, program, agreement, ended-by)",
            "count",
            "page (with authors)",
        ),
        ("id=mentorship",),
    ),
    "/api/v1/requests/{id}/messages/": Budget(
        "other_attending",
        (
            "request (with people, program)",
            "prefetch: mentee's goals",  # requests_for_page's, not needed by a thread
            "count",
            "page (with authors)",
        ),
        ("id=request",),
    ),
    "/api/v1/mentorships/{id}/resources/": Budget(
        "resident",
        (
            MENTORSHIP,
            "count",
            "page (with sharer)",
        ),
        ("id=mentorship",),
    ),
    "/api/v1/notifications/": Budget("resident", PAGED),
    "/api/v1/me/busy-blocks/": Budget("resident", ("count", "page (with calendar)")),
    "/api/v1/me/busy-calendars/": Budget("resident", ("count", "page", "their blocks")),
    "/api/v1/programs/": Budget("coordinator", ("permission: coordinator anywhere", "count", "page (with specialty)")),
    "/api/v1/programs/{slug}/audit/": Budget(
        "coordinator",
        (
            *PROGRAM_API,
            "the mentorships the page's entries name",
        ),
        ("slug",),
    ),
    "/api/v1/programs/{slug}/conflicts/": Budget("coordinator", PROGRAM_API, ("slug",)),
    "/api/v1/programs/{slug}/evaluator-roles/": Budget("coordinator", PROGRAM_API, ("slug",)),
    "/api/v1/programs/{slug}/health/comments/": Budget(
        "coordinator",
        (
            *COORDINATOR_OF,
            "program dates (the default period)",
            "career stages (PGY filter)",
            *PAGED,
        ),
        ("slug",),
    ),
    "/api/v1/programs/{slug}/match-runs/": Budget(
        "coordinator",
        (
            *PROGRAM_API,
            "prefetch: mentees",
            "prefetch: mentors",
        ),
        ("slug",),
    ),
    "/api/v1/programs/{slug}/pairing-exceptions/": Budget("coordinator", PROGRAM_API, ("slug",)),
    "/api/v1/programs/{slug}/pairings/": Budget("coordinator", PROGRAM_API, ("slug",)),
    "/api/v1/programs/{slug}/invitations/": Budget("coordinator", PROGRAM_API, ("slug",), marker=GROWN),
    "/api/v1/programs/{slug}/roster/": Budget("coordinator", PROGRAM_API, ("slug",)),
    # Cora administers im's institution in the grown world: its programs, and one program's coordinators.
    "/api/v1/institutions/{slug}/programs/": Budget(
        "coordinator",
        ("institution by slug", "permission: institution administrator", *PAGED, "prefetch: coordinators"),
        ("slug=institution",),
    ),
    "/api/v1/programs/{slug}/coordinators/": Budget(
        "coordinator",
        (
            "program (with specialty, institution)",
            "its institution again (the permission's object)",
            "permission: institution administrator",
            "coordinators",
        ),
        ("slug",),
    ),
    "/api/v1/programs/{slug}/unpaired-residents/": Budget("coordinator", PROGRAM_API, ("slug",), query="kind=career"),
    "/api/v1/requests/": Budget("attending", PAGED),
}


def _world_value(w, key):
    """``slug`` is the program's; any other key names a world object (its pk)."""
    if key == "institution":
        return w.im.institution.slug
    return w.im.slug if key == "slug" else w.objs[key].pk


def _query(w, budget):
    if not budget.query:
        return ""
    key, _, value = budget.query.partition("=")
    return f"?{key}={w.objs[value].pk if value in w.objs else value}"


def _url(w, name, budget):
    kwargs = {}
    for k in budget.url_kwargs:
        key, _, source = k.partition("=")
        kwargs[key] = _world_value(w, source or key)
    return reverse(name, kwargs=kwargs) + _query(w, budget)


def _api_url(w, path, budget):
    for k in budget.url_kwargs:
        key, _, source = k.partition("=")
        path = path.replace(f"{{{key}}}", str(_world_value(w, source or key)))
    return path + _query(w, budget)


def test_every_list_route_has_a_budget():
    pages = page_route_names()
    assert pages - set(PAGE_BUDGETS) - set(NOT_LIST_PAGES) == set(), "classify the new page: a budget or not a list"
    assert set(PAGE_BUDGETS) | set(NOT_LIST_PAGES) <= pages, "a budget or exemption names a page that is gone"
    lists = {path for (path, method), op in api_operations().items() if method == "GET" and is_list_operation(op)}
    assert lists == set(API_BUDGETS)


@pytest.fixture
def grown_world(db):
    w = build_world()
    u = w.users
    InstitutionRole.objects.create(institution=w.im.institution, user=u["coordinator"])
    # A second reviewed run over the same cohort, for the comparison page.
    run_b = w.objs["run_b"] = MatchRun.objects.create(
        program=w.im,
        created_by=u["coordinator"],
        status=MatchRun.Status.SUCCEEDED,
        progress=100,
        finished_at=timezone.now(),
    )
    run_b.mentees.set(w.run.mentees.all())
    run_b.mentors.set(w.run.mentors.all())
    MatchProposal.objects.create(
        run=run_b, mentee=u["resident"], mentor=u["other_attending"], score=75.0, rank_obtained=2
    )
    MatchProposal.objects.create(
        run=run_b, mentee=u["other_resident"], mentor=u["attending"], score=65.0, rank_obtained=2
    )
    grow(w, 0, 1)
    return w


def _shown(response, budget):
    """How many rows the response shows: the API's count, or the page's grown rows."""
    if response["Content-Type"].startswith("application/json"):
        data = response.json()
        return data["count"] if isinstance(data, dict) else len(data)
    return response.content.decode().count(budget.marker)


def _check(w, url, budget, django_assert_num_queries):
    client = w.client(budget.persona)
    # Warm the caches a running process keeps (vocabulary names, content types): the budget is
    # the steady state.
    client.get(url)
    with django_assert_num_queries(budget.total):
        before = client.get(url)
    assert before.status_code == 200
    grow(w, 1, 4)
    if budget.kept_across_requests:
        client.get(url)
    with django_assert_num_queries(budget.total):
        after = client.get(url)
    assert after.status_code == 200
    assert _shown(after, budget) > _shown(before, budget), "the grown rows must show, or the budget proves nothing"


@pytest.mark.parametrize("name", sorted(PAGE_BUDGETS))
def test_page_budget(name, grown_world, django_assert_num_queries):
    budget = PAGE_BUDGETS[name]
    _check(grown_world, _url(grown_world, name, budget), budget, django_assert_num_queries)


@pytest.mark.parametrize("path", sorted(API_BUDGETS))
def test_api_budget(path, grown_world, django_assert_num_queries):
    budget = API_BUDGETS[path]
    _check(grown_world, _api_url(grown_world, path, budget), budget, django_assert_num_queries)


def test_the_grown_world_exposes_an_n_plus_one(grown_world, monkeypatch):
    """Control: without ``created_by`` in the action plan's select_related (the N+1 this file
    found and fixed), the count grows with the plan, so the same-count assertion would fail."""
    monkeypatch.setattr(
        mentorship_selectors,
        "action_plan_of",
        lambda mentorship: ActionItem.objects.filter(mentorship=mentorship).select_related("owner"),
    )
    path = "/api/v1/mentorships/{id}/action-items/"
    url = _api_url(grown_world, path, API_BUDGETS[path])
    client = grown_world.client("resident")
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    grow(grown_world, 1, 4)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small) + 4  # one creator per new goal
