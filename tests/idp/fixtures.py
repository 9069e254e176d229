"""pytest fixtures that start real identity providers for the SSO tests.

``oidc_idp`` and ``saml_idp`` are session-scoped factories: a test calls one with the SP's
callback (OIDC) or ACS (SAML) URL, which is only known once ``live_server`` runs, and gets a
running IdP. A second call with the same SP details reuses that IdP and resets its users,
so tests do not see each other's accounts. Every IdP stops at the end of the session.

Register them where the tests are, e.g. ``from tests.idp.fixtures import oidc_idp, saml_idp``
in a conftest.py, or ``pytest_plugins = ["tests.idp.fixtures"]`` in tests/conftest.py.

What they need: Node 20+ and npm (``npm ci --prefix tests/idp`` runs when node_modules is
missing or stale) and the ``xmlsec1`` program (``apt-get install -y xmlsec1``). Without them
the tests skip and say why, except under CI=true, where they fail.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

IDP_DIR = Path(__file__).resolve().parent
READY_TIMEOUT = 30


def _unavailable(reason: str):
    """Skip, or fail under CI=true, where a missing tool must not hide the SSO tests."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the SSO tests must run)")
    pytest.skip(reason)


def _installed_oidc_provider_version() -> str | None:
    installed = IDP_DIR / "node_modules" / "oidc-provider" / "package.json"
    if not installed.exists():
        return None
    return json.loads(installed.read_text())["version"]


def ensure_node_modules() -> None:
    """``npm ci`` when node_modules is missing or holds another oidc-provider than package.json pins."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        _unavailable("node and npm are needed for the OpenID Connect test IdP (Node 20+)")
    wanted = json.loads((IDP_DIR / "package.json").read_text())["dependencies"]["oidc-provider"]
    if _installed_oidc_provider_version() == wanted:
        return
    # pytest-xdist workers may all get here at once: one installs, the others wait for it.
    lock_path = Path(tempfile.gettempdir()) / "mentormatch-test-idp-npm.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_oidc_provider_version() == wanted:
            return
        result = subprocess.run(
            ["npm", "ci", "--prefix", str(IDP_DIR), "--no-audit", "--no-fund"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            _unavailable(f"npm ci --prefix tests/idp failed:\n{result.stdout}\n{result.stderr}")


def _admin_request(url: str, token: str, method: str = "GET", payload=None):
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


@dataclass
class OidcIdP:
    """A running oidc-provider with one confidential client."""

    issuer: str
    port: int
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    token_endpoint_auth_method: str
    admin_token: str = field(repr=False)
    process: subprocess.Popen = field(repr=False)
    output: list[str] = field(default_factory=list, repr=False)

    @property
    def base_url(self) -> str:
        return self.issuer

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.issuer}/auth"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/jwks"

    def set_accounts(self, accounts: list[dict]) -> list[dict]:
        """Replace the accounts: dicts with email, and optionally email_verified (default true),
        given_name, family_name, amr (e.g. ["pwd", "mfa"]), acr, sub (default the e-mail), password."""
        return _admin_request(f"{self.issuer}/_idp/accounts", self.admin_token, "PUT", list(accounts))

    def accounts(self) -> list[dict]:
        return _admin_request(f"{self.issuer}/_idp/accounts", self.admin_token)

    def log(self) -> str:
        return "".join(self.output)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_oidc_idp(
    redirect_uris: list[str],
    *,
    accounts: list[dict] = (),
    client_id: str = "mentormatch-test",
    client_secret: str | None = None,
    token_endpoint_auth_method: str = "client_secret_post",
    require_pkce: bool = False,
    acr_values: list[str] | None = None,
    post_logout_redirect_uris: list[str] = (),
) -> OidcIdP:
    ensure_node_modules()
    client_secret = client_secret or secrets.token_urlsafe(24)
    admin_token = secrets.token_urlsafe(16)
    config = {
        "port": 0,
        "client": {
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uris": list(redirect_uris),
            "token_endpoint_auth_method": token_endpoint_auth_method,
            "post_logout_redirect_uris": list(post_logout_redirect_uris),
        },
        "accounts": list(accounts),
        "require_pkce": require_pkce,
        "admin_token": admin_token,
    }
    if acr_values is not None:
        config["acr_values"] = acr_values
    process = subprocess.Popen(
        ["node", str(IDP_DIR / "oidc_server.js")],
        env={**os.environ, "OIDC_IDP_CONFIG": json.dumps(config)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    output: list[str] = []

    def drain():
        # Keep reading so the pipe never fills and blocks the server; keep what it said for errors.
        for line in process.stdout:
            output.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=drain, name="oidc-idp-output", daemon=True).start()
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            line = None
        if line is not None and line.startswith("READY "):
            ready = json.loads(line.removeprefix("READY "))
            break
        if line is None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the OpenID Connect test IdP did not start:\n" + "".join(output))
    return OidcIdP(
        issuer=ready["issuer"],
        port=ready["port"],
        client_id=client_id,
        client_secret=client_secret,
        redirect_uris=list(redirect_uris),
        token_endpoint_auth_method=token_endpoint_auth_method,
        admin_token=admin_token,
        process=process,
        output=output,
    )


@pytest.fixture(scope="session")
def oidc_idp():
    """``oidc_idp(redirect_uri, accounts=[...], **client_options) -> OidcIdP``.

    ``redirect_uri`` is the SP's callback URL (a string or a list of them), e.g.
    ``f"{live_server.url}/accounts/oidc/<provider_id>/login/callback/"``. Options:
    ``client_id`` (default "mentormatch-test"), ``client_secret`` (default random),
    ``token_endpoint_auth_method`` (default "client_secret_post", what allauth picks when the
    IdP offers both), ``require_pkce`` (default False), ``acr_values``.
    """
    running: dict[tuple, OidcIdP] = {}

    def factory(redirect_uri: str | list[str], *, accounts: list[dict] = (), **options) -> OidcIdP:
        redirect_uris = [redirect_uri] if isinstance(redirect_uri, str) else list(redirect_uri)
        key = (tuple(redirect_uris), json.dumps(options, sort_keys=True))
        idp = running.get(key)
        if idp is not None and idp.process.poll() is None:
            idp.set_accounts(list(accounts))
            return idp
        running[key] = idp = start_oidc_idp(redirect_uris, accounts=list(accounts), **options)
        return idp

    yield factory
    for idp in running.values():
        idp.stop()


@pytest.fixture(scope="session")
def saml_idp():
    """``saml_idp(sp_entity_id=..., acs_url=..., users=[...], **options) -> SamlIdP``.

    ``acs_url`` is where the SP takes the SAMLResponse, ``sp_entity_id`` the Audience the SP
    expects (allauth: ``f"{live_server.url}/accounts/saml/<org>/acs/"`` and, unless its settings
    name another, ``f"{live_server.url}/accounts/saml/<org>/metadata/"``). Options:
    ``sp_metadata`` (XML) or ``sp_metadata_url`` instead of the metadata made from those two,
    ``sign_response`` (default False: only the assertion is signed). Users are SamlUser or
    dicts with email, given_name, family_name, authn_context, name_id, password.
    """
    if shutil.which("xmlsec1") is None:
        _unavailable("the SAML test IdP signs with the xmlsec1 program: apt-get install -y xmlsec1")
    from tests.idp.saml_idp import SamlIdP

    running: dict[tuple, SamlIdP] = {}

    def factory(*, sp_entity_id: str, acs_url: str, users: list = (), **options) -> SamlIdP:
        key = (sp_entity_id, acs_url, json.dumps(options, sort_keys=True))
        idp = running.get(key)
        if idp is None:
            running[key] = idp = SamlIdP(sp_entity_id=sp_entity_id, acs_url=acs_url, **options).start()
        idp.set_users(list(users))
        idp.response_variant = "valid"
        idp.last_authn_request_id = None
        return idp

    yield factory
    for idp in running.values():
        with contextlib.suppress(Exception):
            idp.stop()
