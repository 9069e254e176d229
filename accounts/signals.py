"""What accounts announces to the apps built on it.

Accounts sits below matching (core ← accounts ← matching): it may not import matching, yet
the bell and the notification e-mails are matching's (``matching.notifications.notify``).
So accounts says what happened and matching, connected in ``MatchingConfig.ready()``, turns
it into a notification. Both signals are sent with ``send``, not ``send_robust``, inside the
transaction that makes the change: the receiver runs synchronously, in that transaction, and
a failure there rolls the change back, exactly as a direct call would.
"""

from django.dispatch import Signal

# An existing account was asked to join a program. Sent with ``invitation`` (a fresh
# ProgramInvitation, PENDING) once it exists, before the transaction commits.
program_invitation_made = Signal()

# The person accepted: their membership exists. Sent with ``invitation`` (now ACCEPTED) and
# ``actor`` (the person who accepted), only when someone (``invitation.invited_by``) asked them.
program_invitation_accepted = Signal()
