"""The authorization matrix: every route × every role, generated from the URL conf and the schema.

Each row names a route (a page's URL name, or an API path and method from the OpenAPI schema)
and what each role meets there:

    ok     allowed (2xx/3xx; for a write, a 400 about the body counts too: the rules let it through)
    login  not signed in: a redirect to the sign-in page, or 401 from the API
    404    the object (or program) is not one this user may see: it does not exist for them
    403    the user sees the object but may not do this (or may not use this kind of page at all)

Columns: anonymous, Alice (resident, mentee of Alice–Carol), Bob (resident, sent Bob→Dave),
Carol (attending, mentor of Alice–Carol), Dave (attending, receives Bob→Dave and is introduced
to Alice), Cora (coordinator of ``im``), Oscar (coordinator of ``gs``). The world is in conftest.py;
the object each route addresses is chosen in world_args.py.

A denied write must change nothing: every table a request could touch is compared before and after.

API writes go through ``World.api``, which sends ``If-Match: *``: the shared texts are only written
against a version (core/concurrency.py), and this matrix is about who may write. Without the header
the same roles are refused the same way (the tests at the end).
"""

import pytest
from django.urls import reverse

from .conftest import ROLES, snapshot
from .routes import UNSAFE, api_operations, api_routes, classify, page_route_names, url_patterns
from .world_args import API_BODIES, PAGE_BODIES, api_kwargs, page_kwargs

pytestmark = pytest.mark.django_db

# fmt: off
PAGES = """
# route name                         method anon   alice  bob    carol  dave   cora   oscar
path:                                GET    ok     ok     ok     ok     ok     ok     ok
matching:dashboard                   GET    login  ok     ok     ok     ok     ok     ok
accounts:profile                     GET    login  ok     ok     ok     ok     ok     ok
accounts:account-edit                GET    login  ok     ok     ok     ok     ok     ok
accounts:account-edit                POST   login  ok     ok     ok     ok     ok     ok
accounts:availability-edit           GET    login  ok     ok     ok     ok     ok     ok
accounts:availability-edit           POST   login  ok     ok     ok     ok     ok     ok
# Busy blocks and imported calendars: everyone's own; the block and calendar addressed are Alice's.
accounts:busy-blocks                 GET    login  ok     ok     ok     ok     ok     ok
accounts:busy-blocks                 POST   login  ok     ok     ok     ok     ok     ok
accounts:busy-block-edit             GET    login  ok     404    404    404    404    404
accounts:busy-block-edit             POST   login  ok     404    404    404    404    404
accounts:busy-block-delete           POST   login  ok     404    404    404    404    404
accounts:busy-calendar-upload        POST   login  ok     ok     ok     ok     ok     ok
accounts:busy-calendar-subscribe     POST   login  ok     ok     ok     ok     ok     ok
accounts:busy-calendar-refresh       POST   login  ok     404    404    404    404    404
accounts:busy-calendar-delete        POST   login  ok     404    404    404    404    404
# The calendar feed: its secret address is the credential (calendar apps cannot sign in); the
# buttons act on the signed-in person's own feed.
matching:calendar-feed               GET    ok     ok     ok     ok     ok     ok     ok
matching:calendar-feed-enable        POST   login  ok     ok     ok     ok     ok     ok
matching:calendar-feed-regenerate    POST   login  ok     ok     ok     ok     ok     ok
matching:calendar-feed-disable       POST   login  ok     ok     ok     ok     ok     ok
accounts:mentee-profile-edit         GET    login  ok     ok     403    403    403    403
accounts:mentee-profile-edit         POST   login  ok     ok     403    403    403    403
matching:mentor-profile-edit         GET    login  403    403    ok     ok     403    403
matching:mentor-profile-edit         POST   login  403    403    ok     ok     403    403
accounts:password_change             GET    login  ok     ok     ok     ok     ok     ok
accounts:password_change             POST   login  ok     ok     ok     ok     ok     ok
accounts:password_change_done        GET    login  ok     ok     ok     ok     ok     ok
# API tokens: everyone's own. The one addressed is Alice's: anyone else gets 404, as for no token.
# (Signing out everywhere is outside the matrix: tests/security/routes.py says why; the GET row is below.)
accounts:api-tokens                  POST   login  ok     ok     ok     ok     ok     ok
accounts:api-token-revoke            POST   login  ok     404    404    404    404    404
accounts:api-tokens-revoke-all       POST   login  ok     ok     ok     ok     ok     ok
# Sign-in and security (allauth's pages, accounts/auth/urls.py): each person's own. Alice has a
# security key (conftest.py); its pages are hers alone. Pages about an authenticator app or
# recovery codes are 404 to people without one (nobody in the world has one).
accounts:mfa-required                GET    login  ok     ok     ok     ok     ok     ok
accounts:api-tokens                  GET    login  ok     ok     ok     ok     ok     ok
account_reauthenticate               GET    login  ok     ok     ok     ok     ok     ok
mfa_index                            GET    login  ok     ok     ok     ok     ok     ok
mfa_reauthenticate                   GET    login  ok     ok     ok     ok     ok     ok
mfa_activate_totp                    GET    login  ok     ok     ok     ok     ok     ok
mfa_deactivate_totp                  GET    login  404    404    404    404    404    404
mfa_view_recovery_codes              GET    login  404    404    404    404    404    404
mfa_generate_recovery_codes          GET    login  ok     ok     ok     ok     ok     ok
mfa_download_recovery_codes          GET    login  404    404    404    404    404    404
mfa_list_webauthn                    GET    login  ok     ok     ok     ok     ok     ok
mfa_add_webauthn                     GET    login  ok     ok     ok     ok     ok     ok
mfa_reauthenticate_webauthn          GET    login  ok     ok     ok     ok     ok     ok
mfa_remove_webauthn                  GET    login  ok     404    404    404    404    404
mfa_edit_webauthn                    GET    login  ok     404    404    404    404    404
usersessions_list                    GET    login  ok     ok     ok     ok     ok     ok
usersessions_list                    POST   login  ok     ok     ok     ok     ok     ok
# Bob's page: himself, Cora, who coordinates his program, and Carol and Dave, who are asked to rank
# him in the open ranking window of ``ranking_run`` (a resident's page is not public otherwise).
matching:person                      GET    login  404    ok     ok     ok     ok     404
# The directory lists mentors of every program to every signed-in user, by design.
matching:mentor-directory            GET    login  ok     ok     ok     ok     ok     ok
accounts:programs                    GET    login  403    403    403    403    ok     ok
# A program's own pages (core/access.py): its members know it exists, so they are refused
# with 403 (these rows were 404 before the one rule); Oscar, of another program, gets 404.
accounts:roster                      GET    login  403    403    403    403    ok     404
accounts:roster                      POST   login  403    403    403    403    ok     404
accounts:roster-export               GET    login  403    403    403    403    ok     404
accounts:roster-template             GET    login  403    403    403    403    ok     404
accounts:roster-import               GET    login  403    403    403    403    ok     404
accounts:roster-import               POST   login  403    403    403    403    ok     404
accounts:roster-import-preview       GET    login  403    403    403    403    ok     404
accounts:roster-import-preview       POST   login  403    403    403    403    ok     404
accounts:roster-reinvite             POST   login  403    403    403    403    ok     404
accounts:roster-invitation-withdraw  POST   login  403    403    403    403    ok     404
# Invitations to join a program: Alice's (to gs) is hers alone to answer.
accounts:invitations                 GET    login  ok     ok     ok     ok     ok     ok
accounts:invitation-accept           POST   login  ok     404    404    404    404    404
accounts:invitation-decline          POST   login  ok     404    404    404    404    404
matching:requests                    GET    login  ok     ok     ok     ok     ok     ok
matching:request-create              GET    login  ok     ok     403    403    403    403
matching:request-create              POST   login  ok     ok     403    403    403    403
matching:request-detail              GET    login  404    ok     404    ok     ok     404
matching:request-accept              POST   login  404    403    404    ok     403    404
matching:request-decline             POST   login  404    403    404    ok     403    404
matching:request-question            POST   login  404    403    404    ok     403    404
matching:request-answer              POST   login  404    ok     404    403    403    404
matching:request-withdraw            POST   login  404    ok     404    403    403    404
matching:mentorships                 GET    login  ok     ok     ok     ok     ok     ok
matching:mentorship-detail           GET    login  ok     404    ok     404    ok     404
matching:mentorship-agreement        GET    login  ok     404    ok     404    403    404
matching:mentorship-agreement        POST   login  ok     404    ok     404    403    404
matching:mentorship-end              GET    login  ok     404    ok     404    403    404
matching:mentorship-end              POST   login  ok     404    ok     404    403    404
matching:mentorship-thanks           POST   login  ok     404    403    404    403    404
matching:action-item-create          POST   login  ok     404    ok     404    403    404
matching:action-item-update          POST   login  ok     404    ok     404    403    404
# The goal addressed was added by Alice, for herself: either party edits it, only she removes it.
matching:action-item-edit            GET    login  ok     404    ok     404    403    404
matching:action-item-edit            POST   login  ok     404    ok     404    403    404
matching:action-item-delete          POST   login  ok     404    403    404    403    404
matching:resource-create             POST   login  403    404    ok     404    403    404
# The resource addressed was shared by Carol: only she edits or removes it.
matching:resource-edit               GET    login  403    404    ok     404    403    404
matching:resource-edit               POST   login  403    404    ok     404    403    404
matching:resource-delete             POST   login  403    404    ok     404    403    404
matching:introduction-create         POST   login  403    404    ok     404    403    404
matching:checkin-create              POST   login  ok     404    ok     404    403    404
matching:introductions               GET    login  ok     ok     ok     ok     ok     ok
matching:introduction-respond        POST   login  404    404    404    ok     404    404
matching:meeting-propose             GET    login  ok     404    ok     404    403    404
matching:meeting-propose             POST   login  ok     404    ok     404    403    404
matching:meeting-detail              GET    login  ok     404    ok     404    ok     404
matching:meeting-ics                 GET    login  ok     404    ok     404    ok     404
matching:meeting-confirm             POST   login  ok     404    ok     404    403    404
matching:meeting-reschedule          GET    login  ok     404    ok     404    403    404
matching:meeting-reschedule          POST   login  ok     404    ok     404    403    404
matching:meeting-cancel              POST   login  ok     404    ok     404    403    404
matching:meeting-held                POST   login  ok     404    ok     404    403    404
matching:meeting-notes               POST   login  ok     404    ok     404    403    404
matching:meeting-details             POST   login  ok     404    ok     404    403    404
# Messages: the thread's two people only; Cora sees the mentorship and the request, so she is
# refused with 403, never shown the thread. The message addressed is Alice's to Carol: only its
# author changes it.
matching:messages                    GET    login  ok     ok     ok     ok     ok     ok
matching:mentorship-messages         GET    login  ok     404    ok     404    403    404
matching:mentorship-messages         POST   login  ok     404    ok     404    403    404
matching:request-messages            POST   login  404    ok     404    ok     403    404
matching:message-edit                GET    login  ok     404    403    404    404    404
matching:message-edit                POST   login  ok     404    403    404    404    404
matching:message-delete              POST   login  ok     404    403    404    404    404
matching:notifications               GET    login  ok     ok     ok     ok     ok     ok
matching:notifications-read-all      POST   login  ok     ok     ok     ok     ok     ok
matching:notification-preferences    GET    login  ok     ok     ok     ok     ok     ok
matching:notification-preferences    POST   login  ok     ok     ok     ok     ok     ok
matching:notification-read           POST   login  ok     404    404    404    404    404
# The unsubscribe link in Alice's e-mails is the credential (a mail client posts to it without
# signing in, RFC 8058): whoever holds it may stop Alice's notification e-mails, and only hers.
matching:notifications-unsubscribe   GET    ok     ok     ok     ok     ok     ok     ok
matching:notifications-unsubscribe   POST   ok     ok     ok     ok     ok     ok     ok
matching:match-runs                  GET    login  403    403    403    403    ok     404
matching:match-run-create            GET    login  403    403    403    403    ok     404
matching:match-run-create            POST   login  403    403    403    403    ok     404
matching:match-run-readiness         GET    login  403    403    403    403    ok     404
# Institution administration: none of these people administers the institution (its programs' members see 403).
accounts:institution                 GET    login  403    403    403    403    403    404
accounts:institution                 POST   login  403    403    403    403    403    404
accounts:institution-program-new     GET    login  403    403    403    403    403    404
accounts:institution-program-new     POST   login  403    403    403    403    403    404
accounts:program-edit                GET    login  403    403    403    403    403    404
accounts:program-edit                POST   login  403    403    403    403    403    404
accounts:program-coordinators        GET    login  403    403    403    403    403    404
accounts:program-coordinators        POST   login  403    403    403    403    403    404
accounts:program-coordinator-remove  POST   login  403    403    403    403    403    404
matching:match-run-readiness-remind  POST   login  403    403    403    403    ok     404
matching:match-run-detail            GET    login  404    404    404    404    ok     404
matching:match-run-progress          GET    login  404    404    404    404    ok     404
matching:match-run-compare           GET    login  404    404    404    404    ok     404
matching:match-run-export            GET    login  404    404    404    404    ok     404
matching:match-run-accept            POST   login  404    404    404    404    ok     404
matching:match-run-override          GET    login  404    404    404    404    ok     404
matching:match-run-override          POST   login  404    404    404    404    ok     404
matching:match-run-accept-all        POST   login  404    404    404    404    ok     404
matching:match-run-publish           POST   login  404    404    404    404    ok     404
matching:match-run-second-round      POST   login  404    404    404    404    ok     404
matching:match-run-rerun             POST   login  404    404    404    404    ok     404
matching:match-run-archive           POST   login  404    404    404    404    ok     404
# The ranking window of a run: its program's coordinators follow and move it (the run waiting for rankings).
matching:ranking-window              GET    login  404    404    404    404    ok     404
matching:ranking-window-remind       POST   login  404    404    404    404    ok     404
matching:ranking-window-extend       POST   login  404    404    404    404    ok     404
matching:ranking-window-close        POST   login  404    404    404    404    ok     404
matching:match-run-cancel            POST   login  404    404    404    404    ok     404
# Rankings belong to the cohort (Alice, Bob, Carol, Dave) while the window is open; not even Cora.
matching:match-run-rank              GET    login  ok     ok     ok     ok     404    404
matching:match-run-rank              POST   login  ok     ok     ok     ok     404    404
matching:conflicts                   GET    login  403    403    403    403    ok     404
matching:conflicts-add               POST   login  403    403    403    403    ok     404
matching:conflicts-remove            POST   login  403    403    403    403    ok     404
matching:program-health              GET    login  403    403    403    403    ok     404
matching:pairings                    GET    login  403    403    403    403    ok     404
matching:pairings-export             GET    login  403    403    403    403    ok     404
matching:pairing-assign              GET    login  403    403    403    403    ok     404
matching:pairing-assign              POST   login  403    403    403    403    ok     404
matching:pairing-end                 POST   login  403    403    403    403    ok     404
matching:pairing-reassign            GET    login  403    403    403    403    ok     404
matching:pairing-reassign            POST   login  403    403    403    403    ok     404
# Alice and Carol see their own pairing, so they are refused with 403 as by the API (404 before core/access.py).
matching:pairing-nudge               POST   login  403    404    403    404    ok     404
matching:audit                       GET    login  403    403    403    403    ok     404
matching:audit                       POST   login  403    403    403    403    ok     404
matching:audit-export                GET    login  403    403    403    403    ok     404
matching:portfolio                   GET    login  ok     ok     ok     ok     ok     ok
# The export is of a mentor's own mentees; residents have none to export.
matching:portfolio-export            GET    login  404    404    ok     ok     404    404
"""

API = """
# method path                                              anon   alice  bob    carol  dave   cora   oscar
# The caller's own API tokens; the one addressed is Alice's.
GET    /api/v1/auth/tokens/                                login  ok     ok     ok     ok     ok     ok
DELETE /api/v1/auth/tokens/{id}/                           login  ok     404    404    404    404    404
GET    /api/v1/me/                                         login  ok     ok     ok     ok     ok     ok
PATCH  /api/v1/me/                                         login  ok     ok     ok     ok     ok     ok
GET    /api/v1/me/availability/                            login  ok     ok     ok     ok     ok     ok
PUT    /api/v1/me/availability/                            login  ok     ok     ok     ok     ok     ok
# Busy blocks and imported calendars: everyone's own; the ones addressed are Alice's.
GET    /api/v1/me/busy-blocks/                             login  ok     ok     ok     ok     ok     ok
POST   /api/v1/me/busy-blocks/                             login  ok     ok     ok     ok     ok     ok
GET    /api/v1/me/busy-blocks/{id}/                        login  ok     404    404    404    404    404
PUT    /api/v1/me/busy-blocks/{id}/                        login  ok     404    404    404    404    404
PATCH  /api/v1/me/busy-blocks/{id}/                        login  ok     404    404    404    404    404
DELETE /api/v1/me/busy-blocks/{id}/                        login  ok     404    404    404    404    404
GET    /api/v1/me/busy-calendars/                          login  ok     ok     ok     ok     ok     ok
POST   /api/v1/me/busy-calendars/                          login  ok     ok     ok     ok     ok     ok
GET    /api/v1/me/busy-calendars/{id}/                     login  ok     404    404    404    404    404
DELETE /api/v1/me/busy-calendars/{id}/                     login  ok     404    404    404    404    404
POST   /api/v1/me/busy-calendars/{id}/refresh/             login  ok     404    404    404    404    404
# The signed-in person's own calendar feed.
GET    /api/v1/me/calendar-feed/                           login  ok     ok     ok     ok     ok     ok
POST   /api/v1/me/calendar-feed/                           login  ok     ok     ok     ok     ok     ok
DELETE /api/v1/me/calendar-feed/                           login  ok     ok     ok     ok     ok     ok
POST   /api/v1/me/calendar-feed/regenerate/                login  ok     ok     ok     ok     ok     ok
# Invitations to join: Alice's (to gs) is hers alone to answer.
GET    /api/v1/me/program-invitations/                     login  ok     ok     ok     ok     ok     ok
POST   /api/v1/me/program-invitations/{id}/accept/         login  ok     404    404    404    404    404
POST   /api/v1/me/program-invitations/{id}/decline/        login  ok     404    404    404    404    404
GET    /api/v1/me/mentee-profile/                          login  ok     ok     403    403    403    403
PUT    /api/v1/me/mentee-profile/                          login  ok     ok     403    403    403    403
PATCH  /api/v1/me/mentee-profile/                          login  ok     ok     403    403    403    403
GET    /api/v1/me/mentor-profile/                          login  403    403    ok     ok     403    403
PUT    /api/v1/me/mentor-profile/                          login  403    403    ok     ok     403    403
PATCH  /api/v1/me/mentor-profile/                          login  403    403    ok     ok     403    403
GET    /api/v1/me/recommendations/                         login  ok     ok     403    403    403    403
GET    /api/v1/me/portfolio/                               login  404    404    ok     ok     404    404
GET    /api/v1/mentors/                                    login  ok     ok     ok     ok     ok     ok
# Carol's card, shown to every signed-in user but herself (the directory leaves out the viewer).
GET    /api/v1/mentors/{id}/                               login  ok     ok     404    ok     ok     ok
GET    /api/v1/programs/                                   login  403    403    403    403    ok     ok
GET    /api/v1/programs/{slug}/                            login  403    403    403    403    ok     404
GET    /api/v1/programs/{slug}/roster/                     login  403    403    403    403    ok     404
GET    /api/v1/institutions/{slug}/programs/               login  403    403    403    403    403    404
POST   /api/v1/institutions/{slug}/programs/               login  403    403    403    403    403    404
GET    /api/v1/programs/{slug}/settings/                   login  403    403    403    403    403    404
PATCH  /api/v1/programs/{slug}/settings/                   login  403    403    403    403    403    404
GET    /api/v1/programs/{slug}/coordinators/               login  403    403    403    403    403    404
POST   /api/v1/programs/{slug}/coordinators/               login  403    403    403    403    403    404
DELETE /api/v1/programs/{slug}/coordinators/{id}/          login  403    403    403    403    403    404
POST   /api/v1/programs/{slug}/roster/invite/              login  403    403    403    403    ok     404
POST   /api/v1/programs/{slug}/roster/reinvite/            login  403    403    403    403    ok     404
POST   /api/v1/programs/{slug}/roster/leave/               login  403    403    403    403    ok     404
GET    /api/v1/programs/{slug}/invitations/                login  403    403    403    403    ok     404
POST   /api/v1/programs/{slug}/invitations/{id}/withdraw/  login  403    403    403    403    ok     404
GET    /api/v1/specialties/                                login  ok     ok     ok     ok     ok     ok
GET    /api/v1/goals/                                      login  ok     ok     ok     ok     ok     ok
GET    /api/v1/interests/                                  login  ok     ok     ok     ok     ok     ok
GET    /api/v1/career-stages/                              login  ok     ok     ok     ok     ok     ok
GET    /api/v1/academic-ranks/                             login  ok     ok     ok     ok     ok     ok
GET    /api/v1/languages/                                  login  ok     ok     ok     ok     ok     ok
GET    /api/v1/meeting-formats/                            login  ok     ok     ok     ok     ok     ok
GET    /api/v1/requests/                                   login  ok     ok     ok     ok     ok     ok
POST   /api/v1/requests/                                   login  ok     ok     403    403    403    403
GET    /api/v1/requests/{id}/                              login  404    ok     404    ok     ok     404
POST   /api/v1/requests/{id}/accept/                       login  404    403    404    ok     403    404
POST   /api/v1/requests/{id}/decline/                      login  404    403    404    ok     403    404
POST   /api/v1/requests/{id}/question/                     login  404    403    404    ok     403    404
POST   /api/v1/requests/{id}/answer/                       login  404    ok     404    403    403    404
POST   /api/v1/requests/{id}/withdraw/                     login  404    ok     404    403    403    404
GET    /api/v1/mentorships/                                login  ok     ok     ok     ok     ok     ok
GET    /api/v1/mentorships/{id}/                           login  ok     404    ok     404    ok     404
# The shared texts (agreement, goals, resources, a meeting's notes and details) are written with
# If-Match (core/concurrency.py): the matrix sends "*" (``World.api``); a refused role is refused
# before the version is asked for (test_a_stranger_is_refused_before_the_version_is_asked_for).
GET    /api/v1/mentorships/{id}/agreement/                 login  ok     404    ok     404    ok     404
PUT    /api/v1/mentorships/{id}/agreement/                 login  ok     404    ok     404    403    404
PATCH  /api/v1/mentorships/{id}/agreement/                 login  ok     404    ok     404    403    404
POST   /api/v1/mentorships/{id}/end/                       login  ok     404    ok     404    403    404
POST   /api/v1/mentorships/{id}/thanks/                    login  ok     404    403    404    403    404
GET    /api/v1/mentorships/{id}/action-items/              login  ok     404    ok     404    ok     404
POST   /api/v1/mentorships/{id}/action-items/              login  ok     404    ok     404    403    404
GET    /api/v1/action-items/{id}/                          login  ok     404    ok     404    ok     404
PATCH  /api/v1/action-items/{id}/                          login  ok     404    ok     404    403    404
DELETE /api/v1/action-items/{id}/                          login  ok     404    403    404    403    404
GET    /api/v1/mentorships/{id}/resources/                 login  ok     404    ok     404    ok     404
GET    /api/v1/resources/{id}/                             login  ok     404    ok     404    ok     404
PATCH  /api/v1/resources/{id}/                             login  403    404    ok     404    403    404
DELETE /api/v1/resources/{id}/                             login  403    404    ok     404    403    404
POST   /api/v1/mentorships/{id}/resources/                 login  403    404    ok     404    403    404
POST   /api/v1/mentorships/{id}/introductions/             login  403    404    ok     404    403    404
POST   /api/v1/mentorships/{id}/checkins/                  login  ok     404    ok     404    403    404
POST   /api/v1/mentorships/{id}/nudge/                     login  403    404    403    404    ok     404
GET    /api/v1/introductions/                              login  ok     ok     ok     ok     ok     ok
# Alice and Carol see the introduction (their mentorship's) but only Dave, the colleague, answers.
POST   /api/v1/introductions/{id}/respond/                 login  403    404    403    ok     404    404
GET    /api/v1/mentorships/{id}/meetings/                  login  ok     404    ok     404    ok     404
POST   /api/v1/mentorships/{id}/meetings/                  login  ok     404    ok     404    403    404
GET    /api/v1/mentorships/{id}/meeting-suggestions/       login  ok     404    ok     404    403    404
GET    /api/v1/meetings/{id}/                              login  ok     404    ok     404    ok     404
GET    /api/v1/meetings/{id}/ics/                          login  ok     404    ok     404    ok     404
POST   /api/v1/meetings/{id}/confirm/                      login  ok     404    ok     404    403    404
POST   /api/v1/meetings/{id}/reschedule/                   login  ok     404    ok     404    403    404
POST   /api/v1/meetings/{id}/cancel/                       login  ok     404    ok     404    403    404
POST   /api/v1/meetings/{id}/held/                         login  ok     404    ok     404    403    404
POST   /api/v1/meetings/{id}/notes/                        login  ok     404    ok     404    403    404
PUT    /api/v1/meetings/{id}/notes/                        login  ok     404    ok     404    403    404
PATCH  /api/v1/meetings/{id}/details/                      login  ok     404    ok     404    403    404
# Messages: the thread's two people only (Cora sees the mentorship and the request: 403).
GET    /api/v1/mentorships/{id}/messages/                  login  ok     404    ok     404    403    404
POST   /api/v1/mentorships/{id}/messages/                  login  ok     404    ok     404    403    404
POST   /api/v1/mentorships/{id}/messages/read/             login  ok     404    ok     404    403    404
GET    /api/v1/requests/{id}/messages/                     login  404    ok     404    ok     403    404
POST   /api/v1/requests/{id}/messages/                     login  404    ok     404    ok     403    404
POST   /api/v1/requests/{id}/messages/read/                login  404    ok     404    ok     403    404
GET    /api/v1/messages/unread/                            login  ok     ok     ok     ok     ok     ok
# Alice's message to Carol: both read it, only Alice changes it.
GET    /api/v1/messages/{id}/                              login  ok     404    ok     404    404    404
PATCH  /api/v1/messages/{id}/                              login  ok     404    403    404    404    404
DELETE /api/v1/messages/{id}/                              login  ok     404    403    404    404    404
GET    /api/v1/notifications/                              login  ok     ok     ok     ok     ok     ok
POST   /api/v1/notifications/read-all/                     login  ok     ok     ok     ok     ok     ok
GET    /api/v1/notifications/preferences/                  login  ok     ok     ok     ok     ok     ok
PUT    /api/v1/notifications/preferences/                  login  ok     ok     ok     ok     ok     ok
POST   /api/v1/notifications/{id}/read/                    login  ok     404    404    404    404    404
# A program's endpoints (core/access.py): 403 for its members (404 before the one rule), 404 for Oscar.
GET    /api/v1/programs/{slug}/match-runs/                 login  403    403    403    403    ok     404
POST   /api/v1/programs/{slug}/match-runs/                 login  403    403    403    403    ok     404
GET    /api/v1/match-runs/{id}/                            login  404    404    404    404    ok     404
GET    /api/v1/match-runs/{id}/proposals/                  login  404    404    404    404    ok     404
GET    /api/v1/match-runs/{id}/compare/                    login  404    404    404    404    ok     404
POST   /api/v1/match-runs/{id}/publish/                    login  404    404    404    404    ok     404
POST   /api/v1/match-runs/{id}/second-round/               login  404    404    404    404    ok     404
POST   /api/v1/match-runs/{id}/cancel/                     login  404    404    404    404    ok     404
POST   /api/v1/match-runs/{id}/rerun/                      login  404    404    404    404    ok     404
POST   /api/v1/match-runs/{id}/archive/                    login  404    404    404    404    ok     404
GET    /api/v1/match-runs/{id}/summary/                    login  404    404    404    404    ok     404
GET    /api/v1/match-runs/{id}/ranking-window/             login  404    404    404    404    ok     404
POST   /api/v1/match-runs/{id}/ranking-window/remind/      login  404    404    404    404    ok     404
POST   /api/v1/match-runs/{id}/ranking-window/extend/      login  404    404    404    404    ok     404
POST   /api/v1/match-runs/{id}/ranking-window/close/       login  404    404    404    404    ok     404
GET    /api/v1/match-runs/{id}/my-ranking/                 login  ok     ok     ok     ok     404    404
PUT    /api/v1/match-runs/{id}/my-ranking/                 login  ok     ok     ok     ok     404    404
POST   /api/v1/match-proposals/{id}/decide/                login  404    404    404    404    ok     404
POST   /api/v1/match-proposals/{id}/override/              login  404    404    404    404    ok     404
GET    /api/v1/programs/{slug}/evaluator-roles/            login  403    403    403    403    ok     404
POST   /api/v1/programs/{slug}/evaluator-roles/            login  403    403    403    403    ok     404
POST   /api/v1/programs/{slug}/evaluator-roles/{id}/remove/ login 403    403    403    403    ok     404
GET    /api/v1/programs/{slug}/conflicts/                  login  403    403    403    403    ok     404
POST   /api/v1/programs/{slug}/conflicts/                  login  403    403    403    403    ok     404
POST   /api/v1/programs/{slug}/conflicts/{id}/remove/      login  403    403    403    403    ok     404
GET    /api/v1/programs/{slug}/pairing-exceptions/         login  403    403    403    403    ok     404
POST   /api/v1/programs/{slug}/pairing-exceptions/         login  403    403    403    403    ok     404
POST   /api/v1/programs/{slug}/pairing-exceptions/{id}/remove/ login 403 403   403    403    ok     404
GET    /api/v1/programs/{slug}/health/                     login  403    403    403    403    ok     404
GET    /api/v1/programs/{slug}/health/comments/            login  403    403    403    403    ok     404
GET    /api/v1/programs/{slug}/pairings/                   login  403    403    403    403    ok     404
POST   /api/v1/programs/{slug}/pairings/                   login  403    403    403    403    ok     404
POST   /api/v1/programs/{slug}/pairings/{id}/end/          login  403    403    403    403    ok     404
POST   /api/v1/programs/{slug}/pairings/{id}/reassign/     login  403    403    403    403    ok     404
GET    /api/v1/programs/{slug}/unpaired-residents/         login  403    403    403    403    ok     404
GET    /api/v1/programs/{slug}/audit/                      login  403    403    403    403    ok     404
"""
# fmt: on


def _parse(table, key_of):
    rows = {}
    for line in table.strip().splitlines():
        if line.startswith("#"):
            continue
        (*head,) = line.split()
        key, outcomes = key_of(head[: -len(ROLES)]), head[-len(ROLES) :]
        assert key not in rows, f"{key} is listed twice"
        rows[key] = dict(zip(ROLES, outcomes, strict=True))
    return rows


PAGE_MATRIX = _parse(PAGES, lambda h: (h[0], h[1]))  # (name, method)
API_MATRIX = _parse(API, lambda h: (h[1], h[0]))  # (path, method)
ALLOWED = {"ok", "bad"}  # "bad": a 400 about the body, past the permission check


# --- Completeness: a new route without a row fails here, naming it.


def test_every_page_route_has_a_row_in_the_matrix():
    routed = page_route_names()
    listed = {name for name, _ in PAGE_MATRIX}
    assert not routed - listed, f"Page routes missing from PAGES in {__file__}: {sorted(routed - listed)}"
    assert not listed - routed, f"PAGES lists routes that no longer exist: {sorted(listed - routed)}"


def test_every_api_operation_has_a_row_in_the_matrix():
    operations = set(api_operations())
    listed = set(API_MATRIX)
    assert not operations - listed, f"API operations missing from API in {__file__}: {sorted(operations - listed)}"
    assert not listed - operations, f"API lists operations that no longer exist: {sorted(listed - operations)}"


def test_every_api_route_in_the_url_conf_is_in_the_schema():
    """A route the schema does not describe would escape the matrix above."""
    documented = {path for path, _ in api_operations()}
    assert not api_routes() - documented, f"API routes missing from the schema: {sorted(api_routes() - documented)}"


# --- The matrix itself.


def _check(world, method, url, expected, *, api, body):
    role, want = expected
    before = snapshot() if method in UNSAFE and want not in ALLOWED else None
    if api:
        response = world.api(role, method, url, body)
    elif method == "GET":
        response = world.client(role).get(url)
    else:
        response = world.client(role).post(url, body)
    got = classify(response, api=api)
    if want == "ok":
        assert got in ALLOWED, f"{role} {method} {url}: expected allowed, got {got} ({response.status_code})"
    else:
        assert got == want, f"{role} {method} {url}: expected {want}, got {got} ({response.status_code})"
    if before is not None:
        assert snapshot() == before, f"{role} {method} {url} was refused but changed data"


@pytest.mark.parametrize(
    "name,method,role", [(n, m, r) for (n, m), outcomes in PAGE_MATRIX.items() for r in outcomes], ids=str
)
def test_page(world, name, method, role):
    route = dict((n or f"path:{r}", r) for r, n in url_patterns())[name]
    url = "/" if name.startswith("path:") else reverse(name, kwargs=page_kwargs(name, route, world))
    body = PAGE_BODIES.get(name, lambda w: {})(world)
    _check(world, method, url, (role, PAGE_MATRIX[(name, method)][role]), api=False, body=body)


@pytest.mark.parametrize(
    "path,method,role", [(p, m, r) for (p, m), outcomes in API_MATRIX.items() for r in outcomes], ids=str
)
def test_api(world, path, method, role):
    body = API_BODIES.get((path, method), lambda w: {})(world)
    _check(world, method, api_kwargs(path, world), (role, API_MATRIX[(path, method)][role]), api=True, body=body)


# --- If-Match: the matrix writes the shared texts with "If-Match: *"; without one, a role the
# matrix refuses is still refused (permission is asked before the version), and one it allows
# is asked for the version (428), changing nothing either way.


def _asks_if_match(operation):
    return any(p.get("in") == "header" and p.get("name") == "If-Match" for p in operation.get("parameters", ()))


IF_MATCH_OPERATIONS = sorted(key for key, op in api_operations().items() if _asks_if_match(op))


def test_the_shared_texts_ask_for_if_match_in_the_schema():
    assert {
        ("/api/v1/mentorships/{id}/agreement/", "PUT"),
        ("/api/v1/mentorships/{id}/agreement/", "PATCH"),
        ("/api/v1/action-items/{id}/", "PATCH"),
        ("/api/v1/action-items/{id}/", "DELETE"),
        ("/api/v1/resources/{id}/", "PATCH"),
        ("/api/v1/resources/{id}/", "DELETE"),
        ("/api/v1/meetings/{id}/notes/", "POST"),
        ("/api/v1/meetings/{id}/notes/", "PUT"),
        ("/api/v1/meetings/{id}/details/", "PATCH"),
    } <= set(IF_MATCH_OPERATIONS)


@pytest.mark.parametrize(
    "path,method,role", [(p, m, r) for p, m in IF_MATCH_OPERATIONS for r in ROLES if r != "anonymous"], ids=str
)
def test_without_if_match_a_refused_role_is_refused_and_an_allowed_one_asked_for_the_version(world, path, method, role):
    want = API_MATRIX[(path, method)][role]
    url = api_kwargs(path, world)
    body = API_BODIES.get((path, method), lambda w: {})(world)
    before = snapshot()

    response = world.api(role, method, url, body, if_match=None)

    if want in ALLOWED:
        assert response.status_code == 428, f"{role} {method} {url} without If-Match: {response.status_code}"
    else:
        got = classify(response, api=True)
        assert got == want, f"{role} {method} {url} without If-Match: expected {want}, got {response.status_code}"
    assert snapshot() == before, f"{role} {method} {url} without If-Match changed data"


def test_a_stranger_patching_the_agreement_without_if_match_meets_404_not_428(world):
    """The one the brief names: Bob, of no part in Alice–Carol, learns nothing from the precondition."""
    url = api_kwargs("/api/v1/mentorships/{id}/agreement/", world)

    response = world.api("other_resident", "PATCH", url, {"expectations": "Mine now"}, if_match=None)

    assert response.status_code == 404
    assert world.api("resident", "PATCH", url, {"expectations": "Ours"}, if_match=None).status_code == 428
