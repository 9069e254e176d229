"""Mentor profile updates: a mentor's profile says whether they take mentees, and
turning that off is matching's business (their pending requests are resolved)."""

from typing import Any

from django.db import transaction

from accounts.models import MentorProfile, User
from accounts.services import profile_apply, profile_locked

from .requests import requests_close_for_mentor


@transaction.atomic
def mentor_profile_update(*, user: User, **fields: Any) -> MentorProfile:
    """Create or update ``user``'s mentor profile. Raises ValidationError on bad data.

    Turning "accepting mentees" off resolves the mentor's pending requests, so no
    resident is left waiting on someone who will not answer. The profile lock is held
    meanwhile (``matching.services.requests`` explains the lock order).
    """
    profile = profile_locked(MentorProfile, user)
    was_accepting = profile.accepting_mentees
    profile = profile_apply(profile, fields)
    if was_accepting and not profile.accepting_mentees:
        requests_close_for_mentor(mentor=user, actor=user)
    return profile
