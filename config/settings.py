"""MentorMatch settings: one module, read from the environment.

Defaults run the embedded demo (SQLite, eager tasks, console e-mail). Production
sets DJANGO_DEBUG=false, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and REDIS_URL; with
those, ``manage.py check --deploy --fail-level WARNING`` is clean.
"""

from pathlib import Path

import environ
from csp import constants as csp

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is convenient for development; the environment always wins.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# The fallback key is only acceptable while DEBUG is on; production must set one.
_INSECURE_KEY = "django-insecure-mentormatch-demo-key-change-me"
SECRET_KEY = env.str("SECRET_KEY", default=_INSECURE_KEY if DEBUG else "")
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("SECRET_KEY must be set when DJANGO_DEBUG is false.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    # allauth's session and security-key lists say "3 minutes ago".
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "rules.apps.AutodiscoverRulesConfig",
    "axes",
    "csp",
    # Sign-in (accounts/auth/: our adapters, forms and policy on top of these).
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "allauth.usersessions",
    "accounts",
    "audit",
    "matching",
    "demo",
]

MIDDLEWARE = [
    # First: every log line of the request, and the response, carry its id (core/logs.py).
    "core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.SessionActivityMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Inside CommonMiddleware: an unrouted /api/ path is a JSON 404 with DEBUG on too.
    "accounts.middleware.ApiNotFoundAsJsonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # allauth's sign-in flow state.
    "allauth.account.middleware.AccountMiddleware",
    # A person who must use a second factor and has none set up sees only the set-up pages.
    "accounts.middleware.RequireMfaMiddleware",
    "accounts.middleware.LastSeenMiddleware",
    # Dates and times on a page are on the viewer's own clock.
    "core.middleware.ViewerTimeZoneMiddleware",
    "core.middleware.NoStoreForSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Inside MessageMiddleware, so its warning is stored with the response.
    "core.middleware.ProcessingDelayedMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
FORM_RENDERER = "core.forms.FormRenderer"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.roles",
                "matching.context_processors.notifications",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# The password apart from the URL, e.g. from a secret file (DATABASE_PASSWORD_FILE=/run/secrets/
# postgres_password, as docker-compose.yml does): it replaces the URL's. The file's line end is not part of it.
_DATABASE_PASSWORD = environ.FileAwareEnv().str("DATABASE_PASSWORD", default="").rstrip("\r\n")
if _DATABASE_PASSWORD:
    DATABASES["default"]["PASSWORD"] = _DATABASE_PASSWORD
# Reuse connections, but check them first so a server-side disconnect is survived.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out e-mail/IP is refused before any password check.
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "matching:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
# Invitation links are password-reset tokens; give invitees a week.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=7 * 24 * 3600)

# How many reverse proxies of ours stand in front of the application. The client's address
# (core/http.py: client_ip) is REMOTE_ADDR with 0, ignoring X-Forwarded-For, which any client
# can write; with N it is the N-th address from the right of X-Forwarded-For, the one the
# outermost proxy appended. Throttles and the sign-in lockout count per that address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Brute-force protection (django-axes): five failures per e-mail and address lock
# that pair out for a quarter of an hour. Covers the admin log-in too.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"  # the sign-in form's field (allauth's), which holds the e-mail
AXES_USERNAME_CALLABLE = "accounts.lockout.lockout_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_VERBOSE = False
# What axes masks in its log lines and in the form data it keeps per failure: the e-mail
# (``login`` on the sign-in form, ``username`` on the API token endpoint, ``email`` in the
# credentials the sign-in form authenticates with) and the address.
# Written out rather than left to axes' default, which does not know the API's field.
AXES_SENSITIVE_PARAMETERS = ["login", "username", "email", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "core.http.client_ip"

# --- Sign-in through django-allauth (accounts/auth/adapters.py holds our rules).
# E-mail and password; no open sign-up (coordinators invite people, SSO admits only people
# already on a roster). Passwords are reset and changed by our own views (accounts/urls.py),
# which look people up by the canonical e-mail and are rate-limited.
ACCOUNT_ADAPTER = "accounts.auth.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.auth.adapters.SocialAccountAdapter"
ACCOUNT_FORMS = {"login": "accounts.auth.forms.LoginForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
# The session lasts SESSION_COOKIE_AGE since the last request, as before allauth; no "remember me".
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Wrong passwords are counted by django-axes (per canonical e-mail and address; our adapter skips
# allauth's count of them). allauth's ``login_failed`` then limits wrong second-factor codes: five
# per person in five minutes. ``login`` limits sign-in attempts per client address across
# accounts (password spraying); a hospital's whole staff may share one address, so it is configurable.
ACCOUNT_RATE_LIMITS = {"login_failed": "5/300s/key", "login": env.str("LOGIN_RATE_LIMIT", default="30/m/ip")}
ACCOUNT_REAUTHENTICATION_TIMEOUT = 10 * 60
# Multi-factor: authenticator apps (TOTP), security keys and passkeys (WebAuthn), recovery codes.
MFA_ADAPTER = "accounts.auth.adapters.MFAAdapter"
# The code fields, with a number pad and one-time-code autofill (accounts/auth/forms.py).
MFA_FORMS = {
    "authenticate": "accounts.auth.forms.AuthenticateForm",
    "activate_totp": "accounts.auth.forms.ActivateTOTPForm",
}
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
# Authenticator-app secrets and recovery codes are stored encrypted with a key derived from this
# (SECRET_KEY unless set). To change it, keep the old one in MFA_ENCRYPTION_KEYS_OLD.
MFA_ENCRYPTION_KEY = env.str("MFA_ENCRYPTION_KEY", default=SECRET_KEY)
# Earlier keys, comma-separated: secrets they encrypted still decrypt (rotate without re-enrolling).
MFA_ENCRYPTION_KEYS_OLD = env.list("MFA_ENCRYPTION_KEYS_OLD", default=[])
MFA_TOTP_ISSUER = "MentorMatch"
# One 30-second step either side of now, for a phone's clock a little off (RFC 6238 §5.2);
# a code that signed in once is refused after (allauth remembers it).
MFA_TOTP_TOLERANCE = 1
MFA_PASSKEY_LOGIN_ENABLED = False
# WebAuthn needs a secure origin; the demo and the test live server run on http://127.0.0.1.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
# Who must use a second factor: coordinators where their institution says so (Institution.
# require_mfa_for_coordinators), and superusers unless this is off (the demo turns it off).
MFA_REQUIRED_FOR_SUPERUSERS = env.bool("MFA_REQUIRED_FOR_SUPERUSERS", default=True)
SOCIALACCOUNT_ONLY = False
# allauth's SAML provider, keeping the assertion's AuthnContextClassRef (accounts/auth/sso.py).
SOCIALACCOUNT_PROVIDERS = {"saml": {"provider_class": "accounts.auth.sso.SAMLProvider"}}
# What counts as the identity provider's own second factor (Institution.accept_idp_mfa):
# OIDC amr values (RFC 8176) and acr values, and SAML authentication context classes.
SSO_MFA_AMR_VALUES = env.list("SSO_MFA_AMR_VALUES", default=["mfa"])
SSO_MFA_ACR_VALUES = env.list(
    "SSO_MFA_ACR_VALUES", default=["http://schemas.openid.net/pape/policies/2007/06/multi-factor", "phrh", "phr"]
)
SSO_MFA_SAML_CONTEXTS = env.list(
    "SSO_MFA_SAML_CONTEXTS",
    default=[
        "https://refeds.org/profile/mfa",
        "http://schemas.microsoft.com/claims/multipleauthn",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
    ],
)
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_LOGIN_ON_GET = False
# The session list (device, address, last seen) is written at sign-in; "last seen" is brought up
# to date every few minutes by accounts/middleware.py, not on every request as allauth's would.
USERSESSIONS_TRACK_ACTIVITY = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Roster CSV uploads are read into memory; cap them well above a 5,000-row roster.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# The roster upload is cut off while it streams once it passes this (accounts/uploads.py),
# and a file is refused whole beyond ROSTER_MAX_ROWS people.
ROSTER_MAX_UPLOAD_BYTES = env.int("ROSTER_MAX_UPLOAD_BYTES", default=2 * 1024 * 1024)
ROSTER_MAX_ROWS = env.int("ROSTER_MAX_ROWS", default=5000)

# --- Redis: broker, results and cache when REDIS_URL is set; in-process otherwise.
REDIS_URL = env.str("REDIS_URL", default="")
# How long one attempt to reach Redis may block a request; the cache then fails soft
# (core/cache.py) and an enqueue leaves its work to the sweepers (core/outbox.py).
REDIS_CONNECT_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", default=0.5)
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=2.0)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT, "socket_timeout": REDIS_SOCKET_TIMEOUT},
            # Keeps apart the keys of several sites that share one Redis database; throttle
            # counters included. (Test workers each have a database: config/settings_test.py.)
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default=""),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# Without a broker, run tasks in-process so the demo needs no services.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
# A publish to a dead broker gives up within about a second instead of retrying for long:
# the row is already committed and a sweeper sends the work when the broker is back.
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_CONNECT_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_SOCKET_TIMEOUT
# Each .delay() also subscribes to its result on the result backend; its default
# retries (20, a second apart) would hold a request for 20 s.
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": CELERY_TASK_PUBLISH_RETRY_POLICY}

# --- E-mail: printed to the console unless configured.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="MentorMatch <no-reply@mentormatch.local>")
# Absolute links in e-mails (invitations) are built from this.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Busy calendars imported from an address (accounts/busy.py): a person's URL is fetched
# by the server, so only public addresses are reached unless this says otherwise (tests, a
# closed intranet); the body and the wait are capped.
BUSY_CALENDAR_ALLOW_PRIVATE_HOSTS = env.bool("BUSY_CALENDAR_ALLOW_PRIVATE_HOSTS", default=False)
BUSY_CALENDAR_MAX_BYTES = env.int("BUSY_CALENDAR_MAX_BYTES", default=2 * 1024 * 1024)
BUSY_CALENDAR_TIMEOUT = env.int("BUSY_CALENDAR_TIMEOUT", default=10)

# --- API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # The token first, so a caller without valid credentials gets 401 and its challenge
        # (``WWW-Authenticate: Token``) rather than the 403 session authentication would give.
        "accounts.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # The API reads JSON bodies only, and the schema offers only JSON: a client generated from it
    # (openapi-python-client) sends JSON and imports cleanly. A view that takes a file says so itself
    # (accounts/api/busy.py: a calendar upload). The tests' APIClient sends JSON unless told otherwise.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # ?page= and a bounded ?page_size= (core/api/pagination.py).
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    # No OPTIONS metadata: the schema describes every operation, and the API is same-origin or
    # token-authenticated (no CORS preflight). DRF's metadata called get_object() on views that
    # have no queryset (500s); without a metadata class OPTIONS answers 405.
    "DEFAULT_METADATA_CLASS": None,
    # The client's address behind our proxies (core/http.py); our own throttles call client_ip.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    # accounts/throttles.py: signing in for a token and password-reset e-mails, each counted
    # per client address and per canonical e-mail (so spelling the address differently or
    # changing address does not reset the count). Read live, so tests may lower them.
    "DEFAULT_THROTTLE_RATES": {
        "token": "10/minute",
        "token_email": "20/hour",
        "password_reset": "20/hour",
        "password_reset_email": "3/hour",
    },
}
# How long an API token lives (seconds). A new password, signing out of the site and
# DELETE /api/v1/auth/token/ end it sooner.
API_TOKEN_TTL = env.int("API_TOKEN_TTL", default=30 * 24 * 3600)
SPECTACULAR_SETTINGS = {
    "TITLE": "MentorMatch API",
    "DESCRIPTION": "Mentor–mentee matching for graduate medical education.",
    "VERSION": "1.0.0",
    "LICENSE": {"name": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"},
    # The installation serving the schema (its paths start with /api/v1/).
    "SERVERS": [{"url": SITE_URL, "description": "This installation"}],
    # Operation ids and tags leave out the version: ``requests_accept``, not ``v1_requests_accept_create``.
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # drf-spectacular's own hook (enum components), then ours: every 4xx answers the one Error
    # schema, and writes declare the X-Processing-Delayed header (core/api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.postprocess_errors_and_headers",
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc from our own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two choice sets share the field name "role" (a program membership's, an evaluator's).
    "ENUM_NAME_OVERRIDES": {
        "MembershipRoleEnum": "accounts.models.Membership.Role",
        "EvaluatorRoleEnum": "matching.models.EvaluatorRole.Role",
        "ProgramInvitationStatusEnum": "accounts.models.ProgramInvitation.Status",
    },
}

# --- Security. Strict values apply whenever DEBUG is off.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
# The age above is an inactivity timeout: accounts.middleware.SessionActivityMiddleware saves the
# session (moving its expiry) once per few minutes of activity, rather than on every request.
SESSION_SAVE_EVERY_REQUEST = False
# Sessions are read from the cache (Redis in production) and written through to the database,
# where "sign out everywhere" finds them: no session query on most requests.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Only our own scripts, styles, images and fonts; no inline script or style (templates use none;
# data for charts travels in json_script blocks). The API docs page relaxes style-src (config/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF],
        "img-src": [csp.SELF, "data:"],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # A load balancer probes the container over plain HTTP: a redirect would read as "down".
    SECURE_REDIRECT_EXEMPT = [r"^healthz/"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Product settings.
MENTORMATCH = {
    "MAX_PENDING_REQUESTS": env.int("MAX_PENDING_REQUESTS", default=3),
    "REQUEST_EXPIRY_DAYS": env.int("REQUEST_EXPIRY_DAYS", default=14),
}

# --- Operating it (docs/deploy.md).
# Health probes (core/health.py): a process reuses its readiness answer this long, so a flood
# of probes costs nothing; the worker counts as stopped once its heartbeat is this old.
HEALTH_CACHE_SECONDS = env.float("HEALTH_CACHE_SECONDS", default=2.0)
HEALTH_WORKER_STALE_SECONDS = env.int("HEALTH_WORKER_STALE_SECONDS", default=300)

# Logs go to standard output: one JSON object a line in production (for the log collector),
# a readable line in development. Each carries the request id, and the user id and program
# where known (core/logs.py); never a name or an e-mail address.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise environ.ImproperlyConfigured("LOG_FORMAT must be json or text.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "core.logs.ContextFilter"}},
    "formatters": {
        "json": {"()": "core.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["context"], "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Error reports and traces, off unless switched on here; their packages are not in
# requirements.txt (requirements-observability.txt), and are imported only when switched on.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from core import observability

    observability.start_sentry(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        release=env.str("SENTRY_RELEASE", default=""),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
# Started per process after the fork (config/wsgi.py, config/celery.py); checked here so a
# missing package stops every process at once.
OTEL_ENABLED = env.bool("OTEL_ENABLED", default=False)
if OTEL_ENABLED:
    from core import observability

    observability.check_tracing_installed()
