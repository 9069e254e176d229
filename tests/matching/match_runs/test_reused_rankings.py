"""Ranked lists collected in one run's window, used by a later run (issue 15): started with them
from the start form, or carried by a re-run; the lists of people no longer in the cohort, and the
choices of people no longer in it, dropped and counted; the comparison saying which run used which.

The cohort (tests/matching/conftest.py): Alice, Bob, Femi, Gita, Hugo and Ines (residents); Carol,
Dave and Erin (mentors). In match #1's window Alice, Bob and Femi (an empty list) submitted, and
Carol; nobody else."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from matching.match_runs.ranking import ranking_submit, ranking_window_close
from matching.match_runs.selectors import match_run_compare, proposals_for, rankings_used
from matching.match_runs.services import match_run_cancel, match_run_create, match_run_rerun
from matching.models import MatchRanking, MatchRun, Mentorship, RankingSubmission
from tests.matching.factories import MentorshipFactory
from tests.matching.support import _create

pytestmark = pytest.mark.django_db

Status = MatchRun.Status


def _people(cohort):
    (alice, bob, femi, gita, hugo, ines), (carol, dave, erin) = cohort
    return alice, bob, femi, gita, hugo, ines, carol, dave, erin


@pytest.fixture
def collected(coordinator, program, cohort, django_capture_on_commit_callbacks):
    """Match #1: its window collected the lists of Alice, Bob, Femi and Carol, then closed and it ran."""
    alice, bob, femi, _gita, _hugo, _ines, carol, dave, erin = _people(cohort)
    run = _create(coordinator, program, *cohort, ranking_deadline=timezone.now() + timedelta(days=3))
    ranking_submit(run=run, actor=alice, ordered_ids=[dave.pk, carol.pk], never_ids=[erin.pk])
    ranking_submit(run=run, actor=bob, ordered_ids=[carol.pk])
    ranking_submit(run=run, actor=femi, ordered_ids=[])
    ranking_submit(run=run, actor=carol, ordered_ids=[bob.pk, alice.pk])
    with django_capture_on_commit_callbacks(execute=True):
        ranking_window_close(run=run, actor=coordinator)
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED
    return run


def _start(coordinator, program, residents, mentors, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        run = _create(coordinator, program, residents, mentors, **kwargs)
    run.refresh_from_db()
    return run


def _lists(run):
    return sorted(run.rankings.values_list("author_id", "target_id", "position", "never"))


def test_a_new_run_uses_the_lists_of_people_still_in_its_cohort_and_drops_the_rest(
    collected, coordinator, program, cohort, django_capture_on_commit_callbacks
):
    alice, bob, femi, gita, _hugo, _ines, carol, dave, _erin = _people(cohort)
    before = _lists(collected)
    # Bob and Erin are not in the new match.
    run = _start(
        coordinator,
        program,
        [alice, femi, gita],
        [carol, dave],
        django_capture_on_commit_callbacks,
        algorithm="optimal",
        rankings_from=collected,
    )

    assert run.rankings_from == collected and run.ranking_deadline is None and run.status == Status.SUCCEEDED
    # Alice keeps her order; her "never" for Erin goes with Erin. Carol's 2nd choice is now her 1st.
    assert _lists(run) == sorted(
        [(alice.pk, dave.pk, 1, False), (alice.pk, carol.pk, 2, False), (carol.pk, alice.pk, 1, False)]
    )
    assert set(RankingSubmission.objects.filter(run=run).values_list("author_id", "ranked", "never")) == {
        (alice.pk, 2, 0),
        (femi.pk, 0, 0),
        (carol.pk, 1, 0),
    }
    used = rankings_used(run)
    assert (used.collected_for, used.residents, used.mentors) == (collected.pk, 2, 1)
    assert (used.dropped_lists, used.dropped_entries) == (1, 2)
    assert used.dropped == (
        "1 list of people not in this match was left out; "
        "2 choices of people no longer in it were taken off the lists kept."
    )
    # The engine read them: the residents who ranked are those the review marks as such.
    assert {p.mentee_id for p in proposals_for(run) if p.ranked} == {alice.pk}
    # Match #1 keeps its own lists as they were.
    assert _lists(collected) == before
    # One audit entry, with counts only (never whom anyone ranked).
    entry = AuditEntry.objects.get(action="match_run.create", object_id=str(run.pk))
    assert entry.after["rankings"] == {
        "collected_for": collected.pk,
        "copied_from": collected.pk,
        "residents": 2,
        "mentors": 1,
        "lists_dropped": 1,
        "entries_dropped": 2,
    }


def test_without_a_choice_a_new_run_uses_no_lists(collected, coordinator, program, cohort, start_run):
    run = start_run()
    assert run.rankings_from is None and not run.rankings.exists() and not rankings_used(run)


def test_lists_are_refused_with_a_new_window_for_another_kind_or_when_nobody_chosen_ranked(
    collected, coordinator, program, cohort
):
    alice, _bob, _femi, gita, hugo, _ines, carol, dave, erin = _people(cohort)
    runs = MatchRun.objects.count()
    cases = [
        (
            dict(mentee_ids=[alice.pk], mentor_ids=[carol.pk], ranking_deadline=timezone.now() + timedelta(days=2)),
            f"You chose to use the lists collected for match #{collected.pk} and to open a new ranking window",
        ),
        (
            dict(mentee_ids=[alice.pk], mentor_ids=[carol.pk], kind="research"),
            f"The lists of match #{collected.pk} rank career mentors, not research mentors.",
        ),
        (
            dict(mentee_ids=[gita.pk, hugo.pk], mentor_ids=[dave.pk, erin.pk]),
            f"Nobody you chose submitted a ranked list for match #{collected.pk}",
        ),
    ]
    for kwargs, said in cases:
        with pytest.raises(ValidationError) as exc:
            match_run_create(
                program=program,
                actor=coordinator,
                algorithm="stable",
                rankings_from=collected,
                **{"kind": "career", **kwargs},
            )
        assert said in exc.value.message_dict["rankings_from"][0]
    assert MatchRun.objects.count() == runs


def test_lists_of_an_open_or_cancelled_window_cannot_be_used(coordinator, program, cohort):
    alice, *_, carol, _dave, _erin = _people(cohort)
    open_window = _create(coordinator, program, *cohort, ranking_deadline=timezone.now() + timedelta(days=3))
    ranking_submit(run=open_window, actor=alice, ordered_ids=[carol.pk])
    with pytest.raises(ValidationError, match="has no closed ranking window"):
        _create(coordinator, program, [alice], [carol], rankings_from=open_window)
    # Called off: its rankers were told their lists would not be used.
    match_run_cancel(run=open_window, actor=coordinator)
    MatchRun.objects.filter(pk=open_window.pk).update(ranking_deadline=timezone.now() - timedelta(minutes=1))
    open_window.refresh_from_db()
    with pytest.raises(ValidationError, match="was called off"):
        _create(coordinator, program, [alice], [carol], rankings_from=open_window)


def test_a_rerun_uses_the_lists_its_source_used_even_reused_ones(
    collected, coordinator, program, cohort, django_capture_on_commit_callbacks
):
    alice, bob, femi, gita, _hugo, _ines, carol, dave, _erin = _people(cohort)
    second = _start(
        coordinator,
        program,
        [alice, bob, femi, gita],
        [carol, dave],
        django_capture_on_commit_callbacks,
        rankings_from=collected,
    )
    # Alice is paired since: she leaves the cohort, and with her her list and Carol's choice of her.
    MentorshipFactory(mentee=alice, mentor=dave, program=program, kind="career")
    with django_capture_on_commit_callbacks(execute=True):
        third = match_run_rerun(run=second, actor=coordinator)
    third.refresh_from_db()

    assert third.rerun_of == second and third.rankings_from == collected and third.status == Status.SUCCEEDED
    assert _lists(third) == sorted([(bob.pk, carol.pk, 1, False), (carol.pk, bob.pk, 1, False)])
    used = rankings_used(third)
    # Against what match #1 collected: Alice's list gone, and Carol's choice of Alice.
    assert (used.residents, used.mentors, used.dropped_lists, used.dropped_entries) == (2, 1, 1, 1)
    assert AuditEntry.objects.get(action="match_run.create", object_id=str(third.pk)).after["rankings"][
        "copied_from"
    ] == (second.pk)


def test_a_rerun_of_a_run_that_used_no_lists_uses_none(start_run, coordinator):
    run = start_run()
    again = match_run_rerun(run=run, actor=coordinator)
    assert again.rankings_from is None and not again.rankings.exists()
    assert "rankings" not in AuditEntry.objects.get(action="match_run.create", object_id=str(again.pk)).after


# --- The comparison.


def test_the_comparison_says_which_run_used_ranked_lists(
    collected, coordinator, program, cohort, start_run, django_capture_on_commit_callbacks
):
    plain = start_run()
    a, b = collected.pk, plain.pk
    assert match_run_compare(a=collected, b=plain, actor=coordinator).rankings == (
        f"Match #{a} used the ranked lists of 3 residents and 1 mentor; match #{b} used none (scores only)."
    )
    assert match_run_compare(a=plain, b=collected, actor=coordinator).rankings == (
        f"Match #{b} used none (scores only); match #{a} used the ranked lists of 3 residents and 1 mentor."
    )

    alice, _bob, femi, gita, *_ = _people(cohort)[:4]
    carol, dave = _people(cohort)[6:8]
    reused = _start(
        coordinator,
        program,
        [alice, femi, gita],
        [carol, dave],
        django_capture_on_commit_callbacks,
        rankings_from=collected,
    )
    assert match_run_compare(a=collected, b=reused, actor=coordinator).rankings == (
        f"Match #{a} used the ranked lists of 3 residents and 1 mentor; match #{reused.pk} used the ranked lists "
        f"of 2 residents and 1 mentor collected for match #{a}."
    )


def test_the_comparison_says_nothing_of_lists_when_both_used_the_same_or_none(
    collected, coordinator, program, cohort, start_run, django_capture_on_commit_callbacks
):
    assert match_run_compare(a=start_run(), b=start_run(), actor=coordinator).rankings == ""
    same = _start(coordinator, program, *cohort, django_capture_on_commit_callbacks, rankings_from=collected)
    assert match_run_compare(a=collected, b=same, actor=coordinator).rankings == ""


def test_the_compare_page_shows_the_sentence_where_the_difference_is_read(
    client_for, collected, coordinator, start_run
):
    plain = start_run()
    page = client_for(coordinator).get(reverse("matching:match-run-compare", args=[collected.pk]) + f"?with={plain.pk}")
    body = page.content.decode()
    sentence = f"Match #{collected.pk} used the ranked lists of 3 residents and 1 mentor; match #{plain.pk} used none"
    # In the summary card, before the tables of figures.
    assert sentence in body and body.index(sentence) < body.index('class="match-compare ')


# --- The pages.


def test_the_rerun_button_and_message_say_the_lists_are_used_again(
    client_for, collected, coordinator, program, cohort, django_capture_on_commit_callbacks
):
    alice, *_ = _people(cohort)
    MentorshipFactory(mentee=alice, mentor=cohort[1][1], program=program, kind="career")  # out of date now
    client = client_for(coordinator)
    page = client.get(collected.get_absolute_url()).content.decode()
    assert (
        "Re-run it with the same settings and the same ranked lists (3 residents and 1 mentor; those of people "
        "no longer in it are left out)" in page
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("matching:match-run-rerun", args=[collected.pk]))
    new = MatchRun.objects.get(rerun_of=collected)
    told = [str(m) for m in get_messages(response.wsgi_request)]
    assert (
        f"Match #{collected.pk} was discarded; match #{new.pk} runs again with the same settings and the ranked "
        f"lists of 2 residents and 1 mentor collected for match #{collected.pk}. 1 list of people not in this match "
        "was left out; 1 choice of people no longer in it was taken off the lists kept."
    ) in told
    detail = client.get(new.get_absolute_url()).content.decode()
    assert "Uses the ranked lists of 2 residents and 1 mentor collected for" in detail
    assert MatchRanking.objects.filter(run=new, author=alice).count() == 0


WEIGHTS = {"specialty": 20, "goals": 25, "interests": 10, "career": 15, "availability": 15, "language": 8}


def _start_form(client, program, residents, mentors, **fields):
    data = {
        "kind": "career",
        "algorithm": "stable",
        "mentee_ids": [r.pk for r in residents],
        "mentor_ids": [m.pk for m in mentors],
        "ranking_deadline": "",
        "weight_meeting_format": 7,
        **{f"weight_{name}": value for name, value in WEIGHTS.items()},
        **fields,
    }
    return client.post(reverse("matching:match-run-create", args=[program.slug]), data)


def test_the_start_form_offers_the_lists_collected_for_an_earlier_run_and_uses_them(
    client_for, collected, coordinator, program, cohort, django_capture_on_commit_callbacks
):
    alice, _bob, femi, *_rest, carol, dave, _erin = _people(cohort)
    client = client_for(coordinator)
    page = client.get(reverse("matching:match-run-create", args=[program.slug])).content.decode()
    assert "Ranked lists already collected" in page
    assert (
        f"Use the ranked lists collected for match #{collected.pk} (career): 3 of 3 residents and 1 of 1 mentor "
        "who ranked can still be matched" in page
    )
    assert "Don&#x27;t use them: open a new ranking window (set a deadline below), or match by fit scores only" in page
    # Chosen to start with: a match over the same people should not silently drop their lists.
    assert f'name="rankings_from" value="{collected.pk}"' in page
    checked = page[page.index(f'name="rankings_from" value="{collected.pk}"') :].split(">", 1)[0]
    assert "checked" in checked

    # A new window and the old lists at once: refused, beside the choice.
    refused = _start_form(
        client,
        program,
        [alice, femi],
        [carol, dave],
        rankings_from=collected.pk,
        ranking_deadline=(timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
    )
    assert refused.status_code == 400
    assert "to open a new ranking window" in refused.context["form"].errors["rankings_from"][0]

    with django_capture_on_commit_callbacks(execute=True):
        response = _start_form(client, program, [alice, femi], [carol, dave], rankings_from=collected.pk)
    assert response.status_code == 302, response.content.decode()[:2000]
    run = MatchRun.objects.exclude(pk=collected.pk).get()
    assert run.rankings_from == collected
    told = [str(m) for m in get_messages(response.wsgi_request)]
    assert (
        f"The match has started with the ranked lists of 2 residents and 1 mentor collected for match "
        f"#{collected.pk}. 1 list of people not in this match was left out; 2 choices of people no longer in it "
        "were taken off the lists kept."
    ) in told


def test_choosing_not_to_use_the_lists_starts_a_run_by_scores(
    client_for, collected, coordinator, program, cohort, django_capture_on_commit_callbacks
):
    alice, *_rest, carol, dave, _erin = _people(cohort)
    with django_capture_on_commit_callbacks(execute=True):
        response = _start_form(client_for(coordinator), program, [alice], [carol, dave], rankings_from="")
    assert response.status_code == 302
    run = MatchRun.objects.exclude(pk=collected.pk).get()
    assert run.rankings_from is None and not run.rankings.exists()


def test_the_start_form_offers_no_lists_when_no_window_has_closed(client_for, coordinator, program, cohort):
    alice, *_rest, carol, _dave, _erin = _people(cohort)
    open_window = _create(coordinator, program, *cohort, ranking_deadline=timezone.now() + timedelta(days=3))
    ranking_submit(run=open_window, actor=alice, ordered_ids=[carol.pk])
    page = client_for(coordinator).get(reverse("matching:match-run-create", args=[program.slug])).content.decode()
    assert "Ranked lists already collected" not in page and 'name="rankings_from"' not in page


def test_the_compare_page_says_when_both_runs_used_the_same_lists(
    client_for, collected, coordinator, program, cohort, django_capture_on_commit_callbacks
):
    same = _start(coordinator, program, *cohort, django_capture_on_commit_callbacks, rankings_from=collected)
    body = (
        client_for(coordinator)
        .get(reverse("matching:match-run-compare", args=[collected.pk]) + f"?with={same.pk}")
        .content.decode()
    )
    assert (
        f"Both runs used the same ranked lists (3 residents and 1 mentor, collected for match #{collected.pk}): "
        "they do not explain the difference."
    ) in body
    assert "did not use the same ranked lists" not in body


def test_lists_whose_residents_can_no_longer_be_matched_are_offered_but_not_chosen(
    client_for, collected, coordinator, program, cohort
):
    alice, bob, femi, *_rest, carol, dave, erin = _people(cohort)
    for resident, mentor in ((alice, carol), (bob, dave), (femi, erin)):
        MentorshipFactory(mentee=resident, mentor=mentor, program=program, kind="career")
    page = client_for(coordinator).get(reverse("matching:match-run-create", args=[program.slug])).content.decode()
    # Carol, who ranked, still has a spot: her list can still be used, so the lists are offered.
    assert (
        f"Use the ranked lists collected for match #{collected.pk} (career): 0 of 3 residents and 1 of 1 mentor "
        "who ranked can still be matched" in page
    )
    offered = page[page.index(f'name="rankings_from" value="{collected.pk}"') :].split(">", 1)[0]
    refused = page[page.index('name="rankings_from" value=""') :].split(">", 1)[0]
    assert "checked" not in offered and "checked" in refused


def _start_page(client_for, coordinator, program):
    return client_for(coordinator).get(reverse("matching:match-run-create", args=[program.slug])).content.decode()


def test_lists_nobody_offered_can_use_are_not_offered(client_for, collected, coordinator, program, cohort):
    """The walkthrough's 400: the three residents who ranked were paired by match #1 and Carol, the
    one mentor who ranked, is full. Offering the lists led only to "Nobody you chose submitted…"."""
    alice, bob, femi, *_rest, carol, dave, _erin = _people(cohort)
    MentorshipFactory(mentee=alice, mentor=carol, program=program, kind="career")
    MentorshipFactory(mentee=bob, mentor=carol, program=program, kind="career")  # Carol: 2 of 2
    MentorshipFactory(mentee=femi, mentor=dave, program=program, kind="career")

    page = _start_page(client_for, coordinator, program)

    assert "Ranked lists already collected" not in page and 'name="rankings_from"' not in page
    # Nothing to choose, so nothing to refuse: the form starts a run by scores.


def test_the_offer_counts_those_who_ranked_and_can_still_be_matched(
    client_for, collected, coordinator, program, cohort
):
    alice, bob, *_rest, carol, dave, _erin = _people(cohort)
    MentorshipFactory(mentee=alice, mentor=dave, program=program, kind="career")  # left out of a career run
    MentorshipFactory(mentee=bob, mentor=dave, program=program, kind="research")  # not of this kind: still counts

    page = _start_page(client_for, coordinator, program)

    label = (
        f"Use the ranked lists collected for match #{collected.pk} (career): 2 of 3 residents and 1 of 1 mentor "
        "who ranked can still be matched"
    )
    assert label in page
    assert "3 residents and 1 mentor submitted" not in page
    # 2 of the 5 residents this match can take ranked: under half, so a new window (no lists) is
    # chosen to start with, and the lists stay offered.
    chosen = page[page.index(f'name="rankings_from" value="{collected.pk}"') :].split(">", 1)[0]
    assert "checked" not in chosen
    # Alice free again: 3 of 6, half, and the lists are chosen to start with.
    Mentorship.objects.filter(mentee=alice, kind="career").delete()
    page = _start_page(client_for, coordinator, program)
    chosen = page[page.index(f'name="rankings_from" value="{collected.pk}"') :].split(">", 1)[0]
    assert "checked" in chosen


def test_a_resident_who_ranked_but_is_no_longer_offered_is_not_counted(
    client_for, collected, coordinator, program, cohort
):
    alice, bob, femi, *_rest, carol, _dave, _erin = _people(cohort)
    bob.is_active = False  # deactivated: not in the form's list of residents
    bob.save(update_fields=["is_active"])
    carol.mentor_profile.accepting_mentees = False  # not offered as a mentor
    carol.mentor_profile.save(update_fields=["accepting_mentees"])

    page = _start_page(client_for, coordinator, program)

    assert (
        f"Use the ranked lists collected for match #{collected.pk} (career): 2 of 3 residents and 0 of 1 mentor "
        "who ranked can still be matched" in page
    )


def test_an_older_usable_window_is_offered_when_a_later_one_is_not(
    client_for, collected, coordinator, program, cohort, django_capture_on_commit_callbacks
):
    alice, bob, femi, gita, *_rest, carol, dave, erin = _people(cohort)
    later = _create(coordinator, program, [gita], [erin], ranking_deadline=timezone.now() + timedelta(days=3))
    ranking_submit(run=later, actor=gita, ordered_ids=[erin.pk])
    with django_capture_on_commit_callbacks(execute=True):
        ranking_window_close(run=later, actor=coordinator)
    MentorshipFactory(mentee=gita, mentor=erin, program=program, kind="career")  # Gita paired, Erin full

    page = _start_page(client_for, coordinator, program)

    assert f'name="rankings_from" value="{later.pk}"' not in page
    assert f'name="rankings_from" value="{collected.pk}"' in page
