"""Factories for the matching app.

No SubFactories: a mentorship is always between people a test already named
(``MentorshipFactory(mentee=resident, mentor=attending, program=program)``), so
nobody appears in a program by accident.
"""

import factory

from matching.models import ActionItem, Agreement, Mentorship


class MentorshipFactory(factory.django.DjangoModelFactory):
    """An active career mentorship with its (empty) agreement, as ``mentorship_create`` leaves it.

    It skips the capacity check; use the service when that matters.
    Pass ``agreement=False`` for a mentorship without an agreement row.
    """

    class Meta:
        model = Mentorship
        skip_postgeneration_save = True

    mentee = None
    mentor = None
    program = None
    kind = Mentorship._meta.get_field("kind").default
    source = Mentorship.Source.REQUEST
    status = Mentorship.Status.ACTIVE

    @factory.post_generation
    def agreement(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            Agreement.objects.get_or_create(mentorship=obj, defaults=kwargs)


class ActionItemFactory(factory.django.DjangoModelFactory):
    """A goal in ``mentorship``'s plan, owned by and created by its mentee unless told."""

    class Meta:
        model = ActionItem

    mentorship = None
    title = factory.Sequence(lambda n: f"Goal {n}")
    owner = factory.LazyAttribute(lambda o: o.mentorship.mentee)
    created_by = factory.LazyAttribute(lambda o: o.owner)
