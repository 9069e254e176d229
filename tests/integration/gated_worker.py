"""A Celery worker for the worker-kill tests, whose match computations wait at a gate.

``python -m tests.integration.gated_worker [celery worker options]`` patches
``matching.match_runs.execution._compute`` in this process, then starts the worker; the
prefork pool forks its children from here, so they inherit the patch and production code
needs no hook. Each attempt, once it has claimed its run, writes its pool process id to
``$MM_GATE_DIR/entered-<attempt>`` (the test kills that process), then waits until
``$MM_GATE_DIR/release`` exists before computing for real.
"""

import os
import sys
import time
from pathlib import Path

GATE_TIMEOUT = 60  # seconds; a test that forgets to release fails the run instead of hanging


def _gated(real, gate: Path):
    def compute(run_id: int, attempt: int) -> str:
        entered = gate / f"entered-{attempt}"
        partial = entered.with_suffix(".tmp")
        partial.write_text(str(os.getpid()))
        os.replace(partial, entered)  # the test never reads a half-written pid
        deadline = time.monotonic() + GATE_TIMEOUT
        while not (gate / "release").exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the test never released the gate")
            time.sleep(0.05)
        return real(run_id, attempt)

    return compute


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from config.celery import app
    from matching.match_runs import execution

    execution._compute = _gated(execution._compute, Path(os.environ["MM_GATE_DIR"]))
    app.worker_main(["worker", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
