"""Reads for mentorships, scoped to the person asking; pages and the API share them."""

from django.db.models import Q, QuerySet

from .models import Mentorship, MentorshipRequest


def requests_for(user) -> QuerySet[MentorshipRequest]:
    """Requests ``user`` sent or received."""
    return MentorshipRequest.objects.filter(Q(mentee=user) | Q(mentor=user)).select_related("mentee", "mentor", "program")


def mentorships_for(user) -> QuerySet[Mentorship]:
    """Mentorships ``user`` is a party to."""
    return Mentorship.objects.filter(Q(mentee=user) | Q(mentor=user)).select_related("mentee", "mentor", "program")
