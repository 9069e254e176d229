import pytest

from accounts.invitations import program_invitation_create


@pytest.fixture
def invitation(other_program, other_coordinator, resident):
    """Oscar (gs) asks Alice (an im resident) to join gs as faculty, typing a PGY and a specialty."""
    from accounts.models import CareerStage, Specialty

    return program_invitation_create(
        program=other_program,
        user=resident,
        role="faculty",
        invited_by=other_coordinator,
        email=resident.email,
        first_name="Alicia",
        last_name="A.",
        career_stage=CareerStage.objects.get(code="PGY-3"),
        specialty=Specialty.objects.get(slug="general-surgery"),
    )
