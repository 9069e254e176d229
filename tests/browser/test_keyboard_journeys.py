"""Issue 6's keyboard-only journeys: the request and scheduling journeys of
test_mentorship_journey.py, done with Tab, Shift+Tab, Enter, Space and typing alone.

Locators only *name* the element a step wants; focus gets there by pressing Tab, and
nothing is clicked or filled. Every element a step stops on must show a visible focus
ring, and every page recorded with ``shot`` is also checked with axe-core (conftest.py).
"""

from datetime import time

import pytest

from accounts.models import AvailabilityWindow, Language
from matching.models import Meeting, Mentorship, MentorshipRequest
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A page of ours has well under this many tab stops before any control a journey needs;
# running past it means the control is unreachable by keyboard (or hidden from focus).
MAX_PRESSES = 60


def _focus_ring(page):
    """What makes the focused element visible: its outline, or a box-shadow ring."""
    return page.evaluate(
        """() => {
            const el = document.activeElement, s = getComputedStyle(el);
            return {tag: el.tagName, outline: s.outlineStyle, width: s.outlineWidth, shadow: s.boxShadow};
        }"""
    )


def tab_to(page, target, *, backwards=False):
    """Press Tab (Shift+Tab when ``backwards``) until ``target`` has focus; assert the focus
    is visible there. Returns the number of presses."""
    key = "Shift+Tab" if backwards else "Tab"
    element = target.element_handle()
    for presses in range(1, MAX_PRESSES + 1):
        page.keyboard.press(key)
        if element.evaluate("el => el === document.activeElement"):
            ring = _focus_ring(page)
            visible = (ring["outline"] != "none" and ring["width"] != "0px") or ring["shadow"] != "none"
            assert visible, f"focus on {target} is invisible: {ring}"
            return presses
    raise AssertionError(f"{target} not reached with {MAX_PRESSES} presses of {key}")


def press_and_wait(page, key="Enter"):
    """Press a key that follows a link or submits a form, and wait for the new page."""
    with page.expect_navigation():
        page.keyboard.press(key)


def log_in(page, email):
    page.goto("/accounts/login/")
    tab_to(page, page.get_by_label("E-mail"))
    page.keyboard.type(email)
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type(PASSWORD)
    press_and_wait(page)  # Enter in a field submits its form


def log_out(page):
    tab_to(page, page.get_by_role("button", name="Log out"))
    press_and_wait(page, "Space")
    page.get_by_role("heading", name="Log in to MentorMatch").wait_for()


@pytest.fixture
def pair(resident, attending, other_attending):
    attending.mentor_profile.languages.set([Language.objects.get(code="es")])
    # One shared weekly window (both in New York here), so the meeting form suggests times.
    AvailabilityWindow.objects.create(user=resident, weekday=1, start=time(18), end=time(20))
    AvailabilityWindow.objects.create(user=attending, weekday=1, start=time(18), end=time(20))
    return resident, attending


def test_resident_requests_and_attending_accepts_by_keyboard(page, shot, pair):
    resident, attending = pair

    # Alice: the skip link is the first stop, and it is visible when focused.
    page.goto("/accounts/login/")
    tab_to(page, page.get_by_role("link", name="Skip to content"))
    log_in(page, resident.email)
    shot("kb-resident-dashboard")
    tab_to(page, page.get_by_role("link", name="Find a mentor").first)
    press_and_wait(page)

    # Filter the directory by language: typing on a focused select picks the option.
    tab_to(page, page.get_by_label("Language"))
    page.keyboard.type("Spanish")
    assert page.get_by_label("Language").evaluate("s => s.selectedOptions[0].text") == "Spanish"
    tab_to(page, page.get_by_role("button", name="Filter"))
    press_and_wait(page)
    page.get_by_text("1 mentor matches your filters").wait_for()
    shot("kb-directory-filtered")

    tab_to(page, page.get_by_role("link", name="Request as mentor"))
    press_and_wait(page)
    tab_to(page, page.get_by_label("Kind of mentorship"))
    page.keyboard.type("Career")
    tab_to(page, page.get_by_label("Your message"))
    page.keyboard.type("I'm a PGY-1 hoping to apply to cardiology fellowship. Could we meet monthly?")
    # Back up one stop and forward again: Shift+Tab must retrace the same order.
    tab_to(page, page.get_by_label("Kind of mentorship"), backwards=True)
    tab_to(page, page.get_by_label("Your message"))
    shot("kb-request-form")
    tab_to(page, page.get_by_role("button", name="Send request"))
    press_and_wait(page)
    page.get_by_role("heading", name="Your request to Carol Chen").wait_for()
    shot("kb-request-sent")

    request = MentorshipRequest.objects.get(mentee=resident, mentor=attending)
    assert (request.status, request.kind) == ("pending", "career")
    assert request.message.startswith("I'm a PGY-1 hoping")
    log_out(page)

    # Carol finds it under Requests and accepts it with a note.
    log_in(page, attending.email)
    tab_to(page, page.get_by_role("link", name="Requests", exact=True))
    press_and_wait(page)
    shot("kb-attending-requests")
    tab_to(page, page.get_by_role("link", name="Alice Adams").first)
    press_and_wait(page)
    tab_to(page, page.get_by_label("Note to the resident (optional)"))
    page.keyboard.type("Happy to. Let's find a time.")
    shot("kb-request-detail")
    tab_to(page, page.get_by_role("button", name="Accept"))
    press_and_wait(page)
    page.get_by_role("heading", name="Meetings").wait_for()
    shot("kb-mentorship-page")

    request.refresh_from_db()
    assert request.status == "accepted"
    mentorship = Mentorship.objects.get(mentee=resident, mentor=attending, status="active")
    assert (mentorship.kind, mentorship.source) == ("career", "request")


def test_resident_proposes_and_attending_confirms_a_meeting_by_keyboard(page, shot, pair, program):
    from tests.matching.factories import MentorshipFactory

    resident, attending = pair
    mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)

    # Alice: Mentorships → the mentorship → Propose a meeting → tick the first suggestion.
    log_in(page, resident.email)
    tab_to(page, page.get_by_role("link", name="Mentorships", exact=True))
    press_and_wait(page)
    tab_to(page, page.locator(f"main a[href='{mentorship.get_absolute_url()}']").first)
    press_and_wait(page)
    tab_to(page, page.get_by_role("link", name="Propose a meeting"))
    press_and_wait(page)
    first_suggestion = page.locator("input[name='suggested']").first
    tab_to(page, first_suggestion)
    assert not first_suggestion.is_checked()
    page.keyboard.press("Space")
    assert first_suggestion.is_checked()
    shot("kb-propose-meeting")
    tab_to(page, page.get_by_role("button", name="Send times"))
    press_and_wait(page)
    page.get_by_text("Your times are sent to Carol Chen.").wait_for()
    shot("kb-meeting-proposed")

    meeting = Meeting.objects.get(mentorship=mentorship)
    assert meeting.status == "proposed"
    proposed = [slot.start for slot in meeting.slots.all()]
    assert len(proposed) == 1
    log_out(page)

    # Carol: the dashboard's "Waiting for you" leads straight to the meeting → choose the time.
    log_in(page, attending.email)
    tab_to(page, page.get_by_role("link", name="Pick a meeting time with Alice Adams"))
    press_and_wait(page)
    assert page.url.endswith(f"/meetings/{meeting.pk}/")
    choice = page.locator("input[name='start']").first
    tab_to(page, choice)
    assert not choice.is_checked()
    page.keyboard.press("Space")
    assert choice.is_checked()
    shot("kb-confirm-meeting")
    tab_to(page, page.get_by_role("button", name="Confirm this time"))
    press_and_wait(page)
    shot("kb-meeting-confirmed")

    meeting.refresh_from_db()
    assert meeting.status == "confirmed"
    assert meeting.start == proposed[0]
