"""An audit entry about the program itself (invitations sent, readiness reminders) names the
program on the trail and in its export, not "Program #1"."""

import pytest
from django.urls import reverse

from audit.services import audit_log
from matching.audit_trail import describe_objects

pytestmark = pytest.mark.django_db


def test_an_entry_on_the_program_names_it(client_for, program, coordinator, django_assert_num_queries):
    entry = audit_log(actor=coordinator, action="roster.invite_all", obj=program, program=program, after={"sent": 3})

    with django_assert_num_queries(0):  # the trail's program is at hand: no query to name it
        assert describe_objects([entry], program=program)[entry.pk].label == program.name

    page = client_for(coordinator).get(reverse("matching:audit", args=[program.slug])).content.decode()
    assert f'<td data-label="On what">{program.name}</td>' in page
    assert "Program #" not in page
    export = client_for(coordinator).get(reverse("matching:audit-export", args=[program.slug]))
    body = b"".join(export.streaming_content) if export.streaming else export.content
    assert f",{program.name}," in body.decode() or f'"{program.name}"' in body.decode()
