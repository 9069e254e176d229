"""A real SAML 2.0 identity provider for the SSO tests: pysaml2's IdP behind a small WSGI app.

It makes its own key and self-signed certificate at start, publishes its metadata at
``/metadata`` (which is also its entity id), takes AuthnRequests from one configured SP at
``/sso/redirect`` (HTTP-Redirect) and ``/sso/post`` (HTTP-POST), shows an e-mail log-in form,
and answers with an auto-submitting form that POSTs a SAMLResponse with a signed assertion
to the SP's assertion consumer service.

Single logout (HTTP-Redirect) at ``/slo/redirect``, published in the metadata. The IdP keeps its
own sessions per NameID (``idp.sessions(name_id)``: the SessionIndex of each sign-in at it).
A LogoutRequest from the SP ends every IdP session of that NameID and is answered with a signed
LogoutResponse redirected to the SP's single logout service (``sp_sls_url``, or the SP metadata's).
``idp.logout_request_url(name_id, session_index)`` starts an IdP-initiated logout: it ends the
IdP's sessions and returns the SP's single logout URL carrying a signed LogoutRequest, for a
browser to open; the SP's LogoutResponse comes back to ``/slo/redirect`` and is recorded in
``idp.logout_responses``. ``signature="none"`` or ``"wrong_key"`` forge one instead.

Tests can ask for deliberately bad responses, through the browser flow
(``idp.response_variant = "expired"``) or directly (``idp.make_response(..., variant=...)``):
``unsigned``, ``tampered`` (changed after signing), ``wrong_audience`` and ``expired``.

Signing uses pysaml2's ``xmlsec1`` backend: ``apt-get install -y xmlsec1``.

Run by hand: ``python tests/idp/saml_idp.py --sp-entity-id URL --acs-url URL`` prints a
``READY {...}`` line and serves until interrupted.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
import secrets
import shutil
import socketserver
import tempfile
import threading
import time
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID

with warnings.catch_warnings():
    # pysaml2 7.5 still names the CFB mode where cryptography used to keep it; the test IdP encrypts nothing.
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, class_name
    from saml2.config import IdPConfig
    from saml2.metadata import create_metadata_string
    from saml2.s_utils import UnknownPrincipal, UnsupportedBinding, deflate_and_base64_encode
    from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
    from saml2.samlp import STATUS_SUCCESS
    from saml2.server import Server
    from saml2.sigver import pre_signature_part, signed_instance_factory
    from saml2.time_util import instant
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

AC_PASSWORD = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
# The REFEDS multi-factor profile: what research and education IdPs assert after MFA.
AC_MFA = "https://refeds.org/profile/mfa"

VARIANTS = ("valid", "unsigned", "tampered", "wrong_audience", "expired")
# How logout_request_url signs: with the IdP's key, not at all, or with a key nobody trusts.
LOGOUT_SIGNATURES = ("valid", "none", "wrong_key")
WRONG_AUDIENCE = "https://not-this-sp.invalid/saml/metadata/"


@dataclass(frozen=True)
class SamlUser:
    email: str
    given_name: str = ""
    family_name: str = ""
    # AuthnContextClassRef of the assertion: AC_PASSWORD, AC_MFA or any URI.
    authn_context: str = AC_PASSWORD
    # The persistent NameID; by default a stable opaque value derived from the e-mail.
    name_id: str = ""
    # When set, the log-in form must be given this password.
    password: str | None = None

    @classmethod
    def from_value(cls, value: SamlUser | dict) -> SamlUser:
        return value if isinstance(value, SamlUser) else cls(**value)

    @property
    def subject(self) -> str:
        return self.name_id or hashlib.sha256(self.email.lower().encode()).hexdigest()[:32]


@dataclass(frozen=True)
class SamlResponse:
    """A SAMLResponse ready to POST to the SP: ``{"SAMLResponse": saml_response, "RelayState": relay_state}``."""

    acs_url: str
    saml_response: str  # base64 of xml, as the HTTP-POST binding carries it
    relay_state: str
    xml: str
    variant: str
    name_id: str = ""
    session_index: str = ""

    def form_data(self) -> dict[str, str]:
        data = {"SAMLResponse": self.saml_response}
        if self.relay_state:
            data["RelayState"] = self.relay_state
        return data


def make_key_and_cert(folder: Path, common_name: str = "MentorMatch test IdP") -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = folder / "idp.key", folder / "idp.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def sp_metadata_xml(entity_id: str, acs_url: str, sls_url: str | None = None) -> str:
    """The least SP metadata pysaml2 needs: who the SP is, where its ACS is and, with
    ``sls_url``, its single logout service (HTTP-Redirect)."""
    sls = (
        f'<md:SingleLogoutService Binding="{BINDING_HTTP_REDIRECT}" Location="{html.escape(sls_url)}"/>\n    '
        if sls_url
        else ""
    )
    return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{html.escape(entity_id)}">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"
      AuthnRequestsSigned="false" WantAssertionsSigned="true">
    {sls}<md:AssertionConsumerService Binding="{BINDING_HTTP_POST}" Location="{html.escape(acs_url)}" index="0"
        isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
"""


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


def _page(title: str, body: str, *, onload: str = "") -> bytes:
    return (
        f'<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>{html.escape(title)}</title></head>\n'
        f"<body{onload}>\n<main>\n<h1>{html.escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    ).encode()


class SamlIdP:
    """pysaml2's IdP for one SP, served by wsgiref on a loopback port in a background thread.

    ``sp_metadata`` (XML) or ``sp_metadata_url`` describe the SP; without either, metadata
    is made from ``sp_entity_id``, ``acs_url`` and ``sp_sls_url`` (the SP's single logout
    service, needed for single logout).
    """

    def __init__(
        self,
        *,
        sp_entity_id: str,
        acs_url: str,
        sp_metadata: str | None = None,
        sp_metadata_url: str | None = None,
        sp_sls_url: str | None = None,
        users: list[SamlUser | dict] = (),
        sign_response: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.sp_entity_id = sp_entity_id
        self.acs_url = acs_url
        self.sign_response = sign_response
        # What the browser flow answers with; tests set it for negative journeys.
        self.response_variant = "valid"
        self.last_authn_request_id: str | None = None
        self.sp_sls_url = sp_sls_url
        # Single logout: what the SP asked (the last LogoutRequest it sent, as a dict) and
        # answered (its LogoutResponses to IdP-initiated logouts, in order).
        self.last_logout_request: dict | None = None
        self.logout_responses: list[dict] = []
        self._sessions: dict[str, set[str]] = {}  # NameID -> SessionIndex of each sign-in here
        self._logouts_sent: set[str] = set()
        self._sp_metadata = sp_metadata
        self._sp_metadata_url = sp_metadata_url
        self._users: dict[str, SamlUser] = {}
        self.set_users(users)
        self._pending: dict[str, tuple[dict, str]] = {}
        self._lock = threading.Lock()
        self._folder = Path(tempfile.mkdtemp(prefix="saml-idp-"))
        self._httpd = make_server(host, port, self._app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
        self.base_url = f"http://{host}:{self._httpd.server_port}"
        self._thread: threading.Thread | None = None
        self.server: Server | None = None

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> SamlIdP:
        if shutil.which("xmlsec1") is None:
            raise RuntimeError("pysaml2 signs with the xmlsec1 program: apt-get install -y xmlsec1")
        self.key_file, self.cert_file = make_key_and_cert(self._folder)
        if self._sp_metadata is None and self._sp_metadata_url:
            with urllib.request.urlopen(self._sp_metadata_url, timeout=10) as answer:  # noqa: S310 - loopback SP
                self._sp_metadata = answer.read().decode()
        if self._sp_metadata is None:
            self._sp_metadata = sp_metadata_xml(self.sp_entity_id, self.acs_url, self.sp_sls_url)
        self.server = Server(config=self._config())
        if self.sp_sls_url is None:
            self.sp_sls_url = self._sp_single_logout_url()
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="saml-idp", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> SamlIdP:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def entity_id(self) -> str:
        return f"{self.base_url}/metadata"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/metadata"

    @property
    def sso_redirect_url(self) -> str:
        return f"{self.base_url}/sso/redirect"

    @property
    def sso_post_url(self) -> str:
        return f"{self.base_url}/sso/post"

    @property
    def slo_url(self) -> str:
        return f"{self.base_url}/slo/redirect"

    @property
    def certificate_pem(self) -> str:
        return self.cert_file.read_text()

    @property
    def x509cert(self) -> str:
        """The certificate as SAML metadata and python3-saml's ``x509cert`` carry it: base64, no armour."""
        lines = self.certificate_pem.strip().splitlines()
        return "".join(line for line in lines if not line.startswith("-----"))

    def metadata(self) -> str:
        metadata = create_metadata_string(None, config=self.server.config, valid=24)
        return metadata.decode() if isinstance(metadata, bytes) else metadata

    def set_users(self, users: list[SamlUser | dict]) -> None:
        self._users = {user.email.lower(): user for user in map(SamlUser.from_value, users)}

    def name_id_of(self, email: str) -> str:
        """The NameID the assertions give this user."""
        user = self._users.get(email.strip().lower())
        if user is None:
            raise KeyError(f"no SAML user {email!r}; set_users() first")
        return user.subject

    def sessions(self, name_id: str) -> set[str]:
        """The SessionIndex of every sign-in at the IdP this NameID has not signed out of."""
        with self._lock:
            return set(self._sessions.get(name_id, ()))

    def _end_sessions(self, name_id: str) -> None:
        with self._lock:
            self._sessions.pop(name_id, None)

    def _sp_single_logout_url(self) -> str | None:
        try:
            services = self.server.metadata.single_logout_service(self.sp_entity_id, BINDING_HTTP_REDIRECT, "spsso")
        except UnsupportedBinding:  # the SP's metadata names no single logout service
            return None
        return services[0]["location"] if services else None

    def _config(self) -> IdPConfig:
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "name": "MentorMatch test IdP",
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [
                                (self.sso_redirect_url, BINDING_HTTP_REDIRECT),
                                (self.sso_post_url, BINDING_HTTP_POST),
                            ],
                            "single_logout_service": [(self.slo_url, BINDING_HTTP_REDIRECT)],
                        },
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": 5},
                                "attribute_restrictions": None,
                                "name_form": NAME_FORMAT_URI,
                            },
                        },
                        "want_authn_requests_signed": False,
                    },
                },
                "key_file": str(self.key_file),
                "cert_file": str(self.cert_file),
                "metadata": {"inline": [self._sp_metadata]},
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
                "accepted_time_diff": 60,
            }
        )
        return config

    # -- responses ----------------------------------------------------------------------------

    def make_response(
        self,
        email: str,
        *,
        variant: str = "valid",
        in_response_to: str | None = None,
        acs_url: str | None = None,
        relay_state: str = "",
        sign_response: bool | None = None,
    ) -> SamlResponse:
        """A SAMLResponse for a known user; without ``in_response_to`` it is unsolicited (IdP-initiated).

        ``variant``: ``valid``; ``unsigned`` (no signature anywhere); ``tampered`` (the e-mail in
        the signed assertion changed afterwards); ``wrong_audience`` (signed, but for another SP);
        ``expired`` (signed, its NotOnOrAfter ten minutes ago).
        """
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
        user = self._users.get(email.strip().lower())
        if user is None:
            raise KeyError(f"no SAML user {email!r}; set_users() first")
        destination = acs_url or self.acs_url
        sign_response = self.sign_response if sign_response is None else sign_response
        identity = {"mail": [user.email]}
        if user.given_name:
            identity["givenName"] = [user.given_name]
        if user.family_name:
            identity["sn"] = [user.family_name]
        name_id = NameID(
            format=NAMEID_FORMAT_PERSISTENT,
            sp_name_qualifier=self.sp_entity_id,
            name_qualifier=self.entity_id,
            text=user.subject,
        )
        response = self.server.create_authn_response(
            identity,
            in_response_to,
            destination,
            self.sp_entity_id,
            name_id=name_id,
            authn={"class_ref": user.authn_context, "authn_auth": self.entity_id, "authn_instant": int(time.time())},
            sign_assertion=False,
            sign_response=False,
        )
        assertion = response.assertion
        if variant == "wrong_audience":
            assertion.conditions.audience_restriction[0].audience[0].text = WRONG_AUDIENCE
        if variant == "expired":
            past = instant(time_stamp=int(dt.datetime.now(dt.UTC).timestamp()) - 600)
            long_past = instant(time_stamp=int(dt.datetime.now(dt.UTC).timestamp()) - 1200)
            assertion.conditions.not_before = long_past
            assertion.conditions.not_on_or_after = past
            for confirmation in assertion.subject.subject_confirmation:
                confirmation.subject_confirmation_data.not_on_or_after = past
        if variant == "unsigned":
            xml = str(response)
        else:
            to_sign = [(class_name(assertion), assertion.id)]
            assertion.signature = pre_signature_part(
                assertion.id, self.server.sec.my_cert, 2, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256
            )
            if sign_response:
                response.signature = pre_signature_part(
                    response.id, self.server.sec.my_cert, 1, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256
                )
                to_sign.append((class_name(response), response.id))
            xml = signed_instance_factory(response, self.server.sec, to_sign)
        if variant == "tampered":
            local, _, domain = user.email.partition("@")
            forged = f"{local}.forged@{domain}"
            tampered = xml.replace(f">{user.email}<", f">{forged}<")
            if tampered == xml:
                raise AssertionError("the e-mail to tamper with was not found in the signed assertion")
            xml = tampered
        if isinstance(xml, bytes):
            xml = xml.decode()
        return SamlResponse(
            acs_url=destination,
            saml_response=base64.b64encode(xml.encode()).decode(),
            relay_state=relay_state,
            xml=xml,
            variant=variant,
            name_id=user.subject,
            session_index=assertion.authn_statement[0].session_index,
        )

    # -- single logout ------------------------------------------------------------------------

    def _name_id(self, text: str) -> NameID:
        return NameID(
            format=NAMEID_FORMAT_PERSISTENT,
            sp_name_qualifier=self.sp_entity_id,
            name_qualifier=self.entity_id,
            text=text,
        )

    def logout_request_url(
        self, name_id: str, session_index: str | None = None, *, signature: str = "valid", relay_state: str = ""
    ) -> str:
        """Start an IdP-initiated logout: end the IdP's sessions for ``name_id`` and return the
        SP's single logout URL with a LogoutRequest (HTTP-Redirect binding) for a browser to open.

        ``signature``: ``valid`` (signed with the IdP's key, as its metadata says), ``none``
        (unsigned) or ``wrong_key`` (signed with a key the SP has never seen): the last two are
        what a forger could send.
        """
        if signature not in LOGOUT_SIGNATURES:
            raise ValueError(f"signature must be one of {LOGOUT_SIGNATURES}, not {signature!r}")
        if not self.sp_sls_url:
            raise RuntimeError("the SP has no single logout service: start the IdP with sp_sls_url")
        request_id, request = self.server.create_logout_request(
            self.sp_sls_url,
            self.sp_entity_id,
            name_id=self._name_id(name_id),
            session_indexes=[session_index] if session_index else None,
            sign=False,  # the HTTP-Redirect binding signs the query string, not the XML
        )
        with self._lock:
            self._logouts_sent.add(request_id)
        self._end_sessions(name_id)
        if signature == "wrong_key":
            return _redirect_signed_with_a_stranger_key(self.sp_sls_url, str(request), relay_state)
        info = self.server.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(request),
            self.sp_sls_url,
            relay_state,
            response=False,
            sign=signature == "valid",
            sigalg=SIG_RSA_SHA256,
        )
        return dict(info["headers"])["Location"]

    def _logout(self, start_response, params):
        """The single logout service: a LogoutRequest from the SP, or its LogoutResponse to ours."""
        first = {name: values[0] for name, values in params.items()}
        if "SAMLResponse" in first:
            return self._logout_response(start_response, first)
        if "SAMLRequest" not in first:
            return self._send(start_response, "400 Bad Request", _page("SAML IdP error", "<p>No SAML message.</p>"))
        request = self.server.parse_logout_request(
            first["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=first.get("RelayState"),
            sigalg=first.get("SigAlg"),
            signature=first.get("Signature"),
        )
        if request is None or request.sender() != self.sp_entity_id:
            body = _page("Unknown service provider", "<p>This LogoutRequest is not from the configured SP.</p>")
            return self._send(start_response, "403 Forbidden", body)
        message = request.message
        name_id = message.name_id.text.strip()
        with self._lock:
            self.last_logout_request = {
                "id": message.id,
                "name_id": name_id,
                "name_id_format": message.name_id.format,
                "session_indexes": [index.text for index in message.session_index],
                "relay_state": first.get("RelayState", ""),
            }
        self._end_sessions(name_id)
        try:
            args = self.server.response_args(message, [BINDING_HTTP_REDIRECT])
        except (UnknownPrincipal, UnsupportedBinding) as exc:
            body = _page("No single logout service", f"<p>The SP publishes none: {html.escape(str(exc))}</p>")
            return self._send(start_response, "400 Bad Request", body)
        response = self.server.create_logout_response(message, [BINDING_HTTP_REDIRECT], sign=False)
        info = self.server.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(response),
            args["destination"],
            first.get("RelayState", ""),
            response=True,
            sign=True,
            sigalg=SIG_RSA_SHA256,
        )
        start_response(
            "303 See Other", [("Location", dict(info["headers"])["Location"]), ("Cache-Control", "no-store")]
        )
        return [b""]

    def _logout_response(self, start_response, first):
        response = self.server.parse_logout_request_response(first["SAMLResponse"], BINDING_HTTP_REDIRECT)
        message = response.response
        with self._lock:
            expected = message.in_response_to in self._logouts_sent
            self._logouts_sent.discard(message.in_response_to)
            self.logout_responses.append(
                {
                    "in_response_to": message.in_response_to,
                    "expected": expected,
                    "issuer": message.issuer.text.strip() if message.issuer is not None else "",
                    "status": message.status.status_code.value,
                    "relay_state": first.get("RelayState", ""),
                }
            )
        if not expected or message.status.status_code.value != STATUS_SUCCESS:
            body = _page("Single logout failed", "<p>The service provider did not sign you out.</p>")
            return self._send(start_response, "400 Bad Request", body)
        return self._send(start_response, "200 OK", _page("Signed out at the test IdP", "<p>You are signed out.</p>"))

    # -- the WSGI app -------------------------------------------------------------------------

    def _app(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ["REQUEST_METHOD"]
        try:
            if path == "/metadata" and method == "GET":
                return self._send(start_response, "200 OK", self.metadata().encode(), "application/samlmetadata+xml")
            if path == "/sso/redirect" and method == "GET":
                return self._authn_request(
                    start_response, parse_qs(environ.get("QUERY_STRING", "")), BINDING_HTTP_REDIRECT
                )
            if path == "/sso/post" and method == "POST":
                return self._authn_request(start_response, self._form(environ), BINDING_HTTP_POST)
            if path == "/login" and method == "POST":
                return self._login(start_response, self._form(environ))
            if path == "/slo/redirect" and method == "GET":
                return self._logout(start_response, parse_qs(environ.get("QUERY_STRING", "")))
        except Exception as exc:  # a test IdP says what went wrong instead of hanging the browser
            body = _page("SAML IdP error", f"<p>{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</p>")
            return self._send(start_response, "400 Bad Request", body)
        return self._send(start_response, "404 Not Found", _page("Not found", "<p>No such page.</p>"))

    @staticmethod
    def _form(environ) -> dict[str, list[str]]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        return parse_qs(environ["wsgi.input"].read(length).decode())

    @staticmethod
    def _send(start_response, status, body: bytes, content_type="text/html; charset=utf-8"):
        start_response(status, [("Content-Type", content_type), ("Cache-Control", "no-store")])
        return [body]

    def _authn_request(self, start_response, params, binding):
        saml_request = params.get("SAMLRequest", [""])[0]
        if not saml_request:
            return self._send(start_response, "400 Bad Request", _page("SAML IdP error", "<p>No SAMLRequest.</p>"))
        request = self.server.parse_authn_request(saml_request, binding)
        try:
            args = self.server.response_args(request.message, [BINDING_HTTP_POST])
        except (UnknownPrincipal, UnsupportedBinding) as exc:
            return self._send(start_response, "403 Forbidden", _page("Unknown service provider", f"<p>{exc}</p>"))
        ticket = secrets.token_urlsafe(16)
        with self._lock:
            self.last_authn_request_id = args["in_response_to"]
            self._pending[ticket] = (args, params.get("RelayState", [""])[0])
        return self._send(start_response, "200 OK", self._login_page(ticket))

    def _login_page(self, ticket, *, email="", error=""):
        alert = f'<p role="alert">{html.escape(error)}</p>' if error else ""
        body = f"""<p>Signing in to <code>{html.escape(self.sp_entity_id)}</code>.</p>
{alert}
<form method="post" action="/login">
  <input type="hidden" name="ticket" value="{html.escape(ticket)}">
  <p><label for="email">E-mail</label>
  <input id="email" name="email" type="email" autocomplete="username" value="{html.escape(email)}" required></p>
  <p><label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password"></p>
  <p><button type="submit">Sign in</button></p>
</form>"""
        return _page("Test SAML IdP sign-in", body)

    def _login(self, start_response, form):
        ticket = form.get("ticket", [""])[0]
        with self._lock:
            pending = self._pending.get(ticket)
        if pending is None:
            return self._send(
                start_response, "400 Bad Request", _page("SAML IdP error", "<p>Unknown or used ticket.</p>")
            )
        email = form.get("email", [""])[0].strip()
        user = self._users.get(email.lower())
        if user is None or (user.password is not None and user.password != form.get("password", [""])[0]):
            page = self._login_page(ticket, email=email, error="Unknown e-mail address or wrong password.")
            return self._send(start_response, "401 Unauthorized", page)
        with self._lock:
            self._pending.pop(ticket, None)
        args, relay_state = pending
        answer = self.make_response(
            user.email,
            variant=self.response_variant,
            in_response_to=args["in_response_to"],
            acs_url=args["destination"],
            relay_state=relay_state,
        )
        with self._lock:  # signed in at the IdP, whatever the SP makes of the answer
            self._sessions.setdefault(answer.name_id, set()).add(answer.session_index)
        fields = "".join(
            f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
            for name, value in answer.form_data().items()
        )
        body = f"""<form method="post" action="{html.escape(answer.acs_url)}">
{fields}
<noscript><p>JavaScript is off: press Continue.</p></noscript>
<p><button type="submit">Continue</button></p>
</form>"""
        page = _page("Signing you in", body, onload=' onload="document.forms[0].submit()"')
        return self._send(start_response, "200 OK", page)


def _redirect_signed_with_a_stranger_key(location: str, request_xml: str, relay_state: str) -> str:
    """A LogoutRequest in the HTTP-Redirect binding, signed as the binding says but with a fresh
    key: what someone without the IdP's key could make."""
    args = {"SAMLRequest": deflate_and_base64_encode(request_xml).decode()}
    if relay_state:
        args["RelayState"] = relay_state
    args["SigAlg"] = SIG_RSA_SHA256
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signature = key.sign(urlencode(args).encode(), padding.PKCS1v15(), hashes.SHA256())
    args["Signature"] = base64.b64encode(signature).decode()
    return f"{location}?{urlencode(args)}"


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sp-entity-id", required=True)
    parser.add_argument("--acs-url", required=True)
    parser.add_argument("--sp-metadata-url")
    parser.add_argument("--sp-sls-url")
    parser.add_argument("--users", default="[]", help="JSON list of users (email, given_name, family_name, ...)")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    idp = SamlIdP(
        sp_entity_id=args.sp_entity_id,
        acs_url=args.acs_url,
        sp_metadata_url=args.sp_metadata_url,
        sp_sls_url=args.sp_sls_url,
        users=json.loads(args.users),
        port=args.port,
    ).start()
    print("READY " + json.dumps({"base_url": idp.base_url, "entity_id": idp.entity_id}), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        idp.stop()


if __name__ == "__main__":
    main()
