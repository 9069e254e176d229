"""The parts a match run's publish uses to start a thousand pairs at once: the same checks and
refusals as one ``mentorship_create`` each (``mentorships_create_many``), and ``notify_many``'s
rows and queued e-mails."""

import pytest
from django.db import transaction

from accounts.models import Membership
from audit.models import AuditEntry
from matching import notifications
from matching.models import Agreement, Kind, Mentorship, Notification, NotificationPreference
from matching.services.mentorships import PairRefused, mentorship_create, mentorships_create_many
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


def _resident(program, name):
    user = UserFactory(first_name=name, last_name="Res")
    MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
    MenteeProfileFactory(user=user)
    return user


def _mentor(program, name, capacity):
    user = UserFactory(first_name=name, last_name="Fac")
    MembershipFactory(user=user, program=program, role=Membership.Role.FACULTY)
    MentorProfileFactory(user=user, capacity=capacity)
    return user


def _start(program, coordinator, pairs):
    return mentorships_create_many(
        pairs=pairs, program=program, kind=Kind.CAREER, source=Mentorship.Source.MATCH_RUN, actor=coordinator
    )


def test_starts_every_pair_with_its_agreement_and_audit_entry(program, coordinator):
    mentor = _mentor(program, "Mo", capacity=2)
    a, b = _resident(program, "Ann"), _resident(program, "Ben")

    started = _start(program, coordinator, [(a, mentor, 0), (b, mentor, 0)])

    assert [(m.mentee, m.mentor, m.status) for m in started] == [(a, mentor, "active"), (b, mentor, "active")]
    assert Agreement.objects.filter(mentorship__in=started).count() == 2
    entries = AuditEntry.objects.filter(action="mentorship.start", object_id__in=[str(m.pk) for m in started])
    assert entries.count() == 2
    assert {(e.actor, e.program, e.after["source"]) for e in entries} == {(coordinator, program, "match_run")}


def test_a_mentor_filled_by_earlier_pairs_of_the_batch_is_refused_with_mentorship_creates_words(program, coordinator):
    mentor = _mentor(program, "Mo", capacity=1)
    a, b = _resident(program, "Ann"), _resident(program, "Ben")

    with pytest.raises(PairRefused) as refused, transaction.atomic():
        _start(program, coordinator, [(a, mentor, 0), (b, mentor, 0)])

    assert refused.value.index == 1
    assert refused.value.messages == [f"{mentor.full_name} has no open spot left (1 of 1 taken)."]
    assert not Mentorship.objects.exists()  # all or none
    # The single start says the same of that pair.
    mentorship_create(mentee=a, mentor=mentor, program=program, kind=Kind.CAREER, source="match_run", actor=coordinator)
    with pytest.raises(Exception) as single:
        mentorship_create(
            mentee=b, mentor=mentor, program=program, kind=Kind.CAREER, source="match_run", actor=coordinator
        )
    assert single.value.messages == refused.value.messages


def test_extra_spots_count_and_a_second_mentor_of_the_kind_is_refused(program, coordinator):
    mentor, other = _mentor(program, "Mo", capacity=1), _mentor(program, "Ola", capacity=3)
    a, b = _resident(program, "Ann"), _resident(program, "Ben")

    assert len(_start(program, coordinator, [(a, mentor, 0), (b, mentor, 1)])) == 2  # one extra spot for b

    with pytest.raises(PairRefused) as refused, transaction.atomic():
        _start(program, coordinator, [(a, other, 0)])
    assert refused.value.messages == [f"{a.full_name} already has an active career mentor."]


def test_notify_many_stores_each_and_queues_e_mails_only_for_those_who_want_them_now(
    program, resident, attending, monkeypatch
):
    NotificationPreference.objects.create(user=attending, delivery=Notification.Delivery.DIGEST)
    queued = []
    monkeypatch.setattr(notifications, "enqueue_on_commit", lambda task, *args: queued.append((task, args)))
    notes = [
        {"event": "match.published", "user": resident, "title": "Your mentor", "url": "/m/1/", "dedup_key": "k:1"},
        {"event": "match.published", "user": attending, "title": "Your mentee", "url": "/m/1/", "dedup_key": "k:2"},
    ]

    created = notifications.notify_many(notes)

    assert [(n.user, n.title, n.url, n.dedup_key) for n in created] == [
        (resident, "Your mentor", "/m/1/", "k:1"),
        (attending, "Your mentee", "/m/1/", "k:2"),
    ]
    by_resident = Notification.objects.get(dedup_key="k:1")
    assert queued == [(notifications.SEND_NOTIFICATION_EMAILS, ([by_resident.pk],))]


def test_notify_many_falls_back_one_by_one_when_a_key_exists(resident, attending):
    notifications.notify(event="x", user=resident, title="Old", dedup_key="k:1")
    notes = [
        {"event": "x", "user": resident, "title": "Again", "dedup_key": "k:1"},
        {"event": "x", "user": attending, "title": "New", "dedup_key": "k:2"},
    ]

    created = notifications.notify_many(notes)

    assert [n.dedup_key for n in created] == ["k:2"]
    assert Notification.objects.get(dedup_key="k:1").title == "Old"
