"""Issue 14's "nothing typed is ever lost" on the pages: a stale save shows both texts and
never says "saved"; a create form sent twice creates once; goals and resources are edited
and removed; a status change can be undone; an expired session keeps the way back."""

import re
from zoneinfo import ZoneInfo

import pytest
from django.contrib.sessions.backends.cached_db import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from accounts.views.auth import SIGNED_IN_COOKIE
from audit.models import AuditEntry
from matching.models import ActionItem, CheckIn, Introduction, Meeting, Resource
from matching.services.meetings import meeting_propose
from matching.services.plan import resource_share
from tests.factories import PASSWORD
from tests.matching.factories import ActionItemFactory
from tests.matching.support import _in

# The pair and its goal, resource and held meeting: tests/matching/pair_week_world.py.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def _once(client, url):
    """The one-time value the form on ``url`` carries."""
    html = client.get(url).content.decode()
    return re.search(r'name="once" value="([0-9a-f]{32})"', html).group(1)


class TestNotesConflict:
    def test_the_second_saver_sees_both_texts_and_nothing_is_lost(self, held, resident, attending, client_for):
        carol, alice = client_for(attending), client_for(resident)
        url = f"/meetings/{held.pk}/"
        assert 'name="version" value="1"' in carol.get(url).content.decode()
        assert carol.post(f"{url}notes/", {"notes": "Carol: IRB form.", "version": "1"}).status_code == 302

        response = alice.post(f"{url}notes/", {"notes": "Alice: stats consult.", "version": "1"})
        html = response.content.decode()
        assert response.status_code == 409
        assert "Not saved: Carol Chen changed this while you were editing" in html
        assert "Carol: IRB form." in html  # theirs, read-only
        assert "Alice: stats consult.</textarea>" in html  # hers, still in the form
        assert 'name="version" value="2"' in html  # a second save is deliberate
        assert "The notes are saved" not in html
        held.refresh_from_db()
        assert held.notes == "Carol: IRB form."

        assert alice.post(f"{url}notes/", {"notes": "Both.", "version": "2"}).status_code == 302
        held.refresh_from_db()
        assert held.notes == "Both." and held.version == 3

    def test_a_stale_save_from_your_own_other_tab_says_so(self, held, attending, client_for):
        url = f"/meetings/{held.pk}/"
        first_tab = second_tab = client_for(attending)
        assert first_tab.post(f"{url}notes/", {"notes": "From the laptop.", "version": "1"}).status_code == 302
        response = second_tab.post(f"{url}notes/", {"notes": "From the phone.", "version": "1"})
        html = response.content.decode()
        assert response.status_code == 409
        assert "Not saved: you changed this in another tab or window while you were editing here" in html
        assert "Carol Chen changed this" not in html
        assert "From the laptop." in html and "From the phone.</textarea>" in html


class TestAgreementConflict:
    def test_a_stale_agreement_save_shows_theirs_and_keeps_yours(self, mentorship, resident, attending, client_for):
        url = f"/mentorships/{mentorship.pk}/agreement/"
        body = {"cadence": "monthly", "preferred_channel": "", "first_goals": "", "version": "1"}
        assert client_for(attending).post(url, {**body, "expectations": "Carol: replies in a day."}).status_code == 302
        stale = client_for(resident).post(url, {**body, "expectations": "Alice: replies in a week."})
        html = stale.content.decode()
        assert stale.status_code == 409 and "Saved by Carol Chen" in html
        assert "Carol: replies in a day." in html and "Alice: replies in a week.</textarea>" in html
        assert "The agreement is saved" not in html and 'name="version" value="2"' in html
        mentorship.agreement.refresh_from_db()
        assert mentorship.agreement.expectations == "Carol: replies in a day."


class TestCreatedOnce:
    def test_add_goal_sent_twice_adds_one(self, mentorship, resident, client_for):
        alice = client_for(resident)
        once = _once(alice, mentorship.get_absolute_url())
        body = {"title": "Submit the abstract", "owner": resident.pk, "once": once}
        first = alice.post(f"/mentorships/{mentorship.pk}/action-items/", body)
        second = alice.post(f"/mentorships/{mentorship.pk}/action-items/", body, follow=True)
        assert first.status_code == 302 and first["Location"].endswith("#plan")
        assert ActionItem.objects.filter(mentorship=mentorship).count() == 1
        assert "You sent this goal twice: it was added once." in second.content.decode()
        # A new form is a new goal.
        body["once"] = _once(alice, mentorship.get_absolute_url())
        alice.post(f"/mentorships/{mentorship.pk}/action-items/", body)
        assert ActionItem.objects.filter(mentorship=mentorship).count() == 2

    def test_a_refused_goal_can_be_sent_again_with_the_same_value(self, mentorship, resident, client_for):
        alice = client_for(resident)
        once = _once(alice, mentorship.get_absolute_url())
        bad = alice.post(
            f"/mentorships/{mentorship.pk}/action-items/",
            {"title": "Far away", "due_date": "9999-12-31", "owner": resident.pk, "once": once},
        )
        assert bad.status_code == 400 and f'value="{once}"' in bad.content.decode()
        ok = alice.post(
            f"/mentorships/{mentorship.pk}/action-items/", {"title": "Soon", "owner": resident.pk, "once": once}
        )
        assert ok.status_code == 302 and ActionItem.objects.get().title == "Soon"

    def test_share_sent_twice_shares_one(self, mentorship, attending, client_for):
        carol = client_for(attending)
        body = {"title": "A paper", "url": "https://example.org/p", "once": _once(carol, mentorship.get_absolute_url())}
        carol.post(f"/mentorships/{mentorship.pk}/resources/", body)
        carol.post(f"/mentorships/{mentorship.pk}/resources/", body)
        assert Resource.objects.filter(mentorship=mentorship).count() == 1

    def test_send_times_twice_proposes_one(self, mentorship, resident, client_for):
        alice = client_for(resident)
        url = f"/mentorships/{mentorship.pk}/meetings/new/"
        when = timezone.localtime(_in(3), ZoneInfo(resident.time_zone)).strftime("%Y-%m-%dT%H:%M")
        body = {"custom_1": when, "duration_minutes": 30, "format": "video", "once": _once(alice, url)}
        first = alice.post(url, body)
        second = alice.post(url, body)
        assert Meeting.objects.filter(mentorship=mentorship).count() == 1
        assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]

    def test_check_in_and_introduction_twice_count_once(
        self, mentorship, resident, attending, other_attending, client_for
    ):
        alice, carol = client_for(resident), client_for(attending)
        once = _once(alice, mentorship.get_absolute_url())
        for _ in range(2):
            alice.post(f"/mentorships/{mentorship.pk}/checkins/", {"rating": 4, "once": once})
        assert CheckIn.objects.count() == 1
        once = re.findall(
            r'name="once" value="([0-9a-f]{32})"', carol.get(mentorship.get_absolute_url()).content.decode()
        )
        body = {"colleague": other_attending.pk, "kind": "research", "note": "Meet Dave."}
        for value in once:  # the introduction form is one of Carol's create forms
            for _ in range(2):
                carol.post(f"/mentorships/{mentorship.pk}/introductions/", {**body, "once": value})
        assert Introduction.objects.count() == 1


class TestGoalsAndResources:
    def test_edit_a_goal_and_a_stale_edit_shows_both(self, mentorship, resident, attending, client_for):
        item = ActionItemFactory(mentorship=mentorship, title="Draft", owner=resident, created_by=resident)
        alice, carol = client_for(resident), client_for(attending)
        edit = f"/action-items/{item.pk}/edit/"
        assert carol.get(edit).status_code == 200
        body = {"title": "Draft v2", "owner": resident.pk, "version": "1"}
        assert carol.post(edit, body).status_code == 302
        stale = alice.post(edit, {**body, "title": "Draft v3"})
        html = stale.content.decode()
        assert stale.status_code == 409 and "Draft v2" in html and 'value="Draft v3"' in html
        item.refresh_from_db()
        assert item.title == "Draft v2"

    def test_delete_a_goal_by_its_author_with_an_audit_entry(self, mentorship, resident, attending, client_for):
        item = ActionItemFactory(mentorship=mentorship, title="Draft", owner=resident, created_by=resident)
        # Carol shares the plan but did not add this goal, nor owns it: she may not remove it.
        assert client_for(attending).post(f"/action-items/{item.pk}/delete/", {"version": "1"}).status_code == 403
        response = client_for(resident).post(f"/action-items/{item.pk}/delete/", {"version": "1"})
        assert response.status_code == 302 and not ActionItem.objects.filter(pk=item.pk).exists()
        assert AuditEntry.objects.filter(action="action_item.delete", object_id=str(item.pk)).exists()

    def test_undo_a_status_change(self, mentorship, resident, client_for):
        item = ActionItemFactory(mentorship=mentorship, title="Draft", owner=resident, created_by=resident)
        alice = client_for(resident)
        page = alice.post(f"/action-items/{item.pk}/", {"status": "done"}, follow=True).content.decode()
        assert "“Draft” is now done." in page and ">Undo</button>" in page
        item.refresh_from_db()
        assert item.status == "done"
        assert 'name="version" value="2"' in page and 'name="status" value="open"' in page
        # The offer shows once, like a message.
        assert ">Undo</button>" not in alice.get(mentorship.get_absolute_url()).content.decode()
        back = alice.post(f"/action-items/{item.pk}/", {"status": "open", "undo": "1", "version": "2"}, follow=True)
        assert "Undone: “Draft” is open again." in back.content.decode()
        item.refresh_from_db()
        assert item.status == "open" and item.completed_at is None
        assert AuditEntry.objects.filter(action="action_item.undo", object_id=str(item.pk)).exists()

    def test_resource_edit_and_delete_by_its_sharer(self, mentorship, resident, attending, client_for):
        resource = resource_share(mentorship=mentorship, actor=attending, title="A paper", url="https://example.org/p")
        carol = client_for(attending)
        assert f"/resources/{resource.pk}/edit/" in carol.get(mentorship.get_absolute_url()).content.decode()
        assert (
            f"/resources/{resource.pk}/edit/"
            not in client_for(resident).get(mentorship.get_absolute_url()).content.decode()
        )
        saved = carol.post(
            f"/resources/{resource.pk}/edit/", {"title": "The paper", "url": "https://example.org/p", "version": "1"}
        )
        assert saved.status_code == 302
        assert carol.post(f"/resources/{resource.pk}/delete/", {"version": "2"}).status_code == 302
        assert not Resource.objects.filter(pk=resource.pk).exists()
        assert AuditEntry.objects.filter(action="resource.delete", object_id=str(resource.pk)).exists()

    def test_hostile_callers(
        self, mentorship, resident, attending, coordinator, other_coordinator, outsider, client_for
    ):
        item = ActionItemFactory(mentorship=mentorship, title="Draft", owner=resident, created_by=resident)
        resource = resource_share(mentorship=mentorship, actor=attending, title="A paper", url="https://example.org/p")
        # Their coordinator may know these exist (403); anyone else is told nothing (404).
        expected = {coordinator: 403, other_coordinator: 404, outsider: 404}
        for person, code in expected.items():
            client = client_for(person)
            assert client.get(f"/action-items/{item.pk}/edit/").status_code == code
            assert client.post(f"/action-items/{item.pk}/delete/", {}).status_code == code
            assert client.post(f"/action-items/{item.pk}/", {"status": "done"}).status_code == code
            assert client.get(f"/resources/{resource.pk}/edit/").status_code == code
            assert client.post(f"/resources/{resource.pk}/delete/", {}).status_code == code
        # The mentee sees the resource but it is not hers to change.
        assert client_for(resident).get(f"/resources/{resource.pk}/edit/").status_code == 403
        item.refresh_from_db()
        assert item.status == "open" and Resource.objects.filter(pk=resource.pk).exists()


class TestMeetingDetailsPage:
    def test_add_the_place_afterwards(self, mentorship, resident, attending, client_for):
        meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=[_in(3)])
        carol = client_for(attending)
        assert "Add the place or video link" in carol.get(f"/meetings/{meeting.pk}/").content.decode()
        response = carol.post(
            f"/meetings/{meeting.pk}/details/", {"location": "Room 4B", "video_url": "", "version": "1"}
        )
        assert response.status_code == 302
        meeting.refresh_from_db()
        assert meeting.location == "Room 4B" and meeting.sequence == 1
        stale = client_for(resident).post(
            f"/meetings/{meeting.pk}/details/", {"location": "Café", "video_url": "", "version": "1"}
        )
        assert stale.status_code == 409 and "Room 4B" in stale.content.decode()

    def test_not_for_a_stranger(self, mentorship, resident, outsider, coordinator, client_for):
        meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=[_in(3)])
        assert client_for(outsider).post(f"/meetings/{meeting.pk}/details/", {"location": "x"}).status_code == 404
        assert client_for(coordinator).post(f"/meetings/{meeting.pk}/details/", {"location": "x"}).status_code == 403


def _expire_sessions():
    """Every session expires on the server: its row and its cached copy (cached_db) are gone."""
    for key in Session.objects.values_list("session_key", flat=True):
        cache.delete(SessionStore(key).cache_key)
    Session.objects.all().delete()


class TestExpiredSession:
    def test_a_post_after_the_session_expired_goes_back_to_the_form_page(self, mentorship, resident):
        browser = Client()
        assert browser.post("/accounts/login/", {"login": resident.email, "password": PASSWORD}).status_code == 302
        assert SIGNED_IN_COOKIE in browser.cookies
        _expire_sessions()

        page = f"http://testserver{mentorship.get_absolute_url()}"
        sent = browser.post(f"/mentorships/{mentorship.pk}/action-items/", {"title": "x"}, HTTP_REFERER=page)
        assert sent.status_code == 302 and sent["Location"].startswith("/accounts/login/")
        # The sign-in page sends itself the form's page as ``next`` (the action URL has none).
        hop = browser.get(sent["Location"], HTTP_REFERER=page)
        assert hop.status_code == 302 and "expired=1" in hop["Location"]
        login = browser.get(hop["Location"], HTTP_REFERER=page)
        html = login.content.decode()
        assert "Your session expired" in html
        assert f'name="next" value="{mentorship.get_absolute_url()}"' in html
        signed_in = browser.post(
            hop["Location"], {"login": resident.email, "password": PASSWORD, "next": mentorship.get_absolute_url()}
        )
        assert signed_in["Location"] == mentorship.get_absolute_url()
        assert ActionItem.objects.count() == 0

    def test_no_expiry_message_for_someone_who_signed_out_or_never_signed_in(self, resident, mentorship):
        stranger = Client()
        response = stranger.get(
            f"/accounts/login/?next={mentorship.get_absolute_url()}", HTTP_REFERER="http://testserver/"
        )
        assert response.status_code == 200 and "Your session expired" not in response.content.decode()
        browser = Client()
        browser.post("/accounts/login/", {"login": resident.email, "password": PASSWORD})
        browser.post("/accounts/logout/")
        assert not browser.cookies[SIGNED_IN_COOKIE].value
        response = browser.get("/accounts/login/?next=/mentorships/", HTTP_REFERER="http://testserver/mentorships/")
        assert response.status_code == 200 and "Your session expired" not in response.content.decode()

    def test_a_referer_of_another_site_is_not_followed(self, resident, mentorship):
        browser = Client()
        browser.post("/accounts/login/", {"login": resident.email, "password": PASSWORD})
        _expire_sessions()
        hop = browser.get("/accounts/login/?next=/mentorships/", HTTP_REFERER="https://evil.example/phish")
        assert hop.status_code == 302 and "next=%2Fmentorships%2F" in hop["Location"]


class TestMeetingLength:
    """The propose form has one length: "Update suggested times" shows times for it and keeps
    everything typed; nothing is sent."""

    def test_update_suggested_times_keeps_what_was_typed_and_sends_nothing(
        self, mentorship, resident, attending, client_for
    ):
        from accounts.models import AvailabilityWindow

        attending.time_zone = resident.time_zone
        attending.save(update_fields=["time_zone"])
        for person in (resident, attending):
            for day in AvailabilityWindow.Weekday.values:
                AvailabilityWindow.objects.create(user=person, weekday=day, start="10:00", end="11:00")
        alice = client_for(resident)
        url = f"/mentorships/{mentorship.pk}/meetings/new/"
        page = alice.get(url).content.decode()
        assert page.count('name="duration_minutes"') == 1  # one length picker
        assert 'name="suggested"' in page and "No shared free time" not in page

        when = timezone.localtime(_in(3), ZoneInfo(resident.time_zone)).strftime("%Y-%m-%dT%H:%M")
        body = {
            "duration_minutes": 90,
            "custom_1": when,
            "format": "in-person",
            "location": "Room 4B",
            "once": _once(alice, url),
            "refresh_suggestions": "1",
        }
        response = alice.post(url, body)
        assert response.status_code == 200 and not Meeting.objects.filter(mentorship=mentorship).exists()
        html = response.content.decode()
        # A 90-minute meeting does not fit the one shared hour: no suggestions, and no error.
        assert "No shared free time for a meeting of 1½ hours" in html and "errorlist" not in html
        assert "The longest time you are both free is 60 minutes: choose a shorter length." in html
        assert '<option value="90" selected>' in html
        assert f'value="{when}"' in html and 'value="Room 4B"' in html
        assert re.search(r'<option value="in-person" selected>', html)

        body["duration_minutes"] = 60
        html = alice.post(url, body).content.decode()
        assert 'name="suggested"' in html and "No shared free time" not in html
        assert f'value="{when}"' in html
