"""Issue 14, "Phone first": every page of every role at 390×844.

On each page: no horizontal scrolling (the document is no wider than the viewport; a wide
table scrolls inside its own box), and no visible control smaller than 24×24 CSS px
(WCAG 2.2 SC 2.5.8) unless it is a link inside a sentence, the criterion's "inline"
exception. Each page is saved under artifacts/screenshots/phone/<role>/.

The world is the demo (demo/), plus what the demo lacks: a goal and a resource holding a
long URL, a match run with proposals, a match run open for ranking.

To add a page, add a ``Page`` to ``PAGES`` under the role that sees it (``ANY_ROLE`` for
pages every signed-in person has). ``url`` takes the ``World`` and returns a path;
give ``World`` a new attribute when the page needs an object the demo lacks.
With ``PHONE_LAYOUT_DESKTOP=1`` the test also saves every page at 1280×800 under
artifacts/screenshots/desktop/ (not asserted: a look for people).
"""

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import BusyBlock, Program, User
from accounts.roster import roster_import_preview
from demo.people import DEMO_PASSWORD
from matching.match_runs.services import match_run_create
from matching.models import (
    ActionItem,
    MatchRun,
    Meeting,
    Mentorship,
    MentorshipRequest,
    Resource,
)
from matching.notifications import unsubscribe_url

from .conftest import ARTIFACTS, SCREENSHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
MIN_TARGET = 24  # CSS px, WCAG 2.2 SC 2.5.8 (AA)
MAX_HEADER = 64  # CSS px: one row, the page starts near the top
DOMAIN = "demo.mentormatch.org"
LOGINS = {
    "resident": f"resident@{DOMAIN}",
    "attending": f"attending@{DOMAIN}",
    "nearpeer": f"nearpeer@{DOMAIN}",
    "coordinator": f"coordinator@{DOMAIN}",
    "superuser": f"admin@{DOMAIN}",
}
# No word breaks in it: the page must wrap it anywhere, or it widens the page (issue 14).
LONG_URL = (
    "https://www.acgme.org/globalassets/pfassets/programrequirements/"
    "140_internalmedicine_2023.pdf?section=mentoring-and-professional-development-guidelines"
)


@dataclass
class World:
    """The objects the pages are about, by role where it matters."""

    program: Program
    resident: User
    attending: User
    nearpeer: User
    coordinator: User
    attending_mentorship: Mentorship
    attending_request: MentorshipRequest
    resident_request: MentorshipRequest
    nearpeer_as_mentor: Mentorship
    nearpeer_as_mentee: Mentorship
    meeting: Meeting
    nearpeer_meeting: Meeting
    finished_run: MatchRun
    ranking_run: MatchRun
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    name: str
    url: Callable[[World], str]
    status: int = 200
    # Open every <details> first: a form folded behind a summary is laid out only when open.
    open_details: bool = False


def _r(name: str, *args) -> Callable[[World], str]:
    """A page at ``reverse(name)``; each arg is a function of the world (or a constant)."""
    return lambda w: reverse(name, args=[a(w) if callable(a) else a for a in args])


def _slug(w: World) -> str:
    return w.program.slug


def _x(key: str) -> Callable[[World], int]:
    """The pk of ``World.extra[key]``."""
    return lambda w: w.extra[key].pk


ANY_ROLE = [
    Page("dashboard", _r("matching:dashboard")),
    Page("profile", _r("accounts:profile")),
    Page("account-edit", _r("accounts:account-edit")),
    Page("availability-edit", _r("accounts:availability-edit")),
    Page("notifications", _r("matching:notifications")),
    Page("notification-preferences", _r("matching:notification-preferences")),
    Page("invitations", _r("accounts:invitations")),
    Page("password-change", _r("accounts:password_change")),
    Page("api-tokens", _r("accounts:api-tokens")),
    Page("sessions", lambda w: "/accounts/sessions/"),
    Page("two-factor", lambda w: "/accounts/2fa/"),
    Page("not-found", lambda w: "/no-such-page/", status=404),
    Page("totp-activate", lambda w: "/accounts/2fa/totp/activate/"),
    Page("reauthenticate", lambda w: "/accounts/reauthenticate/"),
    Page("busy", _r("accounts:busy-blocks")),
]


def _pair_pages(role: str, *, mentorship: bool = True) -> list[Page]:
    """What a person of a pair has: the inbox, a mentorship's thread, a typed busy block."""
    return [
        Page("messages", _r("matching:messages")),
        *([Page("thread", _r("matching:mentorship-messages", _x(f"{role}_thread")))] if mentorship else []),
        Page("busy-block-edit", _r("accounts:busy-block-edit", _x(f"{role}_block"))),
    ]


MENTEE = [
    Page("directory", _r("matching:mentor-directory")),
    Page("directory-filtered", lambda w: reverse("matching:mentor-directory") + "?q=cardio"),
    Page("mentee-profile-edit", _r("accounts:mentee-profile-edit")),
    Page("requests", _r("matching:requests")),
    Page("mentorships", _r("matching:mentorships")),
    Page("introductions", _r("matching:introductions")),
]

PAGES: dict[str, list[Page]] = {
    "resident": [
        *MENTEE,
        Page("request-detail", _r("matching:request-detail", lambda w: w.resident_request.pk)),
        Page("request-thread", _r("matching:request-detail", _x("resident_request_thread"))),
        # The demo's resident is still looking for a mentor: her thread is her request's.
        *_pair_pages("resident", mentorship=False),
        Page("request-create", _r("matching:request-create", lambda w: w.attending.pk)),
        Page("mentor-page", _r("matching:person", lambda w: w.attending.pk)),
        Page("rank", _r("matching:match-run-rank", lambda w: w.ranking_run.pk)),
    ],
    "attending": [
        Page("requests", _r("matching:requests")),
        Page("request-detail", _r("matching:request-detail", lambda w: w.attending_request.pk)),
        Page("request-thread", _r("matching:request-detail", _x("attending_request_thread"))),
        *_pair_pages("attending"),
        Page("mentorships", _r("matching:mentorships")),
        Page("mentorship", _r("matching:mentorship-detail", lambda w: w.attending_mentorship.pk)),
        Page("agreement", _r("matching:mentorship-agreement", lambda w: w.attending_mentorship.pk)),
        Page("mentorship-end", _r("matching:mentorship-end", lambda w: w.attending_mentorship.pk)),
        Page("meeting", _r("matching:meeting-detail", lambda w: w.meeting.pk)),
        Page("meeting-details", _r("matching:meeting-detail", _x("attending_open_meeting")), open_details=True),
        Page("goal-edit", _r("matching:action-item-edit", _x("long_goal"))),
        Page("resource-edit", _r("matching:resource-edit", _x("long_resource"))),
        Page("meeting-propose", _r("matching:meeting-propose", lambda w: w.attending_mentorship.pk)),
        Page("mentor-profile-edit", _r("matching:mentor-profile-edit")),
        Page("portfolio", _r("matching:portfolio")),
        Page("introductions", _r("matching:introductions")),
    ],
    "nearpeer": [
        *MENTEE,
        Page("mentor-profile-edit", _r("matching:mentor-profile-edit")),
        Page("as-mentor", _r("matching:mentorship-detail", lambda w: w.nearpeer_as_mentor.pk)),
        Page("as-mentee", _r("matching:mentorship-detail", lambda w: w.nearpeer_as_mentee.pk)),
        Page("meeting", _r("matching:meeting-detail", lambda w: w.nearpeer_meeting.pk)),
        Page("meeting-details", _r("matching:meeting-detail", _x("nearpeer_open_meeting")), open_details=True),
        *_pair_pages("nearpeer"),
        Page("portfolio", _r("matching:portfolio")),
    ],
    "coordinator": [
        Page("programs", _r("accounts:programs")),
        Page("roster", _r("accounts:roster", _slug)),
        Page("roster-import", _r("accounts:roster-import", _slug)),
        # 60 new residents: the counts, the button and the first page of rows.
        Page("roster-import-preview", _r("accounts:roster-import-preview", _slug, _x("roster_import"))),
        Page("match-runs", _r("matching:match-runs", _slug)),
        Page("match-run-create", _r("matching:match-run-create", _slug)),
        Page("match-run-readiness", _r("matching:match-run-readiness", _slug)),
        Page("match-run", _r("matching:match-run-detail", lambda w: w.finished_run.pk)),
        Page("match-run-ranking", _r("matching:match-run-detail", lambda w: w.ranking_run.pk)),
        Page("ranking-window", _r("matching:ranking-window", lambda w: w.ranking_run.pk)),
        Page("match-run-compare", _r("matching:match-run-compare", lambda w: w.finished_run.pk)),
        Page("health", _r("matching:program-health", _slug)),
        Page("pairings", _r("matching:pairings", _slug)),
        Page("pairing-assign", _r("matching:pairing-assign", _slug, lambda w: w.resident.pk)),
        Page("pairing-reassign", _r("matching:pairing-reassign", _slug, lambda w: w.attending_mentorship.pk)),
        Page("conflicts", _r("matching:conflicts", _slug)),
        Page("audit", _r("matching:audit", _slug)),
        Page("person", _r("matching:person", lambda w: w.resident.pk)),
    ],
    "superuser": [
        Page("programs", _r("accounts:programs")),
        Page("roster", _r("accounts:roster", _slug)),
        Page("health", _r("matching:program-health", _slug)),
        # What an institution administrator sees (a superuser administers every institution).
        Page("institution", _r("accounts:institution", lambda w: w.program.institution.slug)),
        Page("institution-program-new", _r("accounts:institution-program-new", lambda w: w.program.institution.slug)),
        Page("program-edit", _r("accounts:program-edit", _slug)),
        Page("program-coordinators", _r("accounts:program-coordinators", _slug)),
    ],
}
# Pages also checked at 1280 px: a long URL in a goal once made the page 1,676 px wide.
DESKTOP_TOO = {"attending": {"mentorship"}, "nearpeer": {"as-mentor"}}

# Pages for someone not signed in, visited first in every role's browser context.
SIGNED_OUT = [
    Page("login", _r("accounts:login")),
    Page("password-reset", _r("accounts:password_reset")),
    Page("password-reset-sent", _r("accounts:password_reset_done")),
    Page("password-reset-done", _r("accounts:password_reset_complete")),
    Page("password-reset-confirm", lambda w: _reset_link(w.resident)),
    # The link in every notification e-mail; opening it only asks.
    Page("unsubscribe", lambda w: urlsplit(unsubscribe_url(w.resident)).path),
]


def _reset_link(user: User) -> str:
    """The link of a password reset e-mail; it redirects once to the set-password form."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("accounts:password_reset_confirm", args=[uid, default_token_generator.make_token(user)])


# Pages that are not ours to lay out, and why they are left out:
# - /admin/ (the superuser's): Django's admin and its own responsive stylesheet.
# - /api/docs/: Swagger UI, vendored as is.
# - the CSV exports and the .ics invitation: downloads, not pages.
# - POST-only actions (accept, decline, withdraw, publish …): they redirect to pages above.

# What a page must not hold: the document wider than the viewport, or a control smaller
# than 24×24 CSS px, save for SC 2.5.8's exceptions: "inline" (a link inside a sentence,
# sized by the line of text around it) and "spacing" (a 24 px circle centred on the small
# target touches no other target, nor another small target's circle). A control whose box
# has no size, is invisible, or lies off-screen (the skip link until focused) is not there.
LAYOUT_CHECK = """
(minimum) => {
  const vw = window.innerWidth;
  const doc = document.documentElement;
  const found = {scrollWidth: doc.scrollWidth, viewport: vw, small: [], wide: []};
  const inSentence = (el) => {
    if (getComputedStyle(el).display !== 'inline') return false;
    let block = el.parentElement;
    while (block && getComputedStyle(block).display === 'inline') block = block.parentElement;
    if (!block) return false;
    const own = (el.textContent || '').trim();
    const around = (block.textContent || '').replace(own, '').replace(/\\s+/g, ' ').trim();
    return /[A-Za-z]{2,}/.test(around);
  };
  const describe = (el, r) => {
    const label = (el.getAttribute('aria-label') || el.textContent || el.value || el.name || '')
      .replace(/\\s+/g, ' ').trim().slice(0, 40);
    const type = el.type ? `[type=${el.type}]` : '';
    return `${el.tagName.toLowerCase()}${type}${el.id ? '#' + el.id : ''} "${label}" ${Math.round(r.width)}×${Math.round(r.height)}`;
  };
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]';
  const targets = [];
  for (const el of document.querySelectorAll(selector)) {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    if (r.width <= 1 || r.height <= 1 || s.visibility === 'hidden' || s.opacity === '0') continue;
    if (r.right <= 0 || r.bottom + window.scrollY <= 0) continue;
    targets.push({el, r, small: r.width < minimum - 0.01 || r.height < minimum - 0.01});
  }
  const centre = (r) => [r.left + r.width / 2, r.top + r.height / 2];
  const distanceToRect = ([x, y], r) => Math.hypot(Math.max(r.left - x, 0, x - r.right), Math.max(r.top - y, 0, y - r.bottom));
  const radius = minimum / 2;
  for (const t of targets) {
    if (!t.small || (t.el.tagName === 'A' && inSentence(t.el))) continue;
    const c = centre(t.r);
    const crowded = targets.some((o) => o !== t && !o.el.contains(t.el) && !t.el.contains(o.el) && (
      distanceToRect(c, o.r) < radius - 0.5 ||
      (o.small && Math.hypot(c[0] - centre(o.r)[0], c[1] - centre(o.r)[1]) < minimum - 0.5)));
    if (crowded) found.small.push(describe(t.el, t.r));
  }
  // Which elements stick out past the right edge: names the culprit of an overflow.
  if (doc.scrollWidth > vw) {
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right > vw + 1 && r.width > 0) {
        let clipped = false;
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
          const o = getComputedStyle(p).overflowX;
          if (o === 'auto' || o === 'scroll' || o === 'hidden') { clipped = true; break; }
        }
        if (!clipped) found.wide.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} right=${Math.round(r.right)}`);
      }
      if (found.wide.length > 8) break;
    }
  }
  return found;
}
"""


def _demo_world() -> World:
    call_command("seed_demo", force=True, verbosity=0)
    users = {role: User.objects.get(email=email) for role, email in LOGINS.items()}
    resident, attending, nearpeer = users["resident"], users["attending"], users["nearpeer"]
    # The attending's mentee with the most history: meetings, goals, resources.
    attending_mentorship = (
        Mentorship.objects.filter(mentor=attending, status=Mentorship.Status.ACTIVE, meetings__isnull=False)
        .order_by("pk")
        .first()
    )
    program = attending_mentorship.program
    # A long URL in a goal and a resource once made the page 598 px wide (issue 14).
    long_goal = ActionItem.objects.create(
        mentorship=attending_mentorship,
        title=f"Read {LONG_URL}"[:200],
        owner=attending_mentorship.mentee,
        created_by=attending,
        due_date=timezone.localdate() + timedelta(days=30),
    )
    long_resource = Resource.objects.create(
        mentorship=attending_mentorship, title="Program requirements", url=LONG_URL, note=LONG_URL, shared_by=attending
    )
    mentees = list(program.memberships.filter(role="resident").values_list("user_id", flat=True))
    mentors = list(program.memberships.filter(role="faculty").values_list("user_id", flat=True))
    finished_run = match_run_create(
        program=program,
        actor=users["coordinator"],
        kind="career",
        algorithm=MatchRun.Algorithm.STABLE,
        mentee_ids=mentees,
        mentor_ids=mentors,
    )
    ranking_run = match_run_create(
        program=program,
        actor=users["coordinator"],
        kind="research",
        algorithm=MatchRun.Algorithm.STABLE,
        mentee_ids=mentees,
        mentor_ids=mentors,
        ranking_deadline=timezone.now() + timedelta(days=7),
    )
    # A MedHub-style export with an extra column (ignored, with a notice): counts, button, rows.
    rows = "\n".join(
        f"resident{n}@hospital.example,Resident,Number {n},resident,PGY-{1 + n % 3},M{n}" for n in range(60)
    )
    roster_import = roster_import_preview(
        program=program,
        uploaded_by=users["coordinator"],
        filename="medhub-export.csv",
        data=f"Email Address,First Name,Last Name,Role,PGY Level,medhub_id\n{rows}\n".encode(),
    )
    return World(
        program=program,
        resident=resident,
        attending=attending,
        nearpeer=nearpeer,
        coordinator=users["coordinator"],
        attending_mentorship=attending_mentorship,
        attending_request=MentorshipRequest.objects.filter(mentor=attending).order_by("status", "pk").first(),
        resident_request=MentorshipRequest.objects.filter(mentee=resident).order_by("pk").first(),
        nearpeer_as_mentor=Mentorship.objects.filter(mentor=nearpeer).order_by("pk").first(),
        nearpeer_as_mentee=Mentorship.objects.filter(mentee=nearpeer).order_by("pk").first(),
        meeting=Meeting.objects.filter(mentorship=attending_mentorship).order_by("-pk").first(),
        nearpeer_meeting=Meeting.objects.filter(mentorship__mentor=nearpeer).order_by("-pk").first(),
        finished_run=finished_run,
        ranking_run=ranking_run,
        extra={
            "long_goal": long_goal,
            "long_resource": long_resource,
            "roster_import": roster_import,
            **_thread_world(resident, attending, nearpeer),
        },
    )


def _longest(queryset: QuerySet) -> Any:
    """The one with the most messages: the longest thread to lay out."""
    found = queryset.annotate(n_messages=Count("messages")).order_by("-n_messages", "pk").first()
    assert found is not None and found.n_messages, f"the demo has no thread among {queryset.model.__name__}s"
    return found


def _thread_world(resident: User, attending: User, nearpeer: User) -> dict:
    """The demo's threads, typed busy blocks and meetings whose details can still change."""
    people = {"resident": resident, "attending": attending, "nearpeer": nearpeer}
    out: dict = {
        "resident_request_thread": _longest(MentorshipRequest.objects.filter(mentee=resident)),
        "attending_request_thread": _longest(MentorshipRequest.objects.filter(mentor=attending)),
    }
    open_meetings = Meeting.objects.filter(
        mentorship__status=Mentorship.Status.ACTIVE, status__in=[Meeting.Status.PROPOSED, Meeting.Status.CONFIRMED]
    ).order_by("-pk")
    out["attending_open_meeting"] = open_meetings.filter(mentorship__mentor=attending).first()
    out["nearpeer_open_meeting"] = open_meetings.filter(
        Q(mentorship__mentor=nearpeer) | Q(mentorship__mentee=nearpeer)
    ).first()
    for role, user in people.items():
        if role != "resident":
            out[f"{role}_thread"] = _longest(Mentorship.objects.filter(Q(mentee=user) | Q(mentor=user)))
        out[f"{role}_block"] = BusyBlock.objects.filter(user=user, calendar__isnull=True).order_by("pk").first()
    if out["attending_block"] is None:
        # The demo's attending has no typed block (only windows): a conference week.
        start = timezone.localdate() + timedelta(days=20)
        out["attending_block"] = BusyBlock.objects.create(
            user=attending, label="Away: national meeting", start_date=start, end_date=start + timedelta(days=4)
        )
    missing = [key for key, value in out.items() if value is None]
    assert not missing, f"the demo lacks {missing}"
    return out


def _visit(page, role: str, item: Page, world: World, problems: list[str], desktop: bool) -> None:
    url = item.url(world)
    response = page.goto(url)
    assert response is not None and response.status == item.status, f"{role}/{item.name}: {url} gave {response.status}"
    if item.open_details:
        page.evaluate("() => document.querySelectorAll('main details').forEach((d) => { d.open = true; })")
    name = re.sub(r"[^\w.-]+", "_", item.name)
    folder = ARTIFACTS / "phone" / role
    folder.mkdir(parents=True, exist_ok=True)
    if SCREENSHOTS:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    found = page.evaluate(LAYOUT_CHECK, MIN_TARGET)
    header = page.locator(".site-header").bounding_box()
    if header["height"] > MAX_HEADER:
        problems.append(f"{role}/{item.name} ({url}): the header is {header['height']:.0f} px tall")
    if found["scrollWidth"] > found["viewport"]:
        problems.append(f"{role}/{item.name} ({url}): {found['scrollWidth']} px wide; sticking out: {found['wide']}")
    if found["small"]:
        problems.append(f"{role}/{item.name} ({url}): targets under 24×24: {found['small']}")
    if item.name in DESKTOP_TOO.get(role, ()):
        page.set_viewport_size(DESKTOP)
        wide = page.evaluate(
            """() => [document.documentElement.scrollWidth, window.innerWidth,
                [...document.querySelectorAll('.action-plan, .resource-list')]
                  .filter(el => el.parentElement.scrollWidth > el.parentElement.clientWidth).length]"""
        )
        if wide[0] > wide[1] or wide[2]:
            problems.append(f"{role}/{item.name} ({url}) at 1280 px: page {wide[0]} px wide, {wide[2]} boxes scroll")
        page.set_viewport_size(PHONE)
    if desktop:
        page.set_viewport_size(DESKTOP)
        folder = ARTIFACTS / "desktop" / role
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        page.set_viewport_size(PHONE)


def _menu_opens_and_closes(page) -> None:
    """On a phone the navigation folds behind "Menu" (static/js/menu.js): one tap opens it,
    Escape closes it and gives focus back to the button."""
    menu = page.get_by_role("button", name="Menu")
    dashboard = page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard")
    assert menu.get_attribute("aria-expanded") == "false"
    assert not dashboard.is_visible()
    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"
    assert dashboard.is_visible()
    assert page.get_by_role("button", name="Log out").is_visible()
    page.keyboard.press("Escape")
    assert not dashboard.is_visible()
    assert menu.evaluate("el => el === document.activeElement")


@pytest.mark.parametrize("role", list(PAGES))
def test_every_page_fits_a_phone(page, role):
    world = _demo_world()
    desktop = os.environ.get("PHONE_LAYOUT_DESKTOP") == "1"
    page.set_viewport_size(PHONE)
    problems: list[str] = []
    for item in SIGNED_OUT if role == "resident" else []:
        _visit(page, "signed-out", item, world, problems, desktop)
    log_in(page, LOGINS[role], DEMO_PASSWORD)
    page.wait_for_url(re.compile(r"/dashboard/"))
    _menu_opens_and_closes(page)
    for item in [*ANY_ROLE, *PAGES[role]]:
        _visit(page, role, item, world, problems, desktop)
    assert problems == [], "\n".join(problems)
