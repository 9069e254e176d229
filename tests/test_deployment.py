"""The deployment files are valid, and production settings pass Django's deploy checks.

Docker cannot run here, so docker-compose.yml is checked against the Compose
specification's JSON schema instead. Each check has a control that shows it can fail.
"""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
APP_SERVICES = ("web", "worker", "beat")
# Settings the check subprocess must not inherit from the shell or from other tests
# (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy rightly flags).
SETTINGS_VARIABLES = (
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "CSRF_TRUSTED_ORIGINS",
)


def validate_compose(path: Path) -> subprocess.CompletedProcess:
    check_jsonschema = Path(sys.executable).parent / "check-jsonschema"
    return subprocess.run(
        [str(check_jsonschema), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


class TestCompose:
    def test_it_validates_against_the_compose_specification(self):
        result = validate_compose(COMPOSE)
        assert result.returncode == 0, result.stdout + result.stderr

    def test_the_validator_rejects_a_broken_file(self, tmp_path):
        text = COMPOSE.read_text()
        broken, replaced = re.subn(r"condition: service_healthy", "condition: sometimes", text, count=1)
        assert replaced == 1
        (tmp_path / "docker-compose.yml").write_text(broken)
        result = validate_compose(tmp_path / "docker-compose.yml")
        assert result.returncode != 0
        assert "sometimes" in result.stdout + result.stderr

    def test_it_has_the_five_services(self, compose):
        assert set(compose["services"]) == {"web", "worker", "beat", "postgres", "redis"}
        assert compose["services"]["postgres"]["image"] == "postgres:15"
        assert compose["services"]["redis"]["image"] == "redis:7"
        assert "gunicorn config.wsgi" in " ".join(compose["services"]["web"]["command"])
        assert "migrate" in " ".join(compose["services"]["web"]["command"])
        assert compose["services"]["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
        assert compose["services"]["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]

    def test_app_services_wait_for_healthy_postgres_and_redis(self, compose):
        for name in APP_SERVICES:
            depends_on = compose["services"][name]["depends_on"]
            assert {"postgres", "redis"} <= set(depends_on), name
            for dependency, spec in depends_on.items():
                assert spec == {"condition": "service_healthy"}, (name, dependency)

    def test_postgres_redis_and_web_have_health_checks(self, compose):
        services = compose["services"]
        assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
        assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
        assert "healthcheck" in services["web"]

    def test_app_services_share_the_production_environment(self, compose):
        for name in APP_SERVICES:
            environment = compose["services"][name]["environment"]
            assert environment["DATABASE_URL"] == "postgres://mentormatch:mentormatch@postgres:5432/mentormatch"
            assert environment["REDIS_URL"] == "redis://redis:6379/0"
            assert environment["DJANGO_DEBUG"] == "false"
            assert environment["SECURE_SSL_REDIRECT"] == "false"
            assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")  # no default key, ever
            assert "ALLOWED_HOSTS" in environment

    def test_postgres_keeps_its_data_in_a_named_volume(self, compose):
        assert "postgres-data" in compose["volumes"]
        assert "postgres-data:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]


class TestDockerfile:
    def test_it_builds_from_slim_python_collects_static_and_drops_root(self):
        dockerfile = (ROOT / "Dockerfile").read_text()
        assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
        assert "pip install -r requirements.txt" in dockerfile
        assert "collectstatic --noinput" in dockerfile
        users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
        assert users and users[-1] not in ("root", "0")

    def test_secrets_and_local_state_stay_out_of_the_build_context(self):
        ignored = set((ROOT / ".dockerignore").read_text().split())
        assert {".env", ".venv", ".git", "db.sqlite3"} <= ignored


def manage_check_deploy(tmp_path, **overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES and not k.startswith("DJANGO_")}
    env.update(
        DJANGO_DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(45),  # 60 characters
        ALLOWED_HOSTS="mentormatch.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy-check.sqlite3'}",
    )
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


class TestCheckDeploy:
    def test_production_settings_pass_every_deploy_check(self, tmp_path):
        result = manage_check_deploy(tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "no issues" in result.stdout

    def test_the_check_fails_with_debug_on(self, tmp_path):
        result = manage_check_deploy(tmp_path, DJANGO_DEBUG="true")
        assert result.returncode != 0
        # Failing for the right reason: deploy warnings, not a crash.
        assert "security.W018" in result.stderr
        assert "Traceback" not in result.stderr
