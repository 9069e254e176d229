"""The mentorship pages: my mentorships, the pair's shared page, its forms, and introductions."""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import MentorProfile
from matching.models import ActionItem, Agreement, CheckIn, Introduction, Mentorship, Resource
from matching.services.mentorships import mentorship_end
from matching.services.plan import (
    action_item_update,
    agreement_update,
    checkin_submit,
    introduction_create,
    resource_share,
    resource_update,
)
from tests.factories import MembershipFactory, MentorProfileFactory, UserFactory
from tests.matching.factories import ActionItemFactory, MentorshipFactory

pytestmark = pytest.mark.django_db

SECRET = "Carol keeps cancelling on me, SECRET-7731"


def UserWithMentorProfile(program):  # noqa: N802  (reads like a factory)
    user = UserFactory()
    MembershipFactory(user=user, program=program, role="faculty")
    MentorProfileFactory(user=user)
    return user


def _detail(mentorship):
    return reverse("matching:mentorship-detail", args=[mentorship.pk])


def _url(name, obj):
    return reverse(f"matching:{name}", args=[obj.pk])


def _begun_days_ago(mentorship, days):
    Mentorship.objects.filter(pk=mentorship.pk).update(started_at=timezone.now() - timedelta(days=days))
    mentorship.refresh_from_db()
    return mentorship


class TestMyMentorships:
    def test_active_first_then_past(self, client_for, program, resident, attending, other_attending):
        past = MentorshipFactory(mentee=resident, mentor=other_attending, program=program, kind="research")
        mentorship_end(mentorship=past, actor=resident, reason="Project done.", completed=True)
        MentorshipFactory(mentee=resident, mentor=attending, program=program)

        html = client_for(resident).get(reverse("matching:mentorships")).content.decode()

        assert html.index("Carol Chen") < html.index("Past") < html.index("Dave Diaz")

    def test_the_mentor_sees_their_mentees(self, client_for, mentorship, attending):
        response = client_for(attending).get(reverse("matching:mentorships"))
        assert "Alice Adams, your career mentee" in response.content.decode()

    def test_a_coordinator_does_not_see_the_programs_pairs_here(self, client_for, mentorship, coordinator):
        response = client_for(coordinator).get(reverse("matching:mentorships"))
        assert response.status_code == 200
        assert "Alice Adams" not in response.content.decode()

    def test_query_count_does_not_grow_with_mentorships(
        self, client_for, program, resident, attending, other_attending
    ):
        MentorshipFactory(mentee=resident, mentor=attending, program=program)
        client = client_for(resident)
        client.get(reverse("matching:mentorships"))  # the first request also records last_seen
        with CaptureQueriesContext(connection) as one:
            client.get(reverse("matching:mentorships"))
        past = MentorshipFactory(mentee=resident, mentor=other_attending, program=program, kind="research")
        mentorship_end(mentorship=past, actor=resident, reason="Done", completed=True)
        MentorshipFactory(mentee=resident, mentor=UserWithMentorProfile(program), program=program, kind="wellness")

        with CaptureQueriesContext(connection) as three:
            client.get(reverse("matching:mentorships"))

        # One query for the mentorships (people, program and agreement joined); the rest is
        # the session, the user and the base template's role checks and bell.
        assert len(three) == len(one)


class TestSharedPage:
    def test_the_pair_sees_the_agreement_at_the_top_and_every_section(
        self, client_for, mentorship, resident, attending
    ):
        agreement_update(mentorship=mentorship, actor=attending, preferred_channel="Teams chat")
        for user in (resident, attending):
            html = client_for(user).get(_detail(mentorship)).content.decode()
            assert html.index("Our agreement") < html.index("Action plan")
            assert "Teams chat" in html
            assert _url("mentorship-agreement", mentorship) in html
            assert _url("action-item-create", mentorship) in html
            assert 'id="meetings"' in html

    def test_query_count_does_not_grow_with_goals_resources_or_introductions(
        self, client_for, mentorship, attending, other_attending, program
    ):
        client = client_for(attending)
        client.get(_detail(mentorship))  # the first request also records last_seen
        with CaptureQueriesContext(connection) as before:
            client.get(_detail(mentorship))
        for n in range(3):
            ActionItemFactory(mentorship=mentorship, due_date=timezone.localdate() - timedelta(days=n))
            resource_share(mentorship=mentorship, actor=attending, title=f"Link {n}", url=f"https://example.org/{n}")
            introduction_create(
                mentorship=mentorship,
                actor=attending,
                colleague=UserWithMentorProfile(program),
                note="n",
                kind="research",
            )

        with CaptureQueriesContext(connection) as after:
            client.get(_detail(mentorship))

        # Goals (with owners), resources (with who shared them) and introductions (with the
        # colleague) are one query each, whatever their number.
        assert len(after) == len(before)

    def test_an_outsider_gets_404(self, client_for, mentorship, outsider, other_resident):
        assert client_for(outsider).get(_detail(mentorship)).status_code == 404
        assert client_for(other_resident).get(_detail(mentorship)).status_code == 404

    def test_a_coordinator_of_another_program_gets_404(self, client_for, mentorship, other_coordinator):
        assert client_for(other_coordinator).get(_detail(mentorship)).status_code == 404

    def test_the_programs_coordinator_views_it_read_only(self, client_for, mentorship, coordinator):
        ActionItemFactory(mentorship=mentorship, title="Submit the abstract")
        response = client_for(coordinator).get(_detail(mentorship))

        html = response.content.decode()
        assert response.status_code == 200
        assert "Submit the abstract" in html and "Read-only" in html
        # Nothing here changes the mentorship: the one form a coordinator gets nudges the pair to meet.
        assert re.findall(r'method="post" action="([^"]+)"', html.split("<main")[1]) == [
            f"/programs/{mentorship.program.slug}/pairings/{mentorship.pk}/nudge/"
        ]
        assert "Edit the agreement" not in html and "End or complete" not in html

    def test_an_overdue_goal_is_marked_with_text_not_colour_alone(self, client_for, mentorship, resident):
        ActionItemFactory(
            mentorship=mentorship, title="Email the PD", due_date=timezone.localdate() - timedelta(days=2)
        )
        ActionItemFactory(mentorship=mentorship, title="Later goal", due_date=timezone.localdate() + timedelta(days=9))

        html = client_for(resident).get(_detail(mentorship)).content.decode()

        row = html[html.index("Email the PD") : html.index("Later goal")]
        assert "Overdue" in row
        assert html.count(">Overdue<") == 1

    def test_the_mentee_has_no_share_or_introduce_forms(self, client_for, mentorship, resident, attending):
        mentee_html = client_for(resident).get(_detail(mentorship)).content.decode()
        mentor_html = client_for(attending).get(_detail(mentorship)).content.decode()
        for name in ("resource-create", "introduction-create"):
            assert _url(name, mentorship) not in mentee_html
            assert _url(name, mentorship) in mentor_html


class TestCheckInConfidentiality:
    def test_nobody_but_the_author_sees_even_that_they_checked_in(
        self, client_for, mentorship, resident, attending, coordinator
    ):
        checkin_submit(mentorship=mentorship, actor=resident, rating=2, comment=SECRET)

        mentee_html = client_for(resident).get(_detail(mentorship)).content.decode()
        assert "You checked in on" in mentee_html
        assert SECRET not in mentee_html
        for viewer in (attending, coordinator):
            html = client_for(viewer).get(_detail(mentorship)).content.decode()
            assert SECRET not in html
            assert "checked in on" not in html

    def test_no_form_before_the_first_check_in_is_due(self, client_for, mentorship, resident, attending):
        # Two weeks in, as the dashboard's reminder counts it (selectors.dashboard.checkins_due).
        _begun_days_ago(mentorship, 13)
        opens = timezone.localtime(mentorship.started_at + timedelta(days=14), mentorship.mentee.zone)
        for user in (resident, attending):
            html = client_for(user).get(_detail(mentorship)).content.decode()
            assert _url("checkin-create", mentorship) not in html
            assert f"Your first check-in opens on {opens.day} {opens:%b %Y}" in html
        _begun_days_ago(mentorship, 14)
        html = client_for(resident).get(_detail(mentorship)).content.decode()
        assert _url("checkin-create", mentorship) in html and "first check-in opens" not in html

    def test_the_form_says_it_is_confidential_and_labels_each_rating(self, client_for, mentorship, resident):
        _begun_days_ago(mentorship, 20)
        html = client_for(resident).get(_detail(mentorship)).content.decode()
        assert (
            "Confidential to your program&#x27;s coordinators" in html
            or "Confidential to your program's coordinators" in html
        )
        assert "1 — Not well" in html and "5 — Very well" in html
        assert 'type="radio"' in html

    def test_check_in_through_the_page_then_a_second_is_refused(self, client_for, mentorship, resident):
        _begun_days_ago(mentorship, 20)
        client = client_for(resident)
        url = _url("checkin-create", mentorship)
        assert url in client.get(_detail(mentorship)).content.decode()

        assert client.post(url, {"rating": "4", "comment": "Good"}).status_code == 302
        # The form is gone for the month.
        assert url not in client.get(_detail(mentorship)).content.decode()
        second = client.post(url, {"rating": "5"})
        assert second.status_code == 400
        assert "already checked in this month" in second.content.decode()
        assert CheckIn.objects.count() == 1

    def test_a_rating_outside_1_to_5_is_refused(self, client_for, mentorship, resident):
        response = client_for(resident).post(_url("checkin-create", mentorship), {"rating": "6"})
        assert response.status_code == 400
        assert not CheckIn.objects.exists()

    def test_a_coordinator_cannot_check_in(self, client_for, mentorship, coordinator):
        assert client_for(coordinator).post(_url("checkin-create", mentorship), {"rating": "3"}).status_code == 403


class TestAgreementShown:
    def test_a_fresh_agreement_is_not_shown_as_agreed(self, client_for, mentorship, resident, coordinator):
        # As mentorship_create leaves it: the defaults ("Every month"), version 1, saved by nobody.
        mine = client_for(resident).get(_detail(mentorship)).content.decode()
        link = _url("mentorship-agreement", mentorship)
        assert f'Not agreed yet — <a href="{link}">fill in the agreement</a>' in mine
        assert "Every month" not in mine and "We meet" not in mine
        coordinators = client_for(coordinator).get(_detail(mentorship)).content.decode()
        assert "Not agreed yet." in coordinators and "Every month" not in coordinators
        listed = client_for(resident).get(reverse("matching:mentorships")).content.decode()
        assert "agreement not filled in yet" in listed and "meets every month" not in listed

    def test_once_saved_the_default_cadence_is_what_they_agreed(self, client_for, mentorship, resident, attending):
        agreement_update(mentorship=mentorship, actor=attending, cadence="monthly", preferred_channel="Teams")
        mine = client_for(resident).get(_detail(mentorship)).content.decode()
        assert "Every month" in mine and "Teams" in mine and "Not agreed yet" not in mine
        assert "Last edited by Carol Chen" in mine
        listed = client_for(resident).get(reverse("matching:mentorships")).content.decode()
        assert "meets every month" in listed and "not filled in yet" not in listed


class TestAgreementPage:
    def test_either_party_edits_it(self, client_for, mentorship, attending):
        client = client_for(attending)
        url = _url("mentorship-agreement", mentorship)
        assert client.get(url).status_code == 200

        response = client.post(
            url, {"cadence": "weekly", "preferred_channel": "Pager", "expectations": "", "first_goals": "ITE prep"}
        )

        assert response.status_code == 302 and response.url == _detail(mentorship)
        agreement = Agreement.objects.get(mentorship=mentorship)
        assert (agreement.cadence, agreement.first_goals) == ("weekly", "ITE prep")

    def test_coordinator_403_outsider_404(self, client_for, mentorship, coordinator, outsider):
        url = _url("mentorship-agreement", mentorship)
        assert client_for(coordinator).get(url).status_code == 403
        assert client_for(outsider).get(url).status_code == 404


class TestActionPlanForms:
    def test_add_a_goal_and_change_its_status(self, client_for, mentorship, resident, attending):
        client = client_for(resident)
        due = (timezone.localdate() + timedelta(days=14)).isoformat()

        response = client.post(
            _url("action-item-create", mentorship), {"title": "Draft CV", "due_date": due, "owner": attending.pk}
        )

        assert response.status_code == 302
        item = ActionItem.objects.get()
        assert item.owner == attending
        client.post(_url("action-item-update", item), {"status": "done"})
        item.refresh_from_db()
        assert item.status == "done" and item.completed_at is not None

    def test_an_empty_goal_shows_the_error_on_the_page(self, client_for, mentorship, resident):
        response = client_for(resident).post(
            _url("action-item-create", mentorship), {"title": "", "owner": resident.pk}
        )
        assert response.status_code == 400
        assert "Please fix" in response.content.decode()

    def test_the_coordinator_cannot_change_a_goal(self, client_for, mentorship, coordinator, outsider):
        item = ActionItemFactory(mentorship=mentorship)
        assert client_for(coordinator).post(_url("action-item-update", item), {"status": "done"}).status_code == 403
        assert client_for(outsider).post(_url("action-item-update", item), {"status": "done"}).status_code == 404


class TestResourcesForm:
    def test_the_mentor_shares_and_the_mentee_sees_it(self, client_for, mentorship, resident, attending):
        client_for(attending).post(
            _url("resource-create", mentorship),
            {"title": "AAMC Careers in Medicine", "url": "https://www.aamc.org/cim", "note": "Start here"},
        )
        html = client_for(resident).get(_detail(mentorship)).content.decode()
        assert "AAMC Careers in Medicine" in html and "Start here" in html

    def test_the_mentee_cannot_share(self, client_for, mentorship, resident):
        response = client_for(resident).post(
            _url("resource-create", mentorship), {"title": "x", "url": "https://example.org"}
        )
        assert response.status_code == 403
        assert not Resource.objects.exists()


# What removing a goal or a resource needs: its routes, its model, who may remove it, and
# how someone changes it meanwhile.
REMOVALS = {
    "goal": (
        "action-item-delete",
        "action-item-edit",
        "#plan",
        ActionItem,
        "resident",
        lambda row, who: action_item_update(item=row, actor=who, title="Draft the abstract, v2"),
    ),
    "resource": (
        "resource-delete",
        "resource-edit",
        "#resources",
        Resource,
        "attending",
        lambda row, who: resource_update(resource=row, actor=who, title="A paper, v2"),
    ),
}


class TestRemovingAGoalOrAResource:
    @pytest.mark.parametrize("kind", REMOVALS)
    def test_removed_from_the_version_shown_else_sent_to_look_first(self, request, kind, client_for, mentorship):
        delete, edit, anchor, model, who, change = REMOVALS[kind]
        row = request.getfixturevalue(kind)
        person = request.getfixturevalue(who)
        client = client_for(person)
        shown = row.version
        change(row, person)  # in another tab, since the page was opened

        stale = client.post(_url(delete, row), {"version": shown})
        assert stale.status_code == 302 and stale.url == _url(edit, row)
        assert "changed since you opened it" in str(list(get_messages(stale.wsgi_request))[0])
        assert model.objects.filter(pk=row.pk).exists()

        row.refresh_from_db()
        done = client.post(_url(delete, row), {"version": row.version})
        assert done.status_code == 302 and done.url == _detail(mentorship) + anchor
        assert "is removed" in str(list(get_messages(done.wsgi_request))[-1])
        assert not model.objects.filter(pk=row.pk).exists()


class TestIntroductionPages:
    def test_introduce_then_the_colleague_accepts_as_a_mentorship(
        self, client_for, mentorship, attending, other_attending, resident
    ):
        response = client_for(attending).post(
            _url("introduction-create", mentorship),
            {"colleague": other_attending.pk, "kind": "research", "note": "Alice wants a QI project."},
        )
        assert response.status_code == 302
        introduction = Introduction.objects.get()

        colleague = client_for(other_attending)
        page = colleague.get(reverse("matching:introductions")).content.decode()
        assert "Alice wants a QI project." in page
        assert _url("introduction-respond", introduction) in page

        colleague.post(_url("introduction-respond", introduction), {"response": "mentorship"})
        assert Mentorship.objects.get(mentor=other_attending).kind == "research"

    def test_the_colleague_choices_exclude_the_pair(self, client_for, mentorship, attending, other_attending):
        html = client_for(attending).get(_detail(mentorship)).content.decode()
        form = html[html.index('id="introduce-h"') :]
        assert f'value="{other_attending.pk}"' in form
        assert f'value="{attending.pk}"' not in form.split("</select>")[0]

    def test_accept_as_a_meeting_shows_the_mentees_email(
        self, client_for, mentorship, attending, other_attending, resident
    ):
        introduction = introduction_create(
            mentorship=mentorship, actor=attending, colleague=other_attending, note="n", kind="career"
        )
        response = client_for(other_attending).post(
            _url("introduction-respond", introduction), {"response": "meeting"}, follow=True
        )
        assert resident.email in response.content.decode()

    def test_only_the_colleague_may_respond(self, client_for, mentorship, attending, other_attending, resident):
        introduction = introduction_create(
            mentorship=mentorship, actor=attending, colleague=other_attending, note="n", kind="career"
        )
        for user in (attending, resident):
            assert (
                client_for(user).post(_url("introduction-respond", introduction), {"response": "meeting"}).status_code
                == 404
            )
        introduction.refresh_from_db()
        assert introduction.status == "pending"

    def test_a_full_colleague_sees_a_clear_error(self, client_for, mentorship, attending, other_attending):
        introduction = introduction_create(
            mentorship=mentorship, actor=attending, colleague=other_attending, note="n", kind="research"
        )
        MentorProfile.objects.filter(user=other_attending).update(capacity=0)

        response = client_for(other_attending).post(
            _url("introduction-respond", introduction), {"response": "mentorship"}, follow=True
        )

        assert "no open spot" in response.content.decode()
        assert Introduction.objects.get().status == "pending"


class TestEndingPages:
    def test_the_mentee_completes_early_and_asks_for_a_rematch(self, client_for, mentorship, resident):
        client = client_for(resident)
        url = _url("mentorship-end", mentorship)
        assert "rematch" in client.get(url).content.decode()

        response = client.post(url, {"outcome": "completed", "reason": "Matched early!", "rematch": "on"})

        assert response.status_code == 302
        mentorship.refresh_from_db()
        assert (mentorship.status, mentorship.rematch_requested) == ("completed", True)

    def test_the_mentor_has_no_rematch_box_and_cannot_set_it(self, client_for, mentorship, attending):
        client = client_for(attending)
        url = _url("mentorship-end", mentorship)
        assert 'name="rematch"' not in client.get(url).content.decode()
        client.post(url, {"outcome": "ended", "reason": "Sabbatical", "rematch": "on"})
        mentorship.refresh_from_db()
        assert (mentorship.status, mentorship.rematch_requested) == ("ended", False)

    def test_the_rematch_flag_is_not_shown_to_the_mentor(
        self, client_for, mentorship, resident, attending, coordinator
    ):
        mentorship_end(mentorship=mentorship, actor=resident, reason="Different goals", completed=False, rematch=True)
        assert "Re-match requested" not in client_for(attending).get(_detail(mentorship)).content.decode()
        assert "Re-match requested" in client_for(coordinator).get(_detail(mentorship)).content.decode()

    def test_a_reason_is_required(self, client_for, mentorship, resident):
        response = client_for(resident).post(_url("mentorship-end", mentorship), {"outcome": "ended", "reason": ""})
        assert response.status_code == 400
        mentorship.refresh_from_db()
        assert mentorship.is_active

    def test_the_coordinator_cannot_end_it(self, client_for, mentorship, coordinator):
        assert (
            client_for(coordinator)
            .post(_url("mentorship-end", mentorship), {"outcome": "ended", "reason": "x"})
            .status_code
            == 403
        )

    def test_the_thank_you_note_is_kept_by_the_mentor(self, client_for, mentorship, resident, attending):
        mentorship_end(mentorship=mentorship, actor=attending, reason="Graduation", completed=True)
        mentee = client_for(resident)
        assert _url("mentorship-thanks", mentorship) in mentee.get(_detail(mentorship)).content.decode()

        mentee.post(_url("mentorship-thanks", mentorship), {"note": "You changed my career path."})

        mentor_html = client_for(attending).get(_detail(mentorship)).content.decode()
        assert "You changed my career path." in mentor_html
        assert _url("mentorship-thanks", mentorship) not in mentor_html

    def test_the_mentor_cannot_post_a_thank_you_note(self, client_for, mentorship, attending):
        mentorship_end(mentorship=mentorship, actor=attending, reason="Graduation", completed=True)
        assert client_for(attending).post(_url("mentorship-thanks", mentorship), {"note": "x"}).status_code == 403

    def test_an_ended_page_is_read_only(self, client_for, mentorship, resident):
        mentorship_end(mentorship=mentorship, actor=resident, reason="Done", completed=True)
        html = client_for(resident).get(_detail(mentorship)).content.decode()
        assert _url("action-item-create", mentorship) not in html
        assert _url("checkin-create", mentorship) not in html
        assert "Edit the agreement" not in html
