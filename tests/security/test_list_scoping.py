"""List scoping (issue 6): no list shows another user's or another program's rows.

Every list is discovered, not hand-picked: each page route that addresses no object (no URL
kwarg, or only a program's ``slug``), and each API GET that answers with many rows or addresses
no object (routes.py). Each is fetched as each of the seven roles (every page of an API list),
and its text is searched for strings seeded in the world (conftest.py):

- ``OTHER_PROGRAM_MARKERS``, from General Surgery (``gs``): only Oscar, its coordinator, may
  see them, and never through a route addressed to Internal Medicine (``im``). Routes under
  ``/programs/<slug>/`` are fetched with both slugs, by every role.
- ``PRIVATE``, from rows of ``im`` that belong to some of its people only (Bob's request to
  Dave, Alice's check-in, the Alice–Carol action plan, …): each names who may ever see it.

The positive controls at the end show that each marker is found where it should be, so a
search that finds nothing proves something.
"""

import html

import pytest
from django.urls import reverse

from .conftest import OTHER_PROGRAM_MARKERS, ROLES
from .routes import list_api_paths, list_page_routes
from .world_args import api_kwargs

pytestmark = pytest.mark.django_db

# What a list shows.
OWN = "own"  # the caller's own rows (or, for a coordinator, the programs they coordinate)
PROGRAM = "program"  # one program's rows, named by the slug in the URL
DIRECTORY = "directory"  # mentors of every program: public to signed-in users, by design
SHARED = "shared"  # vocabularies and other data that belongs to nobody
NOT_A_LIST = "not a list"  # answers no GET

# fmt: off
LIST_PAGES = {
    "path:":                           SHARED,
    "accounts:password_change":        OWN,
    "accounts:password_change_done":   OWN,
    # Sign-in and security: each person's own second factors, sessions and API tokens.
    "accounts:mfa-required":           OWN,
    "accounts:api-tokens":             OWN,
    "accounts:api-tokens-revoke-all":  NOT_A_LIST,
    "account_reauthenticate":          OWN,
    "mfa_index":                       OWN,
    "mfa_reauthenticate":              OWN,
    "mfa_activate_totp":               OWN,
    "mfa_deactivate_totp":             OWN,
    "mfa_view_recovery_codes":         OWN,
    "mfa_generate_recovery_codes":     OWN,
    "mfa_download_recovery_codes":     OWN,
    "mfa_list_webauthn":               OWN,
    "mfa_add_webauthn":                OWN,
    "mfa_reauthenticate_webauthn":     OWN,
    "usersessions_list":               OWN,
    "matching:dashboard":              OWN,
    "accounts:profile":                OWN,
    "accounts:account-edit":           OWN,
    "accounts:mentee-profile-edit":    OWN,
    "matching:mentor-profile-edit":    OWN,
    "accounts:availability-edit":      OWN,
    "accounts:busy-blocks":            OWN,
    "accounts:busy-calendar-upload":   NOT_A_LIST,
    "accounts:busy-calendar-subscribe": NOT_A_LIST,
    "matching:calendar-feed-enable":   NOT_A_LIST,
    "matching:calendar-feed-regenerate": NOT_A_LIST,
    "matching:calendar-feed-disable":  NOT_A_LIST,
    "matching:mentor-directory":       DIRECTORY,
    "accounts:programs":               OWN,
    "accounts:roster":                 PROGRAM,
    "accounts:roster-export":          PROGRAM,
    "accounts:roster-template":        PROGRAM,
    "accounts:roster-import":          PROGRAM,
    "accounts:invitations":            OWN,
    "matching:requests":               OWN,
    "matching:mentorships":            OWN,
    "matching:introductions":          OWN,
    "matching:notifications":          OWN,
    "matching:messages":               OWN,
    "matching:notifications-read-all": NOT_A_LIST,
    "matching:notification-preferences": OWN,
    "matching:match-runs":             PROGRAM,
    "matching:match-run-create":       PROGRAM,
    "matching:match-run-readiness":    PROGRAM,
    # Institution administration: the institution's programs, or one program's settings and coordinators.
    "accounts:institution":            PROGRAM,
    "accounts:institution-program-new": PROGRAM,
    "accounts:program-edit":           PROGRAM,
    "accounts:program-coordinators":   PROGRAM,
    "accounts:program-coordinator-remove": NOT_A_LIST,
    "matching:match-run-readiness-remind": NOT_A_LIST,
    "matching:conflicts":              PROGRAM,
    "matching:program-health":         PROGRAM,
    "matching:pairings":               PROGRAM,
    "matching:pairings-export":        PROGRAM,
    "matching:audit":                  PROGRAM,
    "matching:audit-export":           PROGRAM,
    "matching:portfolio":              OWN,
    "matching:portfolio-export":       OWN,
}

LIST_API = {
    "/api/v1/auth/tokens/":                        OWN,
    "/api/v1/me/":                                 OWN,
    "/api/v1/me/availability/":                    OWN,
    "/api/v1/me/busy-blocks/":                     OWN,
    "/api/v1/me/busy-calendars/":                  OWN,
    "/api/v1/me/calendar-feed/":                   OWN,
    "/api/v1/me/program-invitations/":             OWN,
    "/api/v1/me/mentee-profile/":                  OWN,
    "/api/v1/me/mentor-profile/":                  OWN,
    "/api/v1/me/recommendations/":                 DIRECTORY,
    "/api/v1/me/portfolio/":                       OWN,
    "/api/v1/mentors/":                            DIRECTORY,
    "/api/v1/programs/":                           OWN,
    "/api/v1/programs/{slug}/":                    PROGRAM,
    "/api/v1/programs/{slug}/roster/":             PROGRAM,
    "/api/v1/programs/{slug}/invitations/":        PROGRAM,
    "/api/v1/specialties/":                        SHARED,
    "/api/v1/goals/":                              SHARED,
    "/api/v1/interests/":                          SHARED,
    "/api/v1/career-stages/":                      SHARED,
    "/api/v1/academic-ranks/":                     SHARED,
    "/api/v1/languages/":                          SHARED,
    "/api/v1/meeting-formats/":                    SHARED,
    "/api/v1/requests/":                           OWN,
    "/api/v1/mentorships/":                        OWN,
    # Lists inside the Alice–Carol mentorship: its parties' (and Cora's), never another pair's.
    "/api/v1/mentorships/{id}/action-items/":      OWN,
    "/api/v1/mentorships/{id}/resources/":         OWN,
    "/api/v1/mentorships/{id}/meetings/":          OWN,
    # A thread's messages (Alice–Carol's, Bob→Dave's): its two people only; the unread count, the caller's.
    "/api/v1/mentorships/{id}/messages/":          OWN,
    "/api/v1/requests/{id}/messages/":             OWN,
    "/api/v1/messages/unread/":                    OWN,
    "/api/v1/introductions/":                      OWN,
    "/api/v1/notifications/":                      OWN,
    "/api/v1/notifications/preferences/":          OWN,
    "/api/v1/programs/{slug}/match-runs/":         PROGRAM,
    "/api/v1/match-runs/{id}/proposals/":          PROGRAM,
    "/api/v1/institutions/{slug}/programs/":       PROGRAM,
    "/api/v1/programs/{slug}/coordinators/":       PROGRAM,
    "/api/v1/programs/{slug}/settings/":           PROGRAM,
    "/api/v1/programs/{slug}/evaluator-roles/":    PROGRAM,
    "/api/v1/programs/{slug}/conflicts/":          PROGRAM,
    "/api/v1/programs/{slug}/pairing-exceptions/": PROGRAM,
    "/api/v1/programs/{slug}/health/":             PROGRAM,
    "/api/v1/programs/{slug}/health/comments/":    PROGRAM,
    "/api/v1/programs/{slug}/pairings/":           PROGRAM,
    "/api/v1/programs/{slug}/unpaired-residents/": PROGRAM,
    "/api/v1/programs/{slug}/audit/":              PROGRAM,
}

# Strings of ``im`` rows that belong to some people only, and who may ever see each.
ALICE, BOB, CAROL, DAVE, CORA, OSCAR = "resident", "other_resident", "attending", "other_attending", "coordinator", "other_coordinator"
PRIVATE = {
    # Bob's request to Dave: the pair, and Cora, who coordinates the program.
    "Could you mentor me?":  {BOB, DAVE, CORA},
    # Check-in answers are confidential to the coordinator, who reads them beside the program's
    # health: not the other party (Carol), and not in any list of Alice's own (she sees the date only).
    "Helpful so far":        {CORA},
    # The Alice–Carol action plan, resources, meeting and introduction: the pair and Cora; the
    # introduction also Dave, the colleague it introduces Alice to.
    "Draft the abstract":    {ALICE, CAROL, CORA},
    "Reading list":          {ALICE, CAROL, CORA},
    "Room 4":                {ALICE, CAROL, CORA},
    "Meet Alice, please":    {ALICE, CAROL, DAVE, CORA},
    # Messages: the two people of the thread only, never a coordinator (matching/rules.py), so
    # Zebulon's to Quintessa is nobody's here, not even Oscar's.
    "Hello Carol":           {ALICE, CAROL},
    "Hello Dave":            {BOB, DAVE},
    "gs-secret-message":     set(),
    # Alice's own notification.
    "Carol accepted":        {ALICE},
    # Alice's busy block, the calendar she imports from, and her feed's secret address: hers alone.
    "Alice-rotation-nights": {ALICE},
    "Alice-Amion-calendar":  {ALICE},
    "alice-feed-token-":     {ALICE},
    # Alice's API token (its name): hers alone, on her tokens page and in her API list.
    "Alice laptop":          {ALICE},
    # What only the coordinator records: conflicts, pairing exceptions, roster imports.
    "Relatives":             {CORA},
    "Different division":    {CORA},
    "roster.csv":            {CORA},
    # What Cora typed for the account she asked to join im.
    "Typed-by-Cora":         {CORA},
    "im-audit-reason":       {CORA},
    # An audit entry of no program belongs to no coordinator's trail.
    "no-program-audit":      set(),
}
# fmt: on

# By design (matching.selectors.directory.mentor_directory): the directory lists the mentors of every
# program to every signed-in user, so a resident of ``im`` may browse, and be recommended,
# Quintessa of ``gs``. Only her name travels that way, never her program's rows.
DIRECTORY_MARKERS = {"Quintessa"}


def _slugs(route):
    return ["im", "gs"] if "slug" in route else [None]


PAGE_CASES = [
    (name, slug)
    for name, route in sorted(list_page_routes().items())
    if LIST_PAGES.get(name) != NOT_A_LIST
    for slug in _slugs(route)
]
API_CASES = [(path, slug) for path in sorted(list_api_paths()) for slug in _slugs(path)]


# --- Completeness: a new list without an expectation fails here, naming it.


def test_every_list_page_has_an_expectation():
    routed = set(list_page_routes())
    assert not routed - set(LIST_PAGES), (
        f"List pages missing from LIST_PAGES in {__file__}: {sorted(routed - set(LIST_PAGES))}"
    )
    assert not set(LIST_PAGES) - routed, (
        f"LIST_PAGES names pages that no longer exist: {sorted(set(LIST_PAGES) - routed)}"
    )


def test_every_list_api_operation_has_an_expectation():
    listed = list_api_paths()
    assert not listed - set(LIST_API), (
        f"List operations missing from LIST_API in {__file__}: {sorted(listed - set(LIST_API))}"
    )
    assert not set(LIST_API) - listed, (
        f"LIST_API names operations that no longer exist: {sorted(set(LIST_API) - listed)}"
    )


def test_discovery_finds_the_lists_it_should():
    """The discovery rules, not the tables, decide what is searched: prove they reach far enough."""
    assert {"matching:requests", "accounts:roster", "matching:audit-export"} <= set(list_page_routes())
    assert {
        "/api/v1/requests/",
        "/api/v1/mentorships/{id}/action-items/",
        "/api/v1/programs/{slug}/audit/",
    } <= list_api_paths()
    assert "/api/v1/requests/{id}/" not in list_api_paths()  # one object: the matrix's business


# --- Fetching and searching.


def _text(response):
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return html.unescape(body.decode("utf-8", "replace"))


def _page_text(world, name, role, slug):
    url = "/" if name.startswith("path:") else reverse(name, kwargs={"slug": slug} if slug else {})
    response = world.client(role).get(url)
    assert response.status_code < 500, f"{role} GET {url}: {response.status_code}"
    return response.status_code, _text(response)


def _api_text(world, path, role, slug):
    """Every page of the list: a row past the first page is a row the user was shown too."""
    url = api_kwargs(path.replace("{slug}", slug) if slug else path, world)
    client = world.client(role)
    response = client.get(url)
    assert response.status_code < 500, f"{role} GET {url}: {response.status_code}"
    status, texts = response.status_code, [_text(response)]
    data = response.json() if status == 200 and response["Content-Type"].startswith("application/json") else None
    if isinstance(data, dict) and {"next", "results", "count"} <= set(data):
        rows = list(data["results"])
        while data["next"]:
            response = client.get(data["next"])
            assert response.status_code == 200, f"{role} GET {data['next']}: {response.status_code}"
            texts.append(_text(response))
            data = response.json()
            rows += data["results"]
        assert len(rows) == data["count"], f"{role} GET {url}: fetched {len(rows)} of {data['count']} rows"
    return status, "\n".join(texts)


def _found(text):
    return {m for m in (*OTHER_PROGRAM_MARKERS, *PRIVATE) if m in text}


def _allowed(kind, role, slug):
    """The markers ``role`` may meet on a list of ``kind`` fetched for ``slug``."""
    allowed = {m for m, roles in PRIVATE.items() if role in roles and slug in (None, "im")}
    if role == OSCAR and slug in (None, "gs"):
        allowed |= set(OTHER_PROGRAM_MARKERS)
    if kind == DIRECTORY and role != "anonymous":
        allowed |= DIRECTORY_MARKERS
    return allowed


# One test per list (and slug), every role inside it: the leaks of all roles are reported together.


@pytest.mark.parametrize("name,slug", PAGE_CASES, ids=str)
def test_list_page_shows_each_role_only_what_it_may_see(world, name, slug):
    leaks = []
    for role in ROLES:
        leaked = _found(_page_text(world, name, role, slug)[1]) - _allowed(LIST_PAGES[name], role, slug)
        if leaked:
            leaks.append(f"{role} sees {sorted(leaked)}")
    assert not leaks, f"{name} (slug={slug}): " + "; ".join(leaks)


@pytest.mark.parametrize("path,slug", API_CASES, ids=str)
def test_list_api_shows_each_role_only_what_it_may_see(world, path, slug):
    leaks = []
    for role in ROLES:
        leaked = _found(_api_text(world, path, role, slug)[1]) - _allowed(LIST_API[path], role, slug)
        if leaked:
            leaks.append(f"{role} sees {sorted(leaked)}")
    assert not leaks, f"GET {path} (slug={slug}): " + "; ".join(leaks)


# --- Controls: each marker is found where the product shows it, so its absence elsewhere means something.

# fmt: off
CONTROLS = [
    # (page name or API path, role, slug, marker)
    ("/api/v1/requests/",                          DAVE,  None, "Could you mentor me?"),
    ("/api/v1/requests/",                          BOB,   None, "Could you mentor me?"),
    ("/api/v1/requests/",                          CORA,  None, "Could you mentor me?"),
    ("/api/v1/programs/{slug}/health/comments/",   CORA,  "im", "Helpful so far"),
    ("matching:program-health",                    CORA,  "im", "Helpful so far"),
    ("/api/v1/mentorships/{id}/action-items/",     CAROL, None, "Draft the abstract"),
    ("/api/v1/mentorships/{id}/resources/",        ALICE, None, "Reading list"),
    ("/api/v1/mentorships/{id}/meetings/",         CAROL, None, "Room 4"),
    ("/api/v1/introductions/",                     DAVE,  None, "Meet Alice, please"),
    ("/api/v1/notifications/",                     ALICE, None, "Carol accepted"),
    ("/api/v1/mentorships/{id}/messages/",         CAROL, None, "Hello Carol"),
    ("/api/v1/requests/{id}/messages/",            DAVE,  None, "Hello Dave"),
    ("matching:messages",                          ALICE, None, "Hello Carol"),
    ("matching:messages",                          DAVE,  None, "Hello Dave"),
    ("/api/v1/programs/{slug}/conflicts/",         CORA,  "im", "Relatives"),
    ("/api/v1/programs/{slug}/pairing-exceptions/", CORA, "im", "Different division"),
    ("/api/v1/programs/{slug}/audit/",             CORA,  "im", "im-audit-reason"),
    ("matching:audit-export",                      CORA,  "im", "im-audit-reason"),
    ("/api/v1/programs/{slug}/audit/",             OSCAR, "gs", "Zebulon"),
    # What Cora typed for the account she asked to join, on her roster and in the API.
    ("accounts:roster",                            CORA,  "im", "Typed-by-Cora"),
    ("/api/v1/programs/{slug}/invitations/",       CORA,  "im", "Typed-by-Cora"),
    # The directory shows Quintessa of gs to a resident of im: by design.
    ("/api/v1/mentors/",                           ALICE, None, "Quintessa"),
    ("matching:mentor-directory",                  DAVE,  None, "Quintessa"),
    # Oscar sees his own program's rows.
    ("/api/v1/programs/{slug}/roster/",            OSCAR, "gs", "Zebulon"),
    ("/api/v1/programs/{slug}/health/comments/",   OSCAR, "gs", "gs-secret-comment"),
    ("/api/v1/requests/",                          OSCAR, None, "Zebulon"),
    ("matching:pairings",                          OSCAR, "gs", "Quintessa"),
]
# fmt: on


@pytest.mark.parametrize("target,role,slug,marker", CONTROLS, ids=str)
def test_control_marker_is_found_where_it_belongs(world, target, role, slug, marker):
    status, text = (_api_text if target.startswith("/") else _page_text)(world, target, role, slug)
    assert status == 200
    assert marker in _found(text), f"{role} should see {marker!r} at {target} (slug={slug})"


# --- Messages are the pair's: their audit entries (kept for the coordinator) never carry the text.


def test_the_audit_trail_of_an_edited_and_a_deleted_message_shows_no_text(world):
    from matching.services.messages import message_delete, message_edit, message_post

    alice = world.users[ALICE]
    message_edit(message=world.message, actor=alice, body="Edited-secret-text")
    message_delete(message=message_post(thread=world.mentorship, author=alice, body="Deleted-secret-text"), actor=alice)
    texts = [
        _page_text(world, "matching:audit", CORA, "im"),
        _page_text(world, "matching:audit-export", CORA, "im"),
        _api_text(world, "/api/v1/programs/{slug}/audit/", CORA, "im"),
    ]

    assert [status for status, _ in texts] == [200, 200, 200]
    # The entries are in the trail (the API names their actions) ...
    assert {"message.edit", "message.delete"} <= {a for a in ("message.edit", "message.delete") if a in texts[2][1]}
    for _, text in texts:
        # ... without the words, before or after.
        assert [m for m in ("Hello Carol", "Edited-secret-text", "Deleted-secret-text") if m in text] == []
