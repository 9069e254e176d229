"""The ranking page: cohort members number the other side, tick "never", and only they see it."""

import zoneinfo
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from matching.match_runs.ranking import ranking_submit
from matching.match_runs.services import match_run_create
from matching.models import MatchRanking, MatchRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(coordinator, program, resident, other_resident, attending, other_attending):
    return match_run_create(
        program=program,
        actor=coordinator,
        kind="career",
        algorithm="stable",
        mentee_ids=[resident.pk, other_resident.pk],
        mentor_ids=[attending.pk, other_attending.pk],
        ranking_deadline=timezone.now() + timedelta(days=3),
    )


def _url(run):
    return reverse("matching:match-run-rank", kwargs={"pk": run.pk})


def test_a_resident_sees_the_mentors_with_labels_deadline_and_confidentiality(client_for, run, resident, attending):
    resident.time_zone = "America/Los_Angeles"
    resident.save(update_fields=["time_zone"])
    page = client_for(resident).get(_url(run))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Confidential: only you see your ranking" in html
    assert f'<label for="rank_{attending.pk}"' in html and f'<label for="never_{attending.pk}"' in html
    assert 'type="number"' in html and 'min="1" max="2"' in html and "<script" not in html.split("<main")[-1]
    local = timezone.localtime(run.ranking_deadline, timezone=zoneinfo.ZoneInfo("America/Los_Angeles"))
    assert local.strftime("%Y") in html and ("PST" in html or "PDT" in html)


def test_drag_ordering_loads_from_our_own_static_files_and_only_here(client_for, run, resident):
    html = client_for(resident).get(_url(run)).content.decode()
    head = html.split("<body")[0]
    assert '<script src="/static/vendor/sortable.min.js" defer></script>' in head
    assert '<script src="/static/js/rankings.js" defer></script>' in head
    # Content-Security-Policy: no inline scripts or styles.
    assert "<script>" not in html and "style=" not in html and "<style" not in html
    # Without JavaScript the drag help stays hidden and the form stays numbers and boxes.
    assert '<p id="rank-drag-help" hidden' in html
    assert "sortable" not in client_for(resident).get(reverse("matching:dashboard")).content.decode()


def test_a_resident_submits_an_order_and_a_never(client_for, run, resident, attending, other_attending):
    response = client_for(resident).post(
        _url(run), {f"rank_{other_attending.pk}": "1", f"never_{attending.pk}": "on", f"rank_{attending.pk}": ""}
    )

    assert response.status_code == 302
    saved = {r.target_id: (r.position, r.never) for r in MatchRanking.objects.filter(run=run, author=resident)}
    assert saved == {other_attending.pk: (1, False), attending.pk: (None, True)}
    # The page shows it back on the next visit.
    html = client_for(resident).get(_url(run)).content.decode()
    assert f'name="rank_{other_attending.pk}" min="1" max="2" step="1" inputmode="numeric" value="1"' in html
    assert f'name="never_{attending.pk}" checked' in html


def test_a_mentor_ranks_the_residents_in_order(client_for, run, attending, resident, other_resident):
    response = client_for(attending).post(_url(run), {f"rank_{resident.pk}": "2", f"rank_{other_resident.pk}": "1"})

    assert response.status_code == 302
    ordered = list(
        MatchRanking.objects.filter(run=run, author=attending).order_by("position").values_list("target_id", flat=True)
    )
    assert ordered == [other_resident.pk, resident.pk]


def test_bad_numbers_are_refused_beside_the_person(client_for, run, resident, attending, other_attending):
    ranking_submit(run=run, actor=resident, ordered_ids=[attending.pk])
    response = client_for(resident).post(_url(run), {f"rank_{attending.pk}": "1", f"rank_{other_attending.pk}": "1"})
    assert response.status_code == 400 and "used more than once" in response.content.decode()
    response = client_for(resident).post(_url(run), {f"rank_{attending.pk}": "7"})
    assert response.status_code == 400 and "from 1 to 2" in response.content.decode()
    response = client_for(resident).post(_url(run), {f"rank_{attending.pk}": "1", f"never_{attending.pk}": "on"})
    assert response.status_code == 400
    # Nothing changed.
    assert list(MatchRanking.objects.filter(run=run, author=resident).values_list("target_id", "position")) == [
        (attending.pk, 1)
    ]


def test_outside_the_window_the_page_is_refused(client_for, run, resident, attending):
    MatchRun.objects.filter(pk=run.pk).update(ranking_deadline=timezone.now() - timedelta(minutes=1))
    assert client_for(resident).get(_url(run)).status_code == 403
    assert client_for(resident).post(_url(run), {f"rank_{attending.pk}": "1"}).status_code == 403
    assert not MatchRanking.objects.filter(run=run).exists()


def test_non_members_cannot_open_the_page(
    client_for, run, coordinator, outsider, other_coordinator, resident, attending
):
    ranking_submit(run=run, actor=resident, ordered_ids=[attending.pk])
    for user in [coordinator, outsider, other_coordinator]:
        assert client_for(user).get(_url(run)).status_code == 404
        assert client_for(user).post(_url(run), {f"rank_{attending.pk}": "1"}).status_code == 404
    assert MatchRanking.objects.filter(run=run).count() == 1


def test_the_page_needs_a_login(client, run):
    response = client.get(_url(run))
    assert response.status_code == 302 and "login" in response["Location"]
