"""0010: a request's old question and answer become the first messages of its thread."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from matching.models import MentorshipRequest, Message
from tests.matching.support import _ask

pytestmark = pytest.mark.django_db

migration = importlib.import_module("matching.migrations.0010_request_questions_to_messages")


def test_question_and_answer_become_messages_once(resident, other_resident, attending):
    asked_at = timezone.now() - timedelta(days=2)
    answered = _ask(resident, attending)
    MentorshipRequest.objects.filter(pk=answered.pk).update(
        question="Nights?", question_asked_at=asked_at, answer="In March.", answered_at=asked_at + timedelta(hours=5)
    )
    open_question = _ask(other_resident, attending)
    MentorshipRequest.objects.filter(pk=open_question.pk).update(question="Research?", question_asked_at=asked_at)

    migration.forwards(apps, None)
    migration.forwards(apps, None)  # running it again adds nothing

    assert list(Message.objects.filter(request=answered).values_list("author", "body", "created_at")) == [
        (attending.pk, "Nights?", asked_at),
        (resident.pk, "In March.", asked_at + timedelta(hours=5)),
    ]
    unanswered = Message.objects.get(request=open_question)
    assert (unanswered.author, unanswered.body, unanswered.read_at) == (attending, "Research?", None)
