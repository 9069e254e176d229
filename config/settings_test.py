"""Settings for the test suite (pyproject.toml points pytest-django here): the application's
settings, read from the environment as usual, with what only slows tests down swapped out.

Subprocesses the integration tests start (gunicorn, celery, manage.py) set
DJANGO_SETTINGS_MODULE=config.settings themselves: they exercise the production settings.
"""

from config.settings import *  # noqa: F403
from config.settings import STORAGES

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
