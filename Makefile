# MentorMatch — the two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := .make
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test test-postgres serve migrate install check lint clean

# Install into the virtual environment whenever a requirements file changes.
$(STAMP)/installed: requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@mkdir -p $(STAMP) && touch $@

install: $(STAMP)/installed

# The embedded demo always uses SQLite and in-process tasks, whatever the shell exports.
DEMO_ENV := env -u DATABASE_URL -u REDIS_URL DJANGO_DEBUG=true

migrate: install
	$(BIN)/python manage.py migrate --noinput

# The embedded demo: SQLite, tasks in-process, e-mail printed to this terminal.
demo: install
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	@echo
	@echo "MentorMatch is starting on http://$(HOST):$(PORT)/ — log in with a demo account above. Ctrl-C stops it."
	@echo
	$(DEMO_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

serve: migrate
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# The whole suite. With DATABASE_URL/REDIS_URL unset it runs on SQLite with eager
# tasks; .ci/run runs it again against PostgreSQL and Redis.
test: install
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

# The suite against the local PostgreSQL and Redis (as .ci/run does).
test-postgres: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/mentormatch} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/15} \
	$(BIN)/pytest $(PYTEST_ARGS)

check: install
	$(BIN)/python manage.py check

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) $(STAMP) db.sqlite3 staticfiles artifacts .pytest_cache
