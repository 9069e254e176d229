"""Fixtures shared by the tests of matching/match_runs/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.matching.support import _create


@pytest.fixture
def start_run(coordinator, program, cohort, django_capture_on_commit_callbacks):
    """``start_run(**options)``: create a run for the cohort; its on-commit task runs in-process."""

    def start(**kwargs):
        residents, mentors = cohort
        with django_capture_on_commit_callbacks(execute=True):
            run = _create(coordinator, program, residents, mentors, **kwargs)
        run.refresh_from_db()
        return run

    return start


# --- Rankings.


@pytest.fixture
def ranking_run(coordinator, program, cohort):
    return _create(coordinator, program, *cohort, ranking_deadline=timezone.now() + timedelta(days=3))
