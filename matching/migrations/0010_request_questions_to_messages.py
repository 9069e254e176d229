"""The request's one question and its answer become the first messages of the request's
thread (the conversation replaced the one-question flow). The old fields stay as they were,
for the deprecated API fields; running it again adds nothing."""

from django.db import migrations


def forwards(apps, schema_editor):
    MentorshipRequest = apps.get_model("matching", "MentorshipRequest")
    Message = apps.get_model("matching", "Message")
    asked = MentorshipRequest.objects.exclude(question="").only(
        "pk", "mentee_id", "mentor_id", "question", "question_asked_at", "answer", "answered_at", "created_at"
    )
    for request in asked.iterator():
        if Message.objects.filter(request_id=request.pk).exists():
            continue
        question_at = request.question_asked_at or request.created_at
        answered = bool(request.answer)
        Message.objects.create(
            request_id=request.pk,
            author_id=request.mentor_id,
            body=request.question,
            created_at=question_at,
            # The mentee saw the question if they answered it.
            read_at=request.answered_at if answered else None,
        )
        if answered:
            Message.objects.create(
                request_id=request.pk,
                author_id=request.mentee_id,
                body=request.answer,
                created_at=request.answered_at or question_at,
                # Whether the mentor read the answer is not known; don't make an old one "new".
                read_at=request.answered_at or question_at,
            )


class Migration(migrations.Migration):
    dependencies = [("matching", "0009_pair_week")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
