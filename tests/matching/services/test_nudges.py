"""Nudges: the coordinators' weekly digest, and the one-click reminder to a quiet pair.

The digest tests run at a fixed instant, NOW: Monday March 10, 2025, 12:00 UTC, which is
8:00 a.m. in New York (daylight time since the 9th), where UserFactory puts everyone.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import AuditEntry
from matching.models import Meeting, Mentorship, MentorshipRequest, Notification
from matching.notifications import digests_send, notification_preference_set, notifications_email_unsent
from matching.services.nudges import (
    coordinator_digest,
    coordinator_digests_send,
    digest_week_key,
    pairing_nudge,
)
from matching.tasks import send_coordinator_digests
from tests.factories import MembershipFactory, MenteeProfileFactory, ProgramFactory, UserFactory
from tests.matching.factories import MentorshipFactory

pytestmark = pytest.mark.django_db


NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def _resident(program, first, last):
    user = UserFactory(first_name=first, last_name=last)
    MembershipFactory(user=user, program=program, role="resident")
    MenteeProfileFactory(user=user)
    return user


def _meeting(mentorship, status, start):
    return Meeting.objects.create(mentorship=mentorship, proposed_by=mentorship.mentee, status=status, start=start)


@pytest.fixture
def week(program, other_program, resident, other_resident, attending, other_attending, outsider):
    """The program's week at NOW:
    - Carol & Alice (career): last met 70 days ago: stale;
    - Dave & Bob (career): quiet for 90 days, but a meeting is confirmed in 3 days: not stale;
    - Carol & Priya (research): started 20 days ago, no meeting yet: not stale (too new);
    - Priya → Dave (wellness) pending 10 days: listed; Bob → Carol (research) pending 2 days: not;
    - Marcus: no mentor at all.
    The other program: Olivia, with no mentor."""
    priya = _resident(program, "Priya", "Patel")
    marcus = _resident(program, "Marcus", "Moore")
    stale = MentorshipFactory(mentee=resident, mentor=attending, program=program, started_at=NOW - timedelta(days=90))
    _meeting(stale, Meeting.Status.HELD, NOW - timedelta(days=70))
    _meeting(stale, Meeting.Status.CANCELLED, NOW - timedelta(days=10))  # a cancelled one does not count
    booked = MentorshipFactory(
        mentee=other_resident, mentor=other_attending, program=program, started_at=NOW - timedelta(days=90)
    )
    _meeting(booked, Meeting.Status.CONFIRMED, NOW + timedelta(days=3))
    MentorshipFactory(
        mentee=priya, mentor=attending, program=program, kind="research", started_at=NOW - timedelta(days=20)
    )
    old = MentorshipRequest.objects.create(
        mentee=priya,
        mentor=other_attending,
        program=program,
        kind="wellness",
        message="Hi",
        created_at=NOW - timedelta(days=10),
    )
    MentorshipRequest.objects.create(
        mentee=other_resident,
        mentor=attending,
        program=program,
        kind="research",
        message="Hi",
        created_at=NOW - timedelta(days=2),
    )
    return {"stale": stale, "old_request": old, "priya": priya, "marcus": marcus}


# --- The digest: contents.


def test_the_digest_lists_stale_pairings_old_requests_and_unmatched_residents(
    coordinator, week, resident, attending, other_attending
):
    [digest] = coordinator_digest(coordinator, now=NOW)

    assert digest.stale_count == 1
    assert [(i.label, i.url, i.detail) for i in digest.stale] == [
        (
            f"{attending.full_name} & {resident.full_name}",
            f"/mentorships/{week['stale'].pk}/",
            "Career: no meeting for 70 days",
        )
    ]
    assert digest.pending_count == 1
    assert [(i.label, i.detail) for i in digest.pending] == [
        (f"Priya Patel → {other_attending.full_name}", "Wellness: waiting 10 days")
    ]
    assert digest.pending[0].url == f"/requests/{week['old_request'].pk}/"
    assert digest.unmatched_count == 1
    assert [(i.label, i.url) for i in digest.unmatched] == [("Marcus Moore", f"/people/{week['marcus'].pk}/")]
    # Four residents: Alice and Bob have a career mentor, Priya a research one, Marcus none.
    assert digest.residents == 4
    assert digest.without_kind == [("Career", 2), ("Research", 3), ("Wellness", 4), ("Near-peer", 4)]


def test_each_section_names_five_then_counts_the_rest(program, coordinator):
    for n in range(7):
        _resident(program, f"Res{n}", "Waiting")
    [digest] = coordinator_digest(coordinator, now=NOW)
    assert digest.unmatched_count == 7 and len(digest.unmatched) == 5 and digest.unmatched_more == 2


def test_each_coordinator_gets_one_email_about_their_own_programs_only(
    coordinator, other_coordinator, week, resident, outsider, settings
):
    settings.SITE_URL = "https://mentormatch.example"
    assert coordinator_digests_send(now=NOW) == 2

    by_person = {m.to[0]: m for m in mail.outbox}
    assert set(by_person) == {coordinator.email, other_coordinator.email}
    ours = by_person[coordinator.email]
    assert ours.subject == (
        "Your weekly MentorMatch digest: 1 pairing with no recent meeting, 1 request waiting over a week, "
        "1 resident without a mentor"
    )
    assert (
        "Internal Medicine Residency" in ours.body and resident.full_name in ours.body and "Marcus Moore" in ours.body
    )
    assert f"https://mentormatch.example/mentorships/{week['stale'].pk}/" in ours.body
    html = ours.alternatives[0][0]
    assert f'href="https://mentormatch.example/mentorships/{week["stale"].pk}/"' in html
    assert outsider.full_name not in ours.body and outsider.full_name not in html
    theirs = by_person[other_coordinator.email]
    assert outsider.full_name in theirs.body and "General Surgery Residency" in theirs.body
    assert resident.full_name not in theirs.body and "Marcus Moore" not in theirs.body


def test_one_email_covers_all_the_programs_a_coordinator_runs(coordinator, other_program, week, outsider):
    MembershipFactory(user=coordinator, program=other_program, role="coordinator")
    assert coordinator_digests_send(now=NOW) == 1
    [email] = mail.outbox
    assert "Internal Medicine Residency" in email.body and "General Surgery Residency" in email.body
    assert outsider.full_name in email.body


def test_nothing_is_sent_when_nothing_needs_a_look(db):
    quiet = ProgramFactory(name="Quiet Program")
    coordinator = UserFactory()
    MembershipFactory(user=coordinator, program=quiet, role="coordinator")
    resident = _resident(quiet, "Paired", "Resident")
    mentor = UserFactory()
    pairing = MentorshipFactory(mentee=resident, mentor=mentor, program=quiet, started_at=NOW - timedelta(days=100))
    _meeting(pairing, Meeting.Status.HELD, NOW - timedelta(days=5))

    assert coordinator_digests_send(now=NOW) == 0
    assert mail.outbox == [] and not Notification.objects.exists()


# --- The digest: when, and only once.


def test_at_most_one_digest_per_coordinator_per_iso_week(coordinator, week):
    assert coordinator_digests_send(now=NOW) == 1
    assert coordinator_digests_send(now=NOW + timedelta(hours=1)) == 0
    assert len(mail.outbox) == 1
    row = Notification.objects.get(user=coordinator)
    assert row.dedup_key == f"digest:coordinator:{coordinator.pk}:2025-W11" and row.emailed_at == NOW
    assert row.title.startswith("Your weekly digest: 1 pairing with no recent meeting")

    assert coordinator_digests_send(now=NOW + timedelta(days=7)) == 1  # next Monday, still things to report
    assert len(mail.outbox) == 2


def test_the_beat_runs_the_digest_task_hourly(coordinator, week, monkeypatch):
    from config.celery import app

    entry = app.conf.beat_schedule["send-coordinator-digests"]
    assert entry["task"] == send_coordinator_digests.name == "matching.tasks.send_coordinator_digests"
    monkeypatch.setattr("matching.services.nudges.timezone.now", lambda: NOW)
    assert send_coordinator_digests.delay().get() == 1
    assert send_coordinator_digests.delay().get() == 0  # the next hour's run: already sent this week


def test_the_sweeper_and_the_daily_digest_never_send_the_weekly_one_again(coordinator, week):
    notification_preference_set(user=coordinator, delivery=Notification.Delivery.DIGEST)
    coordinator_digests_send(now=NOW)
    assert notifications_email_unsent(now=NOW + timedelta(hours=1)) == 0
    assert digests_send(now=NOW + timedelta(hours=20)) == 0
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "when, due",
    [
        (datetime(2025, 3, 10, 10, 30, tzinfo=UTC), False),  # Monday 6:30 a.m. in New York: too early
        (datetime(2025, 3, 10, 11, 0, tzinfo=UTC), True),  # Monday 7:00 a.m.
        (datetime(2025, 3, 11, 3, 30, tzinfo=UTC), True),  # Monday 11:30 p.m.: still Monday there
        (datetime(2025, 3, 11, 4, 30, tzinfo=UTC), False),  # Tuesday 0:30 a.m.
        (datetime(2025, 3, 9, 16, 0, tzinfo=UTC), False),  # Sunday
    ],
)
def test_the_digest_is_due_on_monday_morning_in_the_coordinators_time_zone(coordinator, when, due):
    assert (digest_week_key(coordinator, when) is not None) is due


def test_a_coordinator_in_tokyo_gets_it_on_their_own_monday(coordinator, week):
    coordinator.time_zone = "Asia/Tokyo"
    coordinator.save(update_fields=["time_zone"])
    sunday_evening_utc = datetime(2025, 3, 9, 22, 30, tzinfo=UTC)  # Monday 7:30 a.m. in Tokyo
    assert digest_week_key(coordinator, sunday_evening_utc) == f"digest:coordinator:{coordinator.pk}:2025-W11"
    assert coordinator_digests_send(now=sunday_evening_utc) == 1


def test_a_failing_address_does_not_stop_the_others(coordinator, other_coordinator, week, monkeypatch):
    from matching.services import nudges

    real = nudges.send_templated_email

    def flaky(*, to, **kwargs):
        if to == [coordinator.email]:
            raise ConnectionError("SMTP said no")
        return real(to=to, **kwargs)

    monkeypatch.setattr(nudges, "send_templated_email", flaky)
    assert coordinator_digests_send(now=NOW) == 1
    assert [m.to for m in mail.outbox] == [[other_coordinator.email]]


def test_a_nudge_emails_both_people_and_is_audited(
    pairing, coordinator, resident, attending, django_capture_on_commit_callbacks
):
    _meeting(pairing, Meeting.Status.HELD, timezone.now() - timedelta(days=65))
    with django_capture_on_commit_callbacks(execute=True):
        pairing_nudge(mentorship=pairing, actor=coordinator)

    assert sorted(m.to[0] for m in mail.outbox) == sorted([resident.email, attending.email])
    to_alice = next(m for m in mail.outbox if m.to == [resident.email])
    assert to_alice.subject == f"A friendly reminder to meet {attending.full_name} · MentorMatch"
    assert "last met on" in to_alice.body and "(65 days ago)" in to_alice.body
    assert f"/mentorships/{pairing.pk}/" in to_alice.body and coordinator.full_name in to_alice.body
    entry = AuditEntry.objects.get(action="mentorship.nudge")
    assert (entry.actor, entry.program, entry.object_type, entry.object_id) == (
        coordinator,
        pairing.program,
        "mentorship",
        str(pairing.pk),
    )


def test_a_pair_that_never_met_is_told_so(pairing, coordinator, resident, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pairing_nudge(mentorship=pairing, actor=coordinator)
    assert "haven't had a meeting in MentorMatch yet" in mail.outbox[0].body
    assert AuditEntry.objects.get(action="mentorship.nudge").after == {"last_meeting": None}


def test_one_nudge_per_pair_per_week(pairing, coordinator, program):
    pairing_nudge(mentorship=pairing, actor=coordinator)
    with pytest.raises(ValidationError, match="you can nudge them again from"):
        pairing_nudge(mentorship=pairing, actor=coordinator)
    assert AuditEntry.objects.filter(action="mentorship.nudge").count() == 1


@pytest.mark.parametrize("days_ago, allowed", [(6, False), (8, True)])
def test_the_week_counts_from_the_last_nudge_by_anyone(pairing, coordinator, program, days_ago, allowed):
    colleague = UserFactory(first_name="Cal", last_name="Coordinator")
    MembershipFactory(user=colleague, program=program, role="coordinator")
    AuditEntry.objects.create(
        actor=colleague,
        program=program,
        action="mentorship.nudge",
        object_type="mentorship",
        object_id=str(pairing.pk),
        created_at=timezone.now() - timedelta(days=days_ago),
    )
    if allowed:
        pairing_nudge(mentorship=pairing, actor=coordinator)
    else:
        with pytest.raises(ValidationError, match="nudged by Cal Coordinator"):
            pairing_nudge(mentorship=pairing, actor=coordinator)


@pytest.mark.parametrize("who", ["other_coordinator", "resident", "attending", "other_resident"])
def test_only_the_programs_coordinators_nudge(request, pairing, who):
    with pytest.raises(PermissionDenied):
        pairing_nudge(mentorship=pairing, actor=request.getfixturevalue(who))
    assert not AuditEntry.objects.filter(action="mentorship.nudge").exists()


def test_an_ended_pairing_cannot_be_nudged(pairing, coordinator):
    Mentorship.objects.filter(pk=pairing.pk).update(status=Mentorship.Status.ENDED, ended_at=timezone.now())
    with pytest.raises(ValidationError, match="has ended"):
        pairing_nudge(mentorship=pairing, actor=coordinator)


def test_the_digest_links_to_the_programs_health_and_stale_pairings():
    from django.template.loader import render_to_string
    from django.urls import reverse

    from accounts.models import Program
    from tests.factories import ProgramFactory, UserFactory

    program = ProgramFactory()
    assert isinstance(program, Program)
    context = {
        "user": UserFactory(),
        "summary": "1 pairing",
        "site_url": "https://mm.example",
        "programs": [
            {
                "program": program,
                "stale_count": 0,
                "pending_count": 0,
                "unmatched_count": 0,
                "residents": 0,
                "without_kind": [],
            }
        ],
    }
    for name in ("matching/email/coordinator_digest.txt", "matching/email/coordinator_digest.html"):
        text = render_to_string(name, context)
        assert "https://mm.example" + reverse("matching:program-health", args=[program.slug]) in text, name
        assert "https://mm.example" + reverse("matching:pairings", args=[program.slug]) + "?stale=1" in text, name
