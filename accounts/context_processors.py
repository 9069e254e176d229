from django.db.models import CharField, QuerySet, Value

from core.queries import PerUser

from .models import InstitutionRole, Membership, MenteeProfile, MentorProfile

_ADMIN = "institution-admin"
_MENTEE, _MENTOR = "has-mentee-profile", "has-mentor-profile"


def _roles_query(user_id: int) -> QuerySet:
    """One query for all of it, as every page's navigation asks: the memberships' roles, a row
    per institution the user administers, and a row per profile they have (a mentor profile
    makes a mentor of someone with no faculty membership yet; a mentee profile, a resident)."""
    blank = Value("", output_field=CharField())

    def marker(text: str) -> Value:
        return Value(text, output_field=CharField())

    memberships = Membership.objects.filter(user_id=user_id).order_by().values_list("role", blank, blank)
    administered = (
        InstitutionRole.objects.filter(user_id=user_id, role=InstitutionRole.Role.ADMIN)
        .order_by()
        .values_list(marker(_ADMIN), "institution__slug", "institution__name")
    )
    mentee = MenteeProfile.objects.filter(user_id=user_id).order_by().values_list(marker(_MENTEE), blank, blank)
    mentor = MentorProfile.objects.filter(user_id=user_id).order_by().values_list(marker(_MENTOR), blank, blank)
    return memberships.union(administered, mentee, mentor, all=True)


# Every page's navigation asks: built once per process (core.queries).
_ROLES = PerUser(_roles_query)


def roles(request):
    """Role flags for navigation: a user may be resident, faculty and coordinator at once,
    and administer institutions (``administered_institutions``: slug and name, by name)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    held, institutions = set(), []
    for role, slug, name in _ROLES.rows(user.pk):
        if role == _ADMIN:
            institutions.append({"slug": slug, "name": name})
        else:
            held.add(role)
    return {
        "is_resident": "resident" in held or _MENTEE in held,
        "is_mentor": "faculty" in held or _MENTOR in held,
        "is_coordinator": "coordinator" in held,
        "administered_institutions": sorted(institutions, key=lambda i: (i["name"].casefold(), i["slug"])),
    }
