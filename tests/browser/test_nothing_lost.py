"""Issue 14's "nothing typed is ever lost", clicked through in Chromium.

- The attending and the mentee edit the notes of a held meeting in two browsers and both
  save: the second sees both texts side by side, keeps hers, and nothing is lost.
- Two clicks 100 ms apart on "Send times", "Add goal" and "Share" make one of each.
- A session that expires while a resident writes a request: she is told, signs in, finds
  her text back in the form, and sends it.
- The mentorship and meeting pages at 390×844 and 1280×800: no sideways scrolling.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.sessions.backends.cached_db import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.utils import timezone

from matching.models import ActionItem, Meeting, MentorshipRequest, Resource
from matching.services.meetings import meeting_confirm, meeting_propose
from tests.factories import PASSWORD
from tests.matching.factories import ActionItemFactory, MentorshipFactory
from tests.matching.support import _in

from .conftest import check_a11y, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def _double_click(page, button_selector):
    """Two clicks on the same button 100 ms apart, as a double tap makes them; returns how
    the button looked between the two (aria-disabled while the first is on its way). The
    answer comes back at once: a quick server can have the next page loaded within the 100 ms,
    and then the second tap lands nowhere, as on a phone (and this page's script is gone)."""
    return page.evaluate(
        """(selector) => {
            const button = document.querySelector(selector);
            button.click();
            setTimeout(() => button.click(), 100);
            return button.getAttribute("aria-disabled");
        }""",
        button_selector,
    )


def _no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


@pytest.fixture
def pair(program, resident, attending):
    # Three weeks old: its first check-in is open (it opens two weeks in).
    return MentorshipFactory(
        mentee=resident, mentor=attending, program=program, started_at=timezone.now() - timedelta(days=20)
    )


@pytest.fixture
def held(pair, resident, attending):
    meeting = meeting_propose(mentorship=pair, actor=resident, slots=[_in(3)])
    meeting_confirm(meeting=meeting, actor=attending, start=_in(3))
    Meeting.objects.filter(pk=meeting.pk).update(status="held", start=timezone.now() - timedelta(hours=2))
    return Meeting.objects.get(pk=meeting.pk)


def test_notes_conflict_in_two_browsers(browser, live_server, page, shot, held, resident, attending):
    # Carol in this browser, Alice in another.
    log_in(page, attending.email, PASSWORD)
    other = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    alice = other.new_page()
    try:
        log_in(alice, resident.email, PASSWORD)
        page.goto(f"/meetings/{held.pk}/")
        alice.goto(f"/meetings/{held.pk}/")
        page.get_by_role("textbox", name="Shared notes").fill("Carol: submit the IRB form by Friday.")
        alice.get_by_role("textbox", name="Shared notes").fill("Alice: book the statistics consult.")

        page.get_by_role("button", name="Save notes").click()
        page.get_by_text("The notes are saved.").wait_for()

        alice.get_by_role("button", name="Save notes").click()
        alice.get_by_text("Not saved: Carol Chen changed this while you were editing").wait_for()
        main = alice.locator("main").inner_text()
        assert "The notes are saved" not in main
        assert "Carol: submit the IRB form by Friday." in alice.locator("[data-their-notes]").inner_text()
        assert alice.get_by_role("textbox", name="Shared notes").input_value() == "Alice: book the statistics consult."
        folder = shot("carol-notes-saved").parent
        alice.screenshot(path=str(folder / "alice-notes-conflict-1280.png"), full_page=True)
        check_a11y(alice, "notes conflict")
        alice.set_viewport_size(PHONE)
        assert _no_sideways_scroll(alice)
        alice.screenshot(path=str(folder / "alice-notes-conflict-390.png"), full_page=True)

        # She merges both lines and saves again, deliberately.
        alice.get_by_role("textbox", name="Shared notes").fill(
            "Carol: submit the IRB form by Friday.\nAlice: book the statistics consult."
        )
        alice.get_by_role("button", name="Save mine instead").click()
        alice.get_by_text("The notes are saved.").wait_for()
    finally:
        other.close()
    held.refresh_from_db()
    assert "IRB form" in held.notes and "statistics consult" in held.notes and held.version == 3


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1280x800"])
def test_double_clicks_create_one_each(page, shot, pair, resident, attending, viewport):
    page.set_viewport_size(viewport)
    log_in(page, resident.email, PASSWORD)

    # "Send times".
    page.goto(f"/mentorships/{pair.pk}/meetings/new/")
    when = timezone.localtime(_in(3), ZoneInfo(resident.time_zone)).strftime("%Y-%m-%dT%H:%M")
    page.locator("#id_custom_1").fill(when)
    busy = _double_click(page, "form[method=post]:not([action]) button[type=submit]")
    page.get_by_role("heading", name="Meeting with Carol Chen", exact=True).wait_for()
    assert busy == "true"
    assert Meeting.objects.filter(mentorship=pair).count() == 1

    # "Add goal".
    page.goto(pair.get_absolute_url())
    page.get_by_text("Add a goal", exact=True).click()
    page.locator("#goal-title").fill("Submit the abstract")
    _double_click(page, f"form[action='/mentorships/{pair.pk}/action-items/'] button[type=submit]")
    page.get_by_role("cell", name="Submit the abstract", exact=True).wait_for()
    page.wait_for_load_state("networkidle")
    assert ActionItem.objects.filter(mentorship=pair).count() == 1
    shot("goal-added")
    page.get_by_role("button", name="Mark “Submit the abstract” done").click()
    page.get_by_role("button", name="Undo").wait_for()
    shot("goal-done-with-undo")
    page.get_by_role("button", name="Undo").click()
    page.get_by_text("Undone: “Submit the abstract” is open again.").wait_for()

    # "Share" (the mentor's): Carol on the same device.
    page.context.clear_cookies()
    log_in(page, attending.email, PASSWORD)
    page.goto(pair.get_absolute_url())
    page.get_by_text("Share a link", exact=True).click()
    page.locator("#resource-title").fill("Writing a first abstract")
    page.locator("#resource-url").fill("https://example.org/abstracts")
    page.locator("#resource-note").fill("Short and practical.")
    assert page.locator("#resource-note-count").inner_text() == "20 / 2,000"
    _double_click(page, f"form[action='/mentorships/{pair.pk}/resources/'] button[type=submit]")
    page.get_by_text("The resource is shared.").wait_for()
    page.wait_for_load_state("networkidle")
    assert Resource.objects.filter(mentorship=pair).count() == 1


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1280x800"])
def test_expired_session_keeps_the_request_text(page, shot, resident, attending, viewport):
    page.set_viewport_size(viewport)
    log_in(page, resident.email, PASSWORD)
    page.get_by_role("heading", name="Welcome").or_(page.locator("main h1")).first.wait_for()
    page.goto(f"/mentors/{attending.pk}/request/")
    message = "I'm a PGY-1 hoping to apply to cardiology fellowship. Could we meet monthly?"
    page.get_by_label("Your message").fill(message)
    page.wait_for_timeout(500)  # the draft is kept a moment after typing stops

    for key in Session.objects.values_list("session_key", flat=True):  # the session expires on the server:
        cache.delete(SessionStore(key).cache_key)  # its cached copy and its row
    Session.objects.all().delete()
    page.get_by_role("button", name="Send request").click()
    page.get_by_text("Your session expired").wait_for()
    shot("session-expired-sign-in")
    assert MentorshipRequest.objects.count() == 0

    page.get_by_label("E-mail").fill(resident.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Restored what you typed.").wait_for()
    assert page.url.endswith(f"/mentors/{attending.pk}/request/")
    assert page.get_by_label("Your message").input_value() == message
    shot("request-form-restored")

    page.get_by_role("button", name="Send request").click()
    page.get_by_role("heading", name="Your request to Carol Chen").wait_for()
    assert MentorshipRequest.objects.get().message == message
    # Sent: the draft is gone, so the form is empty next time.
    page.wait_for_load_state()  # app.js settles drafts once the page is parsed
    assert page.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('mentormatch:draft:'))") == []


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1280x800"])
def test_pages_at_both_sizes(page, shot, held, pair, resident, viewport):
    page.set_viewport_size(viewport)
    log_in(page, resident.email, PASSWORD)
    page.goto(pair.get_absolute_url())
    page.get_by_text("Add a goal", exact=True).click()
    assert _no_sideways_scroll(page)
    shot("mentorship")
    page.goto(f"/meetings/{held.pk}/")
    assert _no_sideways_scroll(page)
    shot("meeting-held")
    proposed = meeting_propose(mentorship=pair, actor=resident, slots=[_in(4)])
    page.goto(f"/meetings/{proposed.pk}/")
    page.get_by_text("Add the place or video link").click()
    assert _no_sideways_scroll(page)
    shot("meeting-proposed-details")
    goal = ActionItemFactory(
        mentorship=pair,
        title="Read https://example.org/" + "a-very-long-path/" * 8,
        owner=resident,
        created_by=resident,
    )
    page.goto(f"/action-items/{goal.pk}/edit/")
    assert _no_sideways_scroll(page)
    shot("goal-edit")


def test_submit_guard_keeps_the_pressed_button_and_frees_a_restored_page(page, pair, resident):
    goal = ActionItemFactory(mentorship=pair, title="Read the guidelines", owner=resident, created_by=resident)
    log_in(page, resident.email, PASSWORD)
    page.goto(pair.get_absolute_url())
    comment = page.locator("#checkin-comment")
    # The counter is the field's description; a polite live region speaks only near the limit.
    counter = page.locator("#checkin-comment-count")
    assert counter.inner_text() == "0 / 2,000"
    assert "checkin-comment-count" in comment.get_attribute("aria-describedby")
    live = page.locator("#checkin-comment-count + [aria-live='polite']")
    comment.fill("x" * 1500)
    assert counter.inner_text() == "1,500 / 2,000" and live.inner_text() == ""
    comment.fill("x" * 1850)
    assert live.inner_text() == "150 characters left."

    # The server answers "no content", so the page stays and the second tap meets a busy form.
    posts = []

    def answer(route):
        posts.append(route.request.post_data)
        route.fulfill(status=204)

    page.route(f"**/action-items/{goal.pk}/", answer)
    state = page.evaluate(
        """(title) => {
            const button = document.querySelector(`button[aria-label="Mark “${title}” done"]`);
            button.click();
            const busy = [button.getAttribute("aria-disabled"), button.disabled, button.classList.contains("is-submitting")];
            button.click();
            return new Promise((resolve) => setTimeout(() => {
                // Back from the back/forward cache: usable again.
                window.dispatchEvent(new PageTransitionEvent("pageshow", { persisted: true }));
                resolve({ busy, after: button.getAttribute("aria-disabled") });
            }, 300));
        }""",
        goal.title,
    )
    # aria-disabled, not disabled: a disabled button's name and value would not be posted.
    assert state["busy"] == ["true", False, True]
    assert state["after"] is None
    assert len(posts) == 1 and "status=done" in posts[0]


def test_a_restored_draft_keeps_its_version_so_it_cannot_overwrite_unseen(page, pair, resident, attending):
    from matching.services.plan import agreement_update

    log_in(page, resident.email, PASSWORD)
    page.goto(f"/mentorships/{pair.pk}/agreement/")
    page.get_by_role("textbox", name="What you expect of each other").fill("Alice: I reply within a week.")
    page.wait_for_timeout(500)  # the draft is kept a moment after typing stops
    page.goto(pair.get_absolute_url())  # she leaves without saving

    agreement_update(mentorship=pair, actor=attending, expectations="Carol: replies within a day.")
    page.goto(f"/mentorships/{pair.pk}/agreement/")
    page.get_by_text("Restored what you typed.").wait_for()
    assert page.get_by_role("textbox", name="What you expect of each other").input_value() == (
        "Alice: I reply within a week."
    )
    page.get_by_role("button", name="Save the agreement").click()
    # Typed against version 1: Carol's newer text is shown beside hers, not overwritten.
    page.get_by_text("Not saved: Carol Chen changed this while you were editing").wait_for()
    pair.agreement.refresh_from_db()
    assert pair.agreement.expectations == "Carol: replies within a day."


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1280x800"])
def test_a_new_meeting_length_brings_new_suggestions_and_keeps_what_was_typed(
    page, shot, pair, resident, attending, viewport
):
    from accounts.models import AvailabilityWindow

    attending.time_zone = resident.time_zone
    attending.save(update_fields=["time_zone"])
    for person in (resident, attending):  # one shared hour a day: 30 or 60 minutes fit, 90 do not
        for day in AvailabilityWindow.Weekday.values:
            AvailabilityWindow.objects.create(user=person, weekday=day, start="10:00", end="11:00")
    page.set_viewport_size(viewport)
    log_in(page, resident.email, PASSWORD)
    page.goto(f"/mentorships/{pair.pk}/meetings/new/")
    assert page.get_by_role("checkbox").count() > 0  # suggested times for 30 minutes
    page.get_by_label("Place").fill("Room 4B")
    page.get_by_label("Length").select_option("90")
    page.get_by_role("button", name="Update suggested times").click()
    page.get_by_text("No shared free time").wait_for()
    assert page.get_by_label("Place").input_value() == "Room 4B"
    assert page.get_by_label("Length").input_value() == "90"
    assert _no_sideways_scroll(page)
    shot("meeting-length-90")

    page.get_by_label("Length").select_option("60")
    page.get_by_role("button", name="Update suggested times").click()
    page.get_by_role("checkbox").first.wait_for()
    page.get_by_role("checkbox").first.check()
    # Enter in a field sends the times (the default button), not "Update suggested times".
    page.get_by_label("Place").press("Enter")
    page.get_by_role("heading", name="Meeting with Carol Chen", exact=True).wait_for()
    meeting = Meeting.objects.get(mentorship=pair)
    assert meeting.duration_minutes == 60 and meeting.location == "Room 4B"
