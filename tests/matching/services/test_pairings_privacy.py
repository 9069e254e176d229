"""The coordinator's reason stays internal (issue 15): when a coordinator ends or reassigns a
pairing, a conflict of interest among the usual reasons, the people concerned are told a
neutral sentence, in their notifications, their e-mails, on the mentorship's page and through
the API; the typed reason (and the conflict's own reason) lands in the audit trail only."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditEntry
from matching.models import Meeting, Mentorship, Notification
from matching.services.conflicts import conflict_add
from matching.services.pairings import (
    ENDED_FOR_PAIR,
    REASSIGNED_FOR_MENTEE,
    REASSIGNED_FOR_PAIR,
    pairing_end,
    pairing_reassign,
)
from tests.matching.factories import MentorshipFactory
from tests.matching.support import _meeting

pytestmark = pytest.mark.django_db

CONFLICT_REASON = "Carol is Alice's sister-in-law"
TYPED = "Conflict of interest: family relation (see the note of 3 March)"
# Words of the typed reasons that no neutral sentence contains.
SECRETS = ("sister-in-law", "family relation", "3 March", "Conflict of interest")


def _email_text(message) -> str:
    parts = [message.subject, message.body]
    parts += [content for content, _ in getattr(message, "alternatives", [])]
    parts += [a[1] if isinstance(a, tuple) else a.get_payload() for a in message.attachments]
    return "\n".join(p if isinstance(p, str) else p.decode() for p in parts)


def _assert_untold(*, people, clients, api, mentorships):
    for n in Notification.objects.filter(user__in=people):
        for secret in SECRETS:
            assert secret not in n.title and secret not in n.body, (n.event, n.title, n.body)
    assert mail.outbox, "the pair are e-mailed"
    for message in mail.outbox:
        text = _email_text(message)
        for secret in SECRETS:
            assert secret not in text, (message.to, message.subject)
    for person in people:
        client, api_client = clients(person), api(person)
        pages = [client.get("/notifications/")]
        pages += [client.get(m.get_absolute_url()) for m in mentorships if person.pk in (m.mentee_id, m.mentor_id)]
        answers = [api_client.get("/api/v1/mentorships/?status=ended"), api_client.get("/api/v1/notifications/")]
        answers += [
            api_client.get(f"/api/v1/mentorships/{m.pk}/")
            for m in mentorships
            if person.pk in (m.mentee_id, m.mentor_id)
        ]
        for response in pages + answers:
            assert response.status_code == 200, response.request["PATH_INFO"]
            content = response.content.decode()
            for secret in SECRETS:
                assert secret not in content, (person.email, response.request["PATH_INFO"], secret)


def test_ending_a_pairing_for_a_conflict_tells_the_pair_only_that_it_ended(
    program,
    coordinator,
    resident,
    attending,
    client_for,
    api_for,
    settings,
    django_capture_on_commit_callbacks,
):
    m = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    _meeting(m, Meeting.Status.CONFIRMED, timezone.now() + timedelta(days=3))
    conflict_add(program=program, actor=coordinator, mentee=resident, mentor=attending, reason=CONFLICT_REASON)

    with django_capture_on_commit_callbacks(execute=True):
        pairing_end(mentorship=m, actor=coordinator, reason=TYPED)

    m.refresh_from_db()
    assert (m.status, m.end_reason) == (Mentorship.Status.ENDED, ENDED_FOR_PAIR)
    ended = Notification.objects.filter(event="mentorship.ended")
    assert sorted(ended.values_list("user", flat=True)) == sorted([resident.pk, attending.pk])
    assert set(ended.values_list("body", flat=True)) == {ENDED_FOR_PAIR}
    # The reason is the coordinators' to read, in the audit trail.
    assert AuditEntry.objects.get(action="mentorship.end", object_id=str(m.pk)).reason == TYPED
    # The page the pair read says the neutral sentence.
    assert ENDED_FOR_PAIR in client_for(resident).get(m.get_absolute_url()).content.decode()
    _assert_untold(people=[resident, attending], clients=client_for, api=api_for, mentorships=[m])


def test_reassigning_for_a_conflict_tells_all_three_only_that_the_mentor_changed(
    program,
    coordinator,
    resident,
    attending,
    other_attending,
    client_for,
    api_for,
    django_capture_on_commit_callbacks,
):
    old = MentorshipFactory(mentee=resident, mentor=attending, program=program, kind="career")
    _meeting(old, Meeting.Status.CONFIRMED, timezone.now() + timedelta(days=3))
    conflict_add(program=program, actor=coordinator, mentee=resident, mentor=attending, reason=CONFLICT_REASON)

    with django_capture_on_commit_callbacks(execute=True):
        new = pairing_reassign(mentorship=old, actor=coordinator, new_mentor=other_attending, reason=TYPED)

    old.refresh_from_db()
    assert old.end_reason == REASSIGNED_FOR_PAIR
    told = {n.user_id: n.body for n in Notification.objects.filter(event__startswith="mentorship.")}
    assert told == {
        resident.pk: REASSIGNED_FOR_MENTEE,
        attending.pk: REASSIGNED_FOR_PAIR,
        other_attending.pk: "Cora Cole, your program's coordinator, paired you. Say hello and plan a first meeting.",
    }
    assert AuditEntry.objects.get(action="mentorship.reassign").reason == TYPED
    _assert_untold(
        people=[resident, attending, other_attending], clients=client_for, api=api_for, mentorships=[old, new]
    )


def test_the_control_case_the_check_sees_a_reason_where_the_pair_did_write_it(
    program, resident, attending, client_for, api_for, django_capture_on_commit_callbacks
):
    """The pair's own end still shares its reason with the other person: the checks above
    would see a reason that reached the pair."""
    from matching.services.mentorships import mentorship_end

    m = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    with django_capture_on_commit_callbacks(execute=True):
        mentorship_end(mentorship=m, actor=resident, reason=TYPED, completed=False)

    with pytest.raises(AssertionError):
        _assert_untold(people=[resident, attending], clients=client_for, api=api_for, mentorships=[m])
