"""Settings for the test suite (pyproject.toml points pytest-django here): the application's
settings, read from the environment as usual, with what only slows tests down swapped out.

Subprocesses the integration tests start (gunicorn, celery, manage.py) set
DJANGO_SETTINGS_MODULE=config.settings themselves: they exercise the production settings.
"""

import os
from urllib.parse import urlsplit

from config.settings import *  # noqa: F403
from config.settings import CACHES, REDIS_URL, STORAGES

# A production-cost hash takes tens of milliseconds and the suite signs in thousands of times.
# Tests of hashing itself name their hasher (tests/integration/test_attack_replay.py).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# pytest-django installs the locmem backend as well; set here so a module-scoped world that
# sends e-mail before the first test's setup never reaches the console or an SMTP server.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# The manifest storage (DEBUG off) needs collectstatic first; tests render templates without it.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}

# Superusers sign in with a password alone unless a test of that rule says otherwise
# (tests/accounts/auth/); factories' institutions likewise ask no second factor of coordinators.
MFA_REQUIRED_FOR_SUPERUSERS = False

# The suite signs in from one address thousands of times; tests of the limit set it themselves.
ACCOUNT_RATE_LIMITS = {"login_failed": "5/300s/key", "login": False}

# Calendar imports are tested against an .ics served on 127.0.0.1 (tests/accounts/test_busy_import.py);
# the SSRF tests turn this off again.
BUSY_CALENDAR_ALLOW_PRIVATE_HOSTS = True

# Each pytest-xdist worker gets a Redis database of its own when the suite runs on Redis: the
# integration tests run in parallel too, each with its own Celery worker process, and a worker's
# queue, its control broadcasts (ping; kombu scopes them by database) and the keys a test inspects
# (tests/integration/test_worker_kill.py) must not reach another's. REDIS_URL's database is the
# first; worker gwN takes the N-th below it (CI: 15, 14; so keep the benches' 10 and 14 out of a
# concurrent CI run).
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if REDIS_URL and _XDIST_WORKER.startswith("gw"):
    _url = urlsplit(REDIS_URL)
    _db = int(_url.path.strip("/") or 0) - int(_XDIST_WORKER[2:])
    if _db < 0:
        raise ValueError(f"REDIS_URL's database leaves none for xdist worker {_XDIST_WORKER}: start higher (15)")
    REDIS_URL = _url._replace(path=f"/{_db}").geturl()
    CACHES = {**CACHES, "default": {**CACHES["default"], "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = CELERY_RESULT_BACKEND = REDIS_URL
