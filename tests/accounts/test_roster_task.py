"""Large roster files are applied by a task (accounts/roster.py: ``roster_import_run``) with a
progress bar: applying → applied, or failed with its reason and nothing written. Tasks run
eagerly here, when the transaction that queued them commits."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts import roster
from accounts.models import Membership, RosterImport, User
from accounts.roster import roster_import_apply, roster_import_preview, roster_imports_sweep
from accounts.tasks import apply_roster_import

pytestmark = pytest.mark.django_db

CSV = "email,first_name,last_name,role,pgy\n" + "".join(
    f"r{n}@hospital.example,Res{n},Ident,resident,PGY-{n % 3 + 1}\n" for n in range(6)
)
Status = RosterImport.Status


@pytest.fixture(autouse=True)
def _small_threshold(monkeypatch):
    """Six rows count as large here."""
    monkeypatch.setattr(roster, "BACKGROUND_ROWS", 5)


@pytest.fixture
def progress(monkeypatch):
    """The progress values the task records, in order."""
    seen = []
    real = roster._record_progress
    monkeypatch.setattr(roster, "_record_progress", lambda pk, value: seen.append(value) or real(pk, value))
    return seen


def _preview(program, coordinator):
    return roster_import_preview(program=program, uploaded_by=coordinator, filename="big.csv", data=CSV.encode())


def _residents(program):
    return Membership.objects.filter(program=program, role="resident").count()


def test_a_large_file_is_queued_once_then_applied_by_the_task_with_progress(
    program, coordinator, progress, django_capture_on_commit_callbacks
):
    roster_import = _preview(program, coordinator)

    with django_capture_on_commit_callbacks(execute=False) as queued:
        result = roster_import_apply(roster_import=roster_import, actor=coordinator)
        # A double click on Apply: the import is locked and found applying; nothing more is queued.
        with pytest.raises(ValidationError) as second:
            roster_import_apply(roster_import=roster_import, actor=coordinator)
    assert result.in_background and second.value.code == "applying"
    assert len(queued) == 1
    roster_import.refresh_from_db()
    assert (roster_import.status, roster_import.progress, _residents(program)) == (Status.APPLYING, 0, 0)

    queued[0]()  # the commit: the task runs (eagerly)

    roster_import.refresh_from_db()
    assert (roster_import.status, roster_import.progress, roster_import.created_count) == (Status.APPLIED, 100, 6)
    assert _residents(program) == 6
    assert progress == [5, 30, 50, 65, 85]
    assert mail.outbox == []  # importing e-mails no one, in the background too


def test_a_redelivered_task_does_nothing(program, coordinator, django_capture_on_commit_callbacks):
    roster_import = _preview(program, coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        roster_import_apply(roster_import=roster_import, actor=coordinator)

    assert apply_roster_import.delay(roster_import.pk, coordinator.pk).get() == "not_applying"
    assert _residents(program) == 6


def test_a_failure_marks_the_import_failed_with_its_reason_and_writes_nothing(
    client_for, program, coordinator, monkeypatch, django_capture_on_commit_callbacks
):
    roster_import = _preview(program, coordinator)
    users_before = User.objects.count()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    real = roster._apply_profiles

    monkeypatch.setattr(roster, "_apply_profiles", broken)
    with django_capture_on_commit_callbacks(execute=True):
        roster_import_apply(roster_import=roster_import, actor=coordinator)

    roster_import.refresh_from_db()
    assert roster_import.status == Status.FAILED
    assert roster_import.error.startswith(
        "The import stopped with an unexpected error (RuntimeError); nothing was imported."
    )
    assert User.objects.count() == users_before and _residents(program) == 0

    # The page says so, and offers to try again; trying again works once the fault is gone.
    monkeypatch.setattr(roster, "_apply_profiles", real)
    url = reverse("accounts:roster-import-preview", args=[program.slug, roster_import.pk])
    page = client_for(coordinator)
    html = page.get(url).content.decode()
    assert "The import did not go through" in html and "RuntimeError" in html and ">Add 6</button>" in html
    with django_capture_on_commit_callbacks(execute=True):
        page.post(url)
    roster_import.refresh_from_db()
    assert (roster_import.status, roster_import.error, _residents(program)) == (Status.APPLIED, "", 6)


def test_a_task_for_someone_who_no_longer_coordinates_fails_plainly(
    program, coordinator, django_capture_on_commit_callbacks
):
    roster_import = _preview(program, coordinator)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        roster_import_apply(roster_import=roster_import, actor=coordinator)
    Membership.objects.filter(user=coordinator, program=program).delete()

    queued[0]()

    roster_import.refresh_from_db()
    assert roster_import.status == Status.FAILED
    assert roster_import.error == (
        "The person who started this import no longer coordinates the program; nothing was imported."
    )
    assert _residents(program) == 0


def test_the_preview_page_polls_the_progress_while_applying(
    client_for, program, coordinator, django_capture_on_commit_callbacks
):
    roster_import = _preview(program, coordinator)
    client = client_for(coordinator)
    url = reverse("accounts:roster-import-preview", args=[program.slug, roster_import.pk])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(url)
    assert response.status_code == 302 and response.url == url
    RosterImport.objects.filter(pk=roster_import.pk).update(progress=40)

    page = client.get(url).content.decode()
    part = client.get(url + "?part=progress", HTTP_HX_REQUEST="true")

    assert 'hx-get="' + url + '?part=progress"' in page and 'hx-trigger="every 2s"' in page
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page
    assert 'value="40"' in page and "40% done." in part.content.decode()
    assert part.templates[0].name == "accounts/roster/_progress.html"

    queued[0]()
    done = client.get(url + "?part=progress", HTTP_HX_REQUEST="true")
    assert (done.status_code, done["HX-Refresh"]) == (204, "true")
    assert "This file was imported on" in client.get(url).content.decode()


def test_the_sweeper_requeues_a_lost_import_and_fails_one_that_never_finished(program, coordinator):
    lost, stale = _preview(program, coordinator), _preview(program, coordinator)
    now = timezone.now()
    RosterImport.objects.filter(pk=lost.pk).update(status=Status.APPLYING, applied_at=now - timedelta(minutes=15))
    RosterImport.objects.filter(pk=stale.pk).update(status=Status.APPLYING, applied_at=now - timedelta(hours=2))

    assert roster_imports_sweep(now=now) == {"requeued": 1, "failed": 1}

    lost.refresh_from_db()
    stale.refresh_from_db()
    assert lost.status == Status.APPLIED and _residents(program) == 6
    assert (stale.status, stale.error) == (
        Status.FAILED,
        "The import did not finish; nothing was imported. Apply it again.",
    )
