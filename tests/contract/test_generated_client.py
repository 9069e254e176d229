"""Issue 17: the schema is a contract a generated client can keep.

A client generated from the served schema (tests/contract/conftest.py) must import whole and
carry a resident to a mentor and through a meeting against a live server, with its typed
functions only. Each client raises on any status code the schema does not declare for the
operation, and every body is parsed into the schema's models: an answer that strays from the
schema fails here.
"""

import importlib
import inspect
import traceback
import typing
from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Membership
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_served_schema_generates_a_client_without_warnings(generated_client):
    assert "Warning" not in generated_client.output, generated_client.output

    # Every operation the schema documents got its function (the generator skips, with a
    # warning, the ones it cannot understand).
    documented = {
        (method.upper(), path)
        for path, item in generated_client.schema["paths"].items()
        for method in item
        if method in {"get", "put", "post", "patch", "delete"}
    }
    assert len(documented) > 80  # the whole API, not a schema that failed to load
    assert documented - set(generated_client.operations) == set()


def test_every_generated_module_imports(generated_client):
    failures = {}
    names = generated_client.module_names()
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:
            failures[name] = traceback.format_exc(limit=-2)

    assert len(names) > 200  # api/<tag>/<operation>.py and models/<schema>.py for the whole API
    assert failures == {}, "\n".join(f"{name}:\n{error}" for name, error in failures.items())


def _body(operation, **values):
    """The request model the operation's typed function takes, built from plain values by the
    model's own ``from_dict`` (enums and date-times are parsed as the client would)."""
    annotation = inspect.signature(operation.sync_detailed).parameters["body"].annotation
    # An optional body is ``Model | Unset``.
    (model,) = [kind for kind in typing.get_args(annotation) or [annotation] if hasattr(kind, "from_dict")]
    return model.from_dict(values)


def _call(operation, client, expected_status, **kwargs):
    response = operation.sync_detailed(client=client, **kwargs)
    assert response.status_code == expected_status, response.content.decode(errors="replace")
    return response


def _slot(days):
    start = datetime.now(UTC) + timedelta(days=days)
    return start.replace(hour=15, minute=0, second=0, microsecond=0)


def test_a_resident_finds_a_mentor_and_they_meet(
    generated_client, live_server, program, resident, attending, coordinator
):
    api = generated_client.package
    op = generated_client.operation
    anonymous = api.Client(base_url=live_server.url, raise_on_unexpected_status=True)

    def signed_in(user):
        body = _body(op("post", "/api/v1/auth/token/"), email=user.email, password=PASSWORD, name="contract test")
        token = _call(op("post", "/api/v1/auth/token/"), anonymous, 200, body=body).parsed
        assert token.token and token.expires_at > datetime.now(UTC)
        return api.AuthenticatedClient(
            base_url=live_server.url, token=token.token, prefix="Token", raise_on_unexpected_status=True
        )

    alice, carol, cora = signed_in(resident), signed_in(attending), signed_in(coordinator)

    # Alice finds Carol in the directory and among her recommendations.
    directory = _call(op("get", "/api/v1/mentors/"), alice, 200).parsed
    assert attending.pk in [mentor.id for mentor in directory.results]
    assert directory.count == len(directory.results) == 1
    recommended = _call(op("get", "/api/v1/me/recommendations/"), alice, 200).parsed
    assert [pick.mentor_id for pick in recommended.results] == [attending.pk]
    assert 0 <= recommended.results[0].score <= 100

    # She asks; Carol accepts, and they are a mentorship.
    asked = _call(
        op("post", "/api/v1/requests/"),
        alice,
        201,
        body=_body(op("post", "/api/v1/requests/"), mentor=attending.pk, kind="career", message="Hello, Carol"),
    ).parsed
    assert (asked.status, asked.mentor.id, asked.mentorship) == ("pending", attending.pk, None)
    accepted = _call(
        op("post", "/api/v1/requests/{id}/accept/"),
        carol,
        200,
        id=asked.id,
        body=_body(op("post", "/api/v1/requests/{id}/accept/"), note="Welcome"),
    ).parsed
    assert accepted.status == "accepted"
    mentorship = accepted.mentorship
    assert isinstance(mentorship, int)

    # Alice proposes two times; Carol confirms the second.
    first, second = _slot(3), _slot(4)
    proposed = _call(
        op("post", "/api/v1/mentorships/{id}/meetings/"),
        alice,
        201,
        id=mentorship,
        body=_body(op("post", "/api/v1/mentorships/{id}/meetings/"), slots=[first.isoformat(), second.isoformat()]),
    ).parsed
    assert (proposed.status, proposed.slots, proposed.start) == ("proposed", [first, second], None)
    confirmed = _call(
        op("post", "/api/v1/meetings/{id}/confirm/"),
        carol,
        200,
        id=proposed.id,
        body=_body(op("post", "/api/v1/meetings/{id}/confirm/"), start=second.isoformat()),
    ).parsed
    assert (confirmed.status, confirmed.start) == ("confirmed", second)

    # Carol moves it; Alice takes the new time.
    later = _slot(5)
    moved = _call(
        op("post", "/api/v1/meetings/{id}/reschedule/"),
        carol,
        200,
        id=proposed.id,
        body=_body(op("post", "/api/v1/meetings/{id}/reschedule/"), slots=[later.isoformat()]),
    ).parsed
    assert (moved.status, moved.slots, moved.start, moved.proposed_by.id) == ("proposed", [later], None, attending.pk)
    assert moved.sequence > confirmed.sequence
    reconfirmed = _call(
        op("post", "/api/v1/meetings/{id}/confirm/"),
        alice,
        200,
        id=proposed.id,
        body=_body(op("post", "/api/v1/meetings/{id}/confirm/"), start=later.isoformat()),
    ).parsed
    assert (reconfirmed.status, reconfirmed.start) == ("confirmed", later)

    # Alice puts it in her calendar, then calls it off, and Carol's calendar hears of it.
    invitation = _call(op("get", "/api/v1/meetings/{id}/ics/"), alice, 200, id=proposed.id)
    assert invitation.headers["content-type"].startswith("text/calendar")
    # Read as the text the schema declares (a client cannot read a text/* answer declared as binary).
    assert "METHOD:REQUEST" in invitation.parsed
    assert f"DTSTART:{later:%Y%m%dT%H%M%SZ}" in invitation.parsed
    cancelled = _call(
        op("post", "/api/v1/meetings/{id}/cancel/"),
        alice,
        200,
        id=proposed.id,
        body=_body(op("post", "/api/v1/meetings/{id}/cancel/"), reason="Clinic ran over"),
    ).parsed
    assert (cancelled.status, cancelled.cancelled_by.id) == ("cancelled", resident.pk)
    withdrawn = _call(op("get", "/api/v1/meetings/{id}/ics/"), carol, 200, id=proposed.id)
    assert "METHOD:CANCEL" in withdrawn.parsed

    # Cora, who coordinates the program, sees the pair on its roster (coordinators are staff, not roster).
    roster = _call(op("get", "/api/v1/programs/{slug}/roster/"), cora, 200, slug=program.slug).parsed
    assert {(member.user_id, member.role) for member in roster.results} == {
        (resident.pk, Membership.Role.RESIDENT),
        (attending.pk, Membership.Role.FACULTY),
    }
    # Alice may not: the client is told so in the answer the schema declares.
    refused = _call(op("get", "/api/v1/programs/{slug}/roster/"), alice, 403, slug=program.slug)
    assert refused.parsed.detail
