from django.db.models import CharField, QuerySet, Value

from core.queries import PerUser

from .models import InstitutionRole, Membership

_ADMIN = "institution-admin"


def _roles_query(user_id: int) -> QuerySet:
    """One query for both, as every page's navigation asks: the memberships' roles, then one
    row per institution the user administers."""
    blank = Value("", output_field=CharField())
    memberships = Membership.objects.filter(user_id=user_id).order_by().values_list("role", blank, blank)
    administered = (
        InstitutionRole.objects.filter(user_id=user_id, role=InstitutionRole.Role.ADMIN)
        .order_by()
        .values_list(Value(_ADMIN, output_field=CharField()), "institution__slug", "institution__name")
    )
    return memberships.union(administered, all=True)


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
        "is_resident": "resident" in held or hasattr(user, "mentee_profile"),
        "is_mentor": "faculty" in held or hasattr(user, "mentor_profile"),
        "is_coordinator": "coordinator" in held,
        "administered_institutions": sorted(institutions, key=lambda i: (i["name"].casefold(), i["slug"])),
    }
