from .selectors import roles_of


def roles(request):
    """Role flags for navigation: a user may be resident, faculty and coordinator at once."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    held = roles_of(user)
    return {
        "is_resident": "resident" in held or hasattr(user, "mentee_profile"),
        "is_mentor": "faculty" in held or hasattr(user, "mentor_profile"),
        "is_coordinator": "coordinator" in held,
    }
