"""Issue 14's request page: one note box that goes with whichever button is pressed. Carol
types a note and presses Decline; Alice reads the note. Before that the two talk in the
request's thread."""

import pytest

from matching.models import MentorshipRequest
from tests.factories import PASSWORD
from tests.matching.support import _ask

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _switch_to(page, user):
    page.context.clear_cookies()
    log_in(page, user.email, PASSWORD)
    page.get_by_role("heading", level=1).first.wait_for()


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


@pytest.mark.parametrize("viewport", [(390, 844), (1280, 800)], ids=["390x844", "1280x800"])
def test_the_decline_note_reaches_the_resident(page, shot, resident, attending, viewport):
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    # Shown in the "About Alice" box beside her PGY year and goals (the shots below show it).
    resident.mentee_profile.goals_text = "Publish one case report this year, and a plan for fellowship applications."
    resident.mentee_profile.save(update_fields=["goals_text"])
    request = _ask(resident, attending)

    # Carol asks a question in the thread first; Alice answers.
    log_in(page, attending.email, PASSWORD)
    page.goto(request.get_absolute_url())
    page.get_by_label("Your message").fill("Which months are you on nights?")
    page.get_by_role("button", name="Send").click()
    page.locator(".chat-message").last.get_by_text("Which months are you on nights?").wait_for()
    _switch_to(page, resident)
    page.goto(request.get_absolute_url())
    page.get_by_label("Your message").fill("November and March.")
    page.get_by_role("button", name="Send").click()
    page.locator(".chat-message").last.get_by_text("November and March.").wait_for()

    # One note box, under both buttons.
    _switch_to(page, attending)
    page.goto(request.get_absolute_url())
    notes = page.get_by_label("Note to the resident (optional)")
    assert notes.count() == 1
    assert page.locator("textarea").count() == 2  # the note, and a message in the thread
    about = page.locator("section[aria-labelledby=mentee-h] dl.details")
    assert about.locator("dt").all_inner_texts() == ["PGY year", "Goals", "Hoping for"]
    notes.fill("My spots are full this year; Dr Diaz would be a great fit.")
    shot("mentor-before-declining-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    _no_sideways_scroll(page)
    shot("mentor-before-declining-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="Decline").click()
    page.get_by_text("You declined Alice Adams's request; they have been told.").wait_for()
    request.refresh_from_db()
    assert (request.status, request.response_note) == (
        MentorshipRequest.Status.DECLINED,
        "My spots are full this year; Dr Diaz would be a great fit.",
    )

    # Alice reads the note; the thread is kept, read-only.
    _switch_to(page, resident)
    page.goto(request.get_absolute_url())
    page.get_by_text("Note from Carol Chen").wait_for()
    page.get_by_text("Dr Diaz would be a great fit.").wait_for()
    page.get_by_text("This request is declined: its messages are kept, read-only.").wait_for()
    assert page.get_by_label("Your message").count() == 0
    shot("resident-reads-the-note-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    _no_sideways_scroll(page)
    shot("resident-reads-the-note-phone")
