"""Publishing a run with proposals still waiting for a decision, and what the run says afterwards;
the confirm addresses opened with GET; the program in the trail; compare of a published run; the
override row and form."""

import csv
import io

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from matching.match_runs.selectors import review_summary
from matching.match_runs.services import match_run_publish, proposal_decide, proposal_override
from matching.models import MatchProposal, MatchRun, Mentorship

pytestmark = pytest.mark.django_db

Decision = MatchProposal.Decision


@pytest.fixture
def run_one_decided(start_run, coordinator):
    """A run with one proposal accepted and the other proposed pairs still waiting."""
    run = start_run()
    first = run.proposals.exclude(mentor=None).order_by("pk").first()
    proposal_decide(proposal=first, actor=coordinator, decision=Decision.ACCEPTED)
    waiting = run.proposals.filter(decision=Decision.PENDING).exclude(mentor=None).count()
    assert waiting >= 2  # the cohort gives several proposed pairs
    return run, first, waiting


def _publish_url(run):
    return reverse("matching:match-run-publish", args=[run.pk])


def _detail(run, query=""):
    return reverse("matching:match-run-detail", args=[run.pk]) + query


def _csv_decisions(client, run):
    response = client.get(reverse("matching:match-run-export", args=[run.pk]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    return [row["decision"] for row in rows]


# --- Publishing with proposals waiting.


def test_the_publish_step_says_how_many_wait_and_offers_both_ways(client_for, coordinator, run_one_decided):
    run, _, waiting = run_one_decided
    body = client_for(coordinator).get(_detail(run)).content.decode()
    assert f"{waiting} proposals are still waiting for a decision." in body
    # Neither way is highlighted: both cannot be undone, and each has its risk (see _actions.html).
    assert (
        f'name="waiting" value="accept" class="button-secondary">Accept the {waiting} waiting and publish {waiting + 1}<'
        in body
    )
    assert 'name="waiting" value="leave" class="button-secondary">Publish only the 1 decided<' in body
    # Each with its consequence beside it.
    assert 'data-waiting="leave"' in body and 'data-waiting="accept"' in body


def test_a_publish_without_a_choice_while_proposals_wait_only_asks(client_for, coordinator, run_one_decided):
    """An old form, a page without JavaScript, or a reload: the confirmation, and nothing published."""
    run, _, waiting = run_one_decided
    client = client_for(coordinator)
    for response in (client.post(_publish_url(run)), client.get(_publish_url(run))):
        assert response.status_code == 200
        html = response.content.decode()
        assert f"Publish with {waiting} proposals waiting?" in html
        assert f"{waiting} proposals are still waiting for a decision." in html
        # The same weight for both ways here too: neither is the primary button.
        assert (
            f'value="accept" class="button-secondary">Accept the {waiting} waiting and publish {waiting + 1}<' in html
        )
        assert 'value="leave" class="button-secondary">Publish only the 1 decided<' in html
        assert "Publish only the decided: starts 1 mentorship" in html
    run.refresh_from_db()
    assert not run.is_published and not Mentorship.objects.exists()


def test_publishing_only_the_decided_says_what_became_of_the_waiting_everywhere(
    client_for, coordinator, run_one_decided, django_capture_on_commit_callbacks
):
    run, first, waiting = run_one_decided
    client = client_for(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_publish_url(run), {"waiting": "leave"}, follow=True)
    run.refresh_from_db()
    assert run.is_published
    assert list(Mentorship.objects.values_list("mentee_id", flat=True)) == [first.mentee_id]
    html = response.content.decode()
    assert f"including {waiting} whose proposals were not decided before publishing." in html
    # The summary, the rows and the CSV no longer say "Pending", and agree on the count.
    assert f'<dt>Not decided before publishing</dt><dd data-count="pending">{waiting}</dd>' in html
    assert "Waiting for a decision</dt>" not in html
    # The Show filter speaks of what publishing did, not of what it would do.
    assert ">Without a mentor from this match</option>" in html and "if published now" not in html
    # The runs list counts what was published, and says so.
    runs = client.get(reverse("matching:match-runs", args=[run.program.slug])).content.decode()
    assert '1 <span class="muted small">published</span>' in runs
    listed = client.get(_detail(run, "?show=pending")).content.decode()
    assert listed.count('<span class="badge">Not decided before publishing</span>') == waiting
    assert ">Pending<" not in listed
    decisions = _csv_decisions(client, run)
    assert decisions.count("Not decided before publishing") == waiting and "Pending" not in decisions
    assert review_summary(run).pending == waiting
    entry = AuditEntry.objects.get(action="match_run.publish")
    assert entry.after == {"mentorships": 1, "not_decided": waiting}


def test_accepting_the_waiting_and_publishing_pairs_them_all(
    client_for, coordinator, run_one_decided, django_capture_on_commit_callbacks
):
    run, _, waiting = run_one_decided
    with django_capture_on_commit_callbacks(execute=True):
        client_for(coordinator).post(_publish_url(run), {"waiting": "accept"})
    run.refresh_from_db()
    assert run.is_published
    assert Mentorship.objects.count() == waiting + 1
    assert not run.proposals.filter(decision=Decision.PENDING).exclude(mentor=None).exists()
    assert AuditEntry.objects.filter(action="match_proposal.accepted").count() == waiting + 1


def test_the_service_accepts_the_waiting_under_its_own_lock(coordinator, run_one_decided):
    run, _, waiting = run_one_decided
    started = match_run_publish(run=run, actor=coordinator, accept_waiting=True)
    assert len(started) == waiting + 1


def test_the_service_without_accepting_leaves_the_waiting_unpublished(coordinator, run_one_decided):
    run, first, _ = run_one_decided
    started = match_run_publish(run=run, actor=coordinator)
    assert [m.mentee_id for m in started] == [first.mentee_id]


def test_a_run_with_nothing_waiting_publishes_from_the_review_step(
    client_for, coordinator, start_run, django_capture_on_commit_callbacks
):
    run = start_run()
    for p in run.proposals.exclude(mentor=None):
        proposal_decide(proposal=p, actor=coordinator, decision=Decision.ACCEPTED)
    body = client_for(coordinator).get(_detail(run)).content.decode()
    assert "still waiting" not in body and 'name="waiting"' not in body
    with django_capture_on_commit_callbacks(execute=True):
        client_for(coordinator).post(_publish_url(run))
    run.refresh_from_db()
    assert run.is_published


# --- Confirm addresses opened with GET.


def test_confirm_addresses_opened_with_get_ask_again_and_change_nothing(client_for, coordinator, run_one_decided):
    run, _, waiting = run_one_decided
    client = client_for(coordinator)
    accept_all = client.get(reverse("matching:match-run-accept-all", args=[run.pk]))
    assert accept_all.status_code == 200 and f"Accept all {waiting} remaining proposals?" in accept_all.content.decode()
    discard = client.get(reverse("matching:match-run-archive", args=[run.pk]))
    assert discard.status_code == 200 and f"Discard match #{run.pk}?" in discard.content.decode()
    run.refresh_from_db()
    assert not run.is_archived and run.proposals.filter(decision=Decision.PENDING).exclude(mentor=None).count() == (
        waiting
    )


def test_the_publish_address_of_a_published_run_goes_back_to_it_with_a_word(
    client_for, coordinator, run_one_decided, django_capture_on_commit_callbacks
):
    run, _, _ = run_one_decided
    with django_capture_on_commit_callbacks(execute=True):
        match_run_publish(run=run, actor=coordinator)
    response = client_for(coordinator).get(_publish_url(run), follow=True)
    assert response.redirect_chain == [(_detail(run), 302)]
    assert "This match has already been published." in response.content.decode()


# --- The program in the trail.


def test_run_pages_name_their_program_in_the_trail(client_for, coordinator, program, run_one_decided):
    run, first, _ = run_one_decided
    client = client_for(coordinator)
    # The program's tabs (includes/program_nav.html) name it, with the way back to its health page.
    for url in (
        _detail(run),
        _publish_url(run),
        reverse("matching:match-run-override", args=[run.pk, first.pk]),
    ):
        html = client.get(url).content.decode()
        assert f"Programs</a> › {program.name}</p>" in html, url
        assert f'<a href="{reverse("matching:program-health", args=[program.slug])}"' in html, url


# --- Compare of a published run.


def test_compare_says_what_a_published_run_published_beside_what_it_proposed(
    client_for, coordinator, start_run, run_one_decided, django_capture_on_commit_callbacks
):
    run, _, waiting = run_one_decided
    with django_capture_on_commit_callbacks(execute=True):
        match_run_publish(run=run, actor=coordinator)
    later = start_run()
    client = client_for(coordinator)
    proposed = run.stats["matched"]
    body = client.get(_detail(later)).content.decode()
    assert f"#{run.pk} · Career · stable · {proposed} proposed, 1 published</option>" in body
    html = client.get(reverse("matching:match-run-compare", args=[later.pk]) + f"?with={run.pk}").content.decode()
    assert '<tr><th scope="row">Proposed a mentor</th>' in html
    assert (
        '<th scope="row">Published (mentorships started)</th><td><span class="muted">not published</span></td><td>1</td>'
        in html
    )
    assert f"Match #{run.pk} was published: 1 of its {proposed} proposed pairs became mentorships" in html
    assert "took their mentors' spots, which a run computed after the publishing could not use" in html


# --- The override row and form.


def _row(html, proposal):
    return html.split(f'<tr id="proposal-{proposal.pk}"')[1].split("</tr>")[0]


def test_an_overridden_row_reads_as_its_new_mentor_and_can_be_undone(client_for, coordinator, start_run, cohort):
    run = start_run()
    proposal = run.proposals.exclude(mentor=None).order_by("pk").first()
    other = next(m for m in cohort[1] if m.pk != proposal.mentor_id)
    proposal_override(proposal=proposal, actor=coordinator, mentor=other, note="Asked for", make_room="raise")
    client = client_for(coordinator)
    row = _row(client.get(_detail(run)).content.decode(), proposal)
    assert row.index(other.full_name) < row.index(f"was: {proposal.mentor.full_name}")
    assert ">Undo override</button>" in row and ">Change</a>" in row and ">Accept</button>" not in row

    response = client.post(reverse("matching:match-run-accept", args=[run.pk, proposal.pk]), follow=True)
    proposal.refresh_from_db()
    assert proposal.decision == Decision.ACCEPTED and proposal.override_mentor is None
    assert (
        f"Override undone: {proposal.mentee.full_name} is paired with {proposal.mentor.full_name}, as proposed."
        in response.content.decode()
    )


def test_the_override_form_offers_mentors_with_room_first_and_says_how_many(client_for, coordinator, start_run, cohort):
    run = start_run()
    proposal = run.proposals.exclude(mentor=None).order_by("pk").first()
    # One other mentor has exactly one spot left in this run, the other none (their capacity was
    # lowered since); the proposed mentor is no override, whatever their room.
    room, full = [m for m in cohort[1] if m.pk != proposal.mentor_id]
    for mentor, spare in ((room, 1), (full, 0)):
        mentor.mentor_profile.capacity = run.proposals.filter(mentor=mentor).count() + spare
        mentor.mentor_profile.save()
    url = reverse("matching:match-run-override", args=[run.pk, proposal.pk])
    choices = client_for(coordinator).get(url).context["form"].fields["mentor"].choices
    groups = {group: dict(options) for group, options in choices if group}
    assert list(groups) == ["With a spot left in this match", "Full: choosing one asks how to make room"]
    (label,) = groups["With a spot left in this match"].values()
    assert label.startswith(f"{room.full_name} — fit ") and label.endswith("(1 spot left)")
    (label,) = groups["Full: choosing one asks how to make room"].values()
    assert label.startswith(f"{full.full_name} — fit ") and label.endswith("/100 (full)")


def test_the_override_form_leaves_out_the_proposed_mentor(client_for, coordinator, start_run, cohort):
    """Choosing them is refused ("accept the proposal instead"), and the load table may say they are
    full: in-row and on the form's own page, they are not a choice."""
    run = start_run()
    proposal = run.proposals.exclude(mentor=None).order_by("pk").first()
    url = reverse("matching:match-run-override", args=[run.pk, proposal.pk])
    c = client_for(coordinator)
    for response in (c.get(url), c.get(url, HTTP_HX_REQUEST="true")):
        offered = {
            pk for group, options in response.context["form"].fields["mentor"].choices if group for pk, _ in options
        }
        assert offered == {m.pk for m in cohort[1]} - {proposal.mentor_id}
        assert f'<option value="{proposal.mentor_id}"' not in response.content.decode()


def test_the_override_form_opens_below_the_row_across_the_table(client_for, coordinator, start_run):
    run = start_run()
    proposal = run.proposals.order_by("pk").first()
    html = client_for(coordinator).get(_detail(run)).content.decode()
    after_row = html.split(f'<tr id="proposal-{proposal.pk}"')[1].split("</tr>", 1)[1]
    assert after_row.lstrip().split(">", 1)[0] == f'<tr id="override-row-{proposal.pk}" class="override-row"'
    assert f'<td colspan="7"><div id="override-{proposal.pk}" class="override-slot"></div></td>' in after_row


def test_a_decision_in_place_closes_the_open_override_form(client_for, coordinator, start_run):
    run = start_run()
    proposal = run.proposals.exclude(mentor=None).order_by("pk").first()
    response = client_for(coordinator).post(
        reverse("matching:match-run-accept", args=[run.pk, proposal.pk]), HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="proposal-{proposal.pk}"')
    assert f'<tr id="override-row-{proposal.pk}" class="override-row" hx-swap-oob="true">' in body


def test_a_run_not_published_still_says_pending(client_for, coordinator, run_one_decided):
    run, _, waiting = run_one_decided
    client = client_for(coordinator)
    assert _csv_decisions(client, run).count("Pending") == waiting
    assert MatchRun.objects.get(pk=run.pk).published_at is None


def test_a_mentor_who_gave_no_spot_is_not_called_full(client_for, coordinator, start_run, cohort):
    """Capacity 0 (or taken by mentees outside the match) is not a full mentor: the choice says so."""
    run = start_run()
    proposal = run.proposals.exclude(mentor=None).order_by("pk").first()
    closed = next(m for m in cohort[1] if m.pk != proposal.mentor_id)
    run.proposals.filter(mentor=closed).update(mentor=None)  # holding none of the run's proposals
    closed.mentor_profile.capacity = 0
    closed.mentor_profile.save()
    url = reverse("matching:match-run-override", args=[run.pk, proposal.pk])
    choices = client_for(coordinator).get(url).context["form"].fields["mentor"].choices
    labels = {value: label for group, options in choices if group for value, label in options}
    assert labels[closed.pk].endswith("(no spots in this match)")


def test_an_override_with_no_other_mentor_in_the_match_says_so(
    client_for, coordinator, program, cohort, django_capture_on_commit_callbacks
):
    from tests.matching.support import _create

    residents, mentors = cohort
    with django_capture_on_commit_callbacks(execute=True):
        run = _create(coordinator, program, residents[:2], mentors[:1])  # one mentor: nobody else to choose
    proposal = run.proposals.exclude(mentor=None).first()
    url = reverse("matching:match-run-override", args=[run.pk, proposal.pk])
    c = client_for(coordinator)
    for response in (c.get(url), c.get(url, HTTP_HX_REQUEST="true")):
        html = response.content.decode()
        assert f"There is no other mentor in this match to pair {proposal.mentee.full_name} with" in html
        assert 'name="mentor"' not in html and "Save the override" not in html
    # Sent all the same (a form opened before the other mentors went): refused, nothing typed lost.
    refused = c.post(url, {f"o{proposal.pk}-mentor": "", f"o{proposal.pk}-note": "Asked at orientation"})
    html = refused.content.decode()
    assert refused.status_code == 400 and "Asked at orientation" in html
    assert "There is no other mentor in this match" in html
