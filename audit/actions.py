"""What each action code means to a person, and the groups the trail is filtered by.

Codes are written by the services of every app (``roster.*`` in accounts, the rest in
matching); the vocabulary sits here, beside the model, so that no app has to import another
to name what it did.
"""

# A human label for each action code. Codes not listed (a newer service's) are shown
# as the code made readable, so the trail never hides an entry.
ACTION_LABELS = {
    "request.create": "Sent a mentorship request",
    "request.accept": "Accepted a request",
    "request.decline": "Declined a request",
    "request.withdraw": "Withdrew a request",
    "request.question": "Asked a question about a request",
    "request.answer": "Answered the question on a request",
    "request.close": "Closed a request",
    "request.expire": "A request expired",
    "mentorship.start": "Started a mentorship",
    "mentorship.end": "Ended a mentorship",
    "mentorship.complete": "Completed a mentorship",
    "mentorship.thank_you": "Left a thank-you note",
    "mentorship.nudge": "Nudged a pair to meet",
    "mentorship.reassign": "Reassigned a resident to another mentor",
    "meeting.propose": "Proposed a meeting",
    "meeting.confirm": "Confirmed a meeting",
    "meeting.reschedule": "Rescheduled a meeting",
    "meeting.cancel": "Cancelled a meeting",
    "meeting.held": "Marked a meeting held",
    "meeting.notes": "Edited meeting notes",
    "agreement.update": "Updated a mentorship agreement",
    "action_item.create": "Added a goal",
    "action_item.update": "Changed a goal",
    "resource.share": "Shared a resource",
    "introduction.create": "Introduced a mentee to a colleague",
    "introduction.meeting": "Offered to meet an introduced mentee",
    "introduction.mentorship": "Took on an introduced mentee",
    "introduction.decline": "Declined an introduction",
    "checkin.submit": "Submitted a check-in",
    "match_run.create": "Started a match run",
    "match_run.succeed": "A match run finished",
    "match_run.fail": "A match run failed",
    "match_run.cancel": "Cancelled a match run",
    "match_run.publish": "Published a match run",
    "match_run.archive": "Discarded a match run",
    "match_run.extra_spot": "Gave a mentor one more spot in a match run",
    "match_run.ranking_remind": "Reminded those who had not ranked",
    "match_run.ranking_close": "Closed a ranking window early",
    "match_run.ranking_extend": "Extended a ranking window",
    "match_run.readiness_remind": "Sent readiness reminders before a match run",
    "match_ranking.submit": "Submitted a ranking",
    "match_ranking.update": "Changed a submitted ranking",
    "match_proposal.accepted": "Accepted a proposed pairing",
    "match_proposal.rejected": "Rejected a proposed pairing",
    "match_proposal.overridden": "Overrode a proposed pairing",
    "evaluator_role.add": "Recorded an evaluator role",
    "evaluator_role.remove": "Removed an evaluator role",
    "conflict.add": "Kept a pair apart (conflict of interest)",
    "conflict.remove": "Removed a conflict of interest",
    "exception.grant": "Allowed an evaluator to mentor a resident",
    "exception.revoke": "Withdrew a pairing exception",
    "roster.import": "Imported a roster file",
    "roster.invite_all": "Invited everyone on the roster",
    "roster.reinvite_all": "Re-invited those who had not signed in",
    "roster.leave": "Marked people as leaving the program",
    "roster.invite": "Re-sent a roster invitation",
    "roster.ask_to_join": "Invited an existing account to join",
    "roster.join_accepted": "Accepted an invitation to join",
    "roster.join_declined": "Declined an invitation to join",
    "roster.join_withdrawn": "Withdrew an invitation to join",
    "action_item.delete": "Deleted a goal",
    "action_item.undo": "Undid a goal's status change",
    "resource.update": "Edited a shared resource",
    "resource.delete": "Deleted a shared resource",
    "meeting.details": "Changed a meeting's place or link",
    # Messages: who and when only; the text is never in the trail.
    "message.edit": "Edited a message",
    "message.delete": "Deleted a message",
    "busy_block.create": "Added a busy block",
    "busy_block.update": "Changed a busy block",
    "busy_block.delete": "Deleted a busy block",
    "busy_calendar.import": "Imported a busy calendar",
    "busy_calendar.subscribe": "Subscribed to a busy calendar",
    "busy_calendar.refresh": "Refreshed a busy calendar",
    "busy_calendar.delete": "Removed a busy calendar",
    "calendar_feed.enable": "Turned on the calendar feed",
    "calendar_feed.regenerate": "Regenerated the calendar feed's address",
    "calendar_feed.disable": "Turned off the calendar feed",
    "program.create": "Created a program",
    "program.update": "Edited a program",
    "program.coordinator_add": "Made someone a coordinator of a program",
    "program.coordinator_remove": "Removed a coordinator from a program",
    "institution.admin_add": "Made someone an institution administrator",
    "institution.admin_remove": "Removed an institution administrator",
}

# Filter groups for the page and the API: key → (label, action-code prefixes).
ACTION_GROUPS = {
    "requests": ("Requests", ("request.",)),
    "mentorships": ("Mentorships", ("mentorship.",)),
    "meetings": ("Meetings", ("meeting.",)),
    "plans": ("Agreements, goals and resources", ("agreement.", "action_item.", "resource.", "introduction.")),
    "checkins": ("Check-ins", ("checkin.",)),
    "match_runs": ("Match runs", ("match_run.", "match_proposal.", "match_ranking.")),
    "conflicts": ("Conflicts of interest", ("evaluator_role.", "conflict.", "exception.")),
    "roster": ("Roster", ("roster.",)),
}
SYSTEM = "system"  # the actor filter's value for entries made by MentorMatch itself
SYSTEM_NAME = "MentorMatch (automatic)"


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    return action.replace("_", " ").replace(".", ": ", 1).capitalize()


def action_group(action: str) -> str:
    for key, (_, prefixes) in ACTION_GROUPS.items():
        if action.startswith(prefixes):
            return key
    return ""
