"""A coordinator's reason is required to pair, end or reassign, and the schema says so: it said the
reason was optional (default ""), and the service then refused a body without one, which
schemathesis' positive_data_acceptance found (``make fuzz-api``)."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from matching.services.pairings import SHARED_REASON_MISSING
from tests.matching.factories import MentorshipFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "body_schema"),
    [
        ("/api/v1/programs/{slug}/pairings/", "PairingCreateRequest"),
        ("/api/v1/programs/{slug}/pairings/{id}/end/", "PairingEndRequest"),
        ("/api/v1/programs/{slug}/pairings/{id}/reassign/", "PairingReassignRequest"),
    ],
)
def test_the_schema_requires_a_reason_that_is_not_empty(path, body_schema):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    body = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]

    assert body == {"$ref": f"#/components/schemas/{body_schema}"}
    component = schema["components"]["schemas"][body_schema]
    assert "reason" in component["required"]
    assert component["properties"]["reason"]["minLength"] == 1


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}])
def test_ending_without_a_reason_is_a_400_with_the_pages_message(
    client_for, coordinator, program, resident, attending, body
):
    mentorship = MentorshipFactory(program=program, mentee=resident, mentor=attending)

    response = client_for(coordinator).post(
        f"/api/v1/programs/{program.slug}/pairings/{mentorship.pk}/end/", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {"reason": [SHARED_REASON_MISSING]}
    mentorship.refresh_from_db()
    assert mentorship.status == mentorship.Status.ACTIVE


def test_control_ending_with_a_reason_ends_it(client_for, coordinator, program, resident, attending):
    mentorship = MentorshipFactory(program=program, mentee=resident, mentor=attending)

    response = client_for(coordinator).post(
        f"/api/v1/programs/{program.slug}/pairings/{mentorship.pk}/end/",
        {"reason": "Rotation abroad"},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    mentorship.refresh_from_db()
    assert mentorship.status != mentorship.Status.ACTIVE
