"""How each route's URL kwargs are filled from the world: the object a route addresses."""

from datetime import timedelta

from django.utils import timezone

from matching.notifications import unsubscribe_url

# Page routes: route name → kwargs from the world ``w``.
PAGE_KWARGS = {
    # Bob is a resident: his page is not public the way a mentor's is.
    "matching:person": lambda w: {"pk": w.users["other_resident"].pk},
    "accounts:institution": lambda w: {"slug": w.im.institution.slug},
    "accounts:institution-program-new": lambda w: {"slug": w.im.institution.slug},
    "accounts:roster": lambda w: {"slug": w.im.slug},
    "accounts:roster-export": lambda w: {"slug": w.im.slug},
    "accounts:roster-template": lambda w: {"slug": w.im.slug},
    "accounts:roster-import": lambda w: {"slug": w.im.slug},
    "accounts:roster-import-preview": lambda w: {"slug": w.im.slug, "pk": w.roster_import.pk},
    "accounts:roster-reinvite": lambda w: {"slug": w.im.slug, "membership_pk": w.bob_membership.pk},
    "accounts:roster-invitation-withdraw": lambda w: {"slug": w.im.slug, "pk": w.im_invitation.pk},
    "accounts:invitation-accept": lambda w: {"pk": w.alice_invitation.pk},
    "accounts:invitation-decline": lambda w: {"pk": w.alice_invitation.pk},
    "matching:request-create": lambda w: {"mentor_pk": w.users["other_attending"].pk},
    "matching:introduction-respond": lambda w: {"pk": w.introduction.pk},
    "matching:action-item-update": lambda w: {"pk": w.action_item.pk},
    "matching:notification-read": lambda w: {"pk": w.notification.pk},
    "matching:match-run-accept": lambda w: {"pk": w.run.pk, "proposal_pk": w.proposal.pk},
    "matching:match-run-override": lambda w: {"pk": w.run.pk, "proposal_pk": w.proposal.pk},
    "matching:match-run-rank": lambda w: {"pk": w.ranking_run.pk},
    "matching:ranking-window": lambda w: {"pk": w.ranking_run.pk},
    "matching:ranking-window-remind": lambda w: {"pk": w.ranking_run.pk},
    "matching:ranking-window-extend": lambda w: {"pk": w.ranking_run.pk},
    "matching:ranking-window-close": lambda w: {"pk": w.ranking_run.pk},
    "matching:conflicts-add": lambda w: {"slug": w.im.slug, "which": "conflict"},
    "matching:conflicts-remove": lambda w: {"slug": w.im.slug, "which": "conflict", "pk": w.conflict.pk},
    "matching:pairing-assign": lambda w: {"slug": w.im.slug, "mentee_pk": w.users["other_resident"].pk},
    "matching:pairing-end": lambda w: {"slug": w.im.slug, "pk": w.mentorship.pk},
    "matching:pairing-reassign": lambda w: {"slug": w.im.slug, "pk": w.mentorship.pk},
    "matching:pairing-nudge": lambda w: {"slug": w.im.slug, "mentorship_id": w.mentorship.pk},
    "mfa_remove_webauthn": lambda w: {"pk": w.alice_key.pk},
    "mfa_edit_webauthn": lambda w: {"pk": w.alice_key.pk},
    "matching:calendar-feed": lambda w: {"token": w.calendar_feed.token},
    # Alice's unsubscribe link (the one in her e-mails).
    "matching:notifications-unsubscribe": lambda w: {"token": unsubscribe_url(w.users["resident"]).rsplit("/", 2)[-2]},
}


def page_kwargs(name, route, w):
    """Explicit kwargs, else each ``<pk>`` is the object named by the path segment before it."""
    if name in PAGE_KWARGS:
        return PAGE_KWARGS[name](w)
    kwargs = {}
    parts = route.strip("/").split("/")
    for i, part in enumerate(parts):
        if part.startswith("<"):
            key = part.strip("<>").split(":")[-1]
            kwargs[key] = w.im.slug if key == "slug" else _OBJECTS(w)[parts[i - 1]].pk
    return kwargs


def _OBJECTS(w):
    return {
        "requests": w.request,
        "mentorships": w.mentorship,
        "action-items": w.action_item,
        "introductions": w.introduction,
        "meetings": w.meeting,
        "notifications": w.notification,
        "match-runs": w.run,
        "match-proposals": w.proposal,
        "mentors": w.users["attending"],
        "evaluator-roles": w.evaluator_role,
        "conflicts": w.conflict,
        "pairing-exceptions": w.pairing_exception,
        "pairings": w.mentorship,
        "people": w.users["attending"],
        # Alice's invitation (to gs) for her own routes; Cora's (to im) under /programs/im/.
        "program-invitations": w.alice_invitation,
        "invitations": w.im_invitation,
        # Alice's API token: /accounts/tokens/<pk>/revoke/ and /api/v1/auth/tokens/{id}/.
        "tokens": w.api_token,
        # Alice's: /profile/busy/<pk>/…, /profile/busy/calendars/<pk>/…, /api/v1/me/busy-…/{id}/.
        "busy": w.busy_block,
        "calendars": w.busy_calendar,
        "busy-blocks": w.busy_block,
        "busy-calendars": w.busy_calendar,
        # The Alice–Carol resource (shared by Carol) and Alice's message to Carol.
        "resources": w.resource,
        "messages": w.message,
        # /api/v1/programs/{slug}/coordinators/{id}/: Cora, coordinator of im.
        "coordinators": w.users["coordinator"],
    }


def api_kwargs(path, w):
    """Fill ``{id}``/``{slug}``/``{pk}`` by the segment before them."""
    objects = _OBJECTS(w)
    parts = path.strip("/").split("/")
    out = []
    for i, part in enumerate(parts):
        if part == "{slug}":
            part = w.im.institution.slug if parts[i - 1] == "institutions" else w.im.slug
        elif part in ("{id}", "{pk}"):
            prev = parts[i - 1]
            if prev == "match-runs" and ("my-ranking" in parts or "ranking-window" in parts):
                part = str(w.ranking_run.pk)
            else:
                part = str(objects[prev].pk)
        out.append(part)
    return "/" + "/".join(out) + "/"


# Valid bodies for unsafe requests, so a denial is the permission check's and not a form's
# (several views validate before they ask the rules). Routes not listed send an empty body.
def _soon(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


PAGE_BODIES = {
    # One note box for Accept and Decline (matching/forms/requests.py: ResponseForm, prefix "respond").
    "matching:request-accept": lambda w: {"respond-note": "Happy to"},
    "matching:ranking-window-extend": lambda w: {
        "ranking_deadline": timezone.localtime(w.ranking_run.ranking_deadline + timedelta(days=3)).strftime(
            "%Y-%m-%dT%H:%M"
        )
    },
    "matching:request-decline": lambda w: {"respond-note": "Sorry, I am full"},
    "matching:request-question": lambda w: {"question-question": "What are your goals?"},
    "matching:request-answer": lambda w: {"answer-answer": "Research, mostly"},
    "matching:action-item-create": lambda w: {"title": "Submit the abstract", "owner": w.users["resident"].pk},
    "matching:resource-create": lambda w: {"title": "A paper", "url": "https://example.org/p"},
    "matching:action-item-edit": lambda w: {"title": "Revise the abstract", "owner": w.users["resident"].pk},
    "matching:resource-edit": lambda w: {"title": "A longer reading list", "url": "https://example.org/r2"},
    "matching:meeting-details": lambda w: {"location": "Room 5"},
    "matching:mentorship-messages": lambda w: {"body": "Hi"},
    "matching:request-messages": lambda w: {"body": "Hi"},
    "matching:message-edit": lambda w: {"body": "Hello again"},
    "matching:introduction-create": lambda w: {
        "colleague": w.users["other_attending"].pk,
        "kind": "research",
        "note": "Meet",
    },
    "matching:checkin-create": lambda w: {"rating": "3"},
    "matching:mentorship-thanks": lambda w: {"note": "Thank you"},
    "matching:mentorship-end": lambda w: {"outcome": "completed", "reason": "Goals reached"},
    "matching:introduction-respond": lambda w: {"response": "decline", "note": ""},
    "matching:meeting-notes": lambda w: {"notes": "We talked"},
    "matching:meeting-cancel": lambda w: {"reason": "Clinic ran late"},
    "matching:conflicts-add": lambda w: {
        "coi-mentee": w.users["resident"].pk,
        "coi-mentor": w.users["other_attending"].pk,
        "coi-reason": "Spouses",
    },
    "matching:conflicts-remove": lambda w: {"reason": "Recorded by mistake"},
    "matching:pairing-end": lambda w: {f"end-{w.mentorship.pk}-reason": "Rotation abroad"},
    "accounts:busy-blocks": lambda w: {"label": "ICU", "start_date": _soon(5), "end_date": _soon(9)},
    "accounts:busy-block-edit": lambda w: {"label": "Nights", "start_date": _soon(3), "end_date": _soon(10)},
}

API_BODIES = {
    ("/api/v1/requests/", "POST"): lambda w: {
        "mentor": w.users["other_attending"].pk,
        "kind": "research",
        "message": "Hi",
    },
    ("/api/v1/requests/{id}/accept/", "POST"): lambda w: {"note": "Happy to"},
    ("/api/v1/requests/{id}/decline/", "POST"): lambda w: {"note": "Sorry"},
    ("/api/v1/requests/{id}/question/", "POST"): lambda w: {"question": "What are your goals?"},
    ("/api/v1/requests/{id}/answer/", "POST"): lambda w: {"answer": "Research"},
    ("/api/v1/introductions/{id}/respond/", "POST"): lambda w: {"response": "decline", "note": ""},
    ("/api/v1/mentorships/{id}/action-items/", "POST"): lambda w: {"title": "Submit the abstract"},
    ("/api/v1/mentorships/{id}/checkins/", "POST"): lambda w: {"rating": 3},
    ("/api/v1/mentorships/{id}/end/", "POST"): lambda w: {"outcome": "completed", "reason": "Goals reached"},
    ("/api/v1/mentorships/{id}/introductions/", "POST"): lambda w: {
        "colleague": w.users["other_attending"].pk,
        "kind": "research",
        "note": "Meet",
    },
    ("/api/v1/mentorships/{id}/resources/", "POST"): lambda w: {"title": "A paper", "url": "https://example.org/p"},
    ("/api/v1/mentorships/{id}/thanks/", "POST"): lambda w: {"note": "Thank you"},
    ("/api/v1/meetings/{id}/notes/", "POST"): lambda w: {"notes": "We talked"},
    ("/api/v1/meetings/{id}/notes/", "PUT"): lambda w: {"notes": "We talked"},
    ("/api/v1/meetings/{id}/details/", "PATCH"): lambda w: {"location": "Room 5"},
    ("/api/v1/action-items/{id}/", "PATCH"): lambda w: {"title": "Revise the abstract"},
    ("/api/v1/resources/{id}/", "PATCH"): lambda w: {"title": "A longer reading list"},
    ("/api/v1/mentorships/{id}/messages/", "POST"): lambda w: {"body": "Hi"},
    ("/api/v1/requests/{id}/messages/", "POST"): lambda w: {"body": "Hi"},
    ("/api/v1/messages/{id}/", "PATCH"): lambda w: {"body": "Hello again"},
    ("/api/v1/match-proposals/{id}/decide/", "POST"): lambda w: {"decision": "accepted"},
    ("/api/v1/match-runs/{id}/ranking-window/extend/", "POST"): lambda w: {
        "ranking_deadline": (w.ranking_run.ranking_deadline + timedelta(days=3)).isoformat()
    },
    ("/api/v1/programs/{slug}/conflicts/", "POST"): lambda w: {
        "mentee_id": w.users["resident"].pk,
        "mentor_id": w.users["other_attending"].pk,
        "reason": "Spouses",
    },
    ("/api/v1/programs/{slug}/pairings/{id}/end/", "POST"): lambda w: {"reason": "Rotation abroad"},
    ("/api/v1/notifications/preferences/", "PUT"): lambda w: {"delivery": "digest"},
    ("/api/v1/me/availability/", "PUT"): lambda w: {"windows": []},
    ("/api/v1/me/busy-blocks/", "POST"): lambda w: {"label": "ICU", "start_date": _soon(5), "end_date": _soon(9)},
    ("/api/v1/me/busy-blocks/{id}/", "PUT"): lambda w: {"label": "ICU", "start_date": _soon(5), "end_date": _soon(9)},
    ("/api/v1/me/busy-blocks/{id}/", "PATCH"): lambda w: {"label": "Nights (moved)"},
}
