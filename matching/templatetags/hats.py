"""Which hat a person wears in each program, as their page says it: "PGY-4, near-peer mentor,
General Surgery" for a resident who also mentors (a faculty membership with a mentor profile
that carries a training stage), not "Resident, General Surgery · Faculty, General Surgery"."""

from django import template

from accounts.models import Membership

register = template.Library()

_ORDER = [Membership.Role.RESIDENT, Membership.Role.FACULTY, Membership.Role.COORDINATOR]


@register.filter
def role_labels(memberships, mentor) -> list[str]:
    """One label per program of ``memberships``; ``mentor`` is the person's mentor profile or None."""
    stage = mentor.career_stage if mentor is not None and mentor.career_stage_id else None
    programs: dict[int, tuple] = {}
    for membership in memberships:
        programs.setdefault(membership.program_id, (membership.program, set()))[1].add(membership.role)
    labels = []
    for program, roles in programs.values():
        hats = []
        if stage is not None and Membership.Role.FACULTY in roles:
            hats.append(f"{stage}, near-peer mentor")
            roles = roles - {Membership.Role.FACULTY, Membership.Role.RESIDENT}
        hats += [role.label for role in _ORDER if role in roles]
        labels.append(f"{', '.join(hats)}, {program.name}")
    return labels
