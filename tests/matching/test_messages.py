"""The pair's conversation: services, pages and API, with the hostile cases.

Alice (resident) and Carol (attending) are the pair; Cora coordinates their program, Oscar
another; Olivia is a resident of another program; Bob and Dave are strangers to the pair.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from matching.models import Message, Notification
from matching.selectors.messages import bell_counts, thread_messages, unread_message_count
from matching.services import messages as message_services
from matching.services.mentorships import mentorship_end
from matching.services.messages import message_delete, message_edit, message_post, thread_mark_read
from matching.services.requests import request_accept, request_decline
from tests.factories import UserFactory
from tests.matching.factories import MentorshipFactory
from tests.matching.support import _ask

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(program, resident, attending):
    return MentorshipFactory(mentee=resident, mentor=attending, program=program)


def _older(message, minutes):
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))
    message.refresh_from_db()
    return message


# --- Services.


class TestPosting:
    def test_each_message_reaches_the_other_person_and_a_burst_notifies_once(
        self, pair, resident, attending, django_capture_on_commit_callbacks
    ):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            first = message_post(thread=pair, author=resident, body="Hi Carol, quick question about nights.")
            message_post(thread=pair, author=resident, body="And one more thing.")
        assert [m.body for m in thread_messages(pair)] == [
            "Hi Carol, quick question about nights.",
            "And one more thing.",
        ]
        notifications = Notification.objects.filter(user=attending, event="message.new")
        assert notifications.count() == 1  # the burst is one notification, one e-mail
        assert notifications.get().url == f"/mentorships/{pair.pk}/messages/#message-{first.pk}"
        assert [m.to for m in mail.outbox] == [[attending.email]]
        assert f"Reply in MentorMatch:\n{settings.SITE_URL}/mentorships/{pair.pk}/messages/#message-{first.pk}" in (
            mail.outbox[0].body
        )
        assert not Notification.objects.filter(user=resident).exists()
        assert unread_message_count(attending) == 2 and unread_message_count(resident) == 0

    def test_a_message_after_the_window_notifies_again(self, pair, resident, attending):
        first = message_post(thread=pair, author=resident, body="One")
        Message.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(minutes=30))
        Notification.objects.update(dedup_key=f"message:mentorship-{pair.pk}:{attending.pk}:1")
        message_post(thread=pair, author=resident, body="Two")
        assert Notification.objects.filter(user=attending, event="message.new").count() == 2

    def test_strangers_coordinators_and_other_programs_cannot_post(
        self, pair, other_resident, other_attending, coordinator, other_coordinator, outsider
    ):
        for person in (other_resident, other_attending, coordinator, other_coordinator, outsider):
            with pytest.raises(PermissionDenied):
                message_post(thread=pair, author=person, body="Let me in")
        assert not Message.objects.exists()

    def test_a_closed_request_and_an_ended_mentorship_are_read_only(self, pair, resident, attending, other_attending):
        request = _ask(resident, other_attending, kind="research")
        request_decline(request=request, actor=other_attending, note="Full")
        with pytest.raises(ValidationError, match="declined"):
            message_post(thread=request, author=resident, body="Please?")
        mentorship_end(mentorship=pair, actor=attending, reason="Moving away", completed=False)
        with pytest.raises(ValidationError, match="ended"):
            message_post(thread=pair, author=resident, body="Bye")
        assert not Message.objects.exists()

    def test_empty_and_5000_character_messages_are_refused_4000_is_fine(self, pair, resident):
        with pytest.raises(ValidationError) as empty:
            message_post(thread=pair, author=resident, body="   \n ")
        assert "body" in empty.value.error_dict
        with pytest.raises(ValidationError) as long:
            message_post(thread=pair, author=resident, body="x" * 5000)
        assert "body" in long.value.error_dict
        assert message_post(thread=pair, author=resident, body="x" * 4000).body == "x" * 4000

    def test_absurd_posting_is_throttled(self, pair, resident, monkeypatch):
        monkeypatch.setattr(message_services, "RATE_LIMIT", 3)
        for i in range(3):
            message_post(thread=pair, author=resident, body=f"spam {i}")
        with pytest.raises(message_services.MessageRateLimited):
            message_post(thread=pair, author=resident, body="spam 4")
        assert Message.objects.count() == 3


class TestEditAndDelete:
    def test_the_author_edits_within_ten_minutes_and_the_audit_holds_no_text(self, pair, resident):
        message = message_post(thread=pair, author=resident, body="See you Tuesdy")
        message_edit(message=_older(message, 9), actor=resident, body="See you Tuesday")
        message.refresh_from_db()
        assert (message.body, message.edited_at is not None) == ("See you Tuesday", True)
        entry = AuditEntry.objects.get(action="message.edit")
        assert "Tuesday" not in str(entry.before) + str(entry.after) + entry.reason

    def test_no_edit_after_ten_minutes(self, pair, resident):
        message = _older(message_post(thread=pair, author=resident, body="Original"), 11)
        with pytest.raises(ValidationError, match="10 minutes"):
            message_edit(message=message, actor=resident, body="Changed")
        message.refresh_from_db()
        assert message.body == "Original" and message.edited_at is None

    def test_nobody_edits_or_deletes_someone_elses_message(self, pair, resident, attending, coordinator):
        message = message_post(thread=pair, author=resident, body="Mine")
        for person in (attending, coordinator):
            with pytest.raises(PermissionDenied):
                message_edit(message=message, actor=person, body="Yours now")
            with pytest.raises(PermissionDenied):
                message_delete(message=message, actor=person)
        message.refresh_from_db()
        assert message.body == "Mine" and message.deleted_at is None

    def test_delete_keeps_a_marker_without_the_text(self, pair, resident, attending):
        message = message_post(thread=pair, author=resident, body="Oops, wrong person")
        message_delete(message=message, actor=resident)
        message.refresh_from_db()
        assert message.is_deleted and message.body == ""
        assert Notification.objects.get(user=attending).body == ""  # the quote in the bell is gone too
        entry = AuditEntry.objects.get(action="message.delete")
        assert "wrong person" not in str(entry.after) + entry.reason
        assert unread_message_count(attending) == 0
        with pytest.raises(ValidationError, match="deleted"):
            message_delete(message=message, actor=resident)


class TestReading:
    def test_opening_the_thread_reads_the_other_persons_messages_and_their_notifications(
        self, pair, resident, attending
    ):
        theirs = message_post(thread=pair, author=resident, body="Hello")
        mine = message_post(thread=pair, author=attending, body="Hi!")
        assert bell_counts(attending) == (1, 1)
        assert thread_mark_read(thread=pair, user=attending) == 1
        theirs.refresh_from_db()
        mine.refresh_from_db()
        assert theirs.read_at is not None and mine.read_at is None  # only the other person's
        assert bell_counts(attending) == (0, 0)
        assert bell_counts(resident) == (1, 1)

    def test_the_mentorship_thread_begins_with_the_requests_messages(self, resident, attending):
        request = _ask(resident, attending)
        message_post(thread=request, author=attending, body="Which months are you on nights?")
        message_post(thread=request, author=resident, body="November.")
        mentorship = request_accept(request=request, actor=attending)
        message_post(thread=mentorship, author=attending, body="Welcome!")
        assert [m.body for m in thread_messages(mentorship)] == [
            "Which months are you on nights?",
            "November.",
            "Welcome!",
        ]
        with pytest.raises(ValidationError, match="continues"):
            message_post(thread=request, author=resident, body="Late")

    def test_the_acceptance_note_is_the_mentors_message_in_the_mentorship(self, resident, attending):
        request = _ask(resident, attending)
        message_post(thread=request, author=attending, body="Which months are you on nights?")
        mentorship = request_accept(request=request, actor=attending, note="  Happy to. Coffee next week?  ")
        note = thread_messages(mentorship).last()
        assert (note.body, note.author, note.mentorship, note.request) == (
            "Happy to. Coffee next week?",
            attending,
            mentorship,
            None,
        )
        assert note.read_at is None and unread_message_count(resident) == 2  # the question, and the note
        # The acceptance's own notification (which quotes the note) stays the only one.
        assert list(
            Notification.objects.filter(user=resident).exclude(event="message.new").values_list("event", "body")
        ) == [("request.accepted", "Happy to. Coffee next week?")]
        assert Notification.objects.filter(user=resident, event="message.new").count() == 1  # the question's
        with pytest.raises(ValidationError, match="already accepted"):
            request_accept(request=request, actor=attending, note="Happy to. Coffee next week?")
        assert Message.objects.filter(mentorship=mentorship).count() == 1

    def test_an_acceptance_without_a_note_adds_no_message(self, resident, attending, other_resident):
        first = request_accept(request=_ask(resident, attending), actor=attending)
        second = request_accept(request=_ask(other_resident, attending), actor=attending, note="   ")
        assert not Message.objects.filter(mentorship__in=[first, second]).exists()


# --- Pages.


class TestThreadPage:
    def test_only_the_pair_reads_the_thread(
        self, pair, client_for, resident, attending, coordinator, other_coordinator, outsider, other_attending
    ):
        message_post(thread=pair, author=resident, body="Private")
        url = reverse("matching:mentorship-messages", args=[pair.pk])
        for person in (resident, attending):
            assert client_for(person).get(url).status_code == 200
        assert client_for(coordinator).get(url).status_code == 403  # sees the mentorship, not its messages
        for person in (other_coordinator, outsider, other_attending):
            assert client_for(person).get(url).status_code == 404
        assert client_for(coordinator).post(url, {"body": "Hi"}).status_code == 403
        assert Message.objects.count() == 1

    def test_links_are_clickable_and_markup_is_shown_as_text(self, pair, client_for, resident, attending):
        message_post(
            thread=pair,
            author=resident,
            body="See https://example.org/guide?a=1&b=2 <script>alert(1)</script> javascript:alert(2)",
        )
        html = client_for(attending).get(reverse("matching:mentorship-messages", args=[pair.pk])).content.decode()
        assert '<a href="https://example.org/guide?a=1&amp;b=2" rel="nofollow">' in html
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert 'href="javascript' not in html
        assert "Only you and Alice Adams can read these messages; program coordinators can't." in html

    def test_the_acceptance_note_shows_in_the_mentorships_conversation(self, client_for, resident, attending):
        request = _ask(resident, attending)
        accepted = client_for(attending).post(
            reverse("matching:request-accept", args=[request.pk]), {"respond-note": "Glad to!"}
        )
        request.refresh_from_db()
        mentorship = request.mentorship
        assert accepted["Location"] == mentorship.get_absolute_url()
        note = Message.objects.get(mentorship=mentorship)
        html = client_for(resident).get(reverse("matching:mentorship-messages", args=[mentorship.pk])).content.decode()
        assert f'id="message-{note.pk}"' in html
        assert "<strong>Carol Chen</strong>" in html and '<div class="chat-body">Glad to!</div>' in html

    def test_a_double_tap_sends_one_message(self, pair, client_for, resident):
        client = client_for(resident)
        url = reverse("matching:mentorship-messages", args=[pair.pk])
        once = client.get(url).context["message_form"].initial["once"]
        first = client.post(url, {"body": "Hello", "once": once})
        second = client.post(url, {"body": "Hello", "once": once})
        message = Message.objects.get()
        assert first.status_code == second.status_code == 302
        assert first["Location"] == second["Location"] == f"{url}#message-{message.pk}"

    def test_edit_and_delete_pages(self, pair, client_for, resident, attending):
        message = message_post(thread=pair, author=resident, body="Tuesdy")
        alice = client_for(resident)
        edit = reverse("matching:message-edit", args=[message.pk])
        assert alice.get(edit).status_code == 200
        assert client_for(attending).get(edit).status_code == 403
        assert alice.post(edit, {"body": "Tuesday"}).status_code == 302
        page = client_for(attending).get(reverse("matching:mentorship-messages", args=[pair.pk])).content.decode()
        assert "Tuesday" in page and "edited" in page
        assert client_for(attending).post(reverse("matching:message-delete", args=[message.pk])).status_code == 403
        alice.post(reverse("matching:message-delete", args=[message.pk]))
        page = client_for(attending).get(reverse("matching:mentorship-messages", args=[pair.pk])).content.decode()
        assert "Message deleted" in page and "Tuesday" not in page

    def test_the_header_counts_unread_messages(self, pair, client_for, resident, attending):
        message_post(thread=pair, author=resident, body="Hello")
        carol = client_for(attending)
        assert 'aria-label="Messages, 1 unread"' in carol.get("/dashboard/").content.decode()
        carol.get(reverse("matching:mentorship-messages", args=[pair.pk]))
        assert 'aria-label="Messages, 0 unread"' in carol.get("/dashboard/").content.decode()
        inbox = client_for(resident).get(reverse("matching:messages"))
        assert [t["other"] for t in inbox.context["threads"]] == [attending]


# --- API.


def _messages_url(pair):
    return f"/api/v1/mentorships/{pair.pk}/messages/"


class TestApi:
    def test_post_list_and_read(self, pair, api_for, resident, attending):
        created = api_for(resident).post(_messages_url(pair), {"body": "Hello"}, format="json")
        assert created.status_code == 201
        assert created.json()["author"] == {"id": resident.pk, "full_name": "Alice Adams"}
        listing = api_for(attending).get(_messages_url(pair)).json()
        assert listing["count"] == 1 and listing["results"][0]["body"] == "Hello"
        assert api_for(attending).get("/api/v1/messages/unread/").json() == {"unread": 1}
        read = api_for(attending).post(f"{_messages_url(pair)}read/")
        assert read.json() == {"marked": 1}
        assert api_for(attending).get("/api/v1/messages/unread/").json() == {"unread": 0}

    def test_only_the_pair(self, pair, api_for, resident, coordinator, other_coordinator, outsider, other_attending):
        message = message_post(thread=pair, author=resident, body="Private")
        assert api_for(coordinator).get(_messages_url(pair)).status_code == 403
        assert api_for(coordinator).post(_messages_url(pair), {"body": "Hi"}, format="json").status_code == 403
        assert api_for(coordinator).get(f"/api/v1/messages/{message.pk}/").status_code == 404
        for person in (other_coordinator, outsider, other_attending):
            assert api_for(person).get(_messages_url(pair)).status_code == 404
            assert api_for(person).post(_messages_url(pair), {"body": "Hi"}, format="json").status_code == 404
            assert api_for(person).delete(f"/api/v1/messages/{message.pk}/").status_code == 404
        assert Message.objects.count() == 1

    def test_same_idempotency_key_sends_once(self, pair, api_for, resident):
        client = api_for(resident)
        first = client.post(_messages_url(pair), {"body": "Hello"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        again = client.post(_messages_url(pair), {"body": "Hello"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert first.status_code == again.status_code == 201
        assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
        assert Message.objects.count() == 1

    def test_refusals(self, pair, api_for, resident, attending, monkeypatch):
        alice = api_for(resident)
        assert alice.post(_messages_url(pair), {"body": "x" * 5000}, format="json").status_code == 400
        message = message_post(thread=pair, author=resident, body="Mine")
        url = f"/api/v1/messages/{message.pk}/"
        assert api_for(attending).patch(url, {"body": "Theirs"}, format="json").status_code == 403
        assert api_for(attending).delete(url).status_code == 403
        assert alice.patch(url, {"body": "Mine, fixed"}, format="json").json()["body"] == "Mine, fixed"
        _older(message, 11)
        late = alice.patch(url, {"body": "Too late"}, format="json")
        assert late.status_code == 409 and "10 minutes" in late.json()["detail"]
        assert alice.delete(url).status_code == 204
        assert alice.get(url).json()["body"] == "" and alice.get(url).json()["deleted"] is True
        monkeypatch.setattr(message_services, "RATE_LIMIT", 1)
        assert alice.post(_messages_url(pair), {"body": "one"}, format="json").status_code == 201
        assert alice.post(_messages_url(pair), {"body": "fast"}, format="json").status_code == 429

    def test_a_closed_request_takes_no_messages(self, api_for, resident, attending):
        request = _ask(resident, attending)
        assert (
            api_for(attending)
            .post(f"/api/v1/requests/{request.pk}/messages/", {"body": "Q?"}, format="json")
            .status_code
            == 201
        )
        request_decline(request=request, actor=attending)
        closed = api_for(resident).post(f"/api/v1/requests/{request.pk}/messages/", {"body": "A"}, format="json")
        assert closed.status_code == 409
        assert [
            m["body"] for m in api_for(resident).get(f"/api/v1/requests/{request.pk}/messages/").json()["results"]
        ] == ["Q?"]


class TestTimesAndZones:
    def test_messages_are_dated_as_the_rest_of_the_site_in_the_readers_zone(self, pair, client_for, resident):
        Carol = pair.mentor  # noqa: N806  (a person)
        Carol.time_zone = "America/Los_Angeles"
        Carol.save(update_fields=["time_zone"])
        message = message_post(thread=pair, author=resident, body="Nights in November.")
        when = timezone.localtime(message.created_at, Carol.zone)
        shown = f"{when:%a} {when.day} {when:%b %Y, %H:%M %Z}"  # the |moment filter
        client = client_for(Carol)
        thread = client.get(reverse("matching:mentorship-messages", args=[pair.pk])).content.decode()
        inbox = client.get(reverse("matching:messages")).content.decode()
        for page in (thread, inbox):
            assert f">{shown}</time>" in page
            assert " am</time>" not in page and " pm</time>" not in page
        until = timezone.localtime(message.created_at + Message.EDIT_WINDOW, resident.zone)
        edit = client_for(resident).get(reverse("matching:message-edit", args=[message.pk])).content.decode()
        assert f"You can edit it until {until:%H:%M %Z}." in edit


class TestQueryCounts:
    """The thread page, the inbox and the API list cost the same however long the thread."""

    def test_the_thread_reads_the_request_it_began_with_once(self, client_for, resident, attending):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        request = _ask(resident, attending)
        mentorship = request_accept(request=request, actor=attending)
        with CaptureQueriesContext(connection) as queries:
            page = client_for(attending).get(reverse("matching:mentorship-messages", args=[mentorship.pk]))
        assert 'id="request-message"' in page.content.decode()  # the request opens the thread
        reads = [q["sql"] for q in queries if q["sql"].startswith('SELECT "matching_mentorshiprequest"')]
        # Loaded with the mentorship; the one left is the service's, for its notification keys.
        assert len(reads) == 1, reads

    def test_no_query_per_message(self, pair, client_for, api_for, resident, attending):
        from tests.matching.support import _count_queries

        message_post(thread=pair, author=attending, body="One")
        alice = client_for(resident)
        thread_url = reverse("matching:mentorship-messages", args=[pair.pk])
        inbox_url = reverse("matching:messages")
        api_url = f"/api/v1/mentorships/{pair.pk}/messages/"
        alice.get(thread_url)  # the first request of a session also records it (last seen)
        before = [_count_queries(alice, thread_url), _count_queries(alice, inbox_url)]
        api_before = _count_queries(api_for(resident), api_url)
        for i in range(4):
            message_post(thread=pair, author=attending if i % 2 else resident, body=f"More {i}")
        assert [_count_queries(alice, thread_url), _count_queries(alice, inbox_url)] == before
        assert _count_queries(api_for(resident), api_url) == api_before
        print("thread page, inbox, API list:", before, api_before)


@pytest.mark.django_db
def test_the_request_thread_address_opened_in_a_browser_goes_to_the_request_page(client_for, resident, attending):
    request = _ask(resident, attending)
    response = client_for(resident).get(reverse("matching:request-messages", args=[request.pk]))
    assert response.status_code == 302 and response["Location"] == request.get_absolute_url() + "#latest"
    # Someone outside the pair still learns nothing.
    assert client_for(UserFactory()).get(reverse("matching:request-messages", args=[request.pk])).status_code == 404
