"""The match-run helpers the tests of its services, execution, selectors and API share."""

from matching.match_runs.services import (
    match_run_create,
)


def _create(coordinator, program, residents, mentors, **kwargs):
    kwargs.setdefault("kind", "career")
    kwargs.setdefault("algorithm", "stable")
    return match_run_create(
        program=program,
        actor=coordinator,
        mentee_ids=[r.pk for r in residents],
        mentor_ids=[m.pk for m in mentors],
        **kwargs,
    )
