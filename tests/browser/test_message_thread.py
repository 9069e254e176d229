"""Issue 14's conversation end to end: Alice writes to her mentor Carol, Carol gets the
e-mail, follows its link, replies, edits and deletes her reply; the header counts change;
their program's coordinator cannot read it, on the page or in the API."""

import re

import pytest
from django.core import mail

from matching.models import Message
from tests.factories import PASSWORD
from tests.matching.factories import MentorshipFactory

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def _switch_to(page, user):
    page.context.clear_cookies()
    log_in(page, user.email, PASSWORD)
    page.get_by_role("heading", level=1).first.wait_for()


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


def _messages_badge(page):
    return page.locator("a.bell-messages").get_attribute("aria-label")


def test_the_pair_talk_and_nobody_else_reads_it(page, shot, program, resident, attending, coordinator):
    mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    mail.outbox.clear()

    # Alice opens the conversation from the mentorship page and writes, with a link.
    log_in(page, resident.email, PASSWORD)
    page.goto(mentorship.get_absolute_url())
    page.get_by_role("link", name="Open the conversation").click()
    page.get_by_text("Only you and Carol Chen can read these messages; program coordinators can't.").wait_for()
    page.get_by_label("Your message").fill(
        "Hi Carol! Here is the abstract draft: https://example.org/abstract?v=2\n<b>Is Thursday fine?</b>"
    )
    page.get_by_role("button", name="Send").click()
    sent = page.locator(".chat-message").last
    sent.get_by_role("link", name="https://example.org/abstract?v=2").wait_for()
    assert "<b>Is Thursday fine?</b>" in sent.inner_text()  # shown as text, not markup
    message = Message.objects.get()
    assert page.url.endswith(f"#message-{message.pk}")
    shot("resident-sent-desktop")

    # Carol gets one e-mail with a link back to the message.
    assert [m.to for m in mail.outbox] == [[attending.email]]
    link = re.search(r"https?://[^\s]+(/mentorships/\d+/messages/#message-\d+)", mail.outbox[0].body)
    assert link and link.group(1) == f"/mentorships/{mentorship.pk}/messages/#message-{message.pk}"

    # Carol's header counts one unread message; following the e-mail's link reads it.
    _switch_to(page, attending)
    assert _messages_badge(page) == "Messages, 1 unread"
    page.goto(link.group(1))
    page.get_by_text("Here is the abstract draft").wait_for()
    assert _messages_badge(page) == "Messages, 0 unread"
    page.get_by_label("Your message").fill("Thursdy works. Send me the final version when ready.")
    page.get_by_role("button", name="Send").click()
    reply = page.locator(".chat-message").last
    reply.get_by_text("Thursdy works.").wait_for()

    # Within ten minutes she corrects the typo; then she deletes it.
    reply.get_by_role("link", name="Edit").click()
    page.get_by_role("heading", name="Edit your message").wait_for()
    page.get_by_label("Your message").fill("Thursday works. Send me the final version when ready.")
    page.get_by_role("button", name="Save").click()
    reply = page.locator(".chat-message").last
    reply.get_by_text("Thursday works.").wait_for()
    assert "edited" in reply.inner_text()
    shot("mentor-replied-desktop")
    page.set_viewport_size(PHONE)
    _no_sideways_scroll(page)
    shot("mentor-replied-phone")
    page.set_viewport_size(DESKTOP)
    reply.get_by_text("Delete", exact=True).click()
    reply.get_by_role("button", name="Delete message").click()
    page.locator(".chat-message").last.get_by_text("Message deleted", exact=True).wait_for()
    assert "Thursday works." not in page.content()

    # Alice's header shows what is waiting (the deleted reply does not count).
    _switch_to(page, resident)
    assert _messages_badge(page) == "Messages, 0 unread"
    page.goto(f"/mentorships/{mentorship.pk}/messages/")
    page.get_by_text("Message deleted", exact=True).wait_for()

    # Their coordinator sees the mentorship but not its messages.
    _switch_to(page, coordinator)
    response = page.goto(f"/mentorships/{mentorship.pk}/messages/")
    assert response.status == 403
    assert "abstract draft" not in page.content()
    assert page.request.get(f"/api/v1/mentorships/{mentorship.pk}/messages/").status == 403
    assert page.request.get(f"/api/v1/messages/{message.pk}/").status == 404
    assert Message.objects.count() == 2


def test_the_thread_on_a_phone(page, shot, program, resident, attending):
    mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    from matching.services.messages import message_post

    message_post(thread=mentorship, author=attending, body="A long link: https://example.org/" + "a" * 120)
    message_post(thread=mentorship, author=resident, body="Thanks! " * 40)
    message_post(thread=mentorship, author=attending, body="Supercalifragilisticexpialidocious" * 4)
    page.set_viewport_size(PHONE)
    log_in(page, resident.email, PASSWORD)
    page.goto(f"/mentorships/{mentorship.pk}/messages/#latest")
    page.get_by_role("button", name="Send").wait_for()
    _no_sideways_scroll(page)
    for target in page.locator(".chat-actions a, .chat-delete > summary, .thread-form button").all():
        box = target.bounding_box()
        assert box["width"] >= 24 and box["height"] >= 24, target.inner_text()
    shot("thread-phone")
    page.goto("/messages/")
    _no_sideways_scroll(page)
    shot("inbox-phone")
    page.set_viewport_size(DESKTOP)
    page.goto(f"/mentorships/{mentorship.pk}/messages/")
    shot("thread-desktop")
