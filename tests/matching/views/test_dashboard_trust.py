"""Issue 15, "a match a coordinator can trust", as people read it: an unmatched resident is told
so after publishing, with the reason and what to do; the rank page says the outcome once it is
known; the mentor count counts only mentors with a free spot; a site administrator gets
administration, not profile prompts; and every page counts a program's people the same way."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.institutions import institution_programs
from accounts.models import InstitutionRole, Membership
from matching.models import MatchProposal, MatchRun, Mentorship
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

REASON = "there were 1 places for 2 residents; every mentor you could be paired with filled their spots"
DASHBOARD = reverse("matching:dashboard")


def _published_run(program, coordinator, *, mentees, mentors, kind="career"):
    now = timezone.now()
    run = MatchRun.objects.create(
        program=program,
        kind=kind,
        status=MatchRun.Status.SUCCEEDED,
        created_by=coordinator,
        ranking_deadline=now - timedelta(days=2),
        published_at=now - timedelta(hours=1),
        published_by=coordinator,
    )
    run.mentees.set(mentees)
    run.mentors.set(mentors)
    return run


@pytest.fixture
def published(program, coordinator, resident, other_resident, attending):
    """Bob got Carol; Alice was left out for want of places."""
    run = _published_run(program, coordinator, mentees=[resident, other_resident], mentors=[attending])
    MatchProposal.objects.create(run=run, mentee=resident, why_not="(coordinator's)", why_not_for_mentee=REASON)
    MatchProposal.objects.create(
        run=run, mentee=other_resident, mentor=attending, decision=MatchProposal.Decision.ACCEPTED
    )
    Mentorship.objects.create(
        mentee=other_resident, mentor=attending, program=program, kind="career", source=Mentorship.Source.MATCH_RUN
    )
    return run


# --- An unmatched resident after publishing.


def test_an_unmatched_resident_is_told_they_were_not_matched_why_and_what_to_do(client_for, published, resident):
    response = client_for(resident).get(DASHBOARD)

    html = response.content.decode()
    assert "You were not matched in the Internal Medicine Residency career match" in html
    assert f"<strong>Why:</strong> {REASON[0].upper()}{REASON[1:]}." in html
    assert f'href="{reverse("matching:mentor-directory")}">Browse the mentor directory</a>' in html
    assert "will follow up" in html
    # It is what waits for them, so the page no longer says nothing does.
    assert "Nothing needs you right now." not in html
    assert "the Internal Medicine Residency match did not pair you" in html


def test_the_matched_resident_sees_no_such_notice(client_for, published, other_resident):
    html = client_for(other_resident).get(DASHBOARD).content.decode()
    assert "You were not matched" not in html


def test_the_notice_goes_once_the_resident_has_a_mentor_of_that_kind(client_for, published, resident, other_attending):
    Mentorship.objects.create(
        mentee=resident, mentor=other_attending, program=published.program, kind="career", source="request"
    )
    html = client_for(resident).get(DASHBOARD).content.decode()
    assert "You were not matched" not in html


def test_an_unpublished_or_discarded_run_says_nothing_yet(client_for, published, resident):
    MatchRun.objects.filter(pk=published.pk).update(published_at=None)
    assert "You were not matched" not in client_for(resident).get(DASHBOARD).content.decode()
    MatchRun.objects.filter(pk=published.pk).update(published_at=timezone.now(), archived_at=timezone.now())
    assert "You were not matched" not in client_for(resident).get(DASHBOARD).content.decode()


@pytest.mark.parametrize("decision", [MatchProposal.Decision.REJECTED, MatchProposal.Decision.PENDING])
def test_a_rejected_or_displaced_proposal_is_not_revealed_nor_blamed_on_the_engine(
    client_for, published, resident, attending, decision
):
    # Rejected (or displaced by an override, which rejects it) or never confirmed: the resident
    # is not told a mentor was proposed to them, nor given the engine's reason.
    MatchProposal.objects.filter(run=published, mentee=resident).update(mentor=attending, decision=decision)
    response = client_for(resident).get(DASHBOARD)
    html = response.content.decode()
    assert [t.detail for t in response.context["mentee_tasks"] if t.kind == "not_matched"] == ["what you can do, below"]
    assert "You were not matched in the Internal Medicine Residency career match" in html
    assert "This match did not pair you with a mentor; your coordinator will follow up." in html
    assert "proposed" not in html.split('class="card not-matched"')[1].split("</section>")[0]
    assert attending.full_name not in html and REASON not in html and "Why:" not in html


def test_the_closed_ranking_page_does_not_reveal_a_rejected_proposal_either(client_for, published, resident, attending):
    MatchProposal.objects.filter(run=published, mentee=resident).update(
        mentor=attending, decision=MatchProposal.Decision.REJECTED
    )
    html = client_for(resident).get(reverse("matching:match-run-rank", args=[published.pk])).content.decode()
    assert "You were not matched in this match." in html
    assert "This match did not pair you with a mentor." in html
    assert "proposed for you" not in html and REASON not in html


def test_a_later_round_that_matched_them_wins(client_for, published, resident, other_attending, coordinator):
    second = _published_run(published.program, coordinator, mentees=[resident], mentors=[other_attending])
    MatchRun.objects.filter(pk=second.pk).update(published_at=timezone.now())
    MatchProposal.objects.create(
        run=second, mentee=resident, mentor=other_attending, decision=MatchProposal.Decision.ACCEPTED
    )
    assert "You were not matched" not in client_for(resident).get(DASHBOARD).content.decode()


# --- The rank page once the match is published.


def _rank_page(client_for, run, user):
    return client_for(user).get(reverse("matching:match-run-rank", kwargs={"pk": run.pk})).content.decode()


def test_the_closed_rank_page_says_the_outcome_once_published(client_for, published, resident, other_resident):
    mine = _rank_page(client_for, published, resident)
    assert "results are out" in mine
    assert "You were not matched in this match." in mine and f"Why: {REASON[0].upper()}{REASON[1:]}." in mine
    assert "you are matched by fit score" not in mine  # it no longer speaks of the future
    assert "the match went by fit score for you" in mine

    theirs = _rank_page(client_for, published, other_resident)
    assert "You were matched with Carol Chen." in theirs and "You were not matched" not in theirs


def test_the_closed_rank_page_tells_a_mentor_whom_they_got(client_for, published, attending):
    html = _rank_page(client_for, published, attending)
    assert "It paired you with Bob Brown." in html and "Alice Adams" not in html


def test_before_publishing_the_closed_rank_page_promises_results(client_for, published, resident):
    MatchRun.objects.filter(pk=published.pk).update(published_at=None)
    html = _rank_page(client_for, published, resident)
    assert "results soon" in html and "you are matched by fit score" in html
    assert "You were not matched" not in html and REASON not in html


# --- How many mentors a resident could ask.


def test_the_mentor_count_counts_only_mentors_with_a_free_spot(client_for, program, resident, other_resident):
    def mentor(capacity, accepting=True, active=0):
        user = UserFactory()
        MembershipFactory(user=user, program=program, role="faculty")
        MentorProfileFactory(user=user, capacity=capacity, accepting_mentees=accepting)
        for _ in range(active):
            mentee = UserFactory()
            MenteeProfileFactory(user=mentee)
            Mentorship.objects.create(mentee=mentee, mentor=user, program=program, kind="career", source="request")
        return user

    mentor(capacity=2, active=1)  # one spot free: counts
    mentor(capacity=1)  # counts
    mentor(capacity=1, active=1)  # full
    mentor(capacity=2, active=2)  # full
    mentor(capacity=0)  # no spots at all
    mentor(capacity=3, accepting=False)  # not accepting
    ended = mentor(capacity=1)  # a mentorship that ended frees its spot
    Mentorship.objects.create(
        mentee=other_resident,
        mentor=ended,
        program=program,
        kind="career",
        source="request",
        status=Mentorship.Status.ENDED,
    )

    response = client_for(resident).get(DASHBOARD)

    assert response.context["accepting_mentor_count"] == 3
    assert "3 mentors have a free spot and are accepting mentees right now." in response.content.decode()


# --- A site administrator.


def test_a_superuser_gets_administration_and_no_profile_prompts(client_for, program):
    root = UserFactory(is_superuser=True, is_staff=True, first_name="Root")
    html = client_for(root).get(DASHBOARD).content.decode()

    assert "Create your mentee profile" not in html and "Create your mentor profile" not in html
    assert "Waiting for you" not in html and "You're not on a program yet" not in html
    assert "Site administration" in html
    assert f'href="{reverse("accounts:institution", args=[program.institution.slug])}"' in html
    assert f'href="{reverse("admin:index")}"' in html
    assert f'href="{reverse("admin:accounts_program_changelist")}"' in html


def test_a_superuser_who_is_also_a_resident_keeps_their_own_profile(client_for, resident):
    resident.is_superuser = True
    resident.save(update_fields=["is_superuser"])
    html = client_for(resident).get(DASHBOARD).content.decode()
    assert "Site administration" in html
    assert "Your mentorship" in html and "Create your mentor profile" not in html


def test_someone_else_gets_no_administration(client_for, resident):
    assert "Site administration" not in client_for(resident).get(DASHBOARD).content.decode()


# --- One head count.


def test_the_dashboard_and_the_institution_page_count_a_programs_people_alike(
    client_for, program, other_program, coordinator, resident, other_resident, attending
):
    # A near-peer (resident and faculty: one person), a coordinator who also mentors, a coordinator
    # only (staff, not roster), an invitee who has not set a password, and someone elsewhere.
    near_peer = UserFactory()
    MembershipFactory(user=near_peer, program=program, role="resident")
    MembershipFactory(user=near_peer, program=program, role="faculty")
    MembershipFactory(user=coordinator, program=program, role="faculty")
    invitee = UserFactory()
    invitee.set_unusable_password()
    invitee.save()
    MembershipFactory(user=invitee, program=program, role="resident")
    MembershipFactory(user=UserFactory(), program=program, role=Membership.Role.COORDINATOR)
    MembershipFactory(user=UserFactory(), program=other_program, role="resident")
    admin = UserFactory()
    InstitutionRole.objects.create(institution=program.institution, user=admin)

    dashboard = client_for(coordinator).get(DASHBOARD)
    [summary] = dashboard.context["coordinated_programs"]
    # The dashboard says what it counts: the invitee, who has no password and never signed in.
    assert re.search(
        r'<div class="stat">1</div><div class="stat-label">haven\'t taken their account', dashboard.content.decode()
    )
    (row,) = institution_programs(program.institution)
    page = client_for(admin).get(reverse("accounts:institution", args=[program.institution.slug]))

    counts = ("resident_count", "faculty_count", "member_count", "awaiting_count")
    assert [getattr(summary, c) for c in counts] == [getattr(row, c) for c in counts]
    # Alice, Bob, the near-peer, the invitee; Carol, the near-peer, Cora; six people once each.
    assert [getattr(row, c) for c in counts] == [4, 3, 6, 1]
    html = page.content.decode()
    assert '<td data-label="Members" class="num"><span>6 ' in html
    assert "(4 residents · 3 faculty)" in html
