"""The match runs API: coordinators of the run's program only; rankings confidential to their author."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from matching.match_runs.ranking import ranking_submit
from matching.match_runs.services import match_run_create
from matching.models import MatchProposal, MatchRanking, MatchRun, Mentorship

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def run_via_api(coordinator, program, cohort, django_capture_on_commit_callbacks):
    def start(**extra):
        residents, mentors = cohort
        body = {
            "kind": "career",
            "algorithm": "stable",
            "mentee_ids": [r.pk for r in residents],
            "mentor_ids": [m.pk for m in mentors],
            **extra,
        }
        with django_capture_on_commit_callbacks(execute=True):
            response = api(coordinator).post(f"/api/v1/programs/{program.slug}/match-runs/", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    return start


@pytest.fixture
def windowed_run(coordinator, program, resident, other_resident, attending, other_attending):
    return match_run_create(
        program=program,
        actor=coordinator,
        kind="career",
        algorithm="stable",
        mentee_ids=[resident.pk, other_resident.pk],
        mentor_ids=[attending.pk, other_attending.pk],
        ranking_deadline=timezone.now() + timedelta(days=3),
    )


def test_create_runs_eagerly_and_lists_proposals(run_via_api, coordinator, program, cohort):
    residents, _ = cohort
    created = run_via_api()

    detail = api(coordinator).get(f"/api/v1/match-runs/{created['id']}/").json()
    assert detail["status"] == "succeeded" and detail["progress"] == 100 and detail["error"] == ""
    assert detail["stats"]["matched"] == 5 and detail["stats"]["unmatched"] == 1
    assert detail["program"] == program.slug and sorted(detail["mentee_ids"]) == sorted(r.pk for r in residents)

    listed = api(coordinator).get(f"/api/v1/programs/{program.slug}/match-runs/").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == created["id"]

    proposals = api(coordinator).get(f"/api/v1/match-runs/{created['id']}/proposals/").json()
    assert proposals["count"] == 6
    matched = [p for p in proposals["results"] if p["mentor"]]
    unmatched = [p for p in proposals["results"] if not p["mentor"]]
    assert len(matched) == 5 and all(p["score"] is not None and p["explanation"]["components"] for p in matched)
    assert len(unmatched) == 1 and unmatched[0]["why_not"]
    assert all(p["decision"] == "pending" for p in proposals["results"])


def test_create_refusals_name_the_field(coordinator, program, resident, attending):
    response = api(coordinator).post(
        f"/api/v1/programs/{program.slug}/match-runs/",
        {"kind": "career", "mentee_ids": [resident.pk], "mentor_ids": [resident.pk]},
        format="json",
    )
    assert response.status_code == 400 and "mentor_ids" in response.json()


@pytest.mark.parametrize(
    ("field", "ids"),
    [
        ("mentor_ids", [2**127]),  # past any integer column: once a 500 on SQLite (the fuzzer found it)
        ("mentor_ids", [-42]),
        ("mentee_ids", list(range(1, 10_002))),  # longer than any program
    ],
)
def test_absurd_ids_are_a_400_naming_the_field_and_start_nothing(coordinator, program, resident, attending, field, ids):
    body = {"kind": "career", "mentee_ids": [resident.pk], "mentor_ids": [attending.pk], field: ids}

    response = api(coordinator).post(f"/api/v1/programs/{program.slug}/match-runs/", body, format="json")

    assert response.status_code == 400 and list(response.json()) == [field]
    assert not MatchRun.objects.exists()


def test_override_decide_publish_and_publish_twice_conflicts(run_via_api, coordinator, cohort):
    _, mentors = cohort
    run_id = run_via_api()["id"]
    client = api(coordinator)
    proposals = client.get(f"/api/v1/match-runs/{run_id}/proposals/").json()["results"]
    matched = [p for p in proposals if p["mentor"]]
    unmatched = next(p for p in proposals if not p["mentor"])

    # Reject one matched proposal, freeing a spot with its mentor; give the unmatched resident that spot.
    freed = matched[0]
    response = client.post(f"/api/v1/match-proposals/{freed['id']}/decide/", {"decision": "rejected", "note": "no"})
    assert response.status_code == 200 and response.json()["decision"] == "rejected"
    response = client.post(
        f"/api/v1/match-proposals/{unmatched['id']}/override/",
        {"mentor_id": freed["mentor"]["id"], "note": "asked for it"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["decision"] == "overridden" and response.json()["final_mentor_id"] == freed["mentor"]["id"]
    # An override without a reason is refused beside the field.
    response = client.post(
        f"/api/v1/match-proposals/{matched[1]['id']}/override/", {"mentor_id": mentors[0].pk, "note": ""}
    )
    assert response.status_code == 400 and "note" in response.json()
    for p in matched[1:]:
        assert client.post(f"/api/v1/match-proposals/{p['id']}/decide/", {"decision": "accepted"}).status_code == 200

    response = client.post(f"/api/v1/match-runs/{run_id}/publish/")
    assert response.status_code == 200, response.content
    assert response.json()["published_at"]
    assert Mentorship.objects.filter(source=Mentorship.Source.MATCH_RUN).count() == 5

    again = client.post(f"/api/v1/match-runs/{run_id}/publish/")
    assert again.status_code == 409 and "already been published" in again.json()["detail"]
    # Proposals of a published run no longer change.
    late = client.post(f"/api/v1/match-proposals/{freed['id']}/decide/", {"decision": "accepted"})
    assert late.status_code == 409


@pytest.mark.parametrize("accept_waiting", [True, False])
def test_publish_accepts_the_waiting_proposals_only_when_asked(run_via_api, coordinator, accept_waiting):
    run_id = run_via_api()["id"]
    client = api(coordinator)
    proposals = client.get(f"/api/v1/match-runs/{run_id}/proposals/").json()["results"]
    matched = [p for p in proposals if p["mentor"]]
    assert len(matched) >= 2
    decided = matched[0]
    assert client.post(f"/api/v1/match-proposals/{decided['id']}/decide/", {"decision": "accepted"}).status_code == 200
    # The summary offers both ways, each with what it does, as the review's publish panel does.
    before = client.get(f"/api/v1/match-runs/{run_id}/summary/").json()
    assert before["published"] is False and before["published_pairs"] is None
    outcomes = {o["accept_waiting"]: o for o in before["publish_outcomes"]}
    assert outcomes[True]["publishes"] == len(matched) and outcomes[False]["publishes"] == 1
    assert outcomes[False]["left_without"] == len(proposals) - 1
    assert outcomes[True]["left_without"] == len(proposals) - len(matched)

    response = client.post(f"/api/v1/match-runs/{run_id}/publish/", {"accept_waiting": accept_waiting}, format="json")
    assert response.status_code == 200, response.content
    published = set(Mentorship.objects.filter(source=Mentorship.Source.MATCH_RUN).values_list("mentee_id", flat=True))
    expected = {p["mentee"]["id"] for p in matched} if accept_waiting else {decided["mentee"]["id"]}
    assert published == expected
    assert len(published) == outcomes[accept_waiting]["publishes"]
    after = client.get(f"/api/v1/match-runs/{run_id}/summary/").json()
    assert after["published"] is True and after["publish_outcomes"] == []
    pairs = after["published_pairs"]
    assert pairs["pairs"] == len(published) and pairs["chosen_by_override"] == 0
    assert pairs["not_decided"] == (0 if accept_waiting else len(matched) - 1) and pairs["rejected"] == 0


def test_publish_refuses_an_accept_waiting_it_cannot_read(run_via_api, coordinator):
    run_id = run_via_api()["id"]
    response = api(coordinator).post(f"/api/v1/match-runs/{run_id}/publish/", {"accept_waiting": "soon"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["accept_waiting"]
    assert not Mentorship.objects.filter(source=Mentorship.Source.MATCH_RUN).exists()


def test_second_round_through_the_api(run_via_api, coordinator):
    run_id = run_via_api()["id"]
    client = api(coordinator)
    assert client.post(f"/api/v1/match-runs/{run_id}/second-round/").status_code == 409  # not published yet
    for p in MatchProposal.objects.filter(run_id=run_id).exclude(mentor=None):
        client.post(f"/api/v1/match-proposals/{p.pk}/decide/", {"decision": "accepted"})
    # Reject one so a resident and a spot remain for round two.
    first = MatchProposal.objects.filter(run_id=run_id).exclude(mentor=None).first()
    client.post(f"/api/v1/match-proposals/{first.pk}/decide/", {"decision": "rejected"})
    assert client.post(f"/api/v1/match-runs/{run_id}/publish/").status_code == 200
    response = client.post(f"/api/v1/match-runs/{run_id}/second-round/")
    assert response.status_code == 201, response.content
    assert response.json()["round"] == 2 and response.json()["parent"] == run_id


def test_only_the_programs_coordinators_see_and_act(run_via_api, other_coordinator, resident, attending, program):
    run_id = run_via_api()["id"]
    proposal = MatchProposal.objects.filter(run_id=run_id).exclude(mentor=None).first()
    for user in [other_coordinator, resident, attending]:
        client = api(user)
        # core/access.py: the program's members know it exists (403); no run is theirs to know (404).
        refused = 404 if user == other_coordinator else 403
        assert client.get(f"/api/v1/programs/{program.slug}/match-runs/").status_code == refused
        assert client.post(f"/api/v1/programs/{program.slug}/match-runs/", {}, format="json").status_code == refused
        assert client.get(f"/api/v1/match-runs/{run_id}/").status_code == 404
        assert client.get(f"/api/v1/match-runs/{run_id}/proposals/").status_code == 404
        assert client.post(f"/api/v1/match-runs/{run_id}/publish/").status_code == 404
        assert client.post(f"/api/v1/match-runs/{run_id}/second-round/").status_code == 404
        assert (
            client.post(f"/api/v1/match-proposals/{proposal.pk}/decide/", {"decision": "accepted"}).status_code == 404
        )
        assert (
            client.post(
                f"/api/v1/match-proposals/{proposal.pk}/override/", {"mentor_id": attending.pk, "note": "x"}
            ).status_code
            == 404
        )
    assert APIClient().get(f"/api/v1/match-runs/{run_id}/").status_code in (401, 403)
    assert MatchProposal.objects.get(pk=proposal.pk).decision == "pending"
    assert not MatchRun.objects.get(pk=run_id).is_published


def test_a_member_puts_and_reads_their_own_ranking(windowed_run, resident, attending, other_attending):
    client = api(resident)
    response = client.put(
        f"/api/v1/match-runs/{windowed_run.pk}/my-ranking/",
        {"ordered_ids": [other_attending.pk], "never_ids": [attending.pk]},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = client.get(f"/api/v1/match-runs/{windowed_run.pk}/my-ranking/").json()
    assert body["ordered_ids"] == [other_attending.pk] and body["never_ids"] == [attending.pk]
    assert body["window_open"] is True and body["ranking_deadline"]
    assert MatchRanking.objects.filter(run=windowed_run, author=resident).count() == 2

    # Someone outside the cohort cannot be ranked.
    bad = client.put(
        f"/api/v1/match-runs/{windowed_run.pk}/my-ranking/", {"ordered_ids": [resident.pk + 999]}, format="json"
    )
    assert bad.status_code == 400


def test_rankings_are_confidential(windowed_run, resident, other_resident, coordinator, outsider, attending):
    ranking_submit(run=windowed_run, actor=resident, ordered_ids=[attending.pk])
    # The coordinator and anyone outside the cohort get 404; another resident sees only their own (empty) list.
    for user in [coordinator, outsider]:
        assert api(user).get(f"/api/v1/match-runs/{windowed_run.pk}/my-ranking/").status_code == 404
        assert (
            api(user)
            .put(f"/api/v1/match-runs/{windowed_run.pk}/my-ranking/", {"ordered_ids": [attending.pk]}, format="json")
            .status_code
            == 404
        )
    theirs = api(other_resident).get(f"/api/v1/match-runs/{windowed_run.pk}/my-ranking/").json()
    assert theirs["ordered_ids"] == [] and theirs["never_ids"] == []
    # Nor does the run or its proposals carry anyone's list.
    detail = api(coordinator).get(f"/api/v1/match-runs/{windowed_run.pk}/").json()
    assert "ordered_ids" not in str(detail)
    assert list(MatchRanking.objects.filter(run=windowed_run, author=resident).values_list("target_id", flat=True)) == [
        attending.pk
    ]


def test_ranking_after_the_window_is_refused(windowed_run, resident, attending):
    MatchRun.objects.filter(pk=windowed_run.pk).update(ranking_deadline=timezone.now() - timedelta(minutes=1))
    response = api(resident).put(
        f"/api/v1/match-runs/{windowed_run.pk}/my-ranking/", {"ordered_ids": [attending.pk]}, format="json"
    )
    assert response.status_code == 403
    assert not MatchRanking.objects.filter(run=windowed_run).exists()


def test_schema_lists_the_match_run_endpoints(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in [
        "/api/v1/programs/{slug}/match-runs/",
        "/api/v1/match-runs/{id}/",
        "/api/v1/match-runs/{id}/proposals/",
        "/api/v1/match-runs/{id}/publish/",
        "/api/v1/match-runs/{id}/second-round/",
        "/api/v1/match-runs/{id}/my-ranking/",
        "/api/v1/match-proposals/{id}/decide/",
        "/api/v1/match-proposals/{id}/override/",
    ]:
        assert f"  {path}:" in text, path


def test_cancel_through_the_api(windowed_run, coordinator, other_coordinator):
    url = f"/api/v1/match-runs/{windowed_run.pk}/cancel/"
    assert api(other_coordinator).post(url, {}, format="json").status_code == 404

    response = api(coordinator).post(url, {"reason": "Postponed"}, format="json")

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert "Postponed" in response.json()["error"]
    again = api(coordinator).post(url, {}, format="json")
    assert again.status_code == 409 and "waiting or running" in again.json()["detail"]


def test_compare_through_the_api(run_via_api, coordinator, other_coordinator):
    stable, optimal = run_via_api(), run_via_api(algorithm="optimal")
    url = f"/api/v1/match-runs/{stable['id']}/compare/"

    response = api(coordinator).get(url, {"with": optimal["id"]})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["a"]["run"] == stable["id"] and body["b"]["algorithm"] == "optimal"
    stats = {run.pk: run.stats for run in MatchRun.objects.filter(pk__in=[stable["id"], optimal["id"]])}
    assert body["a"]["matched"] == stats[stable["id"]]["matched"]
    assert body["b"]["matched"] == stats[optimal["id"]]["matched"]
    assert body["changed_count"] == len(body["changed"]) and body["in_both"] == 6
    assert api(coordinator).get(url).status_code == 400
    assert api(other_coordinator).get(url, {"with": optimal["id"]}).status_code == 404


# --- Issue 15: re-run, archive, overrides over a mentor's spots, the review's counts.


def test_rerun_and_archive_through_the_api(
    run_via_api, coordinator, other_coordinator, django_capture_on_commit_callbacks
):
    first, second = run_via_api(), run_via_api()
    c = api(coordinator)
    # Another program's coordinator does not learn the runs exist.
    assert api(other_coordinator).post(f"/api/v1/match-runs/{second['id']}/rerun/").status_code == 404
    assert api(other_coordinator).post(f"/api/v1/match-runs/{second['id']}/archive/").status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(f"/api/v1/match-runs/{second['id']}/rerun/")
    assert response.status_code == 201, response.content
    rerun = response.json()
    assert rerun["rerun_of"] == second["id"] and rerun["status"] == "queued"  # it starts on commit
    assert c.get(f"/api/v1/match-runs/{rerun['id']}/").json()["status"] == "succeeded"
    assert c.get(f"/api/v1/match-runs/{second['id']}/").json()["archived_at"] is not None
    again = c.post(f"/api/v1/match-runs/{second['id']}/rerun/")
    assert again.status_code == 409
    assert again.json()["detail"] == f"This match was discarded; it was re-run as match #{rerun['id']}."

    for _ in range(2):  # twice is once
        response = c.post(f"/api/v1/match-runs/{first['id']}/archive/", {"reason": "Other weights"}, format="json")
        assert response.status_code == 200 and response.json()["archived_at"] is not None


def test_override_onto_a_full_mentor_needs_make_room_through_the_api(run_via_api, coordinator):
    run = run_via_api()
    c = api(coordinator)
    proposals = c.get(f"/api/v1/match-runs/{run['id']}/proposals/").json()["results"]
    unmatched = next(p for p in proposals if p["mentor"] is None)
    full = next(p for p in proposals if p["mentor"] is not None)["mentor"]["id"]
    url = f"/api/v1/match-proposals/{unmatched['id']}/override/"

    refused = c.post(url, {"mentor_id": full, "note": "Asked at orientation"}, format="json")
    assert refused.status_code == 400
    assert "has no spot left in this match" in refused.json()["make_room"][0]
    assert (
        c.post(url, {"mentor_id": full, "note": "x", "make_room": "displace:999999"}, format="json").status_code == 400
    )

    done = c.post(url, {"mentor_id": full, "note": "Asked at orientation", "make_room": "raise"}, format="json")
    assert done.status_code == 200 and done.json()["decision"] == "overridden"
    detail = c.get(f"/api/v1/match-runs/{run['id']}/").json()
    assert detail["extra_spots"] == {str(full): 1}
    summary = c.get(f"/api/v1/match-runs/{run['id']}/summary/").json()
    assert summary["overridden"] == 1 and summary["will_pair"] == 1
    assert summary["left_without"] == summary["proposals"] - 1
    row = next(r for r in summary["mentor_load"] if r["mentor_id"] == full)
    assert row["extra"] == 1 and row["holding"] == row["spots"]
