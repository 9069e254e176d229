"""One world for the security tests, built once per module.

``program`` (Internal Medicine, slug ``im``): residents Alice and Bob, attendings Carol and
Dave, coordinator Cora. ``other_program`` (General Surgery, slug ``gs``): coordinator Oscar and
a resident/attending pair whose names (Zebulon, Quintessa) are distinctive, so the list-scoping
tests can search every response for them.

Each test still runs in its own transaction (the ``db`` fixture), rolled back afterwards, so a
POST that an allowed role makes does not leak into the next test.
"""

import functools
import json
import time
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import (
    ApiToken,
    AvailabilityWindow,
    BusyBlock,
    BusyCalendar,
    Membership,
    MenteeProfile,
    MentorProfile,
    Program,
    ProgramInvitation,
    RosterImport,
    Specialty,
    User,
)
from accounts.services import api_token_issue
from audit.models import AuditEntry
from matching.models import (
    ActionItem,
    Agreement,
    CalendarFeed,
    CheckIn,
    ConflictOfInterest,
    EvaluatorRole,
    Introduction,
    MatchProposal,
    MatchRanking,
    MatchRun,
    Meeting,
    MeetingSlot,
    Mentorship,
    MentorshipRequest,
    Message,
    Notification,
    NotificationPreference,
    PairingException,
    Resource,
)
from matching.services.messages import message_post
from tests.accounts.auth.webauthn import registration_credential
from tests.factories import (
    InstitutionFactory,
    MembershipFactory,
    MenteeProfileFactory,
    MentorProfileFactory,
    UserFactory,
)
from tests.shared_world import world_for_scope

ROLES = (
    "anonymous",
    "resident",  # Alice: mentee of the Alice–Carol mentorship
    "other_resident",  # Bob: sender of the Bob→Dave request
    "attending",  # Carol: mentor of the Alice–Carol mentorship
    "other_attending",  # Dave: receiver of the Bob→Dave request
    "coordinator",  # Cora, of ``im``
    "other_coordinator",  # Oscar, of ``gs``
)

# Seeded in the other program; no list a user of ``im`` (or Oscar's lists of ``im``) may show them.
OTHER_PROGRAM_MARKERS = ("Zebulon", "Quintessa", "Xylophone-goal", "gs-secret-resource", "gs-secret-comment")


@dataclass
class World:
    users: dict = field(default_factory=dict)
    objs: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.__dict__["objs"][name]
        except KeyError:
            raise AttributeError(name) from None

    clients: dict = field(default_factory=dict)

    def client(self, role):
        """A client signed in as ``role``, made once per module (its session row lives in the world)."""
        if role not in self.clients:
            c = Client()
            if role != "anonymous":
                user = self.users[role]
                c.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
                # As if they had just typed their password: allauth's pages that ask for it again
                # first (second-factor changes) then answer on their merits, not with that step.
                session = c.session
                session["account_authentication_methods_user"] = str(user.pk)
                session["account_authentication_methods"] = [
                    {"method": "password", "at": time.time() + 3600, "reauthenticated": True}
                ]
                session.save()
            self.clients[role] = c
        return self.clients[role]

    def api(self, role, method, url, body=None, *, if_match="*"):
        """``role``'s API request with a JSON body. An unsafe one carries ``If-Match`` (any
        version, by default): the shared texts (agreement, goals, resources, meetings) are only
        written against a version (core/concurrency.py), and these tests are about who may
        write, not about two people saving at once (tests/matching/test_pair_week_api.py).
        ``if_match=None`` sends none."""
        client = self.client(role)
        if method == "GET":
            return client.get(url)
        headers = {"If-Match": if_match} if if_match is not None else {}
        return client.generic(
            method, url, data=json.dumps({} if body is None else body), content_type="application/json", headers=headers
        )


def _member(program, role, first, last, email, *, mentee=False, mentor=False):
    user = UserFactory(first_name=first, last_name=last, email=email)
    MembershipFactory(user=user, program=program, role=role)
    if mentee:
        MenteeProfileFactory(user=user)
    if mentor:
        MentorProfileFactory(user=user)
    return user


def build_world():
    R, F, C = Membership.Role.RESIDENT, Membership.Role.FACULTY, Membership.Role.COORDINATOR
    now = timezone.now()
    im = Program.objects.create(
        name="Internal Medicine Residency",
        slug="im",
        institution=InstitutionFactory(name="General Hospital"),
        specialty=Specialty.objects.get(slug="internal-medicine"),
    )
    gs = Program.objects.create(
        name="General Surgery Residency",
        slug="gs",
        institution=InstitutionFactory(name="Riverside Medical Center"),
        specialty=Specialty.objects.get(slug="general-surgery"),
    )
    w = World()
    u = w.users
    u["resident"] = alice = _member(im, R, "Alice", "Adams", "alice@hospital.example", mentee=True)
    u["other_resident"] = bob = _member(im, R, "Bob", "Brown", "bob@hospital.example", mentee=True)
    u["attending"] = carol = _member(im, F, "Carol", "Chen", "carol@hospital.example", mentor=True)
    u["other_attending"] = dave = _member(im, F, "Dave", "Diaz", "dave@hospital.example", mentor=True)
    u["coordinator"] = cora = _member(im, C, "Cora", "Cole", "cora@hospital.example")
    u["other_coordinator"] = oscar = _member(gs, C, "Oscar", "Ortiz", "oscar@riverside.example")
    zeb = _member(gs, R, "Zebulon", "Zed", "zebulon@riverside.example", mentee=True)
    quin = _member(gs, F, "Quintessa", "Quill", "quintessa@riverside.example", mentor=True)

    o = w.objs
    o.update(im=im, gs=gs, zeb=zeb, quin=quin)
    # Alice–Carol, with everything that hangs off a mentorship.
    # A month old: its check-ins are open (the first opens two weeks in).
    m = o["mentorship"] = Mentorship.objects.create(
        mentee=alice, mentor=carol, program=im, started_at=timezone.now() - timedelta(days=30)
    )
    Agreement.objects.create(mentorship=m)
    meeting = o["meeting"] = Meeting.objects.create(mentorship=m, proposed_by=alice, location="Room 4")
    MeetingSlot.objects.create(meeting=meeting, start=now + timedelta(days=3))
    MeetingSlot.objects.create(meeting=meeting, start=now + timedelta(days=4))
    o["action_item"] = ActionItem.objects.create(
        mentorship=m, title="Draft the abstract", owner=alice, created_by=alice
    )
    o["resource"] = Resource.objects.create(
        mentorship=m, shared_by=carol, title="Reading list", url="https://example.org/r"
    )
    o["checkin"] = CheckIn.objects.create(mentorship=m, author=alice, rating=4, comment="Helpful so far")
    o["introduction"] = Introduction.objects.create(mentorship=m, colleague=dave, note="Meet Alice, please")
    # Bob→Dave, pending.
    o["request"] = MentorshipRequest.objects.create(
        mentee=bob, mentor=dave, program=im, message="Could you mentor me?", expires_at=now + timedelta(days=14)
    )
    # A reviewed-but-unpublished run with proposals, and a queued run with an open ranking window.
    run = o["run"] = MatchRun.objects.create(
        program=im, created_by=cora, status=MatchRun.Status.SUCCEEDED, progress=100, finished_at=now
    )
    run.mentees.set([alice, bob])
    run.mentors.set([carol, dave])
    o["proposal"] = MatchProposal.objects.create(run=run, mentee=alice, mentor=carol, score=80.0, rank_obtained=1)
    o["proposal_bob"] = MatchProposal.objects.create(run=run, mentee=bob, mentor=dave, score=70.0, rank_obtained=1)
    ranking_run = o["ranking_run"] = MatchRun.objects.create(
        program=im, created_by=cora, ranking_deadline=now + timedelta(days=3)
    )
    ranking_run.mentees.set([alice, bob])
    ranking_run.mentors.set([carol, dave])
    o["notification"] = Notification.objects.create(
        user=alice, event="request.accepted", title="Carol accepted", dedup_key="sec-alice-1"
    )
    o["evaluator_role"] = EvaluatorRole.objects.create(
        program=im, user=dave, role=EvaluatorRole.Role.PROGRAM_DIRECTOR, created_by=cora
    )
    o["conflict"] = ConflictOfInterest.objects.create(
        program=im, mentee=bob, mentor=carol, reason="Relatives", created_by=cora
    )
    o["pairing_exception"] = PairingException.objects.create(
        program=im, mentee=alice, mentor=dave, reason="Different division", created_by=cora
    )
    o["roster_import"] = RosterImport.objects.create(
        program=im, uploaded_by=cora, filename="roster.csv", content="email,first_name,last_name,role\n"
    )
    o["bob_membership"] = Membership.objects.get(user=bob, program=im)
    # Invitations to join: Oscar asked Alice (an im resident) to join gs; Cora asked Zebulon
    # (a gs resident) to join im, and sees only what she typed.
    o["alice_invitation"] = ProgramInvitation.objects.create(
        program=gs,
        user=alice,
        role=R,
        invited_by=oscar,
        email=alice.email,
        first_name="Alice",
        last_name="Adams",
    )
    o["im_invitation"] = ProgramInvitation.objects.create(
        program=im,
        user=zeb,
        role=R,
        invited_by=cora,
        email=zeb.email,
        first_name="Zed",
        last_name="Typed-by-Cora",
    )
    # API tokens: Alice's, which only she may revoke; Zebulon's, which no list of im's people may show.
    o["api_token"], _ = api_token_issue(user=alice, name="Alice laptop")
    api_token_issue(user=zeb, name="Zebulon laptop")
    # Alice's busy block, the calendar she imports from (an address that cannot resolve, so a
    # refresh records its error without the network) and her calendar feed: hers alone.
    o["busy_calendar"] = BusyCalendar.objects.create(
        user=alice, name="Alice-Amion-calendar", url="https://schedule.invalid/a.ics"
    )
    o["busy_block"] = BusyBlock.objects.create(
        user=alice,
        start_date=now.date() + timedelta(days=3),
        end_date=now.date() + timedelta(days=9),
        label="Alice-rotation-nights",
    )
    o["calendar_feed"] = CalendarFeed.objects.create(user=alice, token="alice-feed-token-" + "x" * 26)
    # A message in each thread: Alice's to Carol is the one the message routes address.
    o["message"] = message_post(thread=m, author=alice, body="Hello Carol")
    o["request_message"] = message_post(thread=o["request"], author=bob, body="Hello Dave")

    # The other program's rows, named so that any leak is visible.
    gm = o["gs_mentorship"] = Mentorship.objects.create(mentee=zeb, mentor=quin, program=gs)
    Agreement.objects.create(mentorship=gm)
    Meeting.objects.create(mentorship=gm, proposed_by=zeb, location="Zebulon's office")
    ActionItem.objects.create(mentorship=gm, title="Xylophone-goal", owner=zeb, created_by=zeb)
    Resource.objects.create(mentorship=gm, shared_by=quin, title="gs-secret-resource", url="https://example.org/gs")
    CheckIn.objects.create(mentorship=gm, author=zeb, rating=2, comment="gs-secret-comment")
    # The pair's messages are theirs alone, not even their coordinator's (test_list_scoping.PRIVATE).
    message_post(thread=gm, author=zeb, body="gs-secret-message")
    gs_run = MatchRun.objects.create(program=gs, created_by=oscar, status=MatchRun.Status.SUCCEEDED, progress=100)
    gs_run.mentees.set([zeb])
    gs_run.mentors.set([quin])
    MatchProposal.objects.create(run=gs_run, mentee=zeb, mentor=quin, score=50.0)
    o["gs_run"] = gs_run
    MentorshipRequest.objects.create(
        mentee=zeb, mentor=quin, program=gs, message="Zebulon asks Quintessa", expires_at=now + timedelta(days=14)
    )
    Notification.objects.create(user=zeb, event="request.accepted", title="Zebulon note", dedup_key="sec-zeb-1")
    EvaluatorRole.objects.create(program=gs, user=quin, role=EvaluatorRole.Role.CCC_MEMBER, created_by=oscar)
    ConflictOfInterest.objects.create(program=gs, mentee=zeb, mentor=quin, reason="Zebulon conflict", created_by=oscar)
    PairingException.objects.create(program=gs, mentee=zeb, mentor=quin, reason="Zebulon exception", created_by=oscar)
    # Audit trails: each program's own, and one entry of no program (an account change) that no trail shows.
    AuditEntry.objects.create(
        program=gs,
        actor=oscar,
        action="mentorship.end",
        object_type="mentorship",
        object_id=str(gm.pk),
        reason="Zebulon moved away",
    )
    AuditEntry.objects.create(
        program=im,
        actor=cora,
        action="mentorship.end",
        object_type="mentorship",
        object_id=str(m.pk),
        reason="im-audit-reason",
    )
    AuditEntry.objects.create(
        actor=bob, action="user.update", object_type="user", object_id=str(bob.pk), reason="no-program-audit"
    )
    # Alice signs in with a security key as well as her password.
    w.alice_key = Authenticator.objects.create(
        user=alice,
        type=Authenticator.Type.WEBAUTHN,
        data={"name": "alice-key", "credential": registration_credential()},
    )
    for role in ROLES:
        w.client(role)
    return w


def snapshot():
    """Every row a request could change, to prove a refused one changed nothing: ``{model name:
    [row as ``values()`` gives it]}``."""
    rows = {}
    with connection.cursor() as cursor:
        for name, (compiler, sql, params, keys, converters) in _snapshot_queries().items():
            cursor.execute(sql, params)
            values = compiler.apply_converters(cursor.fetchall(), converters) if converters else cursor.fetchall()
            rows[name] = [dict(zip(keys, row, strict=True)) for row in values]
    return rows


@functools.cache
def _snapshot_queries():
    # Compiled once: the permission matrix takes two snapshots per refused write, and compiling
    # 25 querysets cost several times what running them does.
    models = [
        Mentorship,
        MentorshipRequest,
        Message,
        Agreement,
        Meeting,
        MeetingSlot,
        ActionItem,
        Resource,
        Introduction,
        CheckIn,
        Notification,
        MatchRun,
        MatchProposal,
        MatchRanking,
        EvaluatorRole,
        ConflictOfInterest,
        PairingException,
        AuditEntry,
        NotificationPreference,
        Membership,
        MenteeProfile,
        MentorProfile,
        AvailabilityWindow,
        RosterImport,
        ProgramInvitation,
        ApiToken,
        BusyBlock,
        BusyCalendar,
        CalendarFeed,
    ]
    querysets = {m.__name__: (m, [f.attname for f in m._meta.concrete_fields]) for m in models}
    querysets["User"] = (User, ["pk", "email", "first_name", "last_name", "time_zone"])
    queries = {}
    for name, (model, keys) in querysets.items():
        compiler = model.objects.order_by("pk").values_list(*keys).query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        converters = compiler.get_converters([column for column, _, _ in compiler.select[: compiler.col_count]])
        queries[name] = (compiler, sql, params, keys, converters)
    return queries


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The world, committed for the module inside an outer transaction that is rolled back at the end."""
    yield from world_for_scope(django_db_blocker, build_world)
