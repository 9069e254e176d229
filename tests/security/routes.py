"""Route discovery and outcome classification for the security tests."""

import re

from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

API_PREFIX = "api/v1/"

# Routes outside the matrix, each with the reason.
EXCLUDED_PREFIXES = {
    "admin/": "Django's admin guards itself (staff only) and is for superusers, not a role here.",
    "api/schema/": "The OpenAPI schema is public by design (it documents, it holds no data).",
    "api/docs/": "The Swagger UI page is public by design (static, reads the public schema).",
    "healthz/": "Liveness and readiness probes are public by design: JSON, component names and "
    "ok/degraded/unavailable only, no data (core/health.py; tests/core/test_health.py).",
}
EXCLUDED_NAMES = {
    # Public by design: signing in and recovering an account happen before a user is known.
    "accounts:login": "public: the sign-in page",
    "accounts:logout": "public: signing out (POST) ends whatever session there is",
    "accounts:password_reset": "public: request a reset link",
    "accounts:password_reset_done": "public: 'link sent' page",
    "accounts:password_reset_confirm": "public: guarded by the signed token in the URL",
    "accounts:password_reset_complete": "public: 'password set' page",
    "accounts:invitation": "public: guarded by the signed token in the URL",
    # allauth's names for our sign-in pages (accounts/auth/urls.py): reversed, never reached.
    "account_login": "an alias of accounts:login, which answers at the same path",
    "account_logout": "an alias of accounts:logout, which answers at the same path",
    "account_reset_password": "an alias of accounts:password_reset, which answers at the same path",
    # Public by design: steps of a sign-in in progress, before a user is known.
    "account_inactive": "public: 'this account is inactive', shown to a sign-in that was refused",
    "mfa_authenticate": "public: the second step of a sign-in in progress (no user is signed in yet)",
    "socialaccount_login_cancelled": "public: 'you cancelled signing in' after the identity provider",
    "socialaccount_login_error": "public: 'signing in failed' after the identity provider",
    "socialaccount_signup": "public: the SSO sign-up step, closed (accounts/auth/adapters.py) unless an institution allows it",
    "openid_connect_login": "public: starts an SSO sign-in at the institution's identity provider",
    "openid_connect_callback": "public: the identity provider's answer, checked by allauth (state, nonce, signature)",
    "saml_login": "public: starts an SSO sign-in at the institution's SAML identity provider",
    "saml_acs": "public: the SAML assertion consumer service, checked by python3-saml (signature, audience, time)",
    "saml_finish_acs": "public: the second half of the ACS, for a response the first half accepted",
    "saml_sls": "public: SAML single logout, for a request or response signed by the provider",
    "saml_metadata": "public: our SAML metadata, for the identity provider's administrators",
    "accounts:sign-out-everywhere": (
        "ends every session of the caller, the matrix's shared signed-in clients included; it reaches "
        "only the caller's own sessions and tokens (tests/accounts/views/test_security.py)"
    ),
    "accounts-api:token": (
        "public: trades an e-mail and password for an API token; its DELETE revokes only the token "
        "presented, so there is no one else's object to reach (tests/security/attacks/test_api_tokens.py)"
    ),
}

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _walk(resolver, prefix="", ns=""):
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p, prefix + str(p.pattern), ns + (f"{p.namespace}:" if p.namespace else ""))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), (ns + p.name) if p.name else None


def url_patterns():
    """Every (route, name) of the URL conf, including the API; static files are not routed in tests."""
    return list(_walk(get_resolver()))


def is_excluded(route, name):
    return any(route.startswith(p) for p in EXCLUDED_PREFIXES) or name in EXCLUDED_NAMES


def page_route_names():
    """Names of every page route (not the API) the matrix must cover."""
    names = set()
    for route, name in url_patterns():
        if route.startswith(API_PREFIX) or is_excluded(route, name):
            continue
        names.add(name or f"path:{route}")
    return names


_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def openapi_path(route):
    """``api/v1/requests/<int:id>/`` or a router regex → ``/api/v1/requests/{id}/``."""
    path = _CONVERTER.sub(r"{\1}", _REGEX_GROUP.sub(r"{\1}", route))
    # drf-spectacular names a ``pk`` path parameter ``id`` (SCHEMA_COERCE_PATH_PK).
    return "/" + path.replace("^", "").replace("$", "").replace("{pk}", "{id}")


def api_routes():
    """OpenAPI paths of the API routes in the URL conf (excluding the public ones)."""
    return {
        openapi_path(route)
        for route, name in url_patterns()
        if route.startswith(API_PREFIX) and not is_excluded(route, name)
    }


_schema = None


def schema():
    global _schema
    if _schema is None:
        _schema = SchemaGenerator().get_schema(request=None, public=True)
    return _schema


def api_operations():
    """{(path, METHOD): operation} of the schema, excluding public ones."""
    public = {openapi_path(r) for r, n in url_patterns() if r.startswith(API_PREFIX) and is_excluded(r, n)}
    ops = {}
    for path, item in schema()["paths"].items():
        if path in public:
            continue
        for method, op in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                ops[(path, method.upper())] = op
    return ops


def classify(response, *, api):
    """One word for what a request met: ok, login, 403, 404, 405, or ``bad`` (400: allowed, body refused)."""
    code = response.status_code
    if api:
        if code in (401,) or (code == 403 and _not_authenticated(response)):
            return "login"
    elif code == 302 and response.url.startswith(resolve_url(settings.LOGIN_URL)):
        return "login"
    if code in (403, 404, 405):
        return str(code)
    if code == 400:
        return "bad"
    if 200 <= code < 400 or code == 409:
        return "ok"
    raise AssertionError(f"unexpected status {code}")


def _not_authenticated(response):
    data = getattr(response, "data", None)
    return isinstance(data, dict) and data.get("detail", "").startswith("Authentication credentials")


# --- Lists: what the list-scoping tests fetch.


def list_page_routes():
    """{name: route} of the page routes that address no object: their URL takes no kwarg, or
    only the program's ``slug``. Every one of them shows whatever rows the user may see."""
    routes = {}
    for route, name in url_patterns():
        if route.startswith(API_PREFIX) or is_excluded(route, name):
            continue
        if set(_CONVERTER.findall(route)) <= {"slug"}:
            routes[name or f"path:{route}"] = route
    return routes


def _returns_many(operation):
    content = operation.get("responses", {}).get("200", {}).get("content", {})
    body = next(iter(content.values()), {}).get("schema", {})
    return body.get("type") == "array" or body.get("$ref", "").startswith("#/components/schemas/Paginated")


def list_api_paths():
    """OpenAPI paths of the GET operations that answer with many rows (a paginated or array
    body), and of every GET that addresses no object (the caller's own records, a program's
    aggregates): each is a list of whatever the caller may see."""
    return {
        path
        for (path, method), op in api_operations().items()
        if method == "GET" and (_returns_many(op) or "{id}" not in path)
    }
