from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"
    verbose_name = "Matching and mentorships"

    def ready(self):
        from accounts.institutions import program_coordinator_added
        from accounts.leaving import members_leaving
        from accounts.signals import program_invitation_accepted, program_invitation_made

        from .receivers import (
            notify_program_coordinator_added,
            notify_program_invitation_accepted,
            notify_program_invitation_made,
        )
        from .receivers_roster import end_for_members_leaving

        program_invitation_made.connect(notify_program_invitation_made, dispatch_uid="matching.invitation_made")
        program_invitation_accepted.connect(
            notify_program_invitation_accepted, dispatch_uid="matching.invitation_accepted"
        )
        # People leaving a program (graduation, bulk leave on the roster) end their pairings there.
        members_leaving.connect(end_for_members_leaving, dispatch_uid="matching.members_leaving")
        program_coordinator_added.connect(notify_program_coordinator_added, dispatch_uid="matching.coordinator_added")
        # The directory's prepared mentors are rebuilt when what they are built from changes.
        from . import directory_mentors

        directory_mentors.connect()
