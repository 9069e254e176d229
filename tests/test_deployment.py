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

    def test_it_has_a_migrate_step_and_the_five_services(self, compose):
        assert set(compose["services"]) == {"migrate", "web", "worker", "beat", "postgres", "redis"}
        services = compose["services"]
        assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
        assert services["migrate"]["restart"] == "no"  # one shot: done is done
        assert services["web"]["command"][:2] == ["gunicorn", "config.wsgi:application"]
        # The web process no longer migrates: two web containers would race each other.
        assert "migrate" not in " ".join(services["web"]["command"])
        assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
        assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]

    def test_images_are_pinned_to_exact_versions(self, compose):
        for name in ("postgres", "redis"):
            image = compose["services"][name]["image"]
            assert re.fullmatch(rf"{name}:\d+\.\d+(\.\d+)?(@sha256:[0-9a-f]{{64}})?", image), image

    def test_app_services_start_only_after_the_migrations_succeeded(self, compose):
        services = compose["services"]
        assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
        for name in APP_SERVICES:
            depends_on = services[name]["depends_on"]
            assert depends_on["migrate"] == {"condition": "service_completed_successfully"}, name
            assert depends_on["redis"] == {"condition": "service_healthy"}, name
            assert "web" not in depends_on, name  # nothing waits for web any more
        for name in ("web", "worker"):
            assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}, name

    def test_every_service_has_a_health_check(self, compose):
        services = compose["services"]
        assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
        assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
        assert "http://127.0.0.1:8000/healthz/ready/" in " ".join(services["web"]["healthcheck"]["test"])
        worker = " ".join(services["worker"]["healthcheck"]["test"])
        assert "celery -A config inspect ping" in worker and "--destination celery@$$HOSTNAME" in worker
        assert "/tmp/celerybeat-schedule" in " ".join(services["beat"]["healthcheck"]["test"])
        assert "/tmp/celerybeat-schedule" in services["beat"]["command"]  # the file the check reads

    def test_the_web_health_check_asks_a_route_that_exists(self):
        from django.urls import resolve

        assert resolve("/healthz/ready/").url_name == "health-ready"

    def test_beat_is_a_single_instance(self, compose):
        beat = compose["services"]["beat"]
        assert beat["deploy"]["replicas"] == 1
        assert "ports" not in beat

    def test_only_web_publishes_a_port_and_on_loopback_unless_configured(self, compose):
        published = {name: s["ports"] for name, s in compose["services"].items() if "ports" in s}
        assert published == {"web": ["${MM_BIND:-127.0.0.1}:8000:8000"]}

    def test_the_database_password_is_a_secret_not_in_the_file(self, compose):
        text = COMPOSE.read_text()
        assert "POSTGRES_PASSWORD:" not in text
        assert not re.search(r"postgres://[^@\s]*:[^@\s]*@", text), "a password in a DATABASE_URL"
        assert compose["secrets"]["postgres_password"]["file"].endswith("/secrets/postgres_password}")
        postgres = compose["services"]["postgres"]
        assert postgres["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
        assert "postgres_password" in postgres["secrets"]
        for name in ("migrate", *APP_SERVICES):
            service = compose["services"][name]
            assert service["environment"]["DATABASE_PASSWORD_FILE"] == "/run/secrets/postgres_password"
            assert "postgres_password" in service["secrets"]

    def test_app_services_share_the_production_environment(self, compose):
        for name in ("migrate", *APP_SERVICES):
            environment = compose["services"][name]["environment"]
            assert environment["DATABASE_URL"] == "postgres://mentormatch@postgres:5432/mentormatch"
            assert environment["REDIS_URL"] == "redis://redis:6379/0"
            assert environment["DJANGO_DEBUG"] == "false"
            assert environment["SECURE_SSL_REDIRECT"] == "false"
            assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")  # no default key, ever
            assert "ALLOWED_HOSTS" in environment
            assert compose["services"][name]["env_file"] == [{"path": ".env.production", "required": False}]

    def test_postgres_keeps_its_data_in_a_named_volume(self, compose):
        assert "postgres-data" in compose["volumes"]
        assert "postgres-data:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]


class TestDatabasePasswordFile:
    """What the compose file relies on: DATABASE_PASSWORD_FILE replaces the URL's password."""

    def settings_of(self, tmp_path, **variables):
        env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES and not k.startswith("DATABASE_")}
        env.update(DATABASE_URL="postgres://mentormatch@db.internal:5432/mentormatch", **variables)
        return subprocess.run(
            [
                sys.executable,
                "-c",
                "from config import settings; print(repr(settings.DATABASES['default']['PASSWORD']))",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def test_the_password_comes_from_the_file_without_its_line_end(self, tmp_path):
        secret = tmp_path / "postgres_password"
        secret.write_text("s3cret with spaces \n")
        result = self.settings_of(tmp_path, DATABASE_PASSWORD_FILE=str(secret))
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == repr("s3cret with spaces ")

    def test_control_without_it_the_url_has_none(self, tmp_path):
        result = self.settings_of(tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == repr("")


class TestDockerfile:
    def test_it_builds_from_slim_python_collects_static_and_drops_root(self):
        dockerfile = (ROOT / "Dockerfile").read_text()
        assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
        # The locked versions, hash-checked, as `make` installs them.
        assert "pip install --require-hashes --no-deps -r requirements.lock" in dockerfile
        # Sentry and OpenTelemetry only when asked for at build time.
        assert re.search(
            r'if \[ "\$OBSERVABILITY" = "1" \]; then pip install --require-hashes --no-deps '
            r"-r requirements-observability.lock",
            dockerfile,
        )
        assert "collectstatic --noinput" in dockerfile
        users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
        assert users and users[-1] not in ("root", "0")

    def test_secrets_and_local_state_stay_out_of_the_build_context(self):
        ignored = set((ROOT / ".dockerignore").read_text().split())
        assert {".env", ".env.*", ".venv", ".git", "db.sqlite3", "secrets"} <= ignored


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


# The lock files (issue 17): requirements*.txt are the lists a person edits, one reason per pin;
# requirements*.lock are what `make lock` resolves from them and what the Makefile installs, every
# package with the hashes of its files (pip --require-hashes --no-deps).
LISTS = sorted(ROOT.glob("requirements*.txt"))


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def list_pins(path: Path) -> dict[str, str]:
    """name -> version of every `name[extras]==version` in a requirements list and the lists it includes (-r)."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            pins.update(list_pins(path.parent / line[3:].strip()))
        elif line:
            match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(\S+?)(?:\s*;.*)?", line)
            assert match, f"{path.name}: not pinned with ==: {line!r}"
            pins[canonical(match[1])] = match[2]
    return pins


def lock_entries(text: str) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) of every package in a lock file."""
    entries: dict[str, tuple[str, int]] = {}
    name = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line)
            assert match, f"not a pinned lock entry: {line!r}"
            name = canonical(match[1])
            entries[name] = (match[2], 0)
        elif line.strip().startswith("--hash=sha256:") and name:
            version, hashes = entries[name]
            entries[name] = (version, hashes + 1)
    return entries


def lock_problems(pins: dict[str, str], entries: dict[str, tuple[str, int]]) -> list[str]:
    problems = [
        f"{name}=={version} is locked at {entries.get(name, ('nothing', 0))[0]}"
        for name, version in pins.items()
        if entries.get(name, (None, 0))[0] != version
    ]
    problems += [f"{name} has no hash" for name, (_, hashes) in entries.items() if hashes == 0]
    return problems


class TestLockFiles:
    @pytest.mark.parametrize("requirements", LISTS, ids=lambda path: path.name)
    def test_every_pin_is_locked_at_its_version_with_hashes(self, requirements):
        lock = requirements.with_suffix(".lock")
        assert lock.exists(), f"{lock.name} is missing: run `make lock`"
        problems = lock_problems(list_pins(requirements), lock_entries(lock.read_text()))
        assert problems == [], f"{lock.name} is stale, run `make lock`: {problems}"

    def test_every_other_lock_agrees_with_the_runtime_one(self):
        # They are installed on top of it (development, engine) or beside it (observability, in the image).
        runtime = lock_entries((ROOT / "requirements.lock").read_text())
        others = sorted(set(ROOT.glob("requirements*.lock")) - {ROOT / "requirements.lock"})
        assert len(others) == len(LISTS) - 1
        for lock in others:
            entries = lock_entries(lock.read_text())
            differing = {
                name: (version, entries[name][0])
                for name, (version, _) in runtime.items()
                if name in entries and entries[name][0] != version
            }
            assert differing == {}, lock.name

    def test_a_forgotten_relock_and_a_missing_hash_are_caught(self):
        lock = "django==5.2.1 \\\n    --hash=sha256:aa\n    # via -r requirements.txt\nrules==3.5\n"
        assert lock_problems({"django": "5.2.19", "rules": "3.5"}, lock_entries(lock)) == [
            "django==5.2.19 is locked at 5.2.1",
            "rules has no hash",
        ]
        assert lock_problems({"celery": "5.5.3"}, {}) == ["celery==5.5.3 is locked at nothing"]

    def test_the_makefile_installs_the_locks_by_hash_and_nothing_else(self):
        makefile = (ROOT / "Makefile").read_text()
        installs = re.findall(r"^\t\$\(PIP_INSTALL\) (.*)$", makefile, re.MULTILINE)
        # The runtime (the demo's) without byte-compiling all of it: Python compiles what it imports, on first use.
        assert installs == [
            "--no-compile -r requirements.lock",
            "-r requirements-dev.lock",
            "-r requirements-engine.lock",
        ]
        assert re.search(r"^PIP_INSTALL := .*--require-hashes --no-deps$", makefile, re.MULTILINE)
        assert not re.search(r"pip install [^\n]*-r requirements[-a-z]*\.txt", makefile)


class TestLeanRuntime:
    """ortools declares pandas (84 MB) for its CP-SAT helpers; the demo installs without it."""

    def test_pandas_is_left_out_of_the_runtime_lock(self):
        entries = lock_entries((ROOT / "requirements.lock").read_text())
        assert "ortools" in entries
        assert "pandas" not in entries

    def run_without(self, module: str, code: str) -> subprocess.CompletedProcess:
        blocker = (
            "import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            f"        if name.split('.')[0] == {module!r}:\n"
            "            raise ImportError('blocked: ' + name)\n"
            "sys.meta_path.insert(0, Block())\n"
        )
        return subprocess.run(
            [sys.executable, "-c", blocker + code], cwd=ROOT, capture_output=True, text=True, timeout=120
        )

    def test_the_optimal_mode_solves_without_pandas(self):
        result = self.run_without(
            "pandas",
            "from matching.engine.optimal import min_cost_flow\n"
            "flow = min_cost_flow.SimpleMinCostFlow()\n"
            "flow.add_arc_with_capacity_and_unit_cost(0, 1, 1, 3)\n"
            "flow.set_node_supply(0, 1); flow.set_node_supply(1, -1)\n"
            "assert flow.solve() == flow.OPTIMAL and flow.optimal_cost() == 3\n",
        )
        assert result.returncode == 0, result.stderr

    def test_the_blocker_does_block(self):
        # Control: the same subprocess does fail on a module the engine imports.
        result = self.run_without("numpy", "import matching.engine.optimal\n")
        assert result.returncode != 0
        assert "blocked: numpy" in result.stderr
