"""Sentry and OpenTelemetry are off unless switched on, never imported while off, and a switch
set without its package stops the process at start, saying what to install. Each case starts
a fresh interpreter: what a process imports at start is the thing under test."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SWITCHES = ("SENTRY_DSN", "OTEL_ENABLED")

# Loads the production settings as every process does (web, worker, beat), then says which of
# the observability packages got imported.
PROBE = """
import sys
import django
django.setup()
from django.conf import settings
print("loaded", bool(settings.SENTRY_DSN), settings.OTEL_ENABLED)
print("imported", sorted({m.split(".")[0] for m in sys.modules if m.startswith(("sentry_sdk", "opentelemetry"))}))
"""


def start(tmp_path, shims=(), **variables):
    env = {k: v for k, v in os.environ.items() if k not in SWITCHES and not k.startswith("OTEL_")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    env.pop("REDIS_URL", None)
    if shims:
        # A package that is "not installed", whatever this machine has: importing it fails.
        for name in shims:
            (tmp_path / "shims" / name).mkdir(parents=True)
            (tmp_path / "shims" / name / "__init__.py").write_text(
                f"raise ModuleNotFoundError(\"No module named '{name}'\", name={name!r})\n"
            )
        env["PYTHONPATH"] = str(tmp_path / "shims")
    env.update(variables)
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_both_are_off_by_default_and_nothing_of_theirs_is_imported(tmp_path):
    result = start(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "loaded False False" in result.stdout
    assert "imported []" in result.stdout


@pytest.mark.parametrize(
    ("variables", "package"),
    [({"SENTRY_DSN": "https://key@errors.example.org/1"}, "sentry_sdk"), ({"OTEL_ENABLED": "true"}, "opentelemetry")],
    ids=["sentry", "opentelemetry"],
)
def test_a_switch_without_its_package_fails_at_start_saying_what_to_install(tmp_path, variables, package):
    result = start(tmp_path, shims=[package], **variables)
    assert result.returncode != 0
    [switch] = variables
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: " + switch + " is set but " + package)
    assert "pip install -r requirements-observability.txt" in last_line


def test_the_shim_does_hide_an_installed_package(tmp_path):
    """Control for the case above: the shim hides a package this machine does have."""
    result = subprocess.run(
        [sys.executable, "-c", "import json"],
        env={**os.environ, "PYTHONPATH": str(tmp_path / "shims")},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    (tmp_path / "shims" / "json").mkdir(parents=True)
    (tmp_path / "shims" / "json" / "__init__.py").write_text("raise ModuleNotFoundError('hidden', name='json')\n")
    result = subprocess.run(
        [sys.executable, "-c", "import json"],
        env={**os.environ, "PYTHONPATH": str(tmp_path / "shims")},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "hidden" in result.stderr
