# MentorMatch — the two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := .make
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test test-postgres test-postgres-suite test-integration serve migrate install install-runtime lock check lint fmt clean bench bench-app bench-pages bench-roster

# Install into the virtual environment whenever a lock file changes. The demo needs only what the
# application runs on (requirements.lock); the tests, linters and benchmarks add the tools
# (requirements-dev.lock: pytest, Playwright, schemathesis, mypy…) and the engine's compiled kernel
# (requirements-engine.lock: numba), installed by the first target that needs them. The lock files
# pin every package, dependencies included, with the hashes of its files, and pip installs exactly
# those (--require-hashes --no-deps): the same set on every machine, and none that we left out on
# purpose (pandas, which ortools declares but our solver never imports).
# requirements*.txt stay the lists a person edits, each pin with its reason; `make lock` re-locks.
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps
# The runtime install skips pip's byte-compiling of every module (--no-compile): Python writes the
# bytecode of the modules the app imports when it first imports them, and most of what the packages
# ship (ortools' and numpy's Python beyond what the engine calls, Django's contrib apps we do not
# install) is never imported. The demo's environment is 42 MB smaller and installs faster for it.
# Nor does the demo keep pip and setuptools once it is installed (25 MB the app never imports): the
# first target that installs more puts pip back from Python's own copy (ensurepip, no download).
PIP_READY = @test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); \
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip >/dev/null
$(STAMP)/runtime: requirements.lock
	$(PIP_READY)
	$(PIP_INSTALL) --no-compile -r requirements.lock
	$(BIN)/python -m pip uninstall --quiet --yes pip setuptools
	@mkdir -p $(STAMP) && touch $@

$(STAMP)/installed: requirements.lock requirements-dev.lock requirements-engine.lock
	$(PIP_READY)
	$(PIP_INSTALL) -r requirements-dev.lock
	$(PIP_INSTALL) -r requirements-engine.lock
	@mkdir -p $(STAMP) && touch $@ $(STAMP)/runtime

# Re-lock after editing requirements*.txt: resolves each list for Python 3.11 on every platform
# (--universal) and records every file's hash. Pins already in a lock stay unless a list asks
# otherwise; LOCK_ARGS="--upgrade-package celery" (or --upgrade) moves them. pandas is resolved but
# not written: ortools requires it only for its CP-SAT and model-builder helpers, not min_cost_flow.
# The other locks (development, engine, observability) are constrained by the runtime lock, so all agree.
LOCK_ARGS ?=
LOCK := $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--no-emit-package pandas --custom-compile-command "make lock" $(LOCK_ARGS)
lock: $(STAMP)/installed
	$(LOCK) requirements.txt -o requirements.lock
	$(LOCK) requirements-dev.txt -c requirements.lock -o requirements-dev.lock
	$(LOCK) requirements-engine.txt -c requirements.lock -o requirements-engine.lock
	$(LOCK) requirements-observability.txt -c requirements.lock -o requirements-observability.lock

install-runtime: $(STAMP)/runtime

install: $(STAMP)/installed

# The embedded demo always uses SQLite and in-process tasks, whatever the shell exports.
# Links in e-mails (invitations, notifications) point at the address the demo serves on.
# Its logins work with e-mail and password alone: the admin is not asked for a second factor
# here (production asks superusers for one), nor are the demo institution's coordinators.
DEMO_ENV := env -u DATABASE_URL -u REDIS_URL DJANGO_DEBUG=true MFA_REQUIRED_FOR_SUPERUSERS=false SITE_URL=http://$(HOST):$(PORT)

migrate: install-runtime
	$(BIN)/python manage.py migrate --noinput

# The embedded demo: SQLite, tasks in-process, e-mail printed to this terminal; the periodic
# jobs (a ranking window's match starting at its deadline, digests, sweepers) run in-process too.
demo: install-runtime
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	@echo
	@echo "MentorMatch is starting on http://$(HOST):$(PORT)/ — log in with a demo account above. Ctrl-C stops it."
	@echo "(To try a security key or passkey, open http://localhost:$(PORT)/ instead: browsers refuse them on a bare IP address.)"
	@echo
	$(DEMO_ENV) $(BIN)/python manage.py demo_serve $(HOST):$(PORT)

serve: migrate
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# pytest-xdist runs the suite on PYTEST_WORKERS processes (`auto`: one per core; `worksteal`: an idle
# worker takes tests queued for a busy one, so the slow browser journeys don't end on one), each with its own
# test database, live server and browser. The integration tests (real servers, ports, a worker,
# Redis outages) run after them, on INTEGRATION_WORKERS processes, each with its own test database,
# Redis database (config/settings_test.py) and Celery worker; they mostly wait on the processes they
# start, so two share the cores well. On SQLite they skip, so there the one parallel pass takes them
# and says why. Exit code 5 is "nothing selected", e.g. PYTEST_ARGS=tests/engine has no integration
# test: not a failure.
PYTEST_WORKERS ?= auto
INTEGRATION_WORKERS ?= 2
define parallel_then_integration
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal -m "$(1)" $(2) $(PYTEST_ARGS) || test $$? -eq 5
	$(BIN)/pytest -n $(INTEGRATION_WORKERS) --dist worksteal -m integration $(PYTEST_ARGS) || test $$? -eq 5
endef

# The whole suite. With DATABASE_URL/REDIS_URL unset it runs on SQLite with eager
# tasks; .ci/run runs it again against PostgreSQL and Redis.
test: install
	$(BIN)/python manage.py makemigrations --check --dry-run
ifdef DATABASE_URL
	$(call parallel_then_integration,not integration)
else
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS) || test $$? -eq 5
endif

# The suite against the local PostgreSQL and Redis (as .ci/run does). The browser journeys
# drive pages through a live server whatever the database: they ran in `make test`. So did the
# engine's tests, which import no Django (tests/test_layers.py) and so cannot meet a database, and
# the checks of files (the compose file, the Dockerfile, the locks, the import layers, the schema's
# lint), which read no database either.
# PYTEST_ARGS=--reuse-db keeps the test databases between runs; add --create-db once after a new migration.
# Its two halves run alone too: `make test-postgres-suite` (everything but the integration tests)
# and `make test-integration` (those, which .ci/run runs beside the page benchmark).
POSTGRES_ONLY := --ignore=tests/engine --ignore=tests/test_deployment.py --ignore=tests/test_layers.py --ignore=tests/contract/test_redocly_lint.py
test-postgres test-postgres-suite test-integration: export DATABASE_URL := $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/mentormatch)
test-postgres test-postgres-suite test-integration: export REDIS_URL := $(or $(REDIS_URL),redis://127.0.0.1:6379/15)
test-postgres: test-postgres-suite test-integration

test-postgres-suite: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal -m "not browser and not integration" $(POSTGRES_ONLY) $(PYTEST_ARGS) || test $$? -eq 5

test-integration: install
	$(BIN)/pytest -n $(INTEGRATION_WORKERS) --dist worksteal -m integration $(PYTEST_ARGS) || test $$? -eq 5

check: install-runtime
	$(BIN)/python manage.py check

# What CI checks before the tests: lint rules, formatting, and types (mypy's `files` in pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The OpenAPI schema, as `manage.py spectacular` writes it, against Redocly's recommended rules
# (.redocly.yaml says why each rule it turns off is off). Redocly CLI comes from npm, pinned in
# tests/contract/package-lock.json; tests/contract/test_redocly_lint.py runs the same check in `make test`.
.PHONY: lint-api
REDOCLY := tests/contract/node_modules/.bin/redocly
$(STAMP)/redocly: tests/contract/package-lock.json
	npm ci --prefix tests/contract --no-audit --no-fund --loglevel=error
	@mkdir -p $(STAMP) && touch $@

lint-api: install-runtime $(STAMP)/redocly
	@mkdir -p artifacts
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py spectacular --file artifacts/openapi.yaml
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(REDOCLY) lint --config .redocly.yaml artifacts/openapi.yaml

# The schemathesis CLI against a live server: the demo's data on a throwaway SQLite database
# (artifacts/fuzz-api/), as the demo resident and the demo coordinator, every check, and the coverage,
# fuzzing and stateful phases that the in-process fuzzing in `make test` does not run. Not in CI: it
# takes several minutes (CONTRIBUTING.md says how long). FUZZ_ARGS="--max-examples 50 -- --max-failures 5".
.PHONY: fuzz-api
FUZZ_ARGS ?=
fuzz-api: install
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python -m tests.contract.fuzz_api --port $(PORT) $(FUZZ_ARGS)

# Fix what `make lint` can fix by itself. Lint fixes first: they can leave code the formatter then tidies.
fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmark-only packages go to their own directory, not the virtual environment: the PyPI
# `matching` package would shadow our app of the same name (see benchmarks/requirements.txt).
BENCH_PACKAGES := $(VENV)/bench-packages
$(STAMP)/bench-packages: benchmarks/requirements.txt $(STAMP)/installed
	rm -rf $(BENCH_PACKAGES)
	$(BIN)/pip install --quiet --no-deps --target $(BENCH_PACKAGES) -r benchmarks/requirements.txt
	@mkdir -p $(STAMP) && touch $@

# The engine against its references; BENCH_ARGS=--large adds 40,000×16,000 (a few more minutes).
# One BLAS thread unless told otherwise: on a shared 2-core machine a second one mostly waits for a busy core.
bench: install $(STAMP)/bench-packages
	OPENBLAS_NUM_THREADS=$${OPENBLAS_NUM_THREADS:-1} $(BIN)/python -m benchmarks.engine_bench $(BENCH_ARGS)

# A 200-resident match run through the app on the local PostgreSQL and Redis, in a throwaway
# database (test_mm_bench) and Redis database 14 (the test suite has 15), whatever the shell exports.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mm_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14
bench-app: install
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python -m benchmarks.app_bench $(BENCH_ARGS)

# Pages at scale (5,000 mentors, 20,000 residents, 50,000 past mentorships) under gunicorn, driven by wrk
# (apt-get install -y wrk), as ratios to a trivial view measured in the same run; see docs/performance.md.
# A throwaway database (test_mm_pages) and Redis database 10, whatever the shell exports. BENCH_ARGS=--quick: a tenth of the data.
PAGES_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mm_pages
PAGES_REDIS_URL ?= redis://127.0.0.1:6379/10
bench-pages: install
	DATABASE_URL=$(PAGES_DATABASE_URL) REDIS_URL=$(PAGES_REDIS_URL) $(BIN)/python -m benchmarks.page_bench $(BENCH_ARGS)

# Roster previews (issue 11's large-file attack included) against csv.reader over the same file, on
# SQLite in a throwaway database, whatever the shell exports.
bench-roster: install
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python -m benchmarks.roster_bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(STAMP) db.sqlite3 staticfiles artifacts .pytest_cache .mypy_cache .ruff_cache
